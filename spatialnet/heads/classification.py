"""Scene-level classification head (seed 004, Eq. 9: FC + softmax on the encoder output)."""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn

from spatialnet.backbones.output import BackboneOutput
from spatialnet.heads.base import Batch, HeadContext, register_head
from spatialnet.heads.classifier import ClassifierHead
from spatialnet.heads.losses import ClassifierConfig, classification_loss


@dataclasses.dataclass
class ClassificationConfig(ClassifierConfig):
    """Pooled vector → logits over ``num_classes``."""

    dropout: float = 0.0


@register_head("classification")
class ClassificationHead(ClassifierHead):
    """Linear classifier on the pooled token, with a LayerNorm-free timm-style pre-logits dropout."""

    config_class = ClassificationConfig
    config: ClassificationConfig
    averages_views = True

    def __init__(self, config: ClassificationConfig, context: HeadContext) -> None:
        super().__init__(config, context)
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(context.embed_dim, config.num_classes)

    def forward(self, features: BackboneOutput, batch: Batch) -> Tensor:  # noqa: D102
        logits: Tensor = self.fc(self.dropout(features.pooled))
        return logits

    def loss(self, output: Tensor, batch: Batch) -> Tensor:  # noqa: D102
        return classification_loss(output, batch[self.target_key], self.config)

    def predicted(self, output: Tensor, features: BackboneOutput, batch: Batch) -> Tensor:
        """Class probabilities (B, K)."""
        return torch.softmax(output, dim=-1)
