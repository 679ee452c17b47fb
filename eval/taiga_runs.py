"""Training and scoring the TAIGA tables' runs: a ``Config`` names one trained setting, a ``Runner``
trains it per seed (or reuses the finished folder) and reads its test metrics and cost.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from taiga_scores import headline_metrics
from torch.utils.flop_counter import FlopCounterMode

from spatialnet.checkpoint import WEIGHTS_FILE
from spatialnet.config import (
    Recipe,
    apply_overrides,
    load_recipe,
    read_recipe_file,
    recipe_from_dict,
    resolve_recipe_path,
    to_dict,
)
from spatialnet.files import write_json
from spatialnet.model import load_run, resolved_recipe
from spatialnet.training.evaluation import evaluate_run
from spatialnet.training.trainer import Trainer

NOT_IDENTITY = {"seed", "train.threads", "data.num_workers"}  # a run's folder does not depend on these


@dataclass(frozen=True)
class Config:
    """One trained setting: a recipe file, dotted overrides on it, and the heads kept (single-task)."""

    recipe: str
    settings: tuple[str, ...] = ()
    heads: tuple[str, ...] | None = None


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


@dataclass
class Runner:
    """Trains (or reuses) and scores runs; one folder per (config, seed) under ``runs``."""

    data: str
    runs: Path
    overrides: list[str]
    recipe_overrides: dict[str, list[str]]
    device: str = "auto"
    log: Callable[[str], None] = print
    _records: dict[tuple[Path, int], dict[str, Any]] = field(default_factory=dict)
    _costs: dict[Path, dict[str, float]] = field(default_factory=dict)
    _folders: dict[Config, Path] = field(default_factory=dict)

    def recipe(self, config: Config, seed: int) -> Recipe:
        """The recipe file with the overrides, the config's settings, the data root and the seed."""
        path = resolve_recipe_path(config.recipe)
        data = read_recipe_file(path)
        settings = [*self.overrides, *self.recipe_overrides.get(config.recipe, []), *config.settings]
        apply_overrides(data, settings)
        if config.heads is not None:
            data["heads"] = {name: data["heads"][name] for name in config.heads}
        data.setdefault("data", {})["root"] = self.data
        data["seed"] = seed
        return recipe_from_dict(data, str(path))

    def settings(self, config: Config) -> dict[str, Any]:
        """Every resolved value (seed aside) that differs from the recipe file's: what names the run."""
        ours = _flat(to_dict(resolved_recipe(self.recipe(config, 0))))
        base = _flat(to_dict(resolved_recipe(load_recipe(config.recipe))))
        diff = {k: v for k, v in ours.items() if k not in NOT_IDENTITY and base.get(k, "<absent>") != v}
        diff.update({k: "<removed>" for k in base if k not in ours})
        return diff

    def folder(self, config: Config) -> Path:
        """``runs/RECIPE-DIGEST``: the digest of the settings, so equal settings share a folder."""
        if config not in self._folders:
            text = json.dumps(self.settings(config), sort_keys=True, default=str)
            digest = hashlib.sha1(text.encode()).hexdigest()[:10]
            self._folders[config] = self.runs / f"{config.recipe}-{digest}"
        return self._folders[config]

    def run(self, config: Config, seed: int, label: str, evaluate: bool = True) -> dict[str, Any]:
        """Train ``config`` at ``seed`` unless done, then its test metrics (cached in ``eval_test.json``)."""
        folder = self.folder(config)
        run_dir = folder / f"seed{seed}"
        key = (folder, seed)
        record = self._records.get(key)
        if record is not None and (record["metrics"] is not None or not evaluate):
            return record
        recipe = self.recipe(config, seed)
        started = time.perf_counter()
        trained = not finished(run_dir, recipe.train.epochs)
        if trained:
            folder.mkdir(parents=True, exist_ok=True)
            write_json(folder / "settings.json", {"recipe": config.recipe, "settings": self.settings(config)})
            resume = (run_dir / "last" / WEIGHTS_FILE).is_file()
            self.log(f"{label:<32} seed {seed}: training {run_dir}{' (resuming)' if resume else ''}")
            Trainer(recipe, run_dir, resume=resume, show_progress=False, log=lambda _: None).fit()
        history = json.loads((run_dir / "history.json").read_text(encoding="utf-8"))
        metrics = holdout_metrics(run_dir, self.device) if evaluate else None
        record = {
            "run": str(run_dir),
            "label": label,
            "trained_now": trained,
            "epochs": len(history),
            "train_seconds": float(history[-1]["seconds"]),
            "seconds_per_epoch": float(history[-1]["seconds"]) / len(history),
            "metrics": metrics,
        }
        self._records[key] = record
        verb = "trained" if trained else "reused"
        self.log(f"{label:<32} seed {seed}: {verb} ({time.perf_counter() - started:.0f} s)")
        return record

    def records(self) -> list[dict[str, Any]]:
        """Every run scored so far, in the order they were needed, with the tables' metrics only."""
        return [{**r, "metrics": headline_metrics(r["metrics"])} for r in self._records.values()]

    def cost(self, config: Config, seed: int) -> dict[str, float]:
        """Parameters and forward FLOPs per window of a trained run (the same for every seed)."""
        folder = self.folder(config)
        if folder not in self._costs:
            self._costs[folder] = model_cost(folder / f"seed{seed}")
        return self._costs[folder]


def finished(run_dir: Path, epochs: int) -> bool:
    """A run is done when its history has every epoch and it has a best checkpoint."""
    history = run_dir / "history.json"
    if not history.is_file() or not (run_dir / "best" / WEIGHTS_FILE).is_file():
        return False
    return len(json.loads(history.read_text(encoding="utf-8"))) >= epochs


def holdout_metrics(run_dir: Path, device: str) -> dict[str, Any]:
    """``spatialnet evaluate`` on the test split (metrics and figures), reused while newer than best/."""
    cached = run_dir / "eval_test.json"
    weights = run_dir / "best" / WEIGHTS_FILE
    if not cached.is_file() or cached.stat().st_mtime < weights.stat().st_mtime:
        evaluate_run(run_dir, "test", out=cached, device=device)
    metrics: dict[str, Any] = json.loads(cached.read_text(encoding="utf-8"))["metrics"]
    return metrics


def model_cost(run_dir: Path) -> dict[str, float]:
    """Parameters and FLOPs (torch's FlopCounterMode: 2·MAC of matmuls/convs) of ``predict`` on one window."""
    model, recipe, _, _ = load_run(run_dir, "cpu")
    size = recipe.data.image_size
    window = torch.zeros(1, recipe.backbone.in_chans, size, size)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model.predict({"image": window})
    return {
        "parameters": float(sum(p.numel() for p in model.parameters())),
        "flops_per_window": float(counter.get_total_flops()),
    }
