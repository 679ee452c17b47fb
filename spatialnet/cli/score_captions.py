"""``spatialnet score-captions``: score a COCO results file against a Karpathy ``dataset.json`` split."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spatialnet.cli.uncertainty import add_uncertainty_options, interval_cell, measure, print_comparison
from spatialnet.files import write_json
from spatialnet.metrics.bootstrap import Intervals
from spatialnet.metrics.caption_tally import caption_tally
from spatialnet.metrics.captions import (
    BACKENDS,
    CaptionScores,
    read_predictions,
    read_references,
    score_captions,
)


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "score-captions",
        help="BLEU-1..4, METEOR, ROUGE-L and CIDEr of predicted captions (pycocoevalcap)",
        description=(
            "Score one predicted caption per image against the reference sentences of a split with "
            "pycocoevalcap's Bleu, Rouge and Cider, after PTB-style tokenisation. The predictions must "
            "cover exactly the split's images. SPICE is not computed (it needs jars fetched online)."
        ),
    )
    parser.add_argument(
        "--references", type=Path, required=True, help="Karpathy-style dataset.json (the 'raw' sentences)"
    )
    parser.add_argument("--split", default="test", help="split of dataset.json to score (default: test)")
    parser.add_argument(
        "--predictions",
        type=Path,
        required=True,
        help='COCO results JSON: [{"image_id": <imgid>, "caption": "..."}, ...]',
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help=(
            "java: the reference (Stanford PTB tokeniser and METEOR 1.5, needs `java`); nltk: no Java "
            "(Treebank tokens, nltk's METEOR with a local WordNet; METEOR differs from 1.5); "
            "auto (default): java when `java` is on PATH, else nltk"
        ),
    )
    parser.add_argument("--out", type=Path, help="scores JSON to write (default: print the table only)")
    add_uncertainty_options(parser, "images")
    parser.set_defaults(handler=run)


def print_scores(
    scores: CaptionScores, title: str, console: Console | None = None, intervals: Intervals | None = None
) -> None:
    """The metrics ×100, the field's convention (CIDEr included: 3.985 prints as 398.50), and their source."""
    console = console or Console()
    resampled = "" if intervals is None else f", 95% intervals from {intervals.resamples} resamples"
    table = Table(title=escape(f"{title}, backend {scores.backend}{resampled}"))
    table.add_column("metric")
    table.add_column("×100", justify="right")
    if intervals is not None:
        table.add_column("95% interval", justify="right")
    table.add_column("implementation")
    for name, value in scores.metrics.items():
        extra = [] if intervals is None else [interval_cell(intervals.intervals[name])]
        table.add_row(name, f"{100 * value:.2f}", *extra, escape(scores.implementations.get(name, "")))
    console.print(table)
    if "tokenizer" in scores.implementations:
        console.print(escape(f"tokenizer: {scores.implementations['tokenizer']}"))
    for note in scores.notes:
        console.print(escape(f"note: {note}"))
    for name, why in scores.unavailable.items():
        console.print(escape(f"{name} not computed: {why}"))


def run(args: argparse.Namespace) -> int:
    """Read, score, print the table and write the JSON when ``--out`` is given."""
    references = read_references(args.references, args.split)
    predictions = read_predictions(args.predictions)
    scores = score_captions(references, predictions, source=str(args.predictions), backend=args.backend)
    uncertainty = measure(
        args,
        predictions,
        lambda rows, source: caption_tally(references, rows, source, scores.backend),
        read_predictions,
    )
    console = Console()
    print_scores(scores, f"{args.split} split, {scores.num_images} images", console, uncertainty.intervals)
    if uncertainty.comparison is not None:
        print_comparison(uncertainty.comparison, console)
    if args.out is not None:
        document = {
            "references": str(args.references),
            "split": args.split,
            "predictions": str(args.predictions),
            **scores.to_dict(),
            **uncertainty.to_dict(),
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_json(args.out, document)
        print(f"scores written to {args.out}")
    return 0
