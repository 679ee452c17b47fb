"""Run a model over a dataset and score every head that the dataset labels.

:func:`evaluate_run` is the whole of ``spatialnet evaluate``: a checkpoint scored on a split, its
metrics JSON and each head's artifacts written beside it.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from spatialnet.checkpoint import read_fitted
from spatialnet.config import SourceConfig
from spatialnet.data.collate import collate
from spatialnet.data.registry import build_dataset
from spatialnet.data.views import DIHEDRAL_VIEWS
from spatialnet.files import write_metrics
from spatialnet.heads.headlines import head_of, score_key
from spatialnet.metrics.scoring import overall_metrics
from spatialnet.model import SpatialNet, load_run
from spatialnet.progress import progress_bar


def move_to(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """Tensors of ``batch`` on ``device`` (other values untouched)."""
    return {
        k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()
    }


def _join(parts: list[Any]) -> Any:
    """Concatenate per-batch outputs along the batch axis.

    Tensors are concatenated, lists (captions) joined end to end, dicts (a target with its stand
    ids) key by key.
    """
    if parts and isinstance(parts[0], torch.Tensor):
        return torch.cat(parts)
    if parts and isinstance(parts[0], dict):
        return {key: _join([part[key] for part in parts]) for key in parts[0]}
    return [item for part in parts for item in part]


def _to_cpu(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _to_cpu(item) for key, item in value.items()}
    return value.cpu() if isinstance(value, torch.Tensor) else value


@torch.no_grad()
def collect_predictions(
    model: SpatialNet,
    dataset: Dataset[Any],
    batch_size: int,
    device: torch.device,
    show_progress: bool = False,
    tasks: Sequence[str] | None = None,
    modality: str = "",
    test_views: bool = False,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, float]]:
    """Predictions and scoring targets of every labelled head over ``dataset`` in order, plus mean losses.

    ``tasks`` limits the heads to those the dataset trains (default: every head it labels);
    ``modality`` is the backbone stem its images go through. Tensor outputs are concatenated;
    list outputs (generated captions) are joined as lists. With ``test_views``, scene-label heads
    average their probabilities over the 8 flips and quarter turns of each image.
    """
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate)
    predictions: dict[str, list[Any]] = defaultdict(list)
    targets: dict[str, list[Any]] = defaultdict(list)
    loss_sums: dict[str, float] = defaultdict(float)
    seen = 0
    for batch in progress_bar(loader, "evaluate", enabled=show_progress):
        batch = move_to(batch, device)
        if modality:
            batch["modality"] = modality
        labelled = [t for t in model.labelled_tasks(batch) if tasks is None or t in tasks]
        out = model(batch, labelled)
        assert out.features is not None
        size = len(batch["image"])
        seen += size
        averaged = model.predict_views(batch, labelled) if test_views else {}
        for name in labelled:
            head = model.head(name)
            found = (
                averaged[name] if name in averaged else head.predicted(out.outputs[name], out.features, batch)
            )
            predictions[name].append(_to_cpu(found))
            targets[name].append(_to_cpu(head.evaluation_targets(batch)))
            loss_sums[name] += float(out.losses[name]) * size
    losses = {name: total / max(seen, 1) for name, total in loss_sums.items()}
    return (
        {k: _join(v) for k, v in predictions.items()},
        {k: _join(v) for k, v in targets.items()},
        losses,
    )


def evaluate_sources(
    model: SpatialNet,
    sources: Mapping[str, tuple[SourceConfig, Dataset[Any]]],
    batch_size: int,
    device: torch.device,
    show_progress: bool = False,
    detailed: bool = False,
    by_dataset: bool = False,
    test_views: bool = False,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Metrics, predictions and targets of every head over the split of each dataset that trains it.

    All three are keyed by head name (``head@dataset`` for a head several datasets train, one entry
    per dataset); ``test_views`` as in :func:`collect_predictions`. Each
    dataset's ``overall`` (when it trains several heads) is reported under ``overall``, or under
    the dataset's name with ``by_dataset`` (joint recipes).
    """
    metrics: dict[str, Any] = {}
    predictions: dict[str, Any] = {}
    targets: dict[str, Any] = {}
    trained_by = Counter(task for config, _ in sources.values() for task in config.tasks)
    for name, (config, dataset) in sources.items():
        found, truth, losses = collect_predictions(
            model, dataset, batch_size, device, show_progress, config.tasks, config.modality, test_views
        )
        keys = {task: score_key(task, name, trained_by[task] > 1) for task in found}
        found, truth, losses = ({keys[k]: v for k, v in d.items()} for d in (found, truth, losses))
        scored = score_predictions(model, found, truth, losses, detailed)
        if by_dataset and "overall" in scored:
            scored[name] = scored.pop("overall")
        metrics.update(scored)
        predictions.update(found)
        targets.update(truth)
    return metrics, predictions, targets


def score_predictions(
    model: SpatialNet,
    predictions: dict[str, Any],
    targets: dict[str, Any],
    losses: dict[str, float],
    detailed: bool = False,
) -> dict[str, Any]:
    """Metrics of collected predictions, keyed by head name, with each head's mean ``loss``.

    With several heads, ``overall`` aggregates them (see :func:`overall_metrics`).
    """
    metrics: dict[str, Any] = {}
    for name in predictions:
        metrics[name] = {
            "loss": losses[name],
            **model.head(head_of(name)).score(predictions[name], targets[name], detailed),
        }
    if len(metrics) > 1:
        metrics["overall"] = overall_metrics(metrics)
    return metrics


def evaluate_run(
    run_dir: Path,
    split: str,
    data_root: str | None = None,
    out: Path | None = None,
    device: str = "auto",
    batch_size: int | None = None,
    test_views: bool = False,
) -> tuple[dict[str, Any], Path]:
    """Evaluate ``run_dir`` on ``split``: the metrics JSON at ``out`` and each head's artifacts beside it.

    Each head writes what it has (:meth:`TaskHead.write_artifacts`): confusion matrices of
    classifiers, caption heads' COCO results, VQA heads' answers in the official evaluator's
    format, per-pixel regression heads' scatter and error histogram.
    """
    model, recipe, _, folder = load_run(run_dir, device)
    if data_root is not None:  # a joint recipe's datasets then all read from this world folder
        recipe.data.root = data_root
        recipe.datasets = {
            name: dataclasses.replace(entry, data=dataclasses.replace(entry.data, root=None))
            for name, entry in recipe.datasets.items()
        }
    fitted = read_fitted(folder, recipe)
    sources = {
        name: (entry, build_dataset(entry.data, split, train=False, fitted=fitted[name]))
        for name, entry in recipe.sources().items()
    }
    device_ = next(model.parameters()).device
    batch = batch_size or recipe.train.eval_batch_size
    metrics, predictions, targets = evaluate_sources(
        model, sources, batch, device_, True, detailed=True, by_dataset=recipe.is_joint, test_views=test_views
    )
    out = out or Path(run_dir) / f"eval_{split}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    for name in predictions:
        stem, title = out.with_name(f"{out.stem}_{name}"), f"{name} — {split}"
        files = model.head(head_of(name)).write_artifacts(
            predictions[name], targets[name], metrics[name], stem, title
        )
        metrics[name].update(files)
    write_metrics(
        out,
        {
            "checkpoint": str(folder),
            "split": split,
            "test_views": DIHEDRAL_VIEWS if test_views else 1,
            "data": {name: entry.data.root for name, entry in recipe.sources().items()},
            "metrics": metrics,
        },
    )
    return metrics, out
