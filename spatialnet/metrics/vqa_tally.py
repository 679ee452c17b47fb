"""Per-question statistics of the RSVQA accuracies: what the bootstrap resamples for VQA.

Each question is a row with a 1 in its type's "asked" column and, when the binned answer is right,
a 1 in its type's "correct" column. Accuracy per type, AA, OA and mean3 are functions of the column
sums, so each resample is scored exactly as :func:`score_vqa` scores a split. Caveat: RSVQA asks
many questions about each image, so the questions are not independent draws; intervals from
resampling questions (what is done here, as the field reports per-question accuracies) are
narrower than resampling images would give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from spatialnet.data.rsvqa.answers import QUESTION_TYPES, THREE_TYPES
from spatialnet.data.rsvqa.files import VQAQuestion
from spatialnet.metrics.bootstrap import Tally
from spatialnet.metrics.vqa import judged

_TYPES = len(QUESTION_TYPES)
_THREE = [QUESTION_TYPES.index(t) for t in THREE_TYPES]


def vqa_tally(
    questions: Mapping[int, tuple[str, str]] | Sequence[VQAQuestion],
    predictions: Mapping[int, str] | Sequence[Mapping[str, Any]],
    source: str = "predictions",
) -> Tally:
    """The per-question statistics of one answer per question; checks as :func:`score_vqa` does."""
    graded = sorted(judged(questions, predictions, source))
    rows = np.zeros((len(graded), 2 * _TYPES))
    for k, (_, kind, answer, guess) in enumerate(graded):
        column = QUESTION_TYPES.index(kind)
        rows[k, column] = 1.0
        rows[k, _TYPES + column] = float(guess == answer)
    return Tally(tuple(i for i, *_ in graded), rows, vqa_scores, "questions", source)


def vqa_scores(sums: np.ndarray) -> dict[str, np.ndarray]:
    """Per-type accuracy, ``AA``, ``OA`` and ``mean3`` of each row of summed statistics.

    A type without questions in a row has no accuracy (NaN) and is left out of its AA and mean3.
    """
    asked, correct = sums[:, :_TYPES], sums[:, _TYPES:]
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = correct / asked
        values = {kind: accuracy[:, k] for k, kind in enumerate(QUESTION_TYPES)}
        values["AA"] = _mean_of_defined(accuracy)
        values["OA"] = correct.sum(axis=1) / asked.sum(axis=1)
        values["mean3"] = _mean_of_defined(accuracy[:, _THREE])
    return values


def _mean_of_defined(values: np.ndarray) -> np.ndarray:
    """Row means over the non-NaN entries (NaN where there is none)."""
    defined = ~np.isnan(values)
    return np.where(defined, values, 0.0).sum(axis=1) / defined.sum(axis=1)
