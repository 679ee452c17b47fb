"""RSVQA-LR (Lobry et al. 2020): Sentinel-2 tiles and questions; registers ``rsvqa_lr``.

Presence, comparison, count and rural/urban questions in the official JSON format.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from spatialnet.config import DataConfig
from spatialnet.data.registry import register_dataset

if TYPE_CHECKING:  # importing the family (e.g. for its file readers) loads no torch
    from spatialnet.data.base import Fitted, RecipeDataset
    from spatialnet.data.transforms import TrainAugment


@register_dataset("rsvqa_lr", question_set="rsvqa_lr")
def rsvqa_lr(
    config: DataConfig, split: str, augment: TrainAugment | None, fitted: Fitted | None
) -> RecipeDataset:
    """One item per image with all its questions and answers (training draws some per epoch)."""
    from spatialnet.data.base import image_processor
    from spatialnet.data.rsvqa.dataset import RSVQALR

    return RSVQALR(
        Path(str(config.root)),
        split,
        image_processor(config, fitted),
        augment,
        questions_per_image=config.questions_per_image if augment is not None else 0,
    )
