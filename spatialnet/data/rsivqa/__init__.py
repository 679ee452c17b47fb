"""RSIVQA (Zheng et al., TGRS 2021), its UC Merced part: questions on aerial photos; registers ``rsivqa``.

Theme, presence, count and location questions in ``N.tif:QUESTION?ANSWER`` lines, joined to a
UCM-captions folder's photos and splits.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from spatialnet.config import DataConfig
from spatialnet.data.registry import register_dataset

if TYPE_CHECKING:  # importing the family (e.g. for its file readers) loads no torch
    from spatialnet.data.base import Fitted, RecipeDataset
    from spatialnet.data.transforms import TrainAugment


@register_dataset("rsivqa", question_set="rsivqa")
def rsivqa(
    config: DataConfig, split: str, augment: TrainAugment | None, fitted: Fitted | None
) -> RecipeDataset:
    """One item per photo with all its questions (training draws some per epoch, and may add files)."""
    from spatialnet.data.base import image_processor
    from spatialnet.data.rsivqa.dataset import RSIVQA

    training = augment is not None
    return RSIVQA(
        Path(str(config.root)),
        split,
        image_processor(config, fitted),
        augment,
        questions_per_image=config.questions_per_image if training else 0,
        images=config.images,
        files=config.question_files,
        extra_files=config.train_question_files if training else (),
    )
