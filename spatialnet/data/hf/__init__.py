"""Hugging Face datasets as training sources; registers ``hf_captions``, ``hf_landuse`` and ``hf_vqa``.

``data.root`` is a ``save_to_disk`` folder, parquet files or a hub name; ``data.hf`` names the
columns (:class:`~spatialnet.config.HFConfig`). Items are those of the UCM-captions and
RSVQA-LR readers, so every recipe, head and evaluator works unchanged. ``spatialnet export``
writes these datasets in this form (:mod:`spatialnet.data.hf.export`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spatialnet.config import DataConfig
from spatialnet.data.registry import register_dataset

if TYPE_CHECKING:  # importing the family loads neither torch nor datasets
    from spatialnet.data.base import Fitted, RecipeDataset
    from spatialnet.data.transforms import TrainAugment


def _classes(fitted: Fitted | None) -> list[str] | None:
    """The class names a training split numbered (labels given as names), if any."""
    state = fitted.state if fitted is not None else None
    return list(state["classes"]) if state and "classes" in state else None


@register_dataset("hf_captions")
def hf_captions(
    config: DataConfig, split: str, augment: TrainAugment | None, fitted: Fitted | None
) -> RecipeDataset:
    """Images with captions (``captions``, ``references``) and, when labelled, scene classes (``landuse``)."""
    from spatialnet.data.base import image_processor
    from spatialnet.data.hf.captions import HFCaptions

    processor = image_processor(config, fitted)
    return HFCaptions(str(config.root), split, config.hf, processor, augment, classes=_classes(fitted))


@register_dataset("hf_landuse")
def hf_landuse(
    config: DataConfig, split: str, augment: TrainAugment | None, fitted: Fitted | None
) -> RecipeDataset:
    """Images with scene classes (``landuse``) only: no caption column needed."""
    from spatialnet.data.base import image_processor
    from spatialnet.data.hf.captions import HFCaptions

    processor = image_processor(config, fitted)
    return HFCaptions(
        str(config.root), split, config.hf, processor, augment, with_captions=False, classes=_classes(fitted)
    )


@register_dataset("hf_vqa", question_set="rsvqa_lr")
def hf_vqa(
    config: DataConfig, split: str, augment: TrainAugment | None, fitted: Fitted | None
) -> RecipeDataset:
    """One item per image with all its questions (training draws ``questions_per_image`` per epoch)."""
    from spatialnet.data.base import image_processor
    from spatialnet.data.hf.vqa import HFVQA

    return HFVQA(
        str(config.root),
        split,
        config.hf,
        image_processor(config, fitted),
        augment,
        questions_per_image=config.questions_per_image if augment is not None else 0,
    )
