"""RSIVQA on the UC Merced photos as a torch dataset: one item per photo, carrying its questions.

Zheng, X., Wang, B., Du, X., Lu, X. "Mutual Attention Inception Network for Remote Sensing Visual
Question Answering." IEEE TGRS 2021. Lines are read by :mod:`spatialnet.data.rsivqa.files`;
items and their augmentation are :class:`~spatialnet.data.vqa_images.VQAImages`'.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from spatialnet.data.preload import preload_images
from spatialnet.data.rsivqa.files import FOLDER_NAME, QUESTIONS_FILE, WHERE, read_split
from spatialnet.data.transforms import TrainAugment
from spatialnet.data.ucm.dataset import resolve_root as resolve_ucm_root
from spatialnet.data.vqa_images import VQAImages, check_vqa_options
from spatialnet.errors import DataError
from spatialnet.processors.image import ImageProcessor

UCM_FOLDER = "ucm_captions"


class RSIVQA(VQAImages):
    """RSIVQA's questions on UC Merced photos: theme, presence, count (in words) and location.

    **Layout.** ``root`` is the folder of the question files or a folder holding it as
    ``rsivqa_ucm/`` (a world written by ``spatialnet synth``, or ``../shared/data``); ``images`` a
    UCM-captions folder (default: ``ucm_captions/`` beside the questions' folder)::

        rsivqa_ucm/ucm_res.txt        N.tif:QUESTION?ANSWER, one question per line
        ucm_captions/dataset.json     the images' file names and train/val/test split
        ucm_captions/imgs/N.jpg       the photos (any extension; N is the image)

    **Splits.** UCM-captions' (RSIVQA's questions of the test photos are held out here).

    **Items.** :class:`~spatialnet.data.vqa_images.VQAImages` items, question set ``rsivqa``:
    ``image_id`` is the photo's ``imgid``, ``question_id`` its line's position (0-based; lines of
    the k-th file read count from k × 1,000,000), answers as written. Training may add question
    files (``extra_files``, e.g. ``ucm_vqa.txt``'s theme question per image).
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        processor: ImageProcessor | None = None,
        augment: TrainAugment | None = None,
        questions_per_image: int = 0,
        images: str | Path | None = None,
        files: Sequence[str] = (QUESTIONS_FILE,),
        extra_files: Sequence[str] = (),
        progress: bool = True,
    ) -> None:
        check_vqa_options(augment, questions_per_image)
        self.root = resolve_root(root)
        self.images_root = resolve_ucm_root(images if images is not None else self.root.parent / UCM_FOLDER)
        annotations = self.images_root / "dataset.json"
        if not annotations.is_file():
            raise DataError(
                f"{annotations}: missing; RSIVQA's questions need the UCM-captions folder of their photos "
                "(data.images, default ucm_captions/ beside the questions' folder)"
            )
        paths = [self.root / name for name in files]
        absent = [str(p) for p in paths if not p.is_file()]
        if absent:
            raise DataError(f"{', '.join(absent)}: missing; expected {WHERE} (data.question_files)")
        data = read_split(paths, annotations, split, [self.root / name for name in extra_files])
        if not data.records:
            raise DataError(f"{self.root}: no question of {', '.join(files)} is about a '{split}' photo")
        if data.skipped_lines and progress:
            print(
                f"RSIVQA {split}: {data.skipped_lines} questions skipped (photos not in {annotations})",
                file=sys.stderr,
            )
        photos = [self.images_root / "imgs" / record.filename for record in data.records]
        lost = [p.name for p in photos if not p.is_file()]
        if lost:
            raise DataError(
                f"{self.images_root / 'imgs'}: {len(lost)} photos missing ({', '.join(lost[:5])}...)"
            )
        pixels = preload_images(photos, processor or ImageProcessor(), f"RSIVQA {split}", progress)
        super().__init__(
            split,
            processor or ImageProcessor(),
            augment,
            pixels,
            [record.imgid for record in data.records],
            data.questions,
            questions_per_image,
            question_set="rsivqa",
        )
        self.filenames = [record.filename for record in data.records]

    def __repr__(self) -> str:
        return (
            f"RSIVQA(root={str(self.root)!r}, images={str(self.images_root)!r}, split={self.split!r}, "
            f"photos={len(self)}, questions={self.num_questions}, image_size={self.processor.image_size})"
        )


def resolve_root(root: str | Path) -> Path:
    """The questions' folder: ``root`` itself, or ``root/rsivqa_ucm`` when that exists."""
    root = Path(root).expanduser()
    nested = root / FOLDER_NAME
    return nested if nested.is_dir() and not (root / QUESTIONS_FILE).is_file() else root
