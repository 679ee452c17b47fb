"""RSVQA accuracies as the official evaluation computes them (syvlo/RSVQA ``computeStats.py``).

Lobry et al., "RSVQA", TGRS 2020: accuracy per question type (``count``, ``presence``, ``comp``,
``rural_urban``), ``AA`` = the unweighted mean of the per-type accuracies, ``OA`` = correct answers
over all questions. ``mean3`` (presence, comp, rural_urban) is what recent vision-language papers
report, since they drop counting. Values are fractions in [0, 1]; tables print them ×100.
Predicted raw counts are binned like the references, so a model may answer "403".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spatialnet.data.rsvqa.answers import LR_ANSWERS, QUESTION_TYPES, THREE_TYPES, normalize_answer
from spatialnet.data.rsvqa.files import VQAQuestion
from spatialnet.data.ucm.karpathy import read_json
from spatialnet.errors import DataError
from spatialnet.metrics.ids import check_same_ids, is_int, listed

_ROW = '{"question_id": int, "answer": str}'


@dataclass(frozen=True)
class VQAScores:
    """Per-type and summary accuracies (fractions) with the counts behind them.

    ``accuracy`` holds only the types that have questions; ``AA`` averages those (``AA_types``),
    and ``mean3`` those of THREE_TYPES (None when none has questions). ``confusion[t][p]`` counts
    questions with true answer ``LR_ANSWERS[t]`` predicted as ``LR_ANSWERS[p]``; out-of-vocabulary
    predictions are wrong, counted in ``out_of_vocabulary`` and absent from the matrices.
    """

    accuracy: dict[str, float]
    AA: float
    OA: float
    mean3: float | None
    AA_types: tuple[str, ...]
    counts: dict[str, int]
    correct: dict[str, int]
    confusion: list[list[int]]
    confusion_by_type: dict[str, list[list[int]]]
    out_of_vocabulary: int
    num_questions: int

    @property
    def metrics(self) -> dict[str, float]:
        """The reference names: per-type accuracies, ``AA``, ``OA`` and (when defined) ``mean3``."""
        values = {**self.accuracy, "AA": self.AA, "OA": self.OA}
        if self.mean3 is not None:
            values["mean3"] = self.mean3
        return values

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; the matrices' rows and columns follow ``answers``."""
        return {
            "num_questions": self.num_questions,
            "metrics": self.metrics,
            "AA_types": list(self.AA_types),
            "counts": dict(self.counts),
            "correct": dict(self.correct),
            "out_of_vocabulary": self.out_of_vocabulary,
            "answers": list(LR_ANSWERS),
            "confusion": [list(row) for row in self.confusion],
            "confusion_by_type": {t: [list(r) for r in m] for t, m in self.confusion_by_type.items()},
        }


def score_vqa(
    questions: Mapping[int, tuple[str, str]] | Sequence[VQAQuestion],
    predictions: Mapping[int, str] | Sequence[Mapping[str, Any]],
    source: str = "predictions",
) -> VQAScores:
    """Score one predicted answer per question.

    ``questions`` is ``{question_id: (type, answer)}`` or the reader's VQAQuestion list; answers
    are binned. ``predictions`` is ``{question_id: answer}`` or a list of ``{"question_id",
    "answer"}`` rows; its ids must be exactly the questions' ids, since a subset would bias every
    number. ``source`` names the predictions in error messages.
    """
    graded = judged(questions, predictions, source)
    index = {answer: i for i, answer in enumerate(LR_ANSWERS)}
    size = len(LR_ANSWERS)
    counts: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    by_type = {t: [[0] * size for _ in range(size)] for t in QUESTION_TYPES}
    out_of_vocabulary = 0
    for _, kind, answer, guess in graded:
        counts[kind] += 1
        correct[kind] += guess == answer
        if guess in index:
            by_type[kind][index[answer]][index[guess]] += 1
        else:
            out_of_vocabulary += 1
    present = tuple(t for t in QUESTION_TYPES if counts[t])
    accuracy = {t: correct[t] / counts[t] for t in present}
    three = [accuracy[t] for t in THREE_TYPES if t in accuracy]
    confusion = [[sum(by_type[t][r][c] for t in present) for c in range(size)] for r in range(size)]
    return VQAScores(
        accuracy=accuracy,
        AA=sum(accuracy.values()) / len(accuracy),
        OA=sum(correct.values()) / len(graded),
        mean3=sum(three) / len(three) if three else None,
        AA_types=present,
        counts={t: counts[t] for t in present},
        correct={t: correct[t] for t in present},
        confusion=confusion,
        confusion_by_type={t: by_type[t] for t in present},
        out_of_vocabulary=out_of_vocabulary,
        num_questions=len(graded),
    )


def judged(
    questions: Mapping[int, tuple[str, str]] | Sequence[VQAQuestion],
    predictions: Mapping[int, str] | Sequence[Mapping[str, Any]],
    source: str = "predictions",
) -> list[tuple[int, str, str, str]]:
    """``(question_id, type, answer, binned prediction)`` per prediction, after the id checks.

    What :func:`score_vqa` counts, and what the bootstrap's per-question statistics are made of.
    """
    truth = _checked_questions(questions)
    pairs = _checked_predictions(predictions, source)
    check_same_ids(
        truth, (i for i, _ in pairs), source, f"question ids must match the {len(truth)} questions"
    )
    return [(i, *truth[i], normalize_answer(predicted)) for i, predicted in pairs]


def read_vqa_predictions(path: Path) -> list[dict[str, Any]]:
    """A predictions file: a JSON list of ``{"question_id": int, "answer": str}`` rows."""
    data = read_json(Path(path), f"a list of {_ROW} rows")
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a JSON list of {_ROW} rows, got {type(data).__name__}")
    if not data:
        raise DataError(f"{path}: the predictions list is empty")
    for i, row in enumerate(data):
        _check_row(row, f"{path}: row {i}")
    return data


def save_vqa_confusion(scores: VQAScores, path: Path | str, title: str = "RSVQA answers") -> Path:
    """The 9×9 answer confusion matrix (row-normalised, rows = truth) as a PNG."""
    from spatialnet.metrics.figures import save_confusion_matrix  # deferred: matplotlib

    return save_confusion_matrix(scores.confusion, LR_ANSWERS, path, normalize=True, title=title)


# -- validation ---------------------------------------------------------------------------------
def _checked_questions(
    questions: Mapping[int, tuple[str, str]] | Sequence[VQAQuestion],
) -> dict[int, tuple[str, str]]:
    """``question_id → (type, binned answer)``, each a known type and an LR answer."""
    if isinstance(questions, Mapping):
        items = list(questions.items())
    elif isinstance(questions, Sequence) and all(isinstance(q, VQAQuestion) for q in questions):
        items = [(q.id, (q.type, q.answer)) for q in questions]
        repeated = sorted(i for i, n in Counter(i for i, _ in items).items() if n > 1)
        if repeated:
            raise DataError(f"questions: ids appear more than once: {listed(repeated)}")
    else:
        raise DataError(
            "questions: expected a mapping question_id -> (type, answer) or a list of VQAQuestion"
        )
    if not items:
        raise DataError("questions: no questions to score")
    truth: dict[int, tuple[str, str]] = {}
    for question_id, value in items:
        if not is_int(question_id):
            raise DataError(f"questions: question id {question_id!r} is not an integer")
        if not isinstance(value, tuple | list) or len(value) != 2 or not isinstance(value[1], str):
            raise DataError(f"questions: question {question_id}: expected (type, answer), got {value!r}")
        kind, answer = value[0], normalize_answer(value[1])
        if kind not in QUESTION_TYPES:
            expected = ", ".join(QUESTION_TYPES)
            raise DataError(
                f"questions: question {question_id} has type {kind!r}; expected one of {expected}"
            )
        if answer not in LR_ANSWERS:
            raise DataError(
                f"questions: question {question_id} has answer {value[1]!r}; expected one of "
                f"{', '.join(LR_ANSWERS)} or a count"
            )
        truth[question_id] = (kind, answer)
    return truth


def _checked_predictions(
    predictions: Mapping[int, str] | Sequence[Mapping[str, Any]], source: str
) -> list[tuple[int, str]]:
    """``(question_id, answer)`` pairs in the given order, duplicates kept for the id check."""
    if isinstance(predictions, Mapping):
        pairs = list(predictions.items())
        for question_id, answer in pairs:
            _check_row({"question_id": question_id, "answer": answer}, f"{source}: question {question_id!r}")
    elif isinstance(predictions, Sequence) and not isinstance(predictions, str | bytes):
        for i, row in enumerate(predictions):
            _check_row(row, f"{source}: row {i}")
        pairs = [(row["question_id"], row["answer"]) for row in predictions]
    else:
        raise DataError(
            f"{source}: expected a mapping question_id -> answer or a list of {_ROW} rows, "
            f"got {type(predictions).__name__}"
        )
    if not pairs:
        raise DataError(f"{source}: no predictions")
    return pairs


def _check_row(row: Any, where: str) -> None:
    """One prediction row: an integer ``question_id`` and a string ``answer``."""
    if not isinstance(row, Mapping):
        raise DataError(f"{where}: expected an object {_ROW}, got {row!r}")
    if not is_int(row.get("question_id")):
        raise DataError(f"{where}: 'question_id' must be an integer, got {row.get('question_id')!r}")
    if not isinstance(row.get("answer"), str):
        raise DataError(f"{where}: 'answer' must be a string, got {row.get('answer')!r}")
