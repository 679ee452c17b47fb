"""Run a model over a dataset and score every head that the dataset labels."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from spatialnet.metrics.scoring import score_head
from spatialnet.model import SpatialNet
from spatialnet.progress import progress_bar


def move_to(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Tensors of ``batch`` on ``device`` (other values untouched)."""
    return {
        k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()
    }


@torch.no_grad()
def collect_predictions(
    model: SpatialNet,
    dataset: Dataset[Any],
    batch_size: int,
    device: torch.device,
    show_progress: bool = False,
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict[str, float]]:
    """Predictions and targets of every labelled head over ``dataset`` in order, plus mean losses."""
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    predictions: dict[str, list[torch.Tensor]] = defaultdict(list)
    targets: dict[str, list[torch.Tensor]] = defaultdict(list)
    loss_sums: dict[str, float] = defaultdict(float)
    seen = 0
    for batch in progress_bar(loader, "evaluate", enabled=show_progress):
        batch = move_to(batch, device)
        tasks = model.labelled_tasks(batch)
        out = model(batch, tasks)
        assert out.features is not None
        size = len(batch["image"])
        seen += size
        for name in tasks:
            head = model.head(name)
            predictions[name].append(head.predict(out.features, batch).cpu())
            targets[name].append(batch[head.target_key].cpu())
            loss_sums[name] += float(out.losses[name]) * size
    losses = {name: total / max(seen, 1) for name, total in loss_sums.items()}
    return (
        {k: torch.cat(v) for k, v in predictions.items()},
        {k: torch.cat(v) for k, v in targets.items()},
        losses,
    )


def evaluate(
    model: SpatialNet,
    dataset: Dataset[Any],
    batch_size: int,
    device: torch.device,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Metrics of every labelled head, keyed by head name, with each head's mean ``loss``."""
    predictions, targets, losses = collect_predictions(model, dataset, batch_size, device, show_progress)
    metrics: dict[str, Any] = {}
    for name in predictions:
        metrics[name] = {
            "loss": losses[name],
            **score_head(model.head(name), predictions[name], targets[name]),
        }
    return metrics
