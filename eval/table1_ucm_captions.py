"""Seed 004's Table I (UCM-captions) beside a trained caption run and two honest baselines.

    python eval/table1_ucm_captions.py RUN --split val [--data ROOT] [--out FILE.json] [--bootstrap 1000]

Rows printed (all ×100): the paper's rows from ``eval/reference/ucm_captions_table1.yaml``;
our model; "most frequent training caption" (one sentence for every image); "most frequent
caption of the predicted class" (uses the run's land-use head); and the same with the *true*
class (an oracle: what a perfect classifier plus a caption lookup would score). The
difference column compares with the seed's SpatialNet-ViT row; ``--bootstrap N`` adds the 95%
intervals of our row over images. The paper scored the test split;
the local copy of UCM-captions has train and val only, so val is the usual choice here.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from harness import interval_row, percent_intervals, run_table
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spatialnet.data.registry import build_dataset
from spatialnet.data.ucm.dataset import UCMCaptions
from spatialnet.errors import RecipeError
from spatialnet.metrics.bootstrap import bootstrap as resample
from spatialnet.metrics.caption_tally import caption_tally
from spatialnet.metrics.captions import score_captions
from spatialnet.model import load_run
from spatialnet.processors import ImageProcessor
from spatialnet.training.evaluation import collect_predictions

REFERENCE = Path(__file__).with_name("reference") / "ucm_captions_table1.yaml"
COLUMNS = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr")


def normalised(sentence: str) -> str:
    """Lower-cased words without punctuation: captions that differ only in case or a period match."""
    return " ".join(re.sub(r"[^\w\s']+", " ", sentence.lower()).split())


def most_frequent(sentences: Sequence[str]) -> str:
    """The most frequent sentence (by normalised form; ties go to the first seen)."""
    counts = Counter(normalised(s) for s in sentences)
    best = max(counts.values())
    return next(s for s in sentences if counts[normalised(s)] == best)


def class_captions(train: UCMCaptions) -> dict[int, str]:
    """Most frequent training caption of each land-use class."""
    by_class: dict[int, list[str]] = {}
    for index, label in enumerate(train.labels):
        by_class.setdefault(label, []).extend(train.captions(index))
    return {label: most_frequent(sentences) for label, sentences in by_class.items()}


def percent(metrics: dict[str, float]) -> list[float]:
    """Metric values ×100, in column order."""
    return [100.0 * metrics[c] for c in COLUMNS]


def evaluate_table(
    run: Path, split: str, data: str | None, device: str, bootstrap: int | None = None, seed: int = 0
) -> dict[str, Any]:
    """Score the run and the baselines on ``split``; every row (×100), the paper rows, our intervals."""
    model, recipe, _, folder = load_run(run, device)
    try:
        _, source = recipe.source_reading("ucm_captions")  # a joint run: its UCM-captions dataset
    except RecipeError as err:
        raise SystemExit(f"{folder}: not a UCM-captions run ({err})") from err
    if data is not None:
        source.data.root = data
    dataset = build_dataset(source.data, split, train=False)
    assert isinstance(dataset, UCMCaptions)
    if "captions" not in model.heads:
        raise SystemExit(f"{folder}: the run has no 'captions' head (heads: {', '.join(model.heads)})")
    device_ = next(model.parameters()).device
    predictions, targets, _ = collect_predictions(
        model, dataset, recipe.train.eval_batch_size, device_, True, source.tasks, source.modality
    )
    references = {int(t["image_id"]): t["references"] for t in targets["captions"]}
    ids = [int(t["image_id"]) for t in targets["captions"]]

    train = UCMCaptions(
        source.data.root or "", "train", ImageProcessor(8), progress=False, with_captions=True
    )
    everyone = most_frequent(train.texts())
    per_class = class_captions(train)

    rows: dict[str, list[float]] = {}
    notes: dict[str, str] = {}
    implementations: dict[str, str] = {}

    def add(name: str, captions: dict[int, str], note: str) -> None:
        scores = score_captions(references, captions, source=name)
        rows[name] = percent(scores.metrics)
        notes[name] = note
        implementations.update(scores.implementations)

    ours = dict(zip(ids, predictions["captions"], strict=True))
    add("ours", ours, f"{folder} ({recipe.name})")
    intervals = {}
    if bootstrap:
        tally = caption_tally(references, ours, source="ours")
        intervals["ours"] = percent_intervals(resample(tally, bootstrap, seed), COLUMNS)
    add("most frequent caption", dict.fromkeys(ids, everyone), f"'{everyone}' for every image")
    if "landuse" in predictions:
        predicted = predictions["landuse"].argmax(dim=1).tolist()
        fallback = {i: per_class.get(label, everyone) for i, label in zip(ids, predicted, strict=True)}
        accuracy = sum(p == t for p, t in zip(predicted, dataset.labels, strict=True)) / len(ids)
        add("class caption (predicted class)", fallback, f"land-use head accuracy {100 * accuracy:.1f}%")
    oracle = {i: per_class.get(label, everyone) for i, label in zip(ids, dataset.labels, strict=True)}
    add("class caption (true class, oracle)", oracle, "upper bound of a classifier + caption lookup")

    reference = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    return {
        "split": split,
        "num_images": len(ids),
        "checkpoint": str(folder),
        "columns": list(COLUMNS),
        "paper": reference["rows"],
        "compare_to": reference["compare_to"],
        "rows": rows,
        "notes": notes,
        "intervals": intervals,
        "implementations": implementations,
    }


def print_table(result: dict[str, Any], console: Console) -> None:
    """Paper rows, then ours and the baselines with their difference to the seed's row."""
    paper_row = result["paper"][result["compare_to"]]
    table = Table(title=f"UCM-captions Table I (seed 004) vs ours — {result['split']} split, ×100")
    table.add_column("method", no_wrap=True)
    for column in result["columns"]:
        table.add_column(column, justify="right")
    for name, values in result["paper"].items():
        table.add_row(f"[dim]{name} (paper)[/]", *("—" if v is None else f"{v:.2f}" for v in values))
    for name, values in result["rows"].items():
        table.add_row(f"[bold]{name}[/]", *(f"{v:.2f}" for v in values))
        if name in result.get("intervals", {}):
            table.add_row(*interval_row(result["intervals"][name]))
        diffs = ("—" if p is None else f"{v - p:+.2f}" for v, p in zip(values, paper_row, strict=True))
        table.add_row(f"  Δ vs {result['compare_to']}", *diffs)
    console.print(table)
    for name, note in result["notes"].items():
        console.print(f"[dim]{name}: {note}[/]")
    used = result.get("implementations", {})
    for part in ("tokenizer", "METEOR"):
        console.print(f"[dim]{part}: {escape(used.get(part, '?'))}[/]")
    if not used.get("METEOR", "").startswith("METEOR 1.5"):
        console.print("[bold]METEOR is not METEOR 1.5 (no Java): do not compare it with the paper's[/]")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, score, print, optionally save JSON."""
    return run_table(__doc__, evaluate_table, print_table, "val", argv, intervals=True)


if __name__ == "__main__":
    sys.exit(main())
