"""``spatialnet quickstart``: the embedded default, from nothing to a trained, scored model."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from spatialnet.cli.evaluate import evaluate_run, print_summary
from spatialnet.cli.options import add_override_option
from spatialnet.config import load_recipe
from spatialnet.data.synthetic import synthesize
from spatialnet.training.checkpoint import WEIGHTS_FILE
from spatialnet.training.trainer import Trainer

RECIPE = "ucm_captions-tiny"  # captions + auxiliary land-use head


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "quickstart",
        help="synthesise a small world, train tiny captioning + land-use on it, evaluate on its test split",
        description="The embedded default run: writes DIR/world (synthetic scenes), trains "
        f"tasks/{RECIPE}.yaml into DIR/run, evaluates on the test split and prints a table. "
        "Re-running continues or reuses what is already in DIR.",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/quickstart"), help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="seed of the world and of training")
    parser.add_argument(
        "--num-images", type=int, default=630, help="synthetic scenes (default 630, 30 per class)"
    )
    add_override_option(parser, "--set train.epochs=2 (applies to the tiny recipe)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Synthesise, train, evaluate, summarise."""
    console = Console()
    started = time.perf_counter()
    world, run_dir = args.out / "world", args.out / "run"
    if not (world / "ucm_captions" / "dataset.json").is_file():
        console.print(f"[bold]1/3[/] synthesising {args.num_images} scenes into {world}")
        synthesize(world, seed=args.seed, num_images=args.num_images, progress=not args.no_progress)
    else:
        console.print(f"[bold]1/3[/] reusing the synthetic world in {world}")
    recipe = load_recipe(RECIPE, [*args.overrides, f"data.root={world}", f"seed={args.seed}"])
    resume = (run_dir / "last" / WEIGHTS_FILE).is_file()
    console.print(f"[bold]2/3[/] training {RECIPE} into {run_dir}{' (resuming)' if resume else ''}")
    Trainer(recipe, run_dir, resume=resume, show_progress=not args.no_progress, log=console.print).fit()
    console.print("[bold]3/3[/] evaluating on the test split")
    metrics, out = evaluate_run(run_dir, "test")
    print_summary(metrics, "quickstart: synthetic test split", console)
    landuse = metrics.get("landuse", {})
    if "accuracy" in landuse:
        chance = 1 / len(landuse.get("per_class_accuracy", {}) or [0] * 21)
        console.print(f"land-use test accuracy {landuse['accuracy']:.3f} (chance {chance:.3f})")
    captions = metrics.get("captions", {})
    if "CIDEr" in captions:
        console.print(
            f"captions: BLEU-4 {100 * captions['Bleu_4']:.1f}, CIDEr {100 * captions['CIDEr']:.1f} "
            f"(generated captions in {out.parent / captions['predictions_file']})"
        )
    console.print(f"done in {time.perf_counter() - started:.0f}s; metrics in {out}")
    sample = sorted((world / "ucm_captions" / "imgs").iterdir())[0]
    console.print(f"try: spatialnet predict {run_dir} --image {sample}")
    return 0
