"""The optimiser of a recipe: parameter groups (weight decay, per-part learning rates) and its type."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from spatialnet.config import Recipe
from spatialnet.errors import RecipeError
from spatialnet.losses.balancing import TaskBalancer
from spatialnet.training.parts import check_patterns, part_of


def parameter_groups(model: nn.Module, balancer: TaskBalancer, recipe: Recipe) -> list[dict[str, Any]]:
    """Weight decay on matrices only (not biases, norms, tokens, position embeddings) nor balancer weights.

    Parameters matching a ``train.lr_scale`` pattern get their own groups at ``lr × scale``.
    """
    scales = recipe.train.lr_scale
    check_patterns(model, scales, "lr_scale")
    check_patterns(model, recipe.train.freeze_epochs, "freeze_epochs")
    grouped: dict[tuple[float, bool], list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        skip = param.ndim <= 1 or name.endswith(("pos_embed", "cls_token", "reg_token"))
        pattern = part_of(name, scales)
        scale = scales[pattern] if pattern is not None else 1.0
        grouped.setdefault((scale, not skip), []).append(param)
    groups: list[dict[str, Any]] = [
        {
            "params": params,
            "weight_decay": recipe.train.weight_decay if decay else 0.0,
            "lr": recipe.train.lr * scale,
        }
        for (scale, decay), params in sorted(grouped.items(), key=lambda item: (-item[0][0], not item[0][1]))
    ]
    balancer_params = [p for p in balancer.parameters() if p.requires_grad]
    if balancer_params:
        lr = recipe.loss.gradnorm_lr if recipe.loss.balancing == "gradnorm" else recipe.train.lr
        groups.append({"params": balancer_params, "weight_decay": 0.0, "lr": lr})
    return groups


def build_optimizer(groups: list[dict[str, Any]], recipe: Recipe) -> torch.optim.Optimizer:
    """The optimiser named in ``train.optimizer``."""
    name, lr = recipe.train.optimizer, recipe.train.lr
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr)
    if name == "adam":
        # seed 000: Adam with coupled L2 weight decay
        return torch.optim.Adam(groups, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9, nesterov=True)
    raise RecipeError(f"'train.optimizer' is {name!r}; expected adamw, adam or sgd")
