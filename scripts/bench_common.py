"""What every benchmark script shares: timing trials and the machine description in its JSON."""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch


def trial_seconds(step: Callable[[], None], trials: int) -> list[float]:
    """Wall seconds of ``trials`` calls of ``step`` after one untimed warm-up call."""
    step()
    seconds = []
    for _ in range(trials):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return seconds


def median(seconds: list[float]) -> float:
    """The median trial (robust to a noisy neighbour on a shared machine)."""
    return float(statistics.median(seconds))


def machine() -> dict[str, Any]:
    """Device, thread count, torch version and processor, for the report header."""
    return {
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
    }


def write_report(report: dict[str, Any], out: Path) -> None:
    """Write the report as indented JSON to ``out`` (creating its folder) and print it."""
    text = json.dumps(report, indent=2)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")
    print(text)


def small_world(folder: Path) -> Path:
    """A small synthetic world (84 scenes of each image dataset, a 512² forest) in ``folder/world``."""
    world = folder / "world"
    from spatialnet.data.synthetic import synthesize  # loaded by the benchmarks that build a world
    from spatialnet.data.synthetic.forest import synthesize_forest

    synthesize(world, seed=0, num_images=84, progress=False)
    synthesize_forest(world, seed=0, size=(512, 512))
    return world


def matmul_peak_gflops(size: int = 2048, trials: int = 5) -> float:
    """Measured fp32 matmul rate (GFLOP/s) of this process's threads: the machine's practical peak."""
    a, b, out = torch.randn(size, size), torch.randn(size, size), torch.empty(size, size)

    def step() -> None:
        torch.mm(a, b, out=out)

    seconds = median(trial_seconds(step, trials))
    return 2 * size**3 / seconds / 1e9
