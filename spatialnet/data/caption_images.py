"""``CaptionImages``: preloaded images with reference sentences and scene labels, as recipe items.

What the caption and land-use heads read, whatever the files were: UCM-captions' ``dataset.json``
(:mod:`spatialnet.data.ucm`) or a Hugging Face table (:mod:`spatialnet.data.hf`). The readers
only find images, ids, sentences and labels; the items, augmentation and sentence access live
here once, so both sources give identical batches.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import torch
from matplotlib.figure import Figure
from torch import Tensor

from spatialnet.data.preload import PreloadedImages
from spatialnet.data.transforms import TrainAugment, item_seed
from spatialnet.errors import DataError
from spatialnet.processors.image import ImageProcessor

CAPTION_KEYS = ("captions", "references")  # the batch keys a caption dataset holds sentences under
_MAX_LISTED = 5


class CaptionImages(PreloadedImages):
    """Images with their land-use label and, with ``with_captions``, captions to learn and score.

    **Samples.** The split is decoded once, resized by its ``processor`` and kept as one uint8
    (N, 3, S, S) tensor — decoding JPEGs every epoch would dominate CPU training. Each item is
    ``{"image": float32 (3, S, S) normalised, after augmentation; "landuse": int64 scalar (when
    the source has labels); "image_id": int64 scalar}``; with ``with_captions`` also
    ``"captions"``: one reference sentence (during training a different one each epoch, drawn
    from the epoch seed; otherwise the first) and ``"references"``: all of the image's sentences.
    Augmentation is seeded per item and epoch (:class:`~spatialnet.data.preload.PreloadedImages`).
    """

    def __init__(
        self,
        split: str,
        processor: ImageProcessor,
        augment: TrainAugment | None,
        images: Tensor,
        image_ids: Sequence[int],
        captions: Sequence[list[str]],
        labels: Sequence[int] | None,
        classes: Sequence[str] | None,
        names: Sequence[str],
        with_captions: bool,
        source: str,
    ) -> None:
        """The split's preloaded ``images`` with their ids, sentences and labels (None: unlabelled).

        ``classes`` name the labels (None: unnamed); ``names`` the images in messages and plots
        (file names); ``source`` is the file or table the sentences come from.
        """
        super().__init__(split, processor, augment, images, image_ids)
        self.with_captions = with_captions
        self.filenames = list(names)
        self.labels: list[int] | None = list(labels) if labels is not None else None
        self.classes: tuple[str, ...] | None = tuple(classes) if classes is not None else None
        self._captions = [list(c) for c in captions]
        if with_captions:
            _check_captions(self.filenames, self._captions, split, source)

    def __getitem__(self, index: int) -> dict[str, Any]:
        """One normalised (optionally augmented) image with its land-use label, id and captions."""
        index = self.position(index)
        image = self.images[index]
        if self.augment is not None:
            image = self.augment(image, self.seeded(index))
        item: dict[str, Any] = {"image": self.processor.normalize(image)}
        if self.labels is not None:
            item["landuse"] = torch.tensor(self.labels[index], dtype=torch.int64)
        item["image_id"] = torch.tensor(self.image_ids[index], dtype=torch.int64)
        if self.with_captions:
            references = self._captions[index]
            pick = item_seed(self._epoch_seed, index) % len(references) if self.augment is not None else 0
            item["captions"] = references[pick]
            item["references"] = list(references)
        return item

    def texts(self, key: str = "captions") -> list[str]:
        """Every sentence of the split under batch key ``key`` (to train a vocabulary on)."""
        if key not in CAPTION_KEYS:
            raise DataError(f"{type(self).__name__} has sentences under 'captions', not {key!r}")
        return [sentence for captions in self._captions for sentence in captions]

    def reference_sets(self, key: str = "references") -> list[list[str]]:
        """Every image's reference sentences under batch key ``key`` (the corpus of a CIDEr reward)."""
        if key not in CAPTION_KEYS:
            raise DataError(
                f"{type(self).__name__} has sentences under 'captions' and 'references', not {key!r}"
            )
        return [list(captions) for captions in self._captions]

    def captions(self, index: int) -> list[str]:
        """The reference sentences of item ``index``."""
        return list(self._captions[index])

    def class_name(self, index: int) -> str:
        """The land-use class of item ``index`` by name (its number when unnamed, '' without labels)."""
        if self.labels is None:
            return ""
        label = self.labels[index]
        return (
            self.classes[label] if self.classes is not None and 0 <= label < len(self.classes) else str(label)
        )

    def plot(self, index: int, show_caption: bool = True) -> Figure:
        """The stored (un-augmented) image titled with its class and first caption."""
        figure = Figure(figsize=(4, 4.6))
        axes = figure.add_subplot(1, 1, 1)
        axes.imshow(self.images[index].permute(1, 2, 0).numpy())
        axes.set_axis_off()
        label = self.class_name(index)
        axes.set_title(f"{label} ({self.filenames[index]})" if label else self.filenames[index])
        captions = self._captions[index]
        if show_caption and captions:
            figure.text(0.5, 0.02, textwrap.fill(captions[0], 50), ha="center", va="bottom", fontsize=9)
        figure.tight_layout(rect=(0, 0.08, 1, 1))
        return figure


def _check_captions(names: list[str], captions: list[list[str]], split: str, source: str) -> None:
    """Every image needs at least one non-empty sentence to be learned from and scored against."""
    bare = [name for name, caps in zip(names, captions, strict=True) if not any(c.strip() for c in caps)]
    if bare:
        listed = ", ".join(bare[:_MAX_LISTED]) + (", ..." if len(bare) > _MAX_LISTED else "")
        raise DataError(
            f"{source}: {len(bare)} '{split}' images have no caption (empty 'sentences'): {listed}"
        )
