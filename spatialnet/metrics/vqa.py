"""VQA accuracies as the official RSVQA evaluation computes them (syvlo/RSVQA ``computeStats.py``).

Lobry et al., "RSVQA", TGRS 2020: accuracy per question type (``count``, ``presence``, ``comp``,
``rural_urban``), ``AA`` = the unweighted mean of the per-type accuracies, ``OA`` = correct answers
over all questions. ``mean3`` (presence, comp, rural_urban) is what recent vision-language papers
report, since they drop counting. Other datasets score the same way over their own question set
(:mod:`spatialnet.data.question_sets`): RSIVQA per theme, presence, count and location.
Values are fractions in [0, 1]; tables print them ×100. Predicted answers are normalised like the
references (RSVQA: raw counts binned, so a model may answer "403").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spatialnet.data import question_sets
from spatialnet.data.question_sets import DEFAULT_SET, QuestionSet
from spatialnet.data.rsvqa.files import VQAQuestion
from spatialnet.data.ucm.karpathy import read_json
from spatialnet.errors import DataError
from spatialnet.metrics.ids import check_same_ids, is_int, listed

_ROW = '{"question_id": int, "answer": str}'


@dataclass(frozen=True)
class VQAScores:
    """Per-type and summary accuracies (fractions) with the counts behind them.

    ``accuracy`` holds only the types that have questions; ``AA`` averages those (``AA_types``),
    ``averages`` the set's further means (RSVQA's ``mean3``; left out when none of its types has
    questions). ``confusion[t][p]`` counts questions with true answer ``answers[t]`` predicted as
    ``answers[p]``. For a set that fixes every answer (RSVQA-LR), other predictions are wrong,
    counted in ``out_of_vocabulary`` and absent from the matrices; otherwise ``answers`` lists the
    true answers, then any other predicted ones.
    """

    accuracy: dict[str, float]
    AA: float
    OA: float
    averages: dict[str, float]
    AA_types: tuple[str, ...]
    counts: dict[str, int]
    correct: dict[str, int]
    answers: tuple[str, ...]
    confusion: list[list[int]]
    confusion_by_type: dict[str, list[list[int]]]
    out_of_vocabulary: int
    num_questions: int
    question_set: str = DEFAULT_SET

    @property
    def mean3(self) -> float | None:
        """RSVQA's 3-type mean (presence, comp, rural_urban), None where undefined."""
        return self.averages.get("mean3")

    @property
    def metrics(self) -> dict[str, float]:
        """The reference names: per-type accuracies, ``AA``, ``OA`` and the set's defined averages."""
        return {**self.accuracy, "AA": self.AA, "OA": self.OA, **self.averages}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; the matrices' rows and columns follow ``answers``."""
        return {
            "question_set": self.question_set,
            "num_questions": self.num_questions,
            "metrics": self.metrics,
            "AA_types": list(self.AA_types),
            "counts": dict(self.counts),
            "correct": dict(self.correct),
            "out_of_vocabulary": self.out_of_vocabulary,
            "answers": list(self.answers),
            "confusion": [list(row) for row in self.confusion],
            "confusion_by_type": {t: [list(r) for r in m] for t, m in self.confusion_by_type.items()},
        }


def score_vqa(
    questions: Mapping[int, tuple[str, str]] | Sequence[VQAQuestion],
    predictions: Mapping[int, str] | Sequence[Mapping[str, Any]],
    source: str = "predictions",
    question_set: str = DEFAULT_SET,
) -> VQAScores:
    """Score one predicted answer per question over ``question_set``'s types.

    ``questions`` is ``{question_id: (type, answer)}`` or the readers' VQAQuestion list; answers
    are normalised by the set (RSVQA: binned). ``predictions`` is ``{question_id: answer}`` or a
    list of ``{"question_id", "answer"}`` rows; its ids must be exactly the questions' ids, since a
    subset would bias every number. ``source`` names the predictions in error messages.
    """
    rules = question_sets.question_set(question_set)
    graded = judged(questions, predictions, source, question_set)
    labels = _labels(rules, graded)
    index = {answer: i for i, answer in enumerate(labels)}
    size = len(labels)
    counts: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    by_type = {t: [[0] * size for _ in range(size)] for t in rules.types}
    out_of_vocabulary = 0
    for _, kind, answer, guess in graded:
        counts[kind] += 1
        correct[kind] += guess == answer
        if guess in index:
            by_type[kind][index[answer]][index[guess]] += 1
        else:
            out_of_vocabulary += 1
    present = tuple(t for t in rules.types if counts[t])
    accuracy = {t: correct[t] / counts[t] for t in present}
    averages = {}
    for name, types in rules.averages.items():
        defined = [accuracy[t] for t in types if t in accuracy]
        if defined:
            averages[name] = sum(defined) / len(defined)
    confusion = [[sum(by_type[t][r][c] for t in present) for c in range(size)] for r in range(size)]
    return VQAScores(
        accuracy=accuracy,
        AA=sum(accuracy.values()) / len(accuracy),
        OA=sum(correct.values()) / len(graded),
        averages=averages,
        AA_types=present,
        counts={t: counts[t] for t in present},
        correct={t: correct[t] for t in present},
        answers=tuple(labels),
        confusion=confusion,
        confusion_by_type={t: by_type[t] for t in present},
        out_of_vocabulary=out_of_vocabulary,
        num_questions=len(graded),
        question_set=rules.name,
    )


def _labels(rules: QuestionSet, graded: list[tuple[int, str, str, str]]) -> list[str]:
    """The confusion matrices' answers: the set's fixed ones, else the true answers then other guesses.

    Open answers are listed type by type, most frequent first, so a type's block is contiguous.
    """
    if rules.closed:
        return rules.fixed_answers()
    truth: dict[str, Counter[str]] = {t: Counter() for t in rules.types}
    for _, kind, answer, _ in graded:
        truth[kind][answer] += 1
    ordered = [a for t in rules.types for a in sorted(truth[t], key=lambda a: (-truth[t][a], a))]
    labels = list(dict.fromkeys([*rules.fixed_answers(), *ordered]))
    return labels + sorted({guess for *_, guess in graded} - set(labels))


def judged(
    questions: Mapping[int, tuple[str, str]] | Sequence[VQAQuestion],
    predictions: Mapping[int, str] | Sequence[Mapping[str, Any]],
    source: str = "predictions",
    question_set: str = DEFAULT_SET,
) -> list[tuple[int, str, str, str]]:
    """``(question_id, type, answer, normalised prediction)`` per prediction, after the id checks.

    What :func:`score_vqa` counts, and what the bootstrap's per-question statistics are made of.
    """
    rules = question_sets.question_set(question_set)
    truth = _checked_questions(questions, rules)
    pairs = _checked_predictions(predictions, source)
    check_same_ids(
        truth, (i for i, _ in pairs), source, f"question ids must match the {len(truth)} questions"
    )
    return [(i, *truth[i], rules.normalize(predicted)) for i, predicted in pairs]


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
    """The answer confusion matrix (row-normalised, rows = truth) as a PNG."""
    from spatialnet.metrics.figures import save_confusion_matrix  # deferred: matplotlib

    return save_confusion_matrix(scores.confusion, list(scores.answers), path, normalize=True, title=title)


# -- validation ---------------------------------------------------------------------------------
def _checked_questions(
    questions: Mapping[int, tuple[str, str]] | Sequence[VQAQuestion], rules: QuestionSet
) -> dict[int, tuple[str, str]]:
    """``question_id → (type, normalised answer)``: a type of the set and (closed sets) a known answer."""
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
    known = set(rules.fixed_answers()) if rules.closed else None
    truth: dict[int, tuple[str, str]] = {}
    for question_id, value in items:
        if not is_int(question_id):
            raise DataError(f"questions: question id {question_id!r} is not an integer")
        if not isinstance(value, tuple | list) or len(value) != 2 or not isinstance(value[1], str):
            raise DataError(f"questions: question {question_id}: expected (type, answer), got {value!r}")
        kind, answer = value[0], rules.normalize(value[1])
        if kind not in rules.types:
            expected = ", ".join(rules.types)
            raise DataError(
                f"questions: question {question_id} has type {kind!r}; expected one of {expected} "
                f"({rules.title})"
            )
        if known is not None and answer not in known:
            raise DataError(
                f"questions: question {question_id} has answer {value[1]!r}; expected one of "
                f"{', '.join(rules.fixed_answers())} or a count"
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
