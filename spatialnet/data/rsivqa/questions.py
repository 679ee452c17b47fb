"""RSIVQA's question set: theme, presence, count and location questions about aerial photos.

Zheng, X., Wang, B., Du, X., Lu, X. "Mutual Attention Inception Network for Remote Sensing Visual
Question Answering." IEEE TGRS 2021 (RSIVQA). Its UC Merced part asks, per photo: "What is the
theme of this picture?" (the land-use class in words), "Does this picture contain an airplane?"
(yes/no), "How many cars in the picture?" (a number in words: "zero", "twenty-two") and "What is
the location of the trees in this picture?" ("top left corner", "left and right", "i cannot see
it"). Answers are compared as written, after trimming, lower case and single spaces. A location
names sides of the image: on a flipped or turned view it is rewritten to what that view shows
(:mod:`spatialnet.data.rsivqa.locations`).
"""

from __future__ import annotations

import re

from spatialnet.data.question_sets import QuestionSet, register_question_set
from spatialnet.data.rsivqa.locations import location_rewriter

QUESTION_TYPES: tuple[str, ...] = ("theme", "presence", "count", "location")
# Each type's question forms, tried in order (the files' own templates, and the obvious rewordings
# a person types into the app).
_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("theme", re.compile(r"^\s*what\s+is\s+the\s+(theme|scene|land[\s-]*use)\b", re.IGNORECASE)),
    ("location", re.compile(r"^\s*(what\s+is\s+the\s+location\s+of|where\s+(is|are))\b", re.IGNORECASE)),
    ("count", re.compile(r"^\s*(how\s+many|what\s+is\s+the\s+number\s+of)\b", re.IGNORECASE)),
    (
        "presence",
        re.compile(r"^\s*(does|do|is|are)\s+(this|the)\s+(picture|image)\s+contains?\b", re.IGNORECASE),
    ),
    ("presence", re.compile(r"^\s*(is|are)\s+there\b", re.IGNORECASE)),
)


def rsivqa_type(question: str) -> str | None:
    """The RSIVQA type of a question from its form, None when it fits none."""
    for kind, form in _FORMS:
        if form.search(question):
            return kind
    return None


def question_type(question: str) -> str:
    """The type of a question a person typed: its form's, else ``presence`` (a yes/no question)."""
    return rsivqa_type(question) or "presence"


def normalize_answer(answer: str) -> str:
    """An answer as compared: trimmed, lower case, runs of spaces made one."""
    return " ".join(answer.lower().split())


RSIVQA = register_question_set(
    QuestionSet(
        name="rsivqa",
        title="RSIVQA",
        types=QUESTION_TYPES,
        type_of=question_type,
        normalize=normalize_answer,
        answers={"presence": ("yes", "no")},
        side_dependent=frozenset({"location"}),
        side_rewriter=location_rewriter,
    )
)
