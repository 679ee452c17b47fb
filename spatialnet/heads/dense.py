"""Dense per-pixel heads: patch tokens → grid → upsampling decoder → full-resolution maps.

The decoder is a light progressive-upsampling stack (SETR-PUP style, Zheng et al. 2021):
each stage doubles the resolution with bilinear upsampling and a 3×3 conv, until the
patch size is undone. The forest variables use the per-pixel heads of ``heads/pixel.py``.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import Tensor, nn

from spatialnet.backbones.output import BackboneOutput
from spatialnet.heads.base import Batch, HeadConfig, HeadContext, TaskHead, register_head
from spatialnet.heads.losses import ClassifierConfig, classification_loss, regression_loss


class UpsamplingDecoder(nn.Module):
    """log2(P) stages of ×2 bilinear upsampling + conv3×3 + BN + ReLU, then a 1×1 projection."""

    def __init__(self, in_dim: int, hidden_dim: int, out_channels: int, patch_size: int) -> None:
        super().__init__()
        stages = int(math.log2(patch_size))
        if 2**stages != patch_size:
            raise ValueError(f"dense heads need a power-of-two patch size, got {patch_size}")
        layers: list[nn.Module] = [nn.Conv2d(in_dim, hidden_dim, 1)]
        for _ in range(stages):
            layers += [
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(hidden_dim, hidden_dim, 3, padding=1, bias=False),
                nn.BatchNorm2d(hidden_dim),
                nn.ReLU(inplace=True),
            ]
        layers.append(nn.Conv2d(hidden_dim, out_channels, 1))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:  # noqa: D102
        out: Tensor = self.layers(x)
        return out


@dataclasses.dataclass
class DenseClassificationConfig(ClassifierConfig):
    """Per-pixel class logits; targets (B, H, W) with ``ignore_index`` for unlabelled pixels."""

    hidden_dim: int = 64


@register_head("dense_classification")
class DenseClassificationHead(TaskHead):
    """Per-pixel classification map at input resolution."""

    config_class = DenseClassificationConfig
    config: DenseClassificationConfig

    def __init__(self, config: DenseClassificationConfig, context: HeadContext) -> None:
        super().__init__(config, context)
        self.decoder = UpsamplingDecoder(
            context.embed_dim, config.hidden_dim, config.num_classes, context.patch_size
        )

    def forward(self, features: BackboneOutput, batch: Batch) -> Tensor:  # noqa: D102
        return self.decoder(features.token_map())

    def loss(self, output: Tensor, batch: Batch) -> Tensor:  # noqa: D102
        return classification_loss(output, batch[self.target_key], self.config)

    def predict(self, features: BackboneOutput, batch: Batch) -> Tensor:
        """Per-pixel class probabilities (B, K, H, W)."""
        return torch.softmax(self.forward(features, batch), dim=1)


@dataclasses.dataclass
class DenseRegressionConfig(HeadConfig):
    """Per-pixel values; targets (B, C, H, W) with NaN where a value is missing."""

    loss_kind: str = "regression"
    num_outputs: int = 1
    output_names: list[str] = dataclasses.field(default_factory=list)
    hidden_dim: int = 64
    loss: str = "mse"  # mse | mae


@register_head("dense_regression")
class DenseRegressionHead(TaskHead):
    """Per-pixel regression maps at input resolution."""

    config_class = DenseRegressionConfig
    config: DenseRegressionConfig

    def __init__(self, config: DenseRegressionConfig, context: HeadContext) -> None:
        super().__init__(config, context)
        self.decoder = UpsamplingDecoder(
            context.embed_dim, config.hidden_dim, config.num_outputs, context.patch_size
        )

    def forward(self, features: BackboneOutput, batch: Batch) -> Tensor:  # noqa: D102
        return self.decoder(features.token_map())

    def loss(self, output: Tensor, batch: Batch) -> Tensor:  # noqa: D102
        return regression_loss(output, batch[self.target_key], self.config.loss)
