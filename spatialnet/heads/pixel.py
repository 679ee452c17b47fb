"""Per-pixel forest heads: one small head per variable on a backbone's per-pixel feature map.

Seed 000 ends each task-family decoder with "one small head per task" (a 1×1 conv); the Pham
baseline ends with per-task FC 512→300→K layers. Both are a 1×1-conv MLP over a feature map
(``BackboneOutput.pixel_map``: the family's decoder map, a shared 1×1 map, or ViT patch tokens).

Targets decide the output: centre-pixel targets (B,) get the value at the window centre (sampled
bilinearly from the head's low-resolution map, exactly the centre of a bilinear upsampling to
the input size, without computing the rest); dense targets (B, H, W) get the whole map upsampled
to the input size. ``predict`` gives centre values: class probabilities, or values in physical
units (normalised value × ``scale``, the training stands' p98), so predictions read like the data.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from spatialnet.backbones.output import BackboneOutput
from spatialnet.heads.base import LOSS, Batch, HeadConfig, HeadContext, Headline, TaskHead, register_head
from spatialnet.heads.classifier import ClassifierHead
from spatialnet.heads.losses import ClassifierConfig, classification_loss, regression_loss
from spatialnet.mapping.layers import Layer
from spatialnet.metrics.forest_scores import forest_class_metrics, forest_value_metrics


def centre_values(maps: Tensor) -> Tensor:
    """The bilinear value at the centre of (B, C, h, w) maps, (B, C): ``upsample(maps)[..., H//2, W//2]``.

    For an odd output size the centre pixel of an align_corners=False upsampling samples the
    source at ((h-1)/2, (w-1)/2), whatever the scale; ``grid_sample`` at (0, 0) reads exactly that.
    """
    grid = maps.new_zeros((maps.shape[0], 1, 1, 2))
    return F.grid_sample(maps, grid, mode="bilinear", align_corners=False).flatten(1)


def to_input_size(maps: Tensor, size: tuple[int, int]) -> Tensor:
    """(B, C, h, w) maps resized bilinearly to the input ``size`` (unchanged when already there)."""
    if tuple(maps.shape[-2:]) == tuple(size):
        return maps
    return F.interpolate(maps, size=size, mode="bilinear", align_corners=False)


def pixel_mlp(in_channels: int, out_channels: int, hidden: int, dropout: float) -> nn.Sequential:
    """A 1×1 conv (``hidden`` = 0, seed 000) or 1×1 conv → ReLU → 1×1 conv (the Pham FC heads)."""
    if hidden <= 0:
        return nn.Sequential(nn.Dropout(dropout), nn.Conv2d(in_channels, out_channels, 1))
    return nn.Sequential(
        nn.Dropout(dropout),
        nn.Conv2d(in_channels, hidden, 1),
        nn.ReLU(inplace=True),
        nn.Dropout(dropout),
        nn.Conv2d(hidden, out_channels, 1),
    )


def _in_channels(context: HeadContext, family: str) -> int:
    """Channels of the map :meth:`BackboneOutput.pixel_map` gives this family (same fallbacks)."""
    channels = context.map_channels
    return channels.get(family, channels.get("shared", context.embed_dim))


def _is_dense(target: Tensor) -> bool:
    return target.ndim >= 3


def at_targets(maps: Tensor, target: Tensor) -> Tensor:
    """Low-resolution (B, C, h, w) outputs at the positions ``target`` labels.

    The window centre (B, C) for centre targets (B,); the whole map upsampled to (B, C, H, W) for
    dense targets (B, H, W).
    """
    if _is_dense(target):
        return to_input_size(maps, (target.shape[-2], target.shape[-1]))
    return centre_values(maps)


class PixelHead(TaskHead):
    """What both per-pixel heads share: scoring at the window centre, grouped by stand."""

    def evaluation_targets(self, batch: Batch) -> dict[str, Tensor]:
        """The centre pixel's target and the window's stand id (-1 when the batch has none)."""
        target = batch[self.target_key]
        if _is_dense(target):
            target = target[:, target.shape[-2] // 2, target.shape[-1] // 2]
        stand = batch.get("stand_id")
        if stand is None:
            stand = torch.full((len(target),), -1, dtype=torch.int64, device=target.device)
        return {"target": target, "stand_id": stand}


@dataclasses.dataclass
class PixelClassificationConfig(ClassifierConfig):
    """One categorical variable per pixel; targets (B,) centre labels or (B, H, W) maps (-100 = none)."""

    family: str = "classification"  # which decoder map of the backbone to read
    hidden_dim: int = 0  # 0: one 1×1 conv (seed 000); 300: the Pham baseline's FC 512→300→K
    dropout: float = 0.0


@register_head("pixel_classification")
class PixelClassificationHead(PixelHead, ClassifierHead):
    """Class logits per pixel of the window (or at its centre)."""

    config_class = PixelClassificationConfig
    config: PixelClassificationConfig
    headlines: ClassVar[tuple[Headline, ...]] = (Headline("accuracy", "OA (%)"),)

    def __init__(self, config: PixelClassificationConfig, context: HeadContext) -> None:
        super().__init__(config, context)
        self.mlp = pixel_mlp(
            _in_channels(context, config.family), config.num_classes, config.hidden_dim, config.dropout
        )

    def forward(self, features: BackboneOutput, batch: Batch) -> Tensor:
        """Low-resolution logit maps (B, K, h, w); ``loss``/``predict`` pick the centre or upsample."""
        logits: Tensor = self.mlp(features.pixel_map(self.config.family))
        return logits

    def loss(self, output: Tensor, batch: Batch) -> Tensor:  # noqa: D102
        target = batch[self.target_key]
        return classification_loss(at_targets(output, target), target, self.config)

    def predicted(self, output: Tensor, features: BackboneOutput, batch: Batch) -> Tensor:
        """Class probabilities (B, K) at the window centre."""
        return torch.softmax(centre_values(output), dim=1)

    def predict_map(self, features: BackboneOutput, size: tuple[int, int]) -> Tensor:
        """Class probabilities (B, K, H, W) over the whole window."""
        return torch.softmax(to_input_size(self.forward(features, {}), size), dim=1)

    def score(
        self, predictions: Tensor, targets: dict[str, Tensor], detailed: bool = False
    ) -> dict[str, Any]:
        """Seed 000's categorical metrics at pixel level, and at ``stand`` level when stands are known."""
        return forest_class_metrics(predictions, targets, self.class_names)

    def map_layers(self, name: str) -> list[Layer]:
        """The class map (``NAME_class``) and the class probabilities (``NAME_probability``)."""
        classes = tuple(self.class_names)
        return [
            Layer(f"{name}_class", name, "class", (name,), "uint8", class_names=classes),
            Layer(f"{name}_probability", name, "probability", classes, "float32"),
        ]


@dataclasses.dataclass
class PixelRegressionConfig(HeadConfig):
    """One continuous variable per pixel, learnt on normalised targets (NaN = missing)."""

    loss_kind: str = "regression"
    loss: str = "mae"  # mae (seed 000) | mse (seed 004)
    family: str = "regression"
    hidden_dim: int = 0
    dropout: float = 0.0
    scale: float = 1.0  # physical value = normalised value × scale (the training stands' p98)
    unit: str = ""


@register_head("pixel_regression")
class PixelRegressionHead(PixelHead):
    """One value per pixel of the window (or at its centre)."""

    config_class = PixelRegressionConfig
    config: PixelRegressionConfig
    summary_metrics: ClassVar[tuple[Headline, ...]] = (
        Headline("rmse", "RMSE (p98 scale)", False, False),
        Headline("r2", "R²", False),
        Headline("rmse_physical", "RMSE (physical units)", False, False),
        LOSS,
    )

    def __init__(self, config: PixelRegressionConfig, context: HeadContext) -> None:
        super().__init__(config, context)
        self.mlp = pixel_mlp(_in_channels(context, config.family), 1, config.hidden_dim, config.dropout)

    def forward(self, features: BackboneOutput, batch: Batch) -> Tensor:
        """Low-resolution value maps (B, 1, h, w) on the normalised scale."""
        values: Tensor = self.mlp(features.pixel_map(self.config.family))
        return values

    def loss(self, output: Tensor, batch: Batch) -> Tensor:  # noqa: D102
        target = batch[self.target_key]
        return regression_loss(at_targets(output, target)[:, 0], target, self.config.loss)

    def predicted(self, output: Tensor, features: BackboneOutput, batch: Batch) -> Tensor:
        """Values (B,) at the window centre, in physical units."""
        return centre_values(output)[:, 0] * self.config.scale

    def predict_map(self, features: BackboneOutput, size: tuple[int, int]) -> Tensor:
        """Values (B, H, W) over the whole window, in physical units."""
        values = to_input_size(self.forward(features, {}), size)
        return values[:, 0] * self.config.scale

    def score(
        self, predictions: Tensor, targets: dict[str, Tensor], detailed: bool = False
    ) -> dict[str, Any]:
        """RMSE, MAE, R² (normalised scale) and RMSE in physical units, pixel and ``stand`` level."""
        return forest_value_metrics(predictions, targets, self.target_key, self.config.scale)

    def summarize(
        self,
        output: Tensor,
        index: int,
        top_k: int = 5,
        question: str | None = None,
        question_set: str | None = None,
    ) -> dict[str, Any]:
        """The value of item ``index`` and its unit."""
        return {"value": float(output[index]), "unit": self.config.unit}

    def write_artifacts(
        self, predictions: Tensor, targets: dict[str, Tensor], metrics: dict[str, Any], stem: Path, title: str
    ) -> dict[str, str]:
        """Prediction-vs-target scatter (marginal densities, Pearson r) and a 100-bin error histogram."""
        from spatialnet.metrics.figures import save_error_histogram, save_prediction_scatter

        predicted = predictions.numpy()
        truth = targets["target"].numpy() * self.config.scale
        unit = self.config.unit
        scatter = save_prediction_scatter(
            predicted, truth, stem.with_name(f"{stem.name}_scatter.png"), title, unit
        )
        errors = save_error_histogram(
            predicted - truth, stem.with_name(f"{stem.name}_errors.png"), title, unit
        )
        return {"scatter_png": scatter.name, "error_histogram_png": errors.name}

    def map_layers(self, name: str) -> list[Layer]:
        """One band of values in physical units (``NAME``)."""
        label = f"{name} ({self.config.unit})" if self.config.unit else name
        return [Layer(name, name, "value", (label,), "float32", unit=self.config.unit)]
