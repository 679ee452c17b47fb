"""Question sets: how one VQA dataset asks and answers, so one VQA head can serve several.

RSVQA-LR (Lobry et al., TGRS 2020) asks count, presence, comparison and rural/urban questions and
answers counts in five bins; RSIVQA (Zheng et al., TGRS 2021) asks theme, presence, count and
location questions about UC Merced photos and answers counts in words. A :class:`QuestionSet`
names a dataset's question types, how a question text is typed, how answers are compared, the
answers each type allows when they are fixed by the dataset's definition (RSVQA's bins) and which
types' answers change when the image is flipped or turned. Datasets put their set's name on every
item (batch key ``question_set``), the VQA head restricts each answer to its set's type, and the
scorers count per type of the set.

Each family registers its set when imported (:func:`register_question_set`); :func:`question_set`
imports the built-in families on first lookup.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from spatialnet.errors import DataError

# An answer as it reads on a view of the image (hflip, vflip, quarter turns), None when unknown.
AnswerRewriter = Callable[[str, bool, bool, int], "str | None"]


@dataclass(frozen=True)
class QuestionSet:
    """The question types and answer conventions of one VQA dataset.

    ``answers`` maps a type to the answers it allows when the dataset fixes them (RSVQA's count
    bins); a type absent from it takes its answers from the training data. ``averages`` are
    further means of per-type accuracies the field reports (RSVQA's 3-type ``mean3``).
    ``side_dependent`` types have answers that a flip or a quarter turn of the image changes
    (RSIVQA's "top left corner"). ``side_rewriter``, given the training answers of those types,
    returns a function rewriting one answer for a view (hflip, vflip, quarter turns), None when it
    cannot; questions without a rewritten answer (or every one, without a rewriter) are not trained
    on that view.
    """

    name: str
    title: str
    types: tuple[str, ...]
    type_of: Callable[[str], str]
    normalize: Callable[[str], str]
    answers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    averages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    side_dependent: frozenset[str] = frozenset()
    side_rewriter: Callable[[Iterable[str]], AnswerRewriter] | None = None
    labels: tuple[str, ...] = ()  # every answer in its tables' order, when the set fixes all

    def fixed_answers(self) -> list[str]:
        """Every answer the definition fixes: ``labels``, else type by type (none when data gives all)."""
        if self.labels:
            return list(self.labels)
        seen: dict[str, None] = {}
        for kind in self.types:
            seen.update(dict.fromkeys(self.answers.get(kind, ())))
        return list(seen)

    @property
    def closed(self) -> bool:
        """Whether the definition fixes every type's answers (then any other answer is out of vocabulary)."""
        return all(kind in self.answers for kind in self.types)


QUESTION_SETS: dict[str, QuestionSet] = {}
# The built-in sets and the module that registers each, imported on first lookup.
BUILT_IN_SETS = {
    "rsvqa_lr": "spatialnet.data.rsvqa.answers",
    "rsivqa": "spatialnet.data.rsivqa.questions",
}
DEFAULT_SET = "rsvqa_lr"  # what a VQA head answers by when nothing says otherwise (old checkpoints)


def register_question_set(question_set: QuestionSet) -> QuestionSet:
    """Add ``question_set`` to the registry under its name (once)."""
    if question_set.name in QUESTION_SETS:
        raise ValueError(f"question set '{question_set.name}' is registered twice")
    QUESTION_SETS[question_set.name] = question_set
    return question_set


def question_set(name: str) -> QuestionSet:
    """The question set registered as ``name`` (a DataError listing the known ones otherwise)."""
    if name not in QUESTION_SETS and name in BUILT_IN_SETS:
        importlib.import_module(BUILT_IN_SETS[name])
    if name not in QUESTION_SETS:
        for module in BUILT_IN_SETS.values():
            importlib.import_module(module)
        known = ", ".join(sorted(QUESTION_SETS))
        raise DataError(f"question set {name!r} is not known; expected one of: {known}")
    return QUESTION_SETS[name]
