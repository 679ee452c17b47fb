"""Training throughput of the joint SpatialNet-ViT vs the sum of its single-task models, on the CPU.

The joint recipe (default ``spatialnet_vit-tiny``) trains ``--steps`` mixed batches per epoch;
each single-task model is the same recipe cut down to one dataset (``Recipe.single_source``: its
heads, its modality's stem) and trains as many batches of that dataset as the joint schedule
gave it. Batches, batch sizes and samples are therefore equal; what differs is one model (one
optimiser step over all parameters, one trunk) against three. Times are the trainer's own
training seconds of the second epoch (steps only: no validation, no warm-up allocations).

    python scripts/bench_joint.py --out runs/bench/joint.json [--world runs/quickstart/world]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from bench_common import machine, small_world, write_report
from safetensors.torch import load_file

from spatialnet import checkpoint as ckpt
from spatialnet.config import Recipe, load_recipe
from spatialnet.training.trainer import Trainer

EPOCHS = 2  # the second epoch is timed


def train_seconds(recipe: Recipe, run_dir: Path) -> tuple[float, int, dict[str, int]]:
    """Training seconds of the last epoch, the parameter count and the batches per dataset."""
    Trainer(recipe, run_dir, show_progress=False, log=lambda _message: None).fit()
    records = json.loads((run_dir / "history.json").read_text())
    seconds = records[-1]["seconds"] - records[-2]["seconds"]
    weights = load_file(str(run_dir / "last" / ckpt.WEIGHTS_FILE))
    return float(seconds), sum(t.numel() for t in weights.values()), records[-1]["batches"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="spatialnet_vit-tiny")
    parser.add_argument("--world", type=Path, help="a synthetic world (default: a small one is made)")
    parser.add_argument("--steps", type=int, default=60, help="joint batches per epoch")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("runs/bench/joint.json"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_joint_") as scratch:
        world = args.world or small_world(Path(scratch))
        overrides = [
            f"data.root={world}",
            f"train.epochs={EPOCHS}",
            f"train.steps_per_epoch={args.steps}",
            "train.val_every=1000",
            f"train.threads={args.threads}",
        ]
        joint = load_recipe(args.recipe, overrides)
        joint_seconds, joint_parameters, counts = train_seconds(joint, Path(scratch) / "joint")
        singles: dict[str, Any] = {}
        for name, entry in joint.sources().items():
            single = joint.single_source(name, counts[name])
            seconds, parameters, _ = train_seconds(single, Path(scratch) / name)
            batch = entry.batch_size or joint.train.batch_size
            singles[name] = {
                "tasks": entry.tasks,
                "batches": counts[name],
                "batch_size": batch,
                "train_seconds": seconds,
                "samples_per_s": counts[name] * batch / seconds,
                "parameters": parameters,
            }
    samples = sum(s["batches"] * s["batch_size"] for s in singles.values())
    singles_seconds = sum(s["train_seconds"] for s in singles.values())
    report = {
        "benchmark": "joint",
        "machine": machine(),
        "recipe": args.recipe,
        "steps": args.steps,
        "joint": {
            "train_seconds": joint_seconds,
            "samples_per_s": samples / joint_seconds,
            "parameters": joint_parameters,
        },
        "single_task": singles,
        "single_task_sum": {
            "train_seconds": singles_seconds,
            "samples_per_s": samples / singles_seconds,
            "parameters": sum(s["parameters"] for s in singles.values()),
        },
        "joint_speedup": singles_seconds / joint_seconds,
    }
    write_report(report, args.out)
    print(
        f"joint {report['joint']['samples_per_s']:.1f} samples/s vs single-task sum "
        f"{report['single_task_sum']['samples_per_s']:.1f} samples/s (×{report['joint_speedup']:.2f})"
    )


if __name__ == "__main__":
    main()
