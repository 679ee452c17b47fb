"""``VQAImages``: preloaded images, each with every question asked about it, as recipe items.

What the VQA head reads, whatever the files were: the official RSVQA-LR split files
(:mod:`spatialnet.data.rsvqa`), RSIVQA's question lines (:mod:`spatialnet.data.rsivqa`) or a
Hugging Face table (:mod:`spatialnet.data.hf`). Each dataset names its question set
(:mod:`spatialnet.data.question_sets`): its question types and the answers each allows. Running the
backbone once per image and answering all its questions from the same features is 20–100×
cheaper than one backbone pass per question, which is what makes CPU training possible.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from spatialnet.data import question_sets
from spatialnet.data.preload import PreloadedImages
from spatialnet.data.question_sets import DEFAULT_SET
from spatialnet.data.rsvqa.answers import remap_sides
from spatialnet.data.rsvqa.files import VQAQuestion
from spatialnet.data.transforms import TrainAugment, flip_and_turn
from spatialnet.errors import DataError
from spatialnet.processors.image import ImageProcessor


class VQAImages(PreloadedImages):
    """Images with their questions, answers and question types, in one question set.

    **Items.** ``{"image": float32 (3, S, S); "image_id": int64; "question": [str];
    "answer": [str] (RSVQA: binned); "question_type": [str]; "question_id": [int]; "count": [float]
    (the raw count of count questions, NaN otherwise); "question_set": str}``.

    **Augmentation.** Flips and quarter turns are drawn here, per item from ``(epoch seed, index)``,
    and the side words of each question (left/right/top/bottom) are remapped so every answer stays
    true (:func:`remap_sides`); answers of a type that names sides the question does not (RSIVQA's
    locations, ``QuestionSet.side_dependent``) are rewritten by the set's ``side_rewriter``, and a
    question whose answer it cannot rewrite is left out of that view.
    Random resized crops are refused: they change counts and presence.
    Colour jitter comes from ``augment``. ``questions_per_image`` > 0 draws that many questions per
    image each epoch (all when fewer). Draws are seeded per item and epoch
    (:class:`~spatialnet.data.preload.PreloadedImages`).
    """

    def __init__(
        self,
        split: str,
        processor: ImageProcessor,
        augment: TrainAugment | None,
        images: Tensor,
        image_ids: Sequence[int],
        questions: Sequence[list[VQAQuestion]],
        questions_per_image: int = 0,
        question_set: str = DEFAULT_SET,
    ) -> None:
        """The split's preloaded ``images``, their ids and each image's (non-empty) list of questions."""
        check_vqa_options(augment, questions_per_image)
        super().__init__(split, processor, augment, images, image_ids)
        self.questions_per_image = questions_per_image
        self.questions = [list(qs) for qs in questions]
        self.question_set = question_set
        rules = question_sets.question_set(question_set)
        self._side_dependent = rules.side_dependent
        side_answers = (q.answer for qs in self.questions for q in qs if q.type in self._side_dependent)
        self._rewrite = rules.side_rewriter(side_answers) if rules.side_rewriter else _no_rewrite

    @property
    def num_questions(self) -> int:
        """Questions in the split (what the metrics count)."""
        return sum(len(qs) for qs in self.questions)

    def __getitem__(self, index: int) -> dict[str, Any]:
        """One image and its questions, augmented consistently when training."""
        index = self.position(index)
        image = self.images[index]
        questions = self.questions[index]
        texts = [q.question for q in questions]
        answers = [q.answer for q in questions]
        if self.augment is not None:
            generator = self.seeded(index)
            view = self._draw_view(generator)
            if any(view[:2]) or view[2] != 0:
                image, questions, texts, answers = self._viewed(image, questions, texts, answers, view)
            image = self.augment.jitter(image, generator)
            if 0 < self.questions_per_image < len(questions):
                keep = torch.randperm(len(questions), generator=generator)[: self.questions_per_image]
                chosen = sorted(int(i) for i in keep)
                questions = [questions[i] for i in chosen]
                texts = [texts[i] for i in chosen]
                answers = [answers[i] for i in chosen]
        return {
            "image": self.processor.normalize(image),
            "image_id": torch.tensor(self.image_ids[index], dtype=torch.int64),
            "question": texts,
            "answer": answers,
            "question_type": [q.type for q in questions],
            "question_id": [q.id for q in questions],
            "count": [float(q.count) if q.count is not None else float("nan") for q in questions],
            "question_set": self.question_set,
        }

    def _draw_view(self, generator: torch.Generator) -> tuple[bool, bool, int]:
        """Random flips and quarter turns, as ``augment`` allows: (hflip, vflip, quarter turns)."""
        assert self.augment is not None
        hflip = self.augment.hflip and bool(torch.rand((), generator=generator) < 0.5)
        vflip = self.augment.vflip and bool(torch.rand((), generator=generator) < 0.5)
        turns = int(torch.randint(0, 4, (1,), generator=generator)) if self.augment.rot90 else 0
        return hflip, vflip, turns

    def _viewed(
        self,
        image: Tensor,
        questions: list[VQAQuestion],
        texts: list[str],
        answers: list[str],
        view: tuple[bool, bool, int],
    ) -> tuple[Tensor, list[VQAQuestion], list[str], list[str]]:
        """The image seen through ``view``, side words of questions and side-dependent answers rewritten.

        A side-dependent answer with no rewritten form drops its question from this view; an
        image left with no question stays as it was.
        """
        moved = [
            answer if q.type not in self._side_dependent else self._rewrite(answer, *view)
            for q, answer in zip(questions, answers, strict=True)
        ]
        kept = [i for i, answer in enumerate(moved) if answer is not None]
        if not kept:
            return image, questions, texts, answers
        return (
            flip_and_turn(image, *view).contiguous(),
            [questions[i] for i in kept],
            [remap_sides(texts[i], *view) for i in kept],
            [a for a in moved if a is not None],
        )

    def head_settings(self) -> dict[str, dict[str, Any]]:
        """The VQA head's answers (batch key ``answer``): the question set's, per type.

        Types whose answers the set fixes (RSVQA's count bins) take those; the others every answer
        the split gives them, most frequent first. ``answers`` is their union, in that order;
        ``type_counts`` the split's questions per type (what type balancing divides by).
        """
        fixed = question_sets.question_set(self.question_set)
        seen: dict[str, Counter[str]] = {}
        for q in (q for qs in self.questions for q in qs):
            seen.setdefault(q.type, Counter())[q.answer] += 1
        by_type = {
            kind: list(fixed.answers.get(kind, ())) or sorted(seen[kind], key=lambda a: (-seen[kind][a], a))
            for kind in fixed.types
            if kind in fixed.answers or kind in seen
        }
        answers = list(
            dict.fromkeys([*fixed.labels, *(a for kind_answers in by_type.values() for a in kind_answers)])
        )
        counts = {kind: sum(seen[kind].values()) for kind in fixed.types if kind in seen}
        return {
            "answer": {
                "answer_sets": {self.question_set: by_type},
                "answers": answers,
                "type_counts": {self.question_set: counts},
            }
        }

    def texts(self, key: str = "question") -> list[str]:
        """Every question of the split (to train the question vocabulary on)."""
        if key != "question":
            raise DataError(f"{type(self).__name__} has sentences under 'question', not {key!r}")
        return [q.question for qs in self.questions for q in qs]


def _no_rewrite(answer: str, hflip: bool, vflip: bool, quarter_turns: int) -> str | None:
    """No answer of a side-dependent type is known on a turned view."""
    return None


def check_vqa_options(augment: TrainAugment | None, questions_per_image: int) -> None:
    """Refuse crops (they change counts and presence) and a negative question draw, before any reading."""
    if augment is not None and augment.random_resized_crop is not None:
        raise DataError(
            "data.augment.random_resized_crop must be null for RSVQA: a crop changes counts and "
            "presence answers"
        )
    if questions_per_image < 0:
        raise DataError(f"data.questions_per_image must be >= 0, got {questions_per_image}")
