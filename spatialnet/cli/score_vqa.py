"""``spatialnet score-vqa``: RSVQA accuracies of predicted answers against an official split."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spatialnet.cli.uncertainty import add_uncertainty_options, interval_cell, measure, print_comparison
from spatialnet.data.rsvqa.files import read_questions_and_answers
from spatialnet.files import write_json
from spatialnet.metrics.bootstrap import Intervals
from spatialnet.metrics.vqa import VQAScores, read_vqa_predictions, save_vqa_confusion, score_vqa
from spatialnet.metrics.vqa_tally import vqa_tally


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "score-vqa",
        help="RSVQA accuracies (count, presence, comp, rural_urban, AA, OA) of predicted answers",
        description=(
            "Score one predicted answer per question against the official RSVQA files, as the official "
            "evaluation does: accuracy per question type, AA (unweighted mean of the per-type accuracies), "
            "OA (correct over all questions) and the 3-type mean without count. Raw counts in the "
            "predictions are binned like the references. The predictions must cover exactly the active "
            "questions. Writes the scores (fractions) as JSON and the answer confusion matrix as PNG."
        ),
    )
    parser.add_argument(
        "--questions", type=Path, required=True, help="official LR_split_<split>_questions.json"
    )
    parser.add_argument("--answers", type=Path, required=True, help="official LR_split_<split>_answers.json")
    parser.add_argument(
        "--predictions",
        type=Path,
        required=True,
        help='JSON list: [{"question_id": <id>, "answer": "yes"}, ...]; counts raw or binned',
    )
    parser.add_argument("--out", type=Path, required=True, help="scores JSON to write (fractions 0..1)")
    parser.add_argument(
        "--confusion",
        type=Path,
        help="confusion-matrix PNG to write (default: <out stem>_confusion.png beside --out)",
    )
    add_uncertainty_options(parser, "questions")
    parser.set_defaults(handler=run)


def print_scores(
    scores: VQAScores, title: str, console: Console | None = None, intervals: Intervals | None = None
) -> None:
    """Accuracies ×100, the field's convention, with the number of questions behind each."""
    console = console or Console()
    table = Table(title=escape(title))
    table.add_column("metric")
    table.add_column("×100", justify="right")
    table.add_column("questions", justify="right")
    if intervals is not None:
        table.add_column(f"95% interval ({intervals.resamples} resamples)", justify="right")
    for name, value in scores.metrics.items():
        n = scores.counts.get(name, scores.num_questions if name in ("OA", "AA") else None)
        extra = [] if intervals is None else [interval_cell(intervals.intervals[name])]
        table.add_row(name, f"{100 * value:.2f}", "" if n is None else str(n), *extra)
    console.print(table)
    if scores.out_of_vocabulary:
        console.print(f"{scores.out_of_vocabulary} predictions are not RSVQA-LR answers (counted wrong)")


def run(args: argparse.Namespace) -> int:
    """Read, score, print the table, write the JSON and the confusion PNG."""
    questions = read_questions_and_answers(args.questions, args.answers)
    predictions = read_vqa_predictions(args.predictions)
    scores = score_vqa(questions, predictions, source=str(args.predictions))
    uncertainty = measure(
        args, predictions, lambda rows, source: vqa_tally(questions, rows, source), read_vqa_predictions
    )
    console = Console()
    title = f"{args.questions.name}: {scores.num_questions} questions"
    print_scores(scores, title, console, uncertainty.intervals)
    if uncertainty.comparison is not None:
        print_comparison(uncertainty.comparison, console)
    confusion = args.confusion or args.out.with_name(f"{args.out.stem}_confusion.png")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_vqa_confusion(scores, confusion, title=f"RSVQA answers ({args.questions.name})")
    document = {
        "questions": str(args.questions),
        "answers": str(args.answers),
        "predictions": str(args.predictions),
        "confusion_png": str(confusion),
        **scores.to_dict(),
        **uncertainty.to_dict(),
    }
    write_json(args.out, document)
    print(f"scores written to {args.out}, confusion matrix to {confusion}")
    return 0
