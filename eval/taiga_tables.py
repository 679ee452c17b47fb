"""Seed 000's TAIGA Tables II-VII over several seeds, our values beside the paper's.

    python eval/taiga_tables.py --data DIR [--seeds 3] [--tables II III IV V VI VII] [--out STEM]

Trains every recipe the chosen tables need once per seed (top-level ``seed``), evaluates each run
on the test split and writes ``OUT.md`` and ``OUT.json`` (default ``eval/reports/taiga_tables``):

- II, III: categorical / continuous metrics of the main model (``--main``, default taiga-tiny) per
  variable, mean and min-max over seeds;
- IV: the main model beside ``--compare`` recipes (Pham 3D-CNN, SpatialNet ViT, U-Net);
- V: the cumulative ablation (residual, atrous, attention, multitask loss, channel pooling) as
  ``backbone.options.use_*`` switches and ``loss.balancing`` fixed vs the recipe's own;
- VI: class-imbalance losses (the variants of ``eval/taiga_losses.py``);
- VII: parameters, FLOPs per window and training seconds per epoch, multitask vs 13 single-task
  models (one head each, trained ``--single-task-epochs`` for the timing, first seed only);
- figures of the main model's best seed (highest mean test OA): confusion matrices, scatter plots
  with Pearson r and error histograms from ``spatialnet evaluate``, and class maps of a test crop,
  copied into ``OUT_figures/``.

A run is identified by its recipe and its resolved settings (every value that differs from the
recipe file, ``--set`` overrides included): rows of different tables that resolve to the same
settings share one run, and a finished run under ``--runs`` is reused (an unfinished one resumes).
``--set KEY=VALUE`` applies to every run; ``--set-recipe RECIPE:KEY=VALUE`` only to runs of that
recipe file (the ablation, loss and single-task runs are runs of ``--main``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from taiga_class_maps import class_maps_of_test_crop
from taiga_losses import VARIANTS
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
from spatialnet.data.taiga import CATEGORICAL_NAMES, CONTINUOUS_NAMES
from spatialnet.files import write_json
from spatialnet.model import load_run, resolved_recipe
from spatialnet.training.evaluation import evaluate_run
from spatialnet.training.trainer import Trainer

TABLES = ("II", "III", "IV", "V", "VI", "VII")
REFERENCE = Path(__file__).with_name("reference") / "taiga_seed000.yaml"
# column -> metric key of ``spatialnet evaluate`` (precision/recall/F1 macro: the paper does not say)
CLASS_METRICS = {
    "precision": "precision_macro",
    "recall": "recall_macro",
    "f1": "f1_macro",
    "roc_auc": "roc_auc_ovr",
    "oa": "accuracy",
    "aa": "mean_class_accuracy",
}
VALUE_METRICS = {"rmse": "rmse", "mae": "mae", "r2": "r2"}
SUMMARY = ("oa", "precision", "recall", "rmse", "mae")  # Tables IV-VI: mean over the variables
PERCENT = {"precision", "recall", "f1", "roc_auc", "oa", "aa"}
TITLES = {
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
    "roc_auc": "ROC-AUC",
    "oa": "OA",
    "aa": "mean class acc.",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
}
# backbone type -> (our row label, the paper's row in Tables IV and VII)
MODEL_ROWS: dict[str, tuple[str, str | None]] = {
    "seed000": ("Seed 000 CNN", "Proposed"),
    "pham": ("Pham 3D-CNN", "Pham Model"),
    "unet": ("U-Net", "U-Net"),
    "vit": ("SpatialNet ViT", None),
}
# ablation row: (letters switched on, the paper's row); R residual, D atrous, A attention,
# M multitask loss (the recipe's balancing, else fixed weights), C channel pooling (Eq. 6 doubling)
ABLATION: dict[str, tuple[str, str]] = {
    "Baseline": ("", "Baseline"),
    "Baseline + R": ("R", "Baseline + R"),
    "Baseline + RD": ("RD", "Baseline + RD"),
    "Baseline + RDA": ("RDA", "Baseline + RDA"),
    "Baseline + RDAM": ("RDAM", "Baseline + RDAM"),
    "Baseline + DAC": ("DAC", "Baseline + DAC"),
    "Baseline + RDAMC (full)": ("RDAMC", "Proposed"),
}
SWITCHES = {"R": "use_residual", "D": "use_atrous", "A": "use_attention", "C": "use_channel_doubling"}
LOSS_ROWS: dict[str, str | None] = {
    "cross-entropy": None,
    "weighted cross-entropy": "Cost-Sensitive",
    "focal": "Focal Loss without class weights",
    "focal + class weights": "Focal Loss with class weights",
}
FAMILY_OF_TYPE = {"pixel_classification": "classification", "pixel_regression": "regression"}
NOT_IDENTITY = {"seed", "train.threads", "data.num_workers"}  # a run's folder does not depend on these
FIGURE_SUFFIXES = ("_confusion.png", "_scatter.png", "_errors.png")


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


def stats(values: Sequence[float | None]) -> dict[str, float] | None:
    """Mean, min and max over seeds (None where no seed has a value)."""
    present = [float(v) for v in values if v is not None]
    if not present:
        return None
    return {"mean": float(np.mean(present)), "min": float(np.min(present)), "max": float(np.max(present))}


def summary_metrics(metrics: dict[str, Any]) -> dict[str, float | None]:
    """Tables IV-VI columns of one run: OA, precision, recall over the categorical variables, RMSE
    and MAE over the continuous ones (plain means; ×100 for the percentages)."""
    out: dict[str, float | None] = {}
    for column in SUMMARY:
        names = CATEGORICAL_NAMES if column in PERCENT else CONTINUOUS_NAMES
        key = CLASS_METRICS.get(column, column)
        values = [metrics[n][key] for n in names if n in metrics and metrics[n].get(key) is not None]
        scale = 100.0 if column in PERCENT else 1.0
        out[column] = scale * float(np.mean(values)) if values else None
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


def headline_metrics(metrics: dict[str, Any] | None) -> dict[str, Any] | None:
    """The metrics the tables read, per variable (the run's ``eval_test.json`` has them all)."""
    if metrics is None:
        return None
    keys = [*CLASS_METRICS.values(), *VALUE_METRICS.values()]
    return {name: {k: m[k] for k in keys if k in m} for name, m in metrics.items() if name != "overall"}


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


# -- configs of each table ----------------------------------------------------------------------
def ablation_config(main: str, letters: str) -> Config:
    """The main recipe with the switches of ``letters`` on and the others off."""
    settings = [
        f"backbone.options.{switch}={str(letter in letters).lower()}" for letter, switch in SWITCHES.items()
    ]
    if "M" not in letters:
        settings.append("loss.balancing=fixed")
    return Config(main, tuple(settings))


def loss_config(main: str, variant: str) -> Config:
    """The main recipe with every categorical head's loss and class weighting of ``variant``."""
    loss, weighting = VARIANTS[variant]
    settings = [f"heads.{n}.loss={loss}" for n in CATEGORICAL_NAMES]
    settings += [f"heads.{n}.class_weighting={weighting}" for n in CATEGORICAL_NAMES]
    return Config(main, tuple(settings))


def single_task_configs(main: str, epochs: int) -> dict[str, Config]:
    """One config per head of the main recipe: that head alone (and only its decoder, for seed000)."""
    recipe = load_recipe(main)
    configs = {}
    for name, spec in recipe.heads.items():
        # one head: validation reports no "overall/" aggregate, so select on the head's own loss
        settings = [f"train.epochs={epochs}", f"train.select_metric={name}/loss", "train.select_mode=min"]
        if recipe.backbone.type == "seed000":
            family = spec.get("family", FAMILY_OF_TYPE.get(spec["type"], "classification"))
            settings.append(f"backbone.options.families=[{family}]")
        configs[name] = Config(main, tuple(settings), heads=(name,))
    return configs


def model_label(recipe_name: str) -> tuple[str, str | None]:
    """Our row label and the paper's row for a recipe, by its backbone type."""
    kind = load_recipe(recipe_name).backbone.type
    label, paper = MODEL_ROWS.get(kind, (kind, None))
    return f"{label} (`{recipe_name}`)", paper


# -- Markdown -----------------------------------------------------------------------------------
def fmt(value: float | None, column: str) -> str:
    """A metric as the paper prints it: 2 decimals for %, 3 for normalised errors; "—" when missing."""
    if value is None:
        return "—"
    return f"{value:.2f}" if column in PERCENT else f"{value:.3f}"


def fmt_stats(value: dict[str, float] | None, column: str) -> str:
    """``mean (min–max)``, or ``—``."""
    if value is None:
        return "—"
    return f"{fmt(value['mean'], column)} ({fmt(value['min'], column)}–{fmt(value['max'], column)})"


def fmt_paper(value: Any, column: str) -> str:
    """A paper cell: [mean, min, max] as ``mean (min–max)``, one number as itself, None as ``—``."""
    if value is None:
        return "—"
    if isinstance(value, list):
        return fmt_stats({"mean": value[0], "min": value[1], "max": value[2]}, column)
    return fmt(float(value), column)


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def per_variable_table(section: dict[str, Any], columns: Sequence[str]) -> str:
    """Tables II/III: one row per (variable, metric), ours beside the paper's."""
    rows = []
    for name, metrics in section.items():
        for column in columns:
            cell = metrics[column]
            rows.append(
                [name, TITLES[column], fmt_stats(cell["ours"], column), fmt_paper(cell["paper"], column)]
            )
    headers = ["variable", "metric", "ours: mean (min–max)", "paper: mean (min–max)"]
    return md_table(headers, rows)


def model_rows_table(rows: Sequence[dict[str, Any]]) -> str:
    """Tables IV-VI: per row ours and the paper's OA, precision, recall, RMSE, MAE."""
    out = []
    for row in rows:
        if row.get("ours") is not None:
            out.append([row["label"], "ours", *(fmt_stats(row["ours"][c], c) for c in SUMMARY)])
        if row.get("paper") is not None:
            name = row["paper_row"]
            label = row["label"] if row.get("ours") is not None else name
            source = "paper" if name == row["label"] else f"paper: {name}"
            out.append([label, source, *(fmt_paper(row["paper"][c], c) for c in SUMMARY)])
    headers = ["method", "source", *(f"{TITLES[c]}{' (%)' if c in PERCENT else ''}" for c in SUMMARY)]
    return md_table(headers, out)


def cost_table(rows: Sequence[dict[str, Any]]) -> str:
    """Table VII: parameters, FLOPs per window, training seconds per epoch and OA, ours and the paper's."""

    def number(value: float | None, digits: str = ".3g") -> str:
        return "—" if value is None else format(value, digits)

    out = []
    for row in rows:
        ours = row.get("ours")
        if ours is not None:
            out.append(
                [
                    row["label"],
                    "ours",
                    number(ours["parameters"] / 1e6),
                    number(ours["flops_per_window"] / 1e9),
                    number(ours["seconds_per_epoch"], ".1f"),
                    fmt_stats(ours["oa"], "oa"),
                ]
            )
        paper = row.get("paper")
        if paper is not None:
            label = row["label"] if ours is not None else row["paper_row"]
            source = "paper" if ours is None else f"paper: {row['paper_row']}"
            out.append(
                [
                    label,
                    source,
                    number(paper["params_m"]),
                    number(paper["gflops"]),
                    number(paper["seconds_per_epoch"], ".1f"),
                    fmt(paper["oa"], "oa"),
                ]
            )
    headers = ["method", "source", "parameters (M)", "FLOPs per window (G)", "training s / epoch", "OA (%)"]
    return md_table(headers, out)


# -- the tables ---------------------------------------------------------------------------------
@dataclass
class Report:
    """Builds the chosen tables from runs, then writes them as Markdown and JSON."""

    runner: Runner
    seeds: list[int]
    main: str
    compare: list[str]
    single_task_epochs: int
    reference: dict[str, Any]
    tables: dict[str, Any] = field(default_factory=dict)

    def seed_runs(self, config: Config, label: str) -> list[dict[str, Any]]:
        """The config trained and scored at every seed."""
        return [self.runner.run(config, seed, label) for seed in self.seeds]

    def summary_row(self, config: Config, label: str, paper_row: str | None, table: str) -> dict[str, Any]:
        """One row of Tables IV-VI: the five summary columns over seeds, and the paper's row."""
        runs = self.seed_runs(config, label)
        per_seed = [summary_metrics(r["metrics"]) for r in runs]
        return {
            "label": label,
            "recipe": config.recipe,
            "folder": str(self.runner.folder(config)),
            "ours": {c: stats([s[c] for s in per_seed]) for c in SUMMARY},
            "paper_row": paper_row,
            "paper": self.reference[table].get(paper_row) if paper_row else None,
        }

    def paper_only(self, table: str, used: set[str | None]) -> list[dict[str, Any]]:
        """The paper's rows of ``table`` that no run of ours stands beside."""
        return [
            {"label": name, "paper_row": name, "paper": values}
            for name, values in self.reference[table].items()
            if name not in used
        ]

    def table_ii_iii(self, which: str) -> dict[str, Any]:
        """Per-variable metrics of the main model: II categorical, III continuous."""
        runs = self.seed_runs(Config(self.main), model_label(self.main)[0])
        names, columns, key = (
            (CATEGORICAL_NAMES, CLASS_METRICS, "table_ii")
            if which == "II"
            else (CONTINUOUS_NAMES, VALUE_METRICS, "table_iii")
        )
        section: dict[str, Any] = {}
        for name in names:
            section[name] = {}
            for column, metric in columns.items():
                scale = 100.0 if column in PERCENT else 1.0
                values = [r["metrics"][name].get(metric) for r in runs]
                section[name][column] = {
                    "ours": stats([None if v is None else scale * v for v in values]),
                    "paper": self.reference[key].get(name, {}).get(column),
                }
        return section

    def table_iv(self) -> list[dict[str, Any]]:
        """The main model beside the comparison recipes, then the paper's other models."""
        rows = []
        for recipe in [self.main, *self.compare]:
            label, paper_row = model_label(recipe)
            rows.append(self.summary_row(Config(recipe), label, paper_row, "table_iv"))
        return rows + self.paper_only("table_iv", {r["paper_row"] for r in rows})

    def table_v(self) -> list[dict[str, Any]]:
        """The cumulative ablation of the main (seed000) recipe."""
        if load_recipe(self.main).backbone.type != "seed000":
            raise SystemExit(f"Table V ablates seed000 switches; --main {self.main} is not a seed000 recipe")
        return [
            self.summary_row(ablation_config(self.main, letters), label, paper_row, "table_v")
            for label, (letters, paper_row) in ABLATION.items()
        ]

    def table_vi(self) -> list[dict[str, Any]]:
        """Class-imbalance losses on the main recipe."""
        return [
            self.summary_row(loss_config(self.main, variant), variant, paper_row, "table_vi")
            for variant, paper_row in LOSS_ROWS.items()
        ]

    def table_vii(self) -> list[dict[str, Any]]:
        """Cost of the multitask model, of 13 single-task models together, and of the comparison models."""
        rows = []
        for recipe in [self.main, *self.compare]:
            label, paper_row = model_label(recipe)
            runs = self.seed_runs(Config(recipe), label)
            if recipe == self.main:
                label, paper_row = f"{label}, multitask", "Proposed as Multitask"
            ours = {
                **self.runner.cost(Config(recipe), self.seeds[0]),
                "seconds_per_epoch": float(np.mean([r["seconds_per_epoch"] for r in runs])),
                "oa": stats([summary_metrics(r["metrics"])["oa"] for r in runs]),
            }
            rows.append(self._cost_row(label, recipe, paper_row, ours))
            if recipe == self.main:
                rows.append(self._single_task_row(label.replace("multitask", "13 single-task models")))
        return rows + self.paper_only("table_vii", {r["paper_row"] for r in rows})

    def _single_task_row(self, label: str) -> dict[str, Any]:
        configs = single_task_configs(self.main, self.single_task_epochs)
        seed = self.seeds[0]
        # scored only when they train as long as the multitask model
        full = self.single_task_epochs >= self.runner.recipe(Config(self.main), seed).train.epochs
        runs = {n: self.runner.run(c, seed, f"single-task {n}", evaluate=full) for n, c in configs.items()}
        costs = [self.runner.cost(c, seed) for c in configs.values()]
        oa = None
        if full:
            oa = stats(
                [100.0 * float(np.mean([runs[n]["metrics"][n]["accuracy"] for n in CATEGORICAL_NAMES]))]
            )
        ours = {
            "parameters": sum(c["parameters"] for c in costs),
            "flops_per_window": sum(c["flops_per_window"] for c in costs),
            "seconds_per_epoch": sum(r["seconds_per_epoch"] for r in runs.values()),
            "oa": oa,
            "epochs_trained": self.single_task_epochs,
        }
        return self._cost_row(label, self.main, "Proposed as Single-task", ours)

    def _cost_row(
        self, label: str, recipe: str, paper_row: str | None, ours: dict[str, Any]
    ) -> dict[str, Any]:
        paper = self.reference["table_vii"].get(paper_row) if paper_row else None
        return {"label": label, "recipe": recipe, "ours": ours, "paper_row": paper_row, "paper": paper}

    def balancing(self) -> str:
        """The main recipe's task balancing, as run (the ablation's "multitask loss")."""
        return self.runner.recipe(Config(self.main), self.seeds[0]).loss.balancing

    def describe(self, recipe: str) -> str:
        """How a recipe trains, as run: window, targets, epochs."""
        resolved = self.runner.recipe(Config(recipe), self.seeds[0])
        targets = "dense targets" if resolved.data.dense_targets else "centre targets"
        size = resolved.data.image_size
        epochs = resolved.train.epochs
        return f"`{recipe}` {size}×{size} px windows, {targets}, {epochs} epoch{'s' * (epochs != 1)}"

    def build(self, tables: Sequence[str]) -> None:
        """Fill ``self.tables`` with the chosen tables, training what they need."""
        builders = {
            "II": lambda: self.table_ii_iii("II"),
            "III": lambda: self.table_ii_iii("III"),
            "IV": self.table_iv,
            "V": self.table_v,
            "VI": self.table_vi,
            "VII": self.table_vii,
        }
        for table in TABLES:
            if table in tables:
                self.tables[table] = builders[table]()

    def figures(self, out_dir: Path, map_size: int) -> dict[str, Any]:
        """Copy the evaluation figures of the main model's best seed and draw its class maps."""
        runs = self.seed_runs(Config(self.main), model_label(self.main)[0])
        best = max(runs, key=lambda r: summary_metrics(r["metrics"])["oa"] or 0.0)
        run_dir = Path(best["run"])
        out_dir.mkdir(parents=True, exist_ok=True)
        copied = []
        for png in sorted(run_dir.glob("eval_test_*.png")):
            if png.name.endswith(FIGURE_SUFFIXES):
                shutil.copyfile(png, out_dir / png.name)
                copied.append(png.name)
        maps = class_maps_of_test_crop(run_dir, out_dir, map_size, self.runner.device) if map_size else None
        return {"run": str(run_dir), "folder": str(out_dir), "evaluation": copied, "class_maps": maps}


def markdown(report: Report, header: str, figures: dict[str, Any] | None, out: Path) -> str:
    """The whole report: header, each table with its caption and notes, then the figures."""
    parts = [header]
    tables = report.tables
    if "II" in tables:
        parts += [
            "## Table II: categorical variables of the main model",
            "Precision, recall and F1 are macro averages over the classes (the paper does not say which "
            "average); ROC-AUC is one-vs-rest from probabilities; %.",
            per_variable_table(tables["II"], list(CLASS_METRICS)),
        ]
    if "III" in tables:
        parts += [
            "## Table III: continuous variables of the main model",
            "On the p98-normalised scale (value / training 98th percentile, clipped to [0, 1]).",
            per_variable_table(tables["III"], list(VALUE_METRICS)),
        ]
    if "IV" in tables:
        parts += [
            "## Table IV: models side by side",
            "OA, precision and recall: mean over the 3 categorical variables; RMSE and MAE: mean over the "
            "10 continuous ones; per seed, then mean (min–max) over seeds. The SpatialNet ViT has no row "
            "in the paper; the paper's other models were not trained here. As run: "
            + "; ".join(report.describe(r) for r in [report.main, *report.compare])
            + "."
            + (
                " A Pham window costs several times a seed-000 window on the CPU (3D convolutions), so "
                "`taiga-pham-tiny` trains fewer epochs for about the same minutes; its unpadded "
                "convolutions need at least 21 px."
                if "taiga-pham-tiny" in report.compare
                else ""
            ),
            model_rows_table(tables["IV"]),
        ]
    if "V" in tables:
        parts += [
            "## Table V: ablation (cumulative)",
            "R `use_residual`, D `use_atrous` (Dense ASPP), A `use_attention`, C `use_channel_doubling` "
            "(Eq. 6, the 1×1 conv the paper calls channel pooling) in `backbone.options`; M the recipe's "
            f"`loss.balancing` ({report.balancing()}) instead of fixed unit weights. Switches not listed "
            "are off. "
            "The full row is the main recipe itself (one run shared with Tables II–IV).",
            model_rows_table(tables["V"]),
        ]
    if "VI" in tables:
        parts += [
            "## Table VI: class-imbalance losses",
            "Loss and class weighting of the 3 categorical heads (class weights: inverse median frequency); "
            "weighted cross-entropy is the main recipe's own setting. The paper prints one value per cell.",
            model_rows_table(tables["VI"]),
        ]
    if "VII" in tables:
        epochs = report.single_task_epochs
        parts += [
            "## Table VII: complexity, multitask vs single-task",
            "Parameters and FLOPs of the trained model's `predict` on one window (torch FlopCounterMode, "
            "2 FLOPs per multiply-add); training seconds per epoch from each run's `history.json` "
            f"(training steps only, mean over seeds) with {torch.get_num_threads()} torch CPU thread(s), "
            "wall-clock, so a busy machine inflates them; the paper's on an RTX A6000, its FLOPs per an "
            "unstated unit (a window is assumed). "
            f"Single-task: 13 models of one head each (a seed000 model keeps only that head's decoder), "
            f"each trained for {epochs} epoch(s) at the first seed; their parameters, FLOPs and seconds per "
            "epoch are summed; their OA is shown only when they train the main recipe's full epochs.",
            cost_table(tables["VII"]),
        ]
    if figures is not None:
        folder = Path(figures["folder"])
        rel = folder.name if folder.parent.resolve() == out.parent.resolve() else str(folder)
        parts += [
            "## Figures",
            f"Main model, best seed by mean test OA (`{figures['run']}`), copied into `{rel}/`: normalised "
            "confusion matrices, prediction-vs-target scatter plots with Pearson r, 100-bin error "
            "histograms.",
        ]
        maps = figures.get("class_maps")
        if maps:
            crop = maps["crop"]
            parts.append(
                f"Class maps of the {crop['size']}×{crop['size']} px test crop at row {crop['top']}, column "
                f"{crop['left']} (the crop holding the most test blocks): every pixel predicted from its "
                "own window; ground truth on test stands only, grey elsewhere.\n\n"
                + "\n".join(f"![{name} class map]({rel}/{png})" for name, png in maps["figures"].items())
            )
        parts.append("\n".join(f"- [{png}]({rel}/{png})" for png in figures["evaluation"]))
    return "\n\n".join(parts) + "\n"


def parse_seeds(values: Sequence[int]) -> list[int]:
    """One number N means seeds 0..N-1; several numbers are the seeds themselves."""
    return list(range(values[0])) if len(values) == 1 else list(values)


def parse_recipe_overrides(items: Sequence[str]) -> dict[str, list[str]]:
    """``RECIPE:KEY=VALUE`` items grouped by recipe."""
    grouped: dict[str, list[str]] = {}
    for item in items:
        recipe, sep, setting = item.partition(":")
        if not sep or "=" not in setting:
            raise SystemExit(
                f"--set-recipe {item!r}: expected RECIPE:KEY=VALUE (e.g. taiga-tiny:train.epochs=2)"
            )
        grouped.setdefault(recipe, []).append(setting)
    return grouped


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", required=True, help="folder holding taiga/ (e.g. runs/quickstart/world)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[10], help="N (seeds 0..N-1) or a list")
    parser.add_argument(
        "--only-seeds",
        type=int,
        nargs="+",
        help="train and report just these of the seeds (to share the runs among processes; then "
        "re-run without it to report every seed from the finished runs)",
    )
    parser.add_argument("--tables", nargs="+", default=list(TABLES), choices=TABLES)
    parser.add_argument("--main", default="taiga-tiny", help="the seed-000 recipe (Tables II-VII)")
    parser.add_argument(
        "--compare", nargs="*", default=["taiga-pham-tiny", "taiga-vit-tiny", "taiga-unet-tiny"]
    )
    parser.add_argument("--single-task-epochs", type=int, default=1, help="Table VII single-task timing")
    parser.add_argument("--map-size", type=int, default=96, help="class-map crop side in px (0: none)")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures")
    parser.add_argument("--out", type=Path, default=Path("eval/reports/taiga_tables"))
    parser.add_argument("--runs", type=Path, default=Path("runs/taiga_tables"), help="run folders")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--set-recipe", dest="recipe_overrides", action="append", default=[], metavar="RECIPE:KEY=VALUE"
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, help="torch CPU threads (1 resists a busy neighbour best)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    seeds = parse_seeds(args.seeds)
    if args.only_seeds:
        seeds = [seed for seed in seeds if seed in args.only_seeds]
        if not seeds:
            parser.error(
                f"--only-seeds {args.only_seeds}: none of them is among the seeds {parse_seeds(args.seeds)}"
            )
    runner = Runner(
        str(Path(args.data).resolve()),
        args.runs,
        list(args.overrides),
        parse_recipe_overrides(args.recipe_overrides),
        args.device,
    )
    reference = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    report = Report(runner, seeds, args.main, list(args.compare), args.single_task_epochs, reference)
    report.build(args.tables)
    figures = None
    if not args.no_figures and {"II", "III"} & set(args.tables):
        figures = report.figures(args.out.parent / f"{args.out.name}_figures", args.map_size)

    command = shlex.join(["python", "eval/taiga_tables.py", *(argv if argv is not None else sys.argv[1:])])
    epochs = ", ".join(
        f"`{name}` {runner.recipe(Config(name), seeds[0]).train.epochs}"
        for name in [args.main, *args.compare]
    )
    header = (
        f"# Seed 000's TAIGA tables, ours beside the paper's\n\n"
        f"Data: `{args.data}` (test split: the holdout stands). Seeds: {seeds} (the recipes' `seed`; the "
        f"paper used 10). Main recipe `{args.main}`; compared: "
        f"{', '.join(f'`{c}`' for c in args.compare) or 'none'}; epochs: {epochs}. Runs under "
        f"`{args.runs}`. Regenerate with\n\n    {command}\n\n"
        "Ours: mean (min–max) over seeds on the test split, pixel level (window centres). Paper: seed 000 "
        "(`eval/reference/taiga_seed000.yaml`, as printed; its inconsistent cells are noted there), 10 "
        "seeds on the real TAIGA mosaic with the full-size model (45 px windows, 150 epochs, GPU). Read "
        "them side by side with care: a synthetic forest (`spatialnet synth`) is not TAIGA, and the "
        "`*-tiny` recipes are CPU-sized (17–21 px windows, far fewer parameters: Table VII). "
        "Absolute numbers are not comparable; the order of the rows within a table is the point."
    )
    report.runner.log("")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = markdown(report, header, figures, args.out)
    write_json(
        args.out.with_suffix(".json"),
        {
            "data": args.data,
            "seeds": seeds,
            "main": args.main,
            "compare": args.compare,
            "overrides": args.overrides,
            "recipe_overrides": args.recipe_overrides,
            "command": command,
            "tables": report.tables,
            "figures": figures,
            "runs": runner.records(),
        },
    )
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
