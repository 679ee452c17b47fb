"""The TAIGA tables as data: ``Report`` trains what each chosen table needs through a ``Runner``
and collects our values over seeds beside the paper's, plus the best seed's figures.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from taiga_class_maps import class_maps_of_test_crop
from taiga_configs import (
    ABLATION,
    LOSS_ROWS,
    ablation_config,
    loss_config,
    model_label,
    single_task_configs,
)
from taiga_runs import Config, Runner
from taiga_scores import CLASS_METRICS, PERCENT, SUMMARY, VALUE_METRICS, stats, summary_metrics

from spatialnet.config import load_recipe
from spatialnet.data.taiga import CATEGORICAL_NAMES, CONTINUOUS_NAMES

TABLES = ("II", "III", "IV", "V", "VI", "VII")
FIGURE_SUFFIXES = ("_confusion.png", "_scatter.png", "_errors.png")


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
