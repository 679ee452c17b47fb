"""UCM-captions (Qu et al. 2016): 2,100 UC Merced images, five captions each, 21 land-use classes.

Registers ``ucm_landuse`` (classification) and ``ucm_captions`` (captions and labels).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from spatialnet.config import DataConfig
from spatialnet.data.registry import register_dataset

if TYPE_CHECKING:  # importing the family (e.g. for its file readers) loads no torch
    from spatialnet.data.base import Fitted, RecipeDataset
    from spatialnet.data.transforms import TrainAugment


@register_dataset("ucm_landuse")
def ucm_landuse(
    config: DataConfig, split: str, augment: TrainAugment | None, fitted: Fitted | None
) -> RecipeDataset:
    """UCM-captions as 21-class land-use classification (labels: scenes.jsonl or file names)."""
    from spatialnet.data.base import image_processor
    from spatialnet.data.ucm.dataset import UCMCaptions

    return UCMCaptions(Path(str(config.root)), split, image_processor(config, fitted), augment)


@register_dataset("ucm_captions")
def ucm_captions(
    config: DataConfig, split: str, augment: TrainAugment | None, fitted: Fitted | None
) -> RecipeDataset:
    """UCM-captions with captions (batch keys ``captions``, ``references``) and land-use labels."""
    from spatialnet.data.base import image_processor
    from spatialnet.data.ucm.dataset import UCMCaptions

    processor = image_processor(config, fitted)
    return UCMCaptions(Path(str(config.root)), split, processor, augment, with_captions=True)
