"""Caption decoding settings (beam width × length penalty) scored on one split of a caption run.

    python eval/caption_decoding.py RUN --split val [--beams 1 3 5 8] [--length-penalties 0.5 1 2]
        [--data ROOT] [--out FILE.json]

The decoder is run once per setting on the same images; every caption metric is reported
(×100), best CIDEr first. Choose on ``val`` and write the winner into the recipe's caption head
(``num_beams``, ``length_penalty``): tuning on the test split would make its figure meaningless.
Greedy decoding (1 beam) ignores the length penalty, so it is scored once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from transformers import GenerationConfig

from spatialnet.data.registry import build_dataset
from spatialnet.errors import RecipeError
from spatialnet.files import write_json
from spatialnet.heads.caption import CaptionHead
from spatialnet.metrics.captions import score_captions
from spatialnet.model import load_run
from spatialnet.training.evaluation import collect_predictions

COLUMNS = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr")


def settings(beams: Sequence[int], penalties: Sequence[float]) -> list[dict[str, Any]]:
    """Every (beams, penalty) pair; greedy once (the length penalty only ranks beams)."""
    grid: list[dict[str, Any]] = []
    for width in beams:
        for penalty in penalties if width > 1 else penalties[:1]:
            grid.append({"num_beams": width, "length_penalty": penalty if width > 1 else 1.0})
    return grid


def sweep(
    run: Path, split: str, data: str | None, device: str, grid: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Score the run's caption head on ``split`` under each decoding setting."""
    model, recipe, _, folder = load_run(run, device)
    try:
        name, source = next((n, s) for n, s in recipe.sources().items() if "captions" in s.tasks)
    except StopIteration as err:
        raise SystemExit(f"{folder}: no dataset of the recipe trains a 'captions' head") from err
    if data is not None:
        source.data.root = data
    try:
        dataset = build_dataset(source.data, split, train=False)
    except RecipeError as err:
        raise SystemExit(f"{name}: {err}") from err
    head = model.head("captions")
    assert isinstance(head, CaptionHead)
    recipe_setting = head.generation.to_dict()
    device_ = next(model.parameters()).device
    rows: list[dict[str, Any]] = []
    for setting in grid:
        head.generation = GenerationConfig.from_dict(
            {**recipe_setting, **setting, "early_stopping": setting["num_beams"] > 1}
        )
        predictions, targets, _ = collect_predictions(
            model, dataset, recipe.train.eval_batch_size, device_, False, ("captions",), source.modality
        )
        references = {int(t["image_id"]): t["references"] for t in targets["captions"]}
        found = zip(targets["captions"], predictions["captions"], strict=True)
        captions = {int(t["image_id"]): caption for t, caption in found}
        scores = score_captions(references, captions, source=f"{setting}").metrics
        rows.append({**setting, **{c: 100.0 * scores[c] for c in COLUMNS}})
        print(f"{setting}: BLEU-4 {rows[-1]['Bleu_4']:.2f} CIDEr {rows[-1]['CIDEr']:.2f}", flush=True)
    return sorted(rows, key=lambda row: -row["CIDEr"])


def print_rows(rows: list[dict[str, Any]], title: str) -> None:
    """One line per setting, best CIDEr first."""
    table = Table(title=title)
    for column in ("beams", "len. pen.", "B-1", "B-2", "B-3", "B-4", "METEOR", "ROUGE-L", "CIDEr"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            str(row["num_beams"]), f"{row['length_penalty']:g}", *(f"{row[c]:.2f}" for c in COLUMNS)
        )
    Console().print(table)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, sweep, print, optionally save JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=Path, help="run folder (uses best/) or checkpoint folder")
    parser.add_argument("--split", default="val", help="split to score (default: val)")
    parser.add_argument("--data", help="dataset root (default: the run's recipe)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 3, 5, 8])
    parser.add_argument("--length-penalties", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--out", type=Path, help="write the rows as JSON")
    args = parser.parse_args(argv)
    rows = sweep(args.run, args.split, args.data, args.device, settings(args.beams, args.length_penalties))
    print_rows(rows, f"{args.run} — caption decoding on {args.split} (×100)")
    if args.out:
        write_json(args.out, {"run": str(args.run), "split": args.split, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
