"""RSVQA-LR as a torch dataset: one item per image, carrying every question asked about it.

Lobry, S., Marcos, D., Murray, J., Tuia, D. "RSVQA: Visual Question Answering for Remote Sensing
Data." IEEE TGRS 2020. Files are read by :mod:`spatialnet.data.rsvqa.files`.

An image carries ~100 questions in the real dataset (~20 in the synthetic world); running the
backbone once per image and answering all its questions from the same features is 20–100×
cheaper than one backbone pass per question, which is what makes CPU training possible.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import torch

from spatialnet.data.base import RecipeDataset
from spatialnet.data.preload import preload_images
from spatialnet.data.rsvqa.answers import remap_sides
from spatialnet.data.rsvqa.files import FOLDER_NAME, VQAQuestion, read_split
from spatialnet.data.transforms import TrainAugment, item_seed
from spatialnet.errors import DataError
from spatialnet.processors.image import ImageProcessor


class RSVQALR(RecipeDataset):
    """RSVQA-LR images with their questions, answers (official 9 classes) and question types.

    **Layout.** ``root`` is the ``rsvqa_lr`` folder or a folder containing it (a synthetic world)::

        rsvqa_lr/Images_LR/{id}.tif
        rsvqa_lr/LR_split_{split}_{images,questions,answers}.json

    **Items.** ``{"image": float32 (3, S, S); "image_id": int64; "question": [str];
    "answer": [str] (binned); "question_type": [str]; "question_id": [int]; "count": [float]
    (the raw count of count questions, NaN otherwise)}``. Images without questions are left out.

    **Augmentation.** Flips and quarter turns are drawn here, per item from ``(epoch seed, index)``,
    and the side words of each question (left/right/top/bottom) are remapped so every answer stays
    true (:func:`remap_sides`). Random resized crops are refused: they change counts and presence.
    Colour jitter comes from ``augment``. ``questions_per_image`` > 0 draws that many questions per
    image each epoch (all when fewer).
    """

    processor: ImageProcessor

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        processor: ImageProcessor | None = None,
        augment: TrainAugment | None = None,
        questions_per_image: int = 0,
        progress: bool = True,
    ) -> None:
        if augment is not None and augment.random_resized_crop is not None:
            raise DataError(
                "data.augment.random_resized_crop must be null for RSVQA: a crop changes counts and "
                "presence answers"
            )
        if questions_per_image < 0:
            raise DataError(f"data.questions_per_image must be >= 0, got {questions_per_image}")
        self.root = resolve_root(root)
        self.split = split
        self.processor = processor or ImageProcessor()
        self.augment = augment
        self.questions_per_image = questions_per_image
        self._generator = torch.Generator()
        self._epoch_seed = 0

        data = read_split(self.root, split)
        by_image: dict[int, list[VQAQuestion]] = defaultdict(list)
        for question in data.questions:
            by_image[question.image_id].append(question)
        images = [image for image in data.images if by_image[image.id]]
        if not images:
            raise DataError(f"{self.root}: the '{split}' split has no questions")
        self.image_ids = [image.id for image in images]
        self.questions = [by_image[image.id] for image in images]
        self.images = preload_images(
            [image.path for image in images], self.processor, f"RSVQA-LR {split}", progress
        )

    def __len__(self) -> int:
        return len(self.image_ids)

    @property
    def num_questions(self) -> int:
        """Questions in the split (what the metrics count)."""
        return sum(len(qs) for qs in self.questions)

    def __getitem__(self, index: int) -> dict[str, Any]:
        """One image and its questions, augmented consistently when training."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} {self.split} images")
        index %= len(self)
        image = self.images[index]
        questions = self.questions[index]
        texts = [q.question for q in questions]
        if self.augment is not None:
            self._generator.manual_seed(item_seed(self._epoch_seed, index))
            image, texts = self._flip_and_turn(image, texts)
            image = self.augment.jitter(image, self._generator)
            if 0 < self.questions_per_image < len(questions):
                keep = torch.randperm(len(questions), generator=self._generator)[: self.questions_per_image]
                chosen = sorted(int(i) for i in keep)
                questions = [questions[i] for i in chosen]
                texts = [texts[i] for i in chosen]
        return {
            "image": self.processor.normalize(image),
            "image_id": torch.tensor(self.image_ids[index], dtype=torch.int64),
            "question": texts,
            "answer": [q.answer for q in questions],
            "question_type": [q.type for q in questions],
            "question_id": [q.id for q in questions],
            "count": [float(q.count) if q.count is not None else float("nan") for q in questions],
        }

    def _flip_and_turn(self, image: torch.Tensor, texts: list[str]) -> tuple[torch.Tensor, list[str]]:
        """Random flips and quarter turns of the image, with the questions' side words remapped."""
        assert self.augment is not None
        hflip = self.augment.hflip and bool(torch.rand((), generator=self._generator) < 0.5)
        vflip = self.augment.vflip and bool(torch.rand((), generator=self._generator) < 0.5)
        turns = int(torch.randint(0, 4, (1,), generator=self._generator)) if self.augment.rot90 else 0
        if hflip:
            image = image.flip(-1)
        if vflip:
            image = image.flip(-2)
        image = torch.rot90(image, turns, dims=(-2, -1))
        return image.contiguous(), [remap_sides(t, hflip, vflip, turns) for t in texts]

    def set_epoch(self, seed: int) -> None:
        """Reseed augmentation and question sampling (the trainer calls this every epoch)."""
        self._epoch_seed = int(seed)

    def texts(self, key: str = "question") -> list[str]:
        """Every question of the split (to train the question vocabulary on)."""
        if key != "question":
            raise DataError(f"RSVQA-LR has sentences under 'question', not {key!r}")
        return [q.question for qs in self.questions for q in qs]

    def __repr__(self) -> str:
        return (
            f"RSVQALR(root={str(self.root)!r}, split={self.split!r}, images={len(self)}, "
            f"questions={self.num_questions}, image_size={self.processor.image_size}, "
            f"augment={self.augment!r})"
        )


def resolve_root(root: str | Path) -> Path:
    """The ``rsvqa_lr`` folder: ``root`` itself, or ``root/rsvqa_lr`` when that exists."""
    root = Path(root).expanduser()
    nested = root / FOLDER_NAME
    return nested if nested.is_dir() and not (root / "Images_LR").is_dir() else root
