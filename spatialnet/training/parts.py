"""Per-part learning rates and freezing by parameter-name pattern: ``train.lr_scale``, ``freeze_epochs``.

Fine-tuning a pretrained part (the CNN of a hybrid ViT) wants a smaller learning rate than the
freshly initialised transformer and heads, and often a few epochs frozen first so the new layers
do not wreck its features while they are still random. A frozen part keeps its BatchNorm
statistics too (its norm layers stay in eval mode), and costs no backward pass.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping

from torch import nn

from spatialnet.errors import RecipeError

_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


def part_of(name: str, patterns: Mapping[str, object]) -> str | None:
    """The first pattern that parameter (or module) ``name`` matches, if any."""
    return next((pattern for pattern in patterns if fnmatch.fnmatchcase(name, pattern)), None)


def check_patterns(model: nn.Module, patterns: Mapping[str, object], key: str) -> None:
    """Refuse a pattern that matches no parameter, showing what the names look like."""
    names = [name for name, _ in model.named_parameters()]
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(name, pattern) for name in names):
            tops = sorted({".".join(name.split(".")[:2]) + ".*" for name in names})
            raise RecipeError(
                f"'train.{key}' pattern {pattern!r} matches no parameter; names start with: "
                f"{', '.join(tops[:12])}"
            )


def frozen_patterns(freeze_epochs: Mapping[str, int], epoch: int) -> set[str]:
    """The patterns still frozen in (0-based) ``epoch``."""
    return {pattern for pattern, epochs in freeze_epochs.items() if epoch < epochs}


def apply_freezing(model: nn.Module, freeze_epochs: Mapping[str, int], epoch: int) -> set[str]:
    """Freeze the parts whose epochs are not over, thaw the others; call after ``model.train()``.

    Norm layers whose parameters are all frozen go to eval mode (their running statistics stay).
    Returns the patterns frozen in this epoch.
    """
    if not freeze_epochs:
        return set()
    frozen = frozen_patterns(freeze_epochs, epoch)
    for name, param in model.named_parameters():
        param.requires_grad_(part_of(name, freeze_epochs) not in frozen)
    if model.training:
        for module in model.modules():
            params = list(module.parameters(recurse=False))
            if isinstance(module, _NORMS) and params and not any(p.requires_grad for p in params):
                module.eval()
    return frozen
