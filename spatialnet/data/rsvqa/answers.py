"""RSVQA-LR answer vocabulary and the official count binning (Lobry et al., TGRS 2020).

The official ``VocabEncoder`` (``range_numbers=True``) turns a raw count into one of five bins, so
with yes/no and rural/urban the low-resolution dataset has 9 answer classes. Every consumer (the
reader, the synthetic world, the evaluator, the VQA head) bins through :func:`bin_count`.
"""

from __future__ import annotations

import re

from spatialnet.data.question_sets import QuestionSet, register_question_set

QUESTION_TYPES: tuple[str, ...] = ("count", "presence", "comp", "rural_urban")
# The three types recent vision-language papers average (they drop counting).
THREE_TYPES: tuple[str, ...] = ("presence", "comp", "rural_urban")
COUNT_BINS: tuple[str, ...] = (
    "0",
    "between 0 and 10",
    "between 10 and 100",
    "between 100 and 1000",
    "more than 1000",
)
LR_ANSWERS: tuple[str, ...] = ("yes", "no", "rural", "urban", *COUNT_BINS)
# The answers each question type can have: a count is a bin, presence and comparison yes or no.
ANSWERS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "count": COUNT_BINS,
    "presence": ("yes", "no"),
    "comp": ("yes", "no"),
    "rural_urban": ("rural", "urban"),
}
# Questions with these words change meaning under flips and rotations (RSVQA disables them).
RELATIONAL_WORDS: frozenset[str] = frozenset({"left", "right", "top", "bottom"})

_INTEGER = re.compile(r"^\s*\d+\s*$")


def bin_count(count: int) -> str:
    """The official bin of a non-negative count: 0; 1–10; 11–100; 101–1000; more than 1000."""
    if count < 0:
        raise ValueError(f"a count must be >= 0, got {count}")
    if count == 0:
        return "0"
    if count <= 10:
        return "between 0 and 10"
    if count <= 100:
        return "between 10 and 100"
    if count <= 1000:
        return "between 100 and 1000"
    return "more than 1000"


def normalize_answer(answer: str) -> str:
    """An answer as the metric compares it: trimmed, lower case, raw integers binned."""
    text = answer.strip().lower()
    return bin_count(int(text)) if _INTEGER.match(text) else text


def is_relational(question: str) -> bool:
    """True when the question names a side (left/right/top/bottom), so geometric augmentation would lie."""
    return any(word in RELATIONAL_WORDS for word in re.findall(r"[a-z]+", question.lower()))


_COUNT_START = re.compile(r"^\s*(how many|what is the (number|amount) of)\b", re.IGNORECASE)
_COMPARISON = re.compile(r"\b(more|less|fewer)\b.*\bthan\b|\bequal to\b", re.IGNORECASE)


def question_type(question: str) -> str:
    """The RSVQA type of a question text, from the dataset's templates (for questions typed by a user).

    "Is it a rural or an urban area" → ``rural_urban``; "How many …", "What is the number/amount
    of …" → ``count``; "Are there more/less … than …", "Is the number of … equal to …" → ``comp``;
    any other question → ``presence``.
    """
    text = question.lower()
    if "rural" in text and "urban" in text:
        return "rural_urban"
    if _COUNT_START.search(text):
        return "count"
    if _COMPARISON.search(text):
        return "comp"
    return "presence"


# Where a side goes under one quarter turn of torch.rot90(image, 1, dims=(-2, -1)) (anticlockwise).
_QUARTER_TURN = {"left": "bottom", "bottom": "right", "right": "top", "top": "left"}
_SIDE_WORD = re.compile(r"\b(left|right|top|bottom)\b", re.IGNORECASE)


def remap_sides(question: str, hflip: bool, vflip: bool, quarter_turns: int) -> str:
    """The question that stays true after flipping (horizontal, then vertical) and rotating the image.

    The operations are applied in that order, as the RSVQA dataset applies them, so "at the left of"
    becomes "at the right of" under a horizontal flip and "at the bottom of" under one quarter turn.
    Side relations are measured on axis-aligned boxes, which these operations map exactly.
    """

    def side(match: re.Match[str]) -> str:
        word = match.group(0).lower()
        if hflip:
            word = {"left": "right", "right": "left"}.get(word, word)
        if vflip:
            word = {"top": "bottom", "bottom": "top"}.get(word, word)
        for _ in range(quarter_turns % 4):
            word = _QUARTER_TURN[word]
        return word

    return _SIDE_WORD.sub(side, question)


RSVQA_LR = register_question_set(
    QuestionSet(
        name="rsvqa_lr",
        title="RSVQA-LR",
        types=QUESTION_TYPES,
        type_of=question_type,
        normalize=normalize_answer,
        answers=ANSWERS_BY_TYPE,
        averages={"mean3": THREE_TYPES},
        labels=LR_ANSWERS,
    )
)
