"""UCM-captions reader: UC Merced land-use images with five captions each.

Qu, B., Li, X., Tao, D., Lu, X. "Deep semantic understanding of high resolution remote sensing
image." CITS 2016. Images: Yang, Y., Newsam, S. "Bag-of-visual-words and spatial extensions for
land-use classification." ACM SIGSPATIAL GIS 2010.
"""

from __future__ import annotations

from pathlib import Path

from torch import Tensor

from spatialnet.data.caption_images import CaptionImages
from spatialnet.data.preload import preload_images
from spatialnet.data.transforms import TrainAugment
from spatialnet.data.ucm.classes import UCM_CLASSES
from spatialnet.data.ucm.karpathy import CaptionRecord, read_records, split_records
from spatialnet.data.ucm.landuse import (
    SCENES_FILE,
    LabelSource,
    label_from_filename,
    landuse_labels,
    pick_label_source,
    scenes_path,
)
from spatialnet.errors import DataError
from spatialnet.processors.image import ImageProcessor

__all__ = ["FOLDER_NAME", "SCENES_FILE", "UCM_CLASSES", "UCMCaptions", "label_from_filename", "resolve_root"]

FOLDER_NAME = "ucm_captions"

_WHERE_TO_GET = (
    "get UCM_captions.zip (dataset.json + imgs/) from the RSICD_optimal project page, "
    "or write a synthetic one with `spatialnet synth`"
)
_MAX_LISTED = 5


class UCMCaptions(CaptionImages):
    """UCM-captions: 21-class land-use labels and, with ``with_captions``, captions to learn and score.

    **What.** 2,100 aerial orthoimages (USGS, 1 ft/px, nominally 256×256, 44 of them 242–257 px)
    of 21 land-use classes, 100 images each, with five English captions per image
    (Qu et al. 2016 over the UC Merced Land Use images of Yang & Newsam 2010).

    **Layout.** ``root`` is either the ``ucm_captions`` folder itself or a folder containing it
    (e.g. a world written by ``spatialnet synth``)::

        ucm_captions/dataset.json   {"images": [{"filename", "imgid", "split", "sentences": [{"raw"}]}]}
        ucm_captions/imgs/<filename>  any extension load_image reads (original: N.tif; here N.jpg)
        scenes.jsonl                  optional, beside ucm_captions/: {"filename", "landuse_index", ...}

    **Splits.** The Karpathy-style ``split`` field of each record: 1,680 train, 210 val and
    210 test in the official file (the local copy holds train and val only).

    **Labels.** ``label_source="filename"``: image ``N.ext`` is class ``(N - 1) // 100`` of
    :data:`UCM_CLASSES` (alphabetical), N in 1..2100. ``"scenes"``: ``landuse_index`` of the
    ``scenes.jsonl`` row with the same file name (synthetic worlds, whose numbering need not
    follow the rule). ``"auto"``: scenes when ``scenes.jsonl`` exists, else the filename rule.

    **Samples.** :class:`~spatialnet.data.caption_images.CaptionImages` items; ``image_id`` is
    the record's ``imgid`` and every image has a ``landuse`` label.
    """

    processor: ImageProcessor

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        processor: ImageProcessor | None = None,
        augment: TrainAugment | None = None,
        label_source: LabelSource = "auto",
        progress: bool = True,
        with_captions: bool = False,
    ) -> None:
        self.root = resolve_root(root)
        processor = processor or ImageProcessor()
        records = split_records(self._read_annotations(), split, self.annotation_path)
        filenames = [r.filename for r in records]
        self._verify(filenames, split)
        self.label_source = pick_label_source(self.root, label_source)
        labels = landuse_labels(self.root, filenames, self.label_source, self.annotation_path)
        images = self._preload(filenames, processor, split, progress)
        super().__init__(
            split,
            processor,
            augment,
            images,
            [r.imgid for r in records],
            [r.captions for r in records],
            labels,
            UCM_CLASSES,
            filenames,
            with_captions,
            str(self.annotation_path),
        )

    # -- paths -------------------------------------------------------------------------------
    @property
    def annotation_path(self) -> Path:
        """``dataset.json`` of this dataset."""
        return self.root / "dataset.json"

    @property
    def image_dir(self) -> Path:
        """Folder the records' ``filename`` values are relative to."""
        return self.root / "imgs"

    @property
    def scenes_path(self) -> Path:
        """Optional ``scenes.jsonl`` beside the ``ucm_captions`` folder."""
        return scenes_path(self.root)

    @property
    def num_classes(self) -> int:
        """Number of land-use classes (21)."""
        return len(UCM_CLASSES)

    def __repr__(self) -> str:
        return (
            f"UCMCaptions(root={str(self.root)!r}, split={self.split!r}, n={len(self)}, "
            f"image_size={self.processor.image_size}, labels={self.label_source!r}, augment={self.augment!r})"
        )

    # -- reading -----------------------------------------------------------------------------
    def _read_annotations(self) -> list[CaptionRecord]:
        """Parse and validate dataset.json (a missing file says where to get the data)."""
        if not self.annotation_path.is_file():
            self._raise_missing([f"annotation file {self.annotation_path}"])
        return read_records(self.annotation_path)

    def _verify(self, filenames: list[str], split: str) -> None:
        """Check that the image folder and every image of the split exist; say what is missing."""
        if not self.image_dir.is_dir():
            self._raise_missing([f"image folder {self.image_dir}"])
        missing = [name for name in filenames if not (self.image_dir / name).is_file()]
        if missing:
            listed = ", ".join(missing[:_MAX_LISTED]) + (", ..." if len(missing) > _MAX_LISTED else "")
            count = f"{len(missing)} of {len(filenames)} '{split}' images"
            self._raise_missing([f"{count} in {self.image_dir}: {listed}"])

    def _raise_missing(self, what: list[str]) -> None:
        """Raise the one 'missing data' error, with where to get the dataset."""
        raise DataError(f"UCM-captions under {self.root}: missing {'; '.join(what)}; {_WHERE_TO_GET}")

    def _preload(self, filenames: list[str], processor: ImageProcessor, split: str, progress: bool) -> Tensor:
        """Decode and resize the whole split once."""
        paths = [self.image_dir / name for name in filenames]
        return preload_images(paths, processor, f"UCM {split}", progress)


def resolve_root(root: str | Path) -> Path:
    """The ``ucm_captions`` folder: ``root`` itself, or ``root/ucm_captions`` when that exists."""
    root = Path(root).expanduser()
    nested = root / FOLDER_NAME
    if not (root / "dataset.json").is_file() and nested.is_dir():
        return nested
    return root
