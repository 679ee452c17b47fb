"""METEOR from nltk beside METEOR 1.5 (Java), on human captions and on model captions.

    python eval/meteor_backends.py --references ../shared/data/ucm_captions/dataset.json --split val \
        [--predictions NAME=preds.json ...] [--out FILE.json]

Human rows: each of an image's five references in turn scored against the other four (round k
scores sentence k of every image), so the rows say how the two METEORs differ on text people
wrote. Model rows: each COCO results file given, against all five references. Every row is scored
by both backends (the same tokens: only METEOR differs) and the difference nltk − java is printed;
the README quotes its range. Needs Java (METEOR 1.5) and WordNet 3.0 for nltk.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from spatialnet.errors import DataError
from spatialnet.files import write_json
from spatialnet.metrics.captions import read_predictions, read_references, score_captions

BACKENDS = ("java", "nltk")
Captions = Mapping[int, str] | Sequence[Mapping[str, Any]]  # by image id, or COCO results


def leave_one_out(
    references: Mapping[int, Sequence[str]], round_: int
) -> tuple[dict[int, list[str]], dict[int, str]]:
    """Sentence ``round_`` of every image as its caption and the image's other sentences as references."""
    short = [
        image for image, sentences in references.items() if len(sentences) <= round_ or len(sentences) < 2
    ]
    if short:
        raise DataError(
            f"image {short[0]} has {len(references[short[0]])} references; need {round_ + 1} and ≥ 2"
        )
    others = {
        image: [s for k, s in enumerate(sentences) if k != round_] for image, sentences in references.items()
    }
    return others, {image: sentences[round_] for image, sentences in references.items()}


def meteor_rows(
    references: Mapping[int, Sequence[str]], predictions: Mapping[str, Captions], rounds: int
) -> list[dict[str, object]]:
    """One row per scored caption set: its METEOR ×100 from each backend and their difference."""
    sets: list[tuple[str, str, Mapping[int, Sequence[str]], Captions]] = []
    for round_ in range(rounds):
        refs, captions = leave_one_out(references, round_)
        sets.append(
            (
                f"human, sentence {round_ + 1} vs the other {len(next(iter(refs.values())))}",
                "human",
                refs,
                captions,
            )
        )
    sets += [(name, "model", references, captions) for name, captions in predictions.items()]
    rows = []
    for name, kind, refs, captions in sets:
        scores = {
            backend: 100 * score_captions(refs, captions, name, backend).metrics["METEOR"]
            for backend in BACKENDS
        }
        rows.append(
            {"captions": name, "kind": kind, **scores, "nltk_minus_java": scores["nltk"] - scores["java"]}
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", type=Path, required=True, help="UCM-captions dataset.json")
    parser.add_argument("--split", default="val")
    parser.add_argument(
        "--predictions", nargs="*", default=[], metavar="NAME=FILE", help="COCO results files"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="leave-one-out rounds of human captions (default 5)"
    )
    parser.add_argument("--out", type=Path, help="write the rows as JSON here")
    args = parser.parse_args(argv)
    references = read_references(args.references, args.split)
    predictions: dict[str, Captions] = {}
    for item in args.predictions:
        name, _, path = item.rpartition("=")
        predictions[name or Path(path).stem] = read_predictions(Path(path))  # COCO results, as scored
    rows = meteor_rows(references, predictions, args.rounds)
    table = Table(title=f"METEOR ×100 on {args.references} ({args.split}, {len(references)} images)")
    for column in ("captions", "METEOR 1.5 (java)", "nltk", "nltk − java"):
        table.add_column(column, justify="left" if column == "captions" else "right")
    for row in rows:
        table.add_row(
            str(row["captions"]), f"{row['java']:.2f}", f"{row['nltk']:.2f}", f"{row['nltk_minus_java']:+.2f}"
        )
    Console().print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_json(args.out, {"references": str(args.references), "split": args.split, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
