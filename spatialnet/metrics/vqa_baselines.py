"""Question-only baselines: what a VQA model scores without looking at the image.

A VQA model is only worth its image encoder by the margin it beats these (any question set:
RSVQA-LR, RSIVQA):

* **majority per type** — the most frequent training answer of each question type;
* **blind** — the most frequent training answer of the exact same question text (questions are
  templated, so a text recurs across images), falling back to the type's majority. This is the
  best any question-only model can do on questions it has seen, so it bounds learned blind models.

Both read answers as the readers give them (RSVQA: binned; RSIVQA: normalised words).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from spatialnet.data.rsvqa.files import VQAQuestion
from spatialnet.errors import DataError

MAJORITY = "majority per type"
BLIND = "blind (same question text)"
# What each baseline answers, for the legends under tables.
DESCRIPTIONS = {
    MAJORITY: "the most frequent training answer of the question's type",
    BLIND: "the most frequent training answer of the same question text (else of its type)",
}


def _majority(counter: Counter[str]) -> str:
    """Most frequent answer; ties broken alphabetically so the baseline is deterministic."""
    best = max(counter.values())
    return min(answer for answer, n in counter.items() if n == best)


def type_majority(train: Iterable[VQAQuestion]) -> dict[str, str]:
    """The most frequent training answer of each question type."""
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    for question in train:
        by_type[question.type][question.answer] += 1
    return {kind: _majority(counts) for kind, counts in by_type.items()}


def majority_answers(train: Sequence[VQAQuestion], questions: Sequence[VQAQuestion]) -> dict[int, str]:
    """Answer every question with its type's majority training answer.

    A type the training split never asks gets the most frequent training answer of all.
    """
    if not train:
        raise DataError("baselines: the training split has no questions to learn answers from")
    majority = type_majority(train)
    overall = _majority(Counter(q.answer for q in train))
    return {q.id: majority.get(q.type, overall) for q in questions}


def blind_answers(train: Sequence[VQAQuestion], questions: Sequence[VQAQuestion]) -> dict[int, str]:
    """Answer every question with the majority training answer of the same (normalised) text."""
    by_text: dict[str, Counter[str]] = defaultdict(Counter)
    for question in train:
        by_text[_text(question.question)][question.answer] += 1
    fallback = majority_answers(train, questions)
    return {
        q.id: _majority(by_text[key]) if (key := _text(q.question)) in by_text else fallback[q.id]
        for q in questions
    }


def baseline_answers(
    train: Sequence[VQAQuestion], questions: Sequence[VQAQuestion]
) -> dict[str, dict[int, str]]:
    """Both baselines' answers to ``questions``, by the names tables and scorers print."""
    return {MAJORITY: majority_answers(train, questions), BLIND: blind_answers(train, questions)}


def _text(question: str) -> str:
    """Case- and punctuation-insensitive form of a question."""
    return " ".join("".join(c if c.isalnum() else " " for c in question.lower()).split())
