"""``spatialnet score-rsivqa``: RSIVQA accuracies of predicted answers on the UC Merced photos.

Zheng et al., "Mutual Attention Inception Network for Remote Sensing Visual Question Answering",
TGRS 2021 (RSIVQA). The questions file (``ucm_res.txt``) is joined to a UCM-captions folder for
the photos' split (:mod:`spatialnet.data.rsivqa.files`); scoring, floors, intervals and figures
are score-vqa's (:func:`spatialnet.cli.score_vqa.score_and_write`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from spatialnet.cli.score_vqa import add_prediction_options, score_and_write
from spatialnet.data.rsivqa.files import QUESTIONS_FILE, read_split
from spatialnet.data.rsvqa.files import VQAQuestion
from spatialnet.errors import DataError

RSIVQA_UNIT_HELP = (
    "RSIVQA asks five questions about each photo, and questions of one photo are not independent: "
    "'images' draws each photo with all its questions; 'questions' gives narrower, optimistic intervals."
)


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "score-rsivqa",
        help="RSIVQA accuracies (theme, presence, count, location, AA, OA) of predicted answers",
        description=(
            "Score one predicted answer per question of RSIVQA's UC Merced part (lines "
            "'N.tif:QUESTION?ANSWER'; a question's id is its line's 0-based position in the file) on the "
            "photos of one UCM-captions split: accuracy per question type (theme, presence, count, "
            "location), AA (unweighted mean of the per-type accuracies) and OA (correct over all "
            "questions). Answers are compared trimmed, lower case, single-spaced. Beside them, the "
            "question-only floors fitted on the training split of the same file: the majority answer "
            "per type, and blind (the majority answer of the same question text). The predictions must "
            "cover exactly the split's questions. Writes the scores (fractions) as JSON and the "
            "confusion figure as PNG (one panel per question type when the answers are many). "
            + RSIVQA_UNIT_HELP
        ),
    )
    parser.add_argument("--questions", type=Path, required=True, help=f"RSIVQA's {QUESTIONS_FILE}")
    parser.add_argument(
        "--images",
        type=Path,
        required=True,
        help="UCM-captions folder of the photos (its dataset.json gives each photo's split), or that file",
    )
    parser.add_argument("--split", default="val", help="split of the photos to score (default: val)")
    parser.add_argument(
        "--train-split", default="train", help="split the floors learn answers from (default: train)"
    )
    add_prediction_options(
        parser,
        '"two"',
        "answers as written (yes/no, numbers in words, locations)",
        "images",
        RSIVQA_UNIT_HELP,
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Read the split and the training split, then score, print and write."""
    if args.train_split == args.split:
        raise DataError(
            f"--train-split is {args.split!r} like --split; the floors must learn from another split"
        )
    annotations = args.images / "dataset.json" if args.images.is_dir() else args.images
    if not annotations.is_file():
        raise DataError(
            f"{annotations}: missing; expected the UCM-captions folder of RSIVQA's photos "
            "(dataset.json + imgs/) or its dataset.json (--images)"
        )
    questions = read_questions(args.questions, annotations, args.split)
    train = read_questions(args.questions, annotations, args.train_split)
    photos = len({q.image_id for q in questions})
    inputs = {
        "questions": str(args.questions),
        "images": str(annotations),
        "split": args.split,
        "train": f"{args.questions} ({args.train_split} split)",
    }
    title = f"{args.questions.name}, {args.split} split: {len(questions)} questions on {photos} photos"
    return score_and_write(args, questions, "rsivqa", title, inputs, train)


def read_questions(path: Path, annotations: Path, split: str) -> list[VQAQuestion]:
    """The questions of ``path`` about the photos of ``split``, in image then line order."""
    found = [q for qs in read_split([path], annotations, split).questions for q in qs]
    if not found:
        raise DataError(f"{path}: no question is about a '{split}' photo of {annotations}")
    return found
