"""Scene-level regression head (seed 004: FC with linear output, e.g. object counts)."""

from __future__ import annotations

import dataclasses

from torch import Tensor, nn

from spatialnet.backbones.output import BackboneOutput
from spatialnet.heads.base import Batch, HeadConfig, HeadContext, TaskHead, register_head
from spatialnet.heads.losses import regression_loss


@dataclasses.dataclass
class RegressionConfig(HeadConfig):
    """Pooled vector → ``num_outputs`` values."""

    loss_kind: str = "regression"
    num_outputs: int = 1
    output_names: list[str] = dataclasses.field(default_factory=list)
    loss: str = "mse"  # mse | mae


@register_head("regression")
class RegressionHead(TaskHead):
    """Linear regressor; targets shaped (B,) for one output or (B, num_outputs)."""

    config_class = RegressionConfig
    config: RegressionConfig

    def __init__(self, config: RegressionConfig, context: HeadContext) -> None:
        super().__init__(config, context)
        self.fc = nn.Linear(context.embed_dim, config.num_outputs)

    def forward(self, features: BackboneOutput, batch: Batch) -> Tensor:  # noqa: D102
        values: Tensor = self.fc(features.pooled)
        return values.squeeze(-1) if self.config.num_outputs == 1 else values

    def loss(self, output: Tensor, batch: Batch) -> Tensor:  # noqa: D102
        return regression_loss(output, batch[self.target_key], self.config.loss)
