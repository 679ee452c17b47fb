"""eval/harness.py's --bootstrap/--seed and the interval row the Table I/II scripts print under ours."""

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from rich.console import Console

from spatialnet.metrics.bootstrap import Interval, Intervals
from tests.helpers import REPO


@pytest.fixture(scope="module")
def harness() -> Iterator[ModuleType]:
    sys.path.insert(0, str(REPO / "eval"))
    try:
        yield importlib.import_module("harness")
    finally:
        sys.path.remove(str(REPO / "eval"))


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


def test_interval_row_in_column_order(harness: ModuleType) -> None:
    intervals = Intervals(
        {"OA": Interval(0.8, 0.75, 0.85), "AA": Interval(0.7, 0.625, 0.79)}, 500, 2, 0.95, "questions"
    )
    bounds = harness.percent_intervals(intervals, ["count", "AA", "OA"])
    assert bounds == {"resamples": 500, "seed": 2, "low": [None, 62.5, 75.0], "high": [None, 79.0, 85.0]}
    assert harness.interval_row(bounds) == [
        "  95% interval (500 resamples)",
        "—",
        "62.50–79.00",
        "75.00–85.00",
    ]


def test_table2_prints_the_interval_under_ours(harness: ModuleType) -> None:
    table2 = importlib.import_module("table2_rsvqa_lr")
    columns = list(table2.COLUMNS)
    paper = [80.0, 90.0, 90.0, 90.0, 87.5, 88.0, 90.0]
    result = {
        "split": "test",
        "columns": columns,
        "paper": {"SpatialNet-ViT (Table II)": paper},
        "compare_to": "SpatialNet-ViT (Table II)",
        "rows": {"ours": [70.0, 80.0, 85.0, 90.0, 81.25, 80.0, 85.0]},
        "intervals": {"ours": {"resamples": 100, "seed": 0, "low": [60.0] * 7, "high": [75.5] * 7}},
        "num_questions": 40,
        "counts": {"count": 10},
        "checkpoint": "RUN",
    }
    console = Console(width=200, record=True)
    table2.print_table(result, console)
    lines = console.export_text().splitlines()
    ours = next(k for k, line in enumerate(lines) if line.startswith("│ ours "))
    assert "95% interval (100 resamples)" in lines[ours + 1] and lines[ours + 1].count("60.00–75.50") == 7
