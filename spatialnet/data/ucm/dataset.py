"""UCM-captions reader: UC Merced land-use images with five captions each.

Qu, B., Li, X., Tao, D., Lu, X. "Deep semantic understanding of high resolution remote sensing
image." CITS 2016. Images: Yang, Y., Newsam, S. "Bag-of-visual-words and spatial extensions for
land-use classification." ACM SIGSPATIAL GIS 2010.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any, Literal

import torch
from matplotlib.figure import Figure
from torch import Tensor

from spatialnet.data.base import RecipeDataset
from spatialnet.data.preload import preload_images
from spatialnet.data.transforms import TrainAugment, item_seed
from spatialnet.data.ucm.classes import IMAGES_PER_CLASS, UCM_CLASSES
from spatialnet.data.ucm.karpathy import CaptionRecord, read_records, split_records
from spatialnet.errors import DataError
from spatialnet.processors.image import ImageProcessor

FOLDER_NAME = "ucm_captions"
SCENES_FILE = "scenes.jsonl"
LabelSource = Literal["auto", "filename", "scenes"]

_WHERE_TO_GET = (
    "get UCM_captions.zip (dataset.json + imgs/) from the RSICD_optimal project page, "
    "or write a synthetic one with `spatialnet synth`"
)
_MAX_LISTED = 5


class UCMCaptions(RecipeDataset):
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

    **Samples.** The split is decoded once, resized by its ``processor`` and kept as one uint8
    (N, 3, S, S) tensor — decoding JPEGs every epoch would dominate CPU training. Each item is
    ``{"image": float32 (3, S, S) normalised, after augmentation; "landuse": int64 scalar;
    "image_id": int64 scalar (the record's imgid)}``; with ``with_captions`` also
    ``"captions"``: one reference sentence (during training a different one each epoch, drawn
    from the epoch seed; otherwise the first) and ``"references"``: all of the image's sentences.

    **Augmentation randomness.** Item ``i`` is augmented with the dataset's generator reseeded
    from ``(epoch seed, i)``: outputs depend on neither the DataLoader worker count nor the
    sampling order. The trainer calls :meth:`set_epoch` with a new seed each epoch (default 0).
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
        if label_source not in ("auto", "filename", "scenes"):
            raise DataError(f"label_source must be 'auto', 'filename' or 'scenes', got {label_source!r}")
        self.root = resolve_root(root)
        self.split = split
        self.processor = processor or ImageProcessor()
        self.augment = augment
        self.with_captions = with_captions
        self.classes = UCM_CLASSES
        self._generator = torch.Generator()
        self._epoch_seed = 0

        records = split_records(self._read_annotations(), split, self.annotation_path)
        self.filenames: list[str] = [r.filename for r in records]
        self.image_ids: list[int] = [r.imgid for r in records]
        self._captions: list[list[str]] = [r.captions for r in records]
        self._verify()
        if with_captions:
            self._check_captions()
        self.label_source: Literal["filename", "scenes"] = self._pick_label_source(label_source)
        self.labels: list[int] = (
            self._labels_from_scenes() if self.label_source == "scenes" else self._labels_from_filenames()
        )
        self.images = self._preload(progress)

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
        return self.root.parent / SCENES_FILE

    @property
    def num_classes(self) -> int:
        """Number of land-use classes (21)."""
        return len(self.classes)

    # -- Dataset API -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.filenames)

    def __getitem__(self, index: int) -> dict[str, Any]:
        """One normalised (optionally augmented) image with its land-use label, imgid and captions."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} {self.split} images")
        index %= len(self)
        image = self.images[index]
        if self.augment is not None:
            self._generator.manual_seed(item_seed(self._epoch_seed, index))
            image = self.augment(image, self._generator)
        item: dict[str, Any] = {
            "image": self.processor.normalize(image),
            "landuse": torch.tensor(self.labels[index], dtype=torch.int64),
            "image_id": torch.tensor(self.image_ids[index], dtype=torch.int64),
        }
        if self.with_captions:
            references = self._captions[index]
            pick = item_seed(self._epoch_seed, index) % len(references) if self.augment is not None else 0
            item["captions"] = references[pick]
            item["references"] = list(references)
        return item

    def set_epoch(self, seed: int) -> None:
        """Reseed augmentation: call once per epoch with a new seed (e.g. ``recipe.seed * 1000 + epoch``)."""
        self._epoch_seed = int(seed)

    def texts(self, key: str = "captions") -> list[str]:
        """Every sentence of the split under batch key ``key`` (to train a vocabulary on)."""
        if key not in ("captions", "references"):
            raise DataError(f"UCM-captions has sentences under 'captions', not {key!r}")
        return [sentence for captions in self._captions for sentence in captions]

    def reference_sets(self, key: str = "references") -> list[list[str]]:
        """Every image's reference sentences under batch key ``key`` (the corpus of a CIDEr reward)."""
        if key not in ("captions", "references"):
            raise DataError(f"UCM-captions has sentences under 'captions' and 'references', not {key!r}")
        return [list(captions) for captions in self._captions]

    def captions(self, index: int) -> list[str]:
        """The raw caption sentences of item ``index`` (``raw``, not the typo-bearing ``tokens``)."""
        return list(self._captions[index])

    def plot(self, index: int, show_caption: bool = True) -> Figure:
        """The stored (un-augmented) image titled with its class and first caption."""
        figure = Figure(figsize=(4, 4.6))
        axes = figure.add_subplot(1, 1, 1)
        axes.imshow(self.images[index].permute(1, 2, 0).numpy())
        axes.set_axis_off()
        axes.set_title(f"{self.classes[self.labels[index]]} ({self.filenames[index]})")
        captions = self._captions[index]
        if show_caption and captions:
            figure.text(0.5, 0.02, textwrap.fill(captions[0], 50), ha="center", va="bottom", fontsize=9)
        figure.tight_layout(rect=(0, 0.08, 1, 1))
        return figure

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

    def _verify(self) -> None:
        """Check that the image folder and every image of the split exist; say what is missing."""
        if not self.image_dir.is_dir():
            self._raise_missing([f"image folder {self.image_dir}"])
        missing = [name for name in self.filenames if not (self.image_dir / name).is_file()]
        if missing:
            listed = ", ".join(missing[:_MAX_LISTED]) + (", ..." if len(missing) > _MAX_LISTED else "")
            count = f"{len(missing)} of {len(self)} '{self.split}' images"
            self._raise_missing([f"{count} in {self.image_dir}: {listed}"])

    def _check_captions(self) -> None:
        """Every image needs at least one non-empty sentence to be learned from and scored against."""
        bare = [
            name
            for name, caps in zip(self.filenames, self._captions, strict=True)
            if not any(c.strip() for c in caps)
        ]
        if bare:
            listed = ", ".join(bare[:_MAX_LISTED]) + (", ..." if len(bare) > _MAX_LISTED else "")
            raise DataError(
                f"{self.annotation_path}: {len(bare)} '{self.split}' images have no caption "
                f"(empty 'sentences'): {listed}"
            )

    def _raise_missing(self, what: list[str]) -> None:
        """Raise the one 'missing data' error, with where to get the dataset."""
        raise DataError(f"UCM-captions under {self.root}: missing {'; '.join(what)}; {_WHERE_TO_GET}")

    def _pick_label_source(self, requested: LabelSource) -> Literal["filename", "scenes"]:
        """Resolve ``auto`` to scenes.jsonl when present, else the filename rule."""
        if requested == "scenes" and not self.scenes_path.is_file():
            raise DataError(f"{self.scenes_path}: not found (label_source='scenes' needs it)")
        if requested == "auto":
            return "scenes" if self.scenes_path.is_file() else "filename"
        return requested

    def _labels_from_filenames(self) -> list[int]:
        """UC Merced numbering: ``N.ext`` → (N − 1) // 100."""
        return [label_from_filename(name, self.annotation_path) for name in self.filenames]

    def _labels_from_scenes(self) -> list[int]:
        """``landuse_index`` of the scenes.jsonl row whose file name matches each record."""
        path = self.scenes_path
        by_name: dict[str, int] = {}
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"{path}:{lineno}: not valid JSON ({err})") from err
            if not isinstance(row, dict) or not isinstance(row.get("filename"), str):
                raise DataError(f"{path}:{lineno}: expected an object with a 'filename' string")
            index = row.get("landuse_index")
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(UCM_CLASSES):
                raise DataError(
                    f"{path}:{lineno}: 'landuse_index' must be an integer in 0..{len(UCM_CLASSES) - 1}, "
                    f"got {index!r}"
                )
            name = row.get("landuse")
            if name is not None and name != UCM_CLASSES[index]:
                raise DataError(
                    f"{path}:{lineno}: 'landuse' is {name!r} but landuse_index {index} "
                    f"is {UCM_CLASSES[index]!r}"
                )
            by_name[Path(row["filename"]).name] = index
        labels: list[int] = []
        for filename in self.filenames:
            key = Path(filename).name
            if key not in by_name:
                raise DataError(f"{path}: no row with filename '{key}' (listed in {self.annotation_path})")
            labels.append(by_name[key])
        return labels

    def _preload(self, progress: bool) -> Tensor:
        """Decode and resize the whole split once."""
        paths = [self.image_dir / name for name in self.filenames]
        return preload_images(paths, self.processor, f"UCM {self.split}", progress)


def resolve_root(root: str | Path) -> Path:
    """The ``ucm_captions`` folder: ``root`` itself, or ``root/ucm_captions`` when that exists."""
    root = Path(root).expanduser()
    nested = root / FOLDER_NAME
    if not (root / "dataset.json").is_file() and nested.is_dir():
        return nested
    return root


def label_from_filename(filename: str, source: Path | str = "dataset.json") -> int:
    """UC Merced class index of ``N.ext`` ((N − 1) // 100); DataError naming the file otherwise."""
    stem = Path(filename).stem
    total = IMAGES_PER_CLASS * len(UCM_CLASSES)
    number = int(stem) if stem.isdigit() else 0
    if not 1 <= number <= total:
        raise DataError(
            f"{source}: cannot infer the land-use class of '{filename}' from its name "
            f"(expected N.<ext> with N in 1..{total}); put a scenes.jsonl beside the ucm_captions folder"
        )
    return (number - 1) // IMAGES_PER_CLASS
