"""RSVQA-LR as a torch dataset: one item per image, carrying every question asked about it.

Lobry, S., Marcos, D., Murray, J., Tuia, D. "RSVQA: Visual Question Answering for Remote Sensing
Data." IEEE TGRS 2020. Files are read by :mod:`spatialnet.data.rsvqa.files`; items and their
augmentation are :class:`~spatialnet.data.vqa_images.VQAImages`'.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from spatialnet.data.preload import preload_images
from spatialnet.data.rsvqa.files import FOLDER_NAME, VQAQuestion, read_split
from spatialnet.data.transforms import TrainAugment
from spatialnet.data.vqa_images import VQAImages, check_vqa_options
from spatialnet.errors import DataError
from spatialnet.processors.image import ImageProcessor


class RSVQALR(VQAImages):
    """RSVQA-LR images with their questions, answers (official 9 classes) and question types.

    **Layout.** ``root`` is the ``rsvqa_lr`` folder or a folder containing it (a synthetic world)::

        rsvqa_lr/Images_LR/{id}.tif
        rsvqa_lr/LR_split_{split}_{images,questions,answers}.json

    **Items.** :class:`~spatialnet.data.vqa_images.VQAImages` items, ``image_id`` and
    ``question_id`` as in the split files, question set ``rsvqa_lr``. Images without questions are
    left out; so are images whose tile is absent, with their questions (one line says how many):
    the files may be the complete official ones or a subset of their rows.
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        processor: ImageProcessor | None = None,
        augment: TrainAugment | None = None,
        questions_per_image: int = 0,
        progress: bool = True,
    ) -> None:
        check_vqa_options(augment, questions_per_image)
        self.root = resolve_root(root)
        processor = processor or ImageProcessor()
        data = read_split(self.root, split, skip_absent=True)
        if data.skipped_questions and progress:
            print(data.describe_skipped(), file=sys.stderr)
        by_image: dict[int, list[VQAQuestion]] = defaultdict(list)
        for question in data.questions:
            by_image[question.image_id].append(question)
        images = [image for image in data.images if by_image[image.id]]
        if not images:
            raise DataError(f"{self.root}: the '{split}' split has no questions")
        pixels = preload_images([image.path for image in images], processor, f"RSVQA-LR {split}", progress)
        super().__init__(
            split,
            processor,
            augment,
            pixels,
            [image.id for image in images],
            [by_image[image.id] for image in images],
            questions_per_image,
            question_set="rsvqa_lr",
        )

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
