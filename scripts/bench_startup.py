"""Start-up cost of the console script and of the inference paths, in fresh processes.

For each source tree (``--trees``: this one, and e.g. a worktree of an older commit for a
before/after ratio), the median wall time of ``python -m spatialnet --help`` over ``--repeats``
runs, and for the modules ``predict`` and ``map`` run (the predictor, the map writer) the import
time and which heavy libraries they load (transformers, gradio, matplotlib, sklearn, timm, torch).

    python scripts/bench_startup.py --out runs/bench/startup.json [--trees . ../old-worktree]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HEAVY = ("torch", "timm", "transformers", "gradio", "matplotlib", "sklearn")
PROBE = f"""
import json, sys, time
started = time.perf_counter()
import spatialnet.mapping.scene, spatialnet.predictor
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "loaded": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""
NEUTRAL = Path(tempfile.gettempdir())  # run from here: the working directory would shadow PYTHONPATH


def environment(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree.resolve()), "HF_HUB_OFFLINE": "1"}


def help_seconds(tree: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "spatialnet", "--help"],
            env=environment(tree),
            cwd=NEUTRAL,
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def inference_imports(tree: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=environment(tree),
        cwd=NEUTRAL,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trees", type=Path, nargs="+", default=[Path(".")])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("runs/bench/startup.json"))
    args = parser.parse_args()
    trees = {
        str(tree): {
            "help_s": help_seconds(tree, args.repeats),
            "predict_and_map_imports": inference_imports(tree),
        }
        for tree in args.trees
    }
    report = {"benchmark": "startup", "repeats": args.repeats, "trees": trees}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
