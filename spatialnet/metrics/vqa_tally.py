"""Per-question (or per-image) statistics of the VQA accuracies: what the bootstrap resamples.

Each question is a row with a 1 in its type's "asked" column and, when the normalised answer is
right, a 1 in its type's "correct" column. Accuracy per type, AA, OA and the question set's
averages (RSVQA's mean3) are functions of the column sums, so each resample is scored exactly as
:func:`score_vqa` scores a split.

What is resampled matters: VQA datasets ask many questions about each image (RSVQA-LR about 100
per tile, RSIVQA five per photo), so the questions of one image are not independent draws.
Resampling questions (``by="questions"``, the field's habit for RSVQA) gives narrower intervals
than resampling images (``by="images"``: an image's questions enter or leave a resample together,
their rows summed into one), which is the honest unit when a test has few images.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache, partial
from typing import Any, Literal

import numpy as np

from spatialnet.data import question_sets
from spatialnet.data.question_sets import DEFAULT_SET
from spatialnet.data.rsvqa.files import VQAQuestion
from spatialnet.errors import DataError
from spatialnet.metrics.bootstrap import Tally
from spatialnet.metrics.ids import listed
from spatialnet.metrics.vqa import judged

Unit = Literal["questions", "images"]
UNITS: tuple[str, ...] = ("questions", "images")


def vqa_tally(
    questions: Mapping[int, tuple[str, str]] | Sequence[VQAQuestion],
    predictions: Mapping[int, str] | Sequence[Mapping[str, Any]],
    source: str = "predictions",
    question_set: str = DEFAULT_SET,
    by: Unit = "questions",
    image_of: Mapping[int, int] | None = None,
) -> Tally:
    """The statistics of one answer per question, one row per question or per image.

    ``by="images"`` needs each question's image: from VQAQuestion rows, or ``image_of``
    (question id → image id). Checks as :func:`score_vqa` does.
    """
    if by not in UNITS:
        raise DataError(f"resampling unit {by!r}; expected one of {', '.join(UNITS)}")
    types = question_sets.question_set(question_set).types
    graded = sorted(judged(questions, predictions, source, question_set))
    rows = np.zeros((len(graded), 2 * len(types)))
    for k, (_, kind, answer, guess) in enumerate(graded):
        column = types.index(kind)
        rows[k, column] = 1.0
        rows[k, len(types) + column] = float(guess == answer)
    score = _scorer(question_set)
    if by == "questions":
        return Tally(tuple(i for i, *_ in graded), rows, score, "questions", source)
    images = _images_of(questions, image_of)
    unplaced = sorted(i for i, *_ in graded if i not in images)
    if unplaced:
        raise DataError(f"image_of: no image for {listed(unplaced)} of the {len(graded)} questions")
    image_ids = sorted({images[i] for i, *_ in graded})
    position = {image: k for k, image in enumerate(image_ids)}
    per_image = np.zeros((len(image_ids), rows.shape[1]))
    np.add.at(per_image, [position[images[i]] for i, *_ in graded], rows)
    return Tally(tuple(image_ids), per_image, score, "images", source)


def vqa_scores(sums: np.ndarray, question_set: str = DEFAULT_SET) -> dict[str, np.ndarray]:
    """Per-type accuracy, ``AA``, ``OA`` and the set's averages of each row of summed statistics.

    A type without questions in a row has no accuracy (NaN) and is left out of its AA and averages.
    """
    rules = question_sets.question_set(question_set)
    count = len(rules.types)
    asked, correct = sums[:, :count], sums[:, count:]
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = correct / asked
        values = {kind: accuracy[:, k] for k, kind in enumerate(rules.types)}
        values["AA"] = _mean_of_defined(accuracy)
        values["OA"] = correct.sum(axis=1) / asked.sum(axis=1)
        for name, types in rules.averages.items():
            values[name] = _mean_of_defined(accuracy[:, [rules.types.index(t) for t in types]])
    return values


@cache
def _scorer(question_set: str) -> Any:
    """One scoring function per question set, so that tallies of the same set compare equal."""
    return partial(vqa_scores, question_set=question_set)


def _images_of(
    questions: Mapping[int, tuple[str, str]] | Sequence[VQAQuestion], image_of: Mapping[int, int] | None
) -> Mapping[int, int]:
    """Question id → image id, from ``image_of`` or the VQAQuestion rows."""
    if image_of is not None:
        return image_of
    if isinstance(questions, Mapping):
        raise DataError("resampling images needs each question's image: pass VQAQuestion rows or image_of")
    return {q.id: q.image_id for q in questions}


def _mean_of_defined(values: np.ndarray) -> np.ndarray:
    """Row means over the non-NaN entries (NaN where there is none)."""
    defined = ~np.isnan(values)
    return np.where(defined, values, 0.0).sum(axis=1) / defined.sum(axis=1)
