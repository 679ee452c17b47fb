"""Rendering the TAIGA tables as Markdown: number formats as the paper prints them, one table
layout per kind of table, and the whole report with its captions and figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from taiga_scores import CLASS_METRICS, PERCENT, SUMMARY, TITLES, VALUE_METRICS

if TYPE_CHECKING:
    from taiga_report import Report


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
