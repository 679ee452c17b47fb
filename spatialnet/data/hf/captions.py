"""Captioned (and labelled) images from a Hugging Face dataset, as UCM-captions gives them.

Columns (``data.hf``): an image, one or more caption columns (strings, lists of strings, or
Karpathy ``sentences`` objects with a ``raw`` string), an optional scene label and image id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import datasets

from spatialnet.config import HFConfig
from spatialnet.data.caption_images import CaptionImages
from spatialnet.data.hf.table import HFTable, open_split
from spatialnet.data.preload import preload_images
from spatialnet.data.transforms import TrainAugment
from spatialnet.errors import DataError
from spatialnet.processors.image import ImageProcessor

CAPTION_COLUMNS = ("sentences", "captions", "caption", "text")  # tried in order when data.hf.captions is []
LABEL_COLUMNS = ("label",)
IMAGE_ID_COLUMNS = ("imgid", "image_id")
FILENAME_COLUMNS = ("filename",)
LABEL_KEY = "landuse"  # the batch key scene labels go under (the recipes' land-use head)


class HFCaptions(CaptionImages):
    """A caption dataset in Hugging Face form: the items of :class:`~spatialnet.data.ucm.dataset.UCMCaptions`.

    ``image_id`` comes from the id column (``imgid``) or is the row's position in the split;
    ``landuse`` from the label column when there is one. Class labels may be a ``ClassLabel``
    (its names name the classes), integers, or class names: names are numbered in sorted order
    on the training split, and the other splits are handed that list (:meth:`fitted_state`).
    With ``with_captions=False`` (``hf_landuse``) no caption column is needed but a label is.
    """

    def __init__(
        self,
        root: str,
        split: str,
        config: HFConfig,
        processor: ImageProcessor,
        augment: TrainAugment | None = None,
        with_captions: bool = True,
        classes: Sequence[str] | None = None,
        progress: bool = True,
    ) -> None:
        """``classes``: the class names the training split fitted (None when this is it)."""
        self.root = root
        table = open_split(root, split, config)
        self.where = table.where
        sentences = _captions(table, config) if with_captions else [[] for _ in range(len(table))]
        label_column = table.find(config.label, LABEL_COLUMNS, "data.hf.label")
        if label_column is None and not with_captions:
            table.require(config.label or LABEL_COLUMNS[0], "data.hf.label: hf_landuse learns scene labels")
        labels, names, self._fitted_names = _labels(table, label_column, classes)
        images = preload_images(table.images(config.image, "data.hf.image"), processor, f"{split}", progress)
        super().__init__(
            split,
            processor,
            augment,
            images,
            _image_ids(table, config),
            sentences,
            labels,
            names,
            _filenames(table),
            with_captions,
            table.where,
        )

    def fitted_state(self) -> dict[str, Any] | None:
        """The class names numbered on this (training) split, when the labels are names."""
        return {"classes": list(self._fitted_names)} if self._fitted_names is not None else None

    def head_settings(self) -> dict[str, dict[str, Any]]:
        """The land-use head's class count and names, when the table names its classes."""
        if self.classes is None:
            return {}
        return {LABEL_KEY: {"num_classes": len(self.classes), "class_names": list(self.classes)}}

    def __repr__(self) -> str:
        return (
            f"HFCaptions(source={self.where!r}, n={len(self)}, image_size={self.processor.image_size}, "
            f"labels={self.labels is not None}, augment={self.augment!r})"
        )


def _captions(table: HFTable, config: HFConfig) -> list[list[str]]:
    """Each row's sentences, pooled over the caption columns in order."""
    columns = [table.require(name, "data.hf.captions") for name in config.captions]
    if not columns:
        found = table.find(None, CAPTION_COLUMNS, "data.hf.captions")
        if found is None:
            raise DataError(
                f"{table.where}: no caption column (tried {', '.join(CAPTION_COLUMNS)}; name yours with "
                f"data.hf.captions=[...]); the columns are: {', '.join(table.columns)}"
            )
        columns = [found]
    pooled: list[list[str]] = [[] for _ in range(len(table))]
    for column in columns:
        for row, value in enumerate(table.values(column)):
            pooled[row] += _sentences(value, f"{table.where} row {row}, column '{column}'")
    return pooled


def _sentences(value: Any, where: str) -> list[str]:
    """A caption cell as sentences: a string, a list of strings or of Karpathy ``{"raw": ...}`` objects."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        found = [v.get("raw") if isinstance(v, dict) else v for v in value]
        if all(isinstance(v, str) for v in found):
            return [str(v) for v in found]
    raise DataError(f"{where}: expected a caption string or a list of them, got {value!r:.80}")


def _labels(
    table: HFTable, column: str | None, classes: Sequence[str] | None
) -> tuple[list[int] | None, list[str] | None, list[str] | None]:
    """Labels, class names and the names this split fitted (when labels are names and none were given)."""
    if column is None:
        return None, None, None
    values = table.values(column)
    where = f"{table.where}: column '{column}'"
    feature = table.feature(column)
    if any(v is None for v in values):
        raise DataError(f"{where} has {sum(v is None for v in values)} rows without a label")
    if isinstance(feature, datasets.ClassLabel):
        return [int(v) for v in values], list(feature.names), None
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        if any(v < 0 for v in values):
            raise DataError(f"{where}: class labels must be >= 0, got {min(values)}")
        return [int(v) for v in values], list(classes) if classes is not None else None, None
    if all(isinstance(v, str) for v in values):
        names = list(classes) if classes is not None else sorted(set(values))
        index = {name: i for i, name in enumerate(names)}
        unknown = sorted(set(values) - set(index))
        if unknown:
            raise DataError(f"{where}: classes {unknown[:5]} are not among the training split's: {names}")
        return [index[v] for v in values], names, names if classes is None else None
    raise DataError(f"{where}: expected class labels (a ClassLabel, integers or class names)")


def _image_ids(table: HFTable, config: HFConfig) -> list[int]:
    """The id column's integers (distinct), else each row's position in the split."""
    column = table.find(config.image_id, IMAGE_ID_COLUMNS, "data.hf.image_id")
    if column is None:
        return list(range(len(table)))
    ids = table.values(column)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise DataError(f"{table.where}: column '{column}' (image ids) must hold integers")
    if len(set(ids)) != len(ids):
        raise DataError(f"{table.where}: column '{column}' (image ids) repeats ids; each image needs its own")
    return ids


def _filenames(table: HFTable) -> list[str]:
    """Names of the images in messages and plots: the file name column, else "row N"."""
    column = table.find(None, FILENAME_COLUMNS, "")
    return [str(v) for v in table.values(column)] if column else [f"row {i}" for i in range(len(table))]
