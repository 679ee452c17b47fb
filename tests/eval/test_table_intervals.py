"""eval/harness.py's --bootstrap/--seed and the interval row the Table I/II scripts print under ours."""

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from rich.console import Console

from spatialnet.metrics.bootstrap import Comparison, Difference, Interval, Intervals
from tests.helpers import eval_script


@pytest.fixture(scope="module")
def harness() -> Iterator[ModuleType]:
    with eval_script("harness") as module:
        yield module


def test_bootstrap_and_seed_reach_evaluate(harness: ModuleType, tmp_path: Path) -> None:
    seen: list[tuple[Any, ...]] = []

    def evaluate(*args: Any, **options: Any) -> dict[str, Any]:
        seen.append((args, options))
        return {"rows": {}}

    out = tmp_path / "table.json"
    argv = ["RUN", "--bootstrap", "7", "--seed", "3", "--out", str(out)]
    assert harness.run_table(None, evaluate, lambda r, c: None, "val", argv, intervals=True) == 0
    assert seen[-1] == ((Path("RUN"), "val", None, "auto"), {"bootstrap": 7, "seed": 3})
    assert json.loads(out.read_text()) == {"rows": {}}
    assert harness.run_table(None, evaluate, lambda r, c: None, "val", ["RUN"], intervals=True) == 0
    assert seen[-1][1] == {"bootstrap": None, "seed": 0}
    assert harness.run_table(None, evaluate, lambda r, c: None, "test", ["RUN"]) == 0
    assert seen[-1] == ((Path("RUN"), "test", None, "auto"), {})  # tables without intervals: as before
    with pytest.raises(SystemExit):
        harness.run_table(None, evaluate, lambda r, c: None, "test", ["RUN", "--bootstrap", "5"])
    units = ("images", "questions")
    assert harness.run_table(None, evaluate, lambda r, c: None, "val", ["RUN"], True, units) == 0
    assert seen[-1][1] == {"bootstrap": None, "seed": 0, "resample": "images"}
    argv = ["RUN", "--bootstrap", "9", "--resample", "questions"]
    assert harness.run_table(None, evaluate, lambda r, c: None, "val", argv, True, units) == 0
    assert seen[-1][1] == {"bootstrap": 9, "seed": 0, "resample": "questions"}
    with pytest.raises(SystemExit):
        harness.run_table(
            None, evaluate, lambda r, c: None, "val", ["RUN", "--resample", "tiles"], True, units
        )


def test_interval_row_in_column_order(harness: ModuleType) -> None:
    intervals = Intervals(
        {"OA": Interval(0.8, 0.75, 0.85), "AA": Interval(0.7, 0.625, 0.79)}, 500, 2, 0.95, "questions"
    )
    bounds = harness.percent_intervals(intervals, ["count", "AA", "OA"])
    assert bounds == {
        "resamples": 500,
        "seed": 2,
        "unit": "questions",
        "low": [None, 62.5, 75.0],
        "high": [None, 79.0, 85.0],
    }
    assert harness.interval_row(bounds) == [
        "  95% interval (500× questions)",
        "—",
        "62.50–79.00",
        "75.00–85.00",
    ]


def test_percent_comparison_in_column_order(harness: ModuleType) -> None:
    comparison = Comparison(
        {"OA": Difference(0.8, 0.7, 0.1, 0.05, 0.15, 0.002)}, "ours", "blind", 300, 1, 0.95, "images"
    )
    assert harness.percent_comparison(comparison, ["count", "OA"]) == {
        "first": "ours",
        "second": "blind",
        "resamples": 300,
        "seed": 1,
        "unit": "images",
        "difference": [None, pytest.approx(10.0)],
        "low": [None, 5.0],
        "high": [None, 15.0],
        "p_value": [None, 0.002],
    }


def _result(table2: ModuleType, split: str) -> dict[str, Any]:
    columns = list(table2.COLUMNS)
    return {
        "split": split,
        "columns": columns,
        "rows": {
            "ours": [70.0, 80.0, 85.0, 90.0, 81.25, 80.0, 85.0],
            "blind (same question text)": [60.0, 80.0, 80.0, 50.0, 67.5, 75.0, 70.0],
        },
        "intervals": {
            "ours": {"resamples": 100, "seed": 0, "unit": "images", "low": [60.0] * 7, "high": [75.5] * 7}
        },
        "paired": {
            "first": "ours",
            "second": "blind (same question text)",
            "resamples": 100,
            "seed": 0,
            "unit": "images",
            "difference": [10.0, 0.0, 5.0, 40.0, 13.75, 5.0, 15.0],
            "low": [-1.5] * 7,
            "high": [20.0] * 7,
            "p_value": [0.04] * 7,
        },
        "published": {
            "split": "test",
            "rows": {"SpatialNet-ViT (Table II)": [80.0, 90.0, 90.0, 90.0, 87.5, 88.0, 90.0]},
            "compare_to": "SpatialNet-ViT (Table II)",
        },
        "num_questions": 40,
        "num_images": 2,
        "counts": {"count": 10},
        "checkpoint": "RUN",
        "train": "TRAIN",
        "notes": {},
        "resampling": "resampled 100 times: the 2 images",
    }


def test_table2_prints_the_interval_under_ours_and_the_paired_test(harness: ModuleType) -> None:
    table2 = importlib.import_module("table2_rsvqa_lr")
    console = Console(width=220, record=True)
    table2.print_table(_result(table2, "val"), console)
    lines = console.export_text().splitlines()
    ours = next(k for k, line in enumerate(lines) if line.startswith("│ ours "))
    assert "95% interval (100× images)" in lines[ours + 1]
    assert lines[ours + 1].count("60.00–75.50") == 7
    assert "Δ vs" not in "\n".join(lines)  # the published rows are of the test split
    paired = next(k for k, line in enumerate(lines) if "ours − blind (same question text)" in line)
    assert "+40.00" in lines[paired] and lines[paired + 1].count("-1.50–+20.00") == 7
    assert lines[paired + 2].count("0.040") == 7
    assert any("SpatialNet-ViT (Table II), TEST split" in line for line in lines)
    assert (
        "the last rows are published figures of the TEST split: not comparable with these val-split rows"
        in lines
    )
    assert "resampled 100 times: the 2 images" in lines


def test_table2_subtracts_the_published_row_on_its_own_split(harness: ModuleType) -> None:
    table2 = importlib.import_module("table2_rsvqa_lr")
    console = Console(width=220, record=True)
    table2.print_table(_result(table2, "test"), console)
    text = console.export_text()
    delta = next(line for line in text.splitlines() if "Δ vs SpatialNet-ViT (Table II)" in line)
    cells = [cell.strip() for cell in delta.split("│")[2:9]]
    assert cells == ["-10.00", "-10.00", "-5.00", "+0.00", "-6.25", "-8.00", "-5.00"]
    assert "not comparable" not in text and "the last rows are published figures of the TEST split" in text
