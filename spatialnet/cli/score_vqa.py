"""``spatialnet score-vqa``: RSVQA accuracies of predicted answers against an official split.

Also what every VQA scorer shares (score-rsivqa reads other files, then scores, prints and writes
the same way): the predictions' accuracies per type, AA and OA, the question-only floors beside
them when a training split is given, bootstrap intervals over questions or images, the paired
test against a second predictions file, the confusion figure and the JSON document.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spatialnet.cli.uncertainty import add_uncertainty_options, interval_cell, measure, print_comparison
from spatialnet.data import question_sets
from spatialnet.data.rsvqa.files import VQAQuestion, read_questions_and_answers
from spatialnet.errors import DataError
from spatialnet.files import write_json
from spatialnet.metrics.bootstrap import Intervals
from spatialnet.metrics.vqa import VQAScores, read_vqa_predictions, save_vqa_confusion, score_vqa
from spatialnet.metrics.vqa_baselines import DESCRIPTIONS, baseline_answers
from spatialnet.metrics.vqa_tally import UNITS, vqa_tally

FULL_MATRIX_ANSWERS = 30  # beyond this many answers, one matrix is unreadable: one panel per type
PANEL_ANSWERS = 15  # answers shown per type's panel, the rarer ones merged
RSVQA_UNIT_HELP = (
    "RSVQA-LR asks about 100 questions per tile, and questions of one tile are not independent: "
    "intervals that resample questions (the field's habit) are optimistic, too narrow; 'images' "
    "draws each tile with all its questions (needs the questions' img_id, which the official "
    "questions file gives)."
)


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
            "questions (complete official files or subsets of their rows). With --train-questions and "
            "--train-answers, the question-only floors (majority answer per type; blind: majority answer "
            "of the same question text) are printed beside. Writes the scores (fractions) as JSON and "
            "the answer confusion matrix as PNG. " + RSVQA_UNIT_HELP
        ),
    )
    parser.add_argument(
        "--questions", type=Path, required=True, help="official LR_split_<split>_questions.json"
    )
    parser.add_argument("--answers", type=Path, required=True, help="official LR_split_<split>_answers.json")
    parser.add_argument(
        "--train-questions", type=Path, help="LR_split_train_questions.json: fit the floors printed beside"
    )
    parser.add_argument(
        "--train-answers", type=Path, help="LR_split_train_answers.json (with --train-questions)"
    )
    add_prediction_options(parser, '"yes"', "counts raw or binned", "questions", RSVQA_UNIT_HELP)
    parser.set_defaults(handler=run)


def add_prediction_options(
    parser: argparse.ArgumentParser, answer: str, answers_note: str, unit: str, unit_help: str
) -> None:
    """``--predictions``, ``--out``, ``--confusion`` and the uncertainty options, ``--resample`` included.

    ``answer`` is an example answer (JSON) and ``answers_note`` how answers are read, for the
    help; ``unit`` is the default resampling unit and ``unit_help`` why the unit matters.
    """
    parser.add_argument(
        "--predictions",
        type=Path,
        required=True,
        help="JSON list as spatialnet evaluate writes it: "
        f'[{{"question_id": <id>, "answer": {answer}}}, ...]; {answers_note}',
    )
    parser.add_argument("--out", type=Path, required=True, help="scores JSON to write (fractions 0..1)")
    parser.add_argument(
        "--confusion",
        type=Path,
        help="confusion PNG to write (default: <out stem>_confusion.png beside --out); above "
        f"{FULL_MATRIX_ANSWERS} answers, one panel per question type with its {PANEL_ANSWERS} most "
        "frequent answers",
    )
    add_uncertainty_options(parser, unit, UNITS, unit_help)


def run(args: argparse.Namespace) -> int:
    """Read the split (and the training split), then score, print and write."""
    if (args.train_questions is None) != (args.train_answers is None):
        raise DataError("--train-questions and --train-answers go together: give both or neither")
    questions = read_questions_and_answers(args.questions, args.answers)
    train = None
    if args.train_questions is not None:
        train = read_questions_and_answers(args.train_questions, args.train_answers)
    inputs = {"questions": str(args.questions), "answers": str(args.answers)}
    if train is not None:
        inputs["train"] = f"{args.train_questions} + {args.train_answers}"
    return score_and_write(
        args, questions, "rsvqa_lr", f"{args.questions.name}: {len(questions)} questions", inputs, train
    )


def score_and_write(
    args: argparse.Namespace,
    questions: Sequence[VQAQuestion],
    question_set: str,
    title: str,
    inputs: Mapping[str, str],
    train: Sequence[VQAQuestion] | None = None,
) -> int:
    """Score ``args.predictions`` on ``questions``, print the table, write the confusion PNG and JSON.

    ``train`` (the same dataset's training questions) adds the question-only floors beside the
    predictions; ``inputs`` names the files read, recorded in the JSON.
    """
    predictions = read_vqa_predictions(args.predictions)
    scores = score_vqa(questions, predictions, source=str(args.predictions), question_set=question_set)
    floors = {}
    if train is not None:
        for name, answers in baseline_answers(train, questions).items():
            floors[name] = score_vqa(questions, answers, source=name, question_set=question_set)
    uncertainty = measure(
        args,
        predictions,
        lambda rows, source: vqa_tally(questions, rows, source, question_set, by=args.resample),
        read_vqa_predictions,
    )
    console = Console()
    print_scores(scores, title, console, uncertainty.intervals, floors, inputs.get("train", ""))
    drawn = uncertainty.intervals or uncertainty.comparison
    if drawn is not None:
        console.print(resampling_note(args.resample, drawn.resamples, questions), markup=False)
    if uncertainty.comparison is not None:
        print_comparison(uncertainty.comparison, console)
    confusion = args.confusion or args.out.with_name(f"{args.out.stem}_confusion.png")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    name = question_sets.question_set(question_set).title
    save_answer_confusion(scores, confusion, f"{name} answers ({title})")
    document = {
        **inputs,
        "predictions": str(args.predictions),
        "confusion_png": str(confusion),
        **scores.to_dict(),
        "num_images": len({q.image_id for q in questions}),
        "baselines": {
            name: {"train": inputs.get("train", ""), "metrics": s.metrics, "correct": s.correct}
            for name, s in floors.items()
        },
        "resample": args.resample,
        **uncertainty.to_dict(),
    }
    write_json(args.out, document)
    print(f"scores written to {args.out}, confusion figure to {confusion}")
    return 0


def print_scores(
    scores: VQAScores,
    title: str,
    console: Console | None = None,
    intervals: Intervals | None = None,
    floors: Mapping[str, VQAScores] | None = None,
    train: str = "",
) -> None:
    """Accuracies ×100 (the field's convention), questions behind each, intervals and floors beside.

    Floors are headed by the first word of their name (``majority``, ``blind``), explained below
    with where they learnt their answers (``train``).
    """
    console = console or Console()
    floors = floors or {}
    table = Table(title=escape(title))
    table.add_column("metric")
    table.add_column("×100", justify="right")
    table.add_column("questions", justify="right")
    if intervals is not None:
        table.add_column(f"95% interval\nby {intervals.unit}", justify="right", no_wrap=True)
    for name in floors:
        table.add_column(escape(name.split()[0]), justify="right")
    for name, value in scores.metrics.items():
        n = scores.counts.get(name, scores.num_questions if name in ("OA", "AA") else None)
        extra = [] if intervals is None else [interval_cell(intervals.intervals[name])]
        extra += [f"{100 * f.metrics[name]:.2f}" if name in f.metrics else "—" for f in floors.values()]
        table.add_row(name, f"{100 * value:.2f}", "" if n is None else str(n), *extra)
    console.print(table)
    if floors:
        console.print(f"question-only floors, learnt from {train or 'the training split'}:", markup=False)
        for name in floors:
            console.print(f"  {name.split()[0]}: {DESCRIPTIONS.get(name, name)}", markup=False)
    if scores.out_of_vocabulary:
        answers = question_sets.question_set(scores.question_set).title
        console.print(f"{scores.out_of_vocabulary} predictions are not {answers} answers (counted wrong)")


def resampling_note(unit: str, resamples: int, questions: Sequence[VQAQuestion]) -> str:
    """What the bootstrap drew, and why intervals over questions are optimistic when images repeat."""
    images = len({q.image_id for q in questions})
    each = len(questions) / images
    if unit == "images":
        return (
            f"resampled {resamples} times: the {images} images, each with all its questions "
            f"({len(questions)} questions, {each:.1f} per image)"
        )
    note = f"resampled {resamples} times: the {len(questions)} questions, one by one"
    if each > 1:
        note += (
            f"; they are about {images} images ({each:.1f} questions each) and questions of one image "
            "are not independent, so these intervals are optimistic (too narrow): --resample images "
            "draws whole images"
        )
    return note


def save_answer_confusion(scores: VQAScores, path: Path, title: str) -> Path:
    """The answer confusion matrix, or one panel per question type when the answers are too many."""
    if len(scores.answers) <= FULL_MATRIX_ANSWERS:
        return save_vqa_confusion(scores, path, title=title)
    from spatialnet.metrics.figures import save_confusion_panels  # deferred: matplotlib

    panels = [(kind, m, list(scores.answers)) for kind, m in scores.confusion_by_type.items()]
    return save_confusion_panels(
        panels, path, title=f"{title}, per question type", top=PANEL_ANSWERS, noun="questions"
    )
