"""``spatialnet train``: train a recipe into a run folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from spatialnet.cli.options import add_override_option
from spatialnet.config import load_recipe


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "train",
        help="train a recipe (a YAML path or a shipped recipe's name)",
        description="Train a recipe. Multi-GPU / multi-node: launch with "
        "`torchrun --nproc-per-node N -m spatialnet train …` (DDP; gloo on CPUs, NCCL on GPUs).",
    )
    parser.add_argument(
        "recipe", help="recipe YAML path or a shipped recipe's name (spatialnet/recipes/), e.g. taiga-tiny"
    )
    parser.add_argument("--out", type=Path, help="run folder (default: runs/<recipe name>)")
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its last checkpoint"
    )
    add_override_option(parser, "--set train.epochs=5 --set data.root=/data/ucm")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (logs only)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Train and print where the best checkpoint is."""
    from spatialnet.training.trainer import Trainer  # deferred: torch, only when training

    recipe = load_recipe(args.recipe, args.overrides)
    out = args.out or Path("runs") / recipe.name
    trainer = Trainer(recipe, out, resume=args.resume, show_progress=not args.no_progress)
    result = trainer.fit()
    if result and trainer.context.is_main:  # under torchrun, one line for the job
        print(
            f"best {result['select_metric']} {result['best_value']:.4f} "
            f"at epoch {result['best_epoch']}: {out / 'best'}"
        )
    return 0
