"""``spatialnet quickstart``: the embedded default, from nothing to a trained, scored model."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from spatialnet.cli.options import add_override_option
from spatialnet.config import load_recipe
from spatialnet.data.synthetic.defaults import DEFAULT_FOREST_SIZE
from spatialnet.errors import DataError
from spatialnet.files import write_json

if TYPE_CHECKING:  # the subcommand is registered without loading torch
    from spatialnet.heads.base import TaskHead

RECIPE = "spatialnet_vit-tiny"  # the joint model: captions + land-use, VQA and forest on one trunk
RUN_FOLDER = "model"  # DIR/model: the run `spatialnet app` and `predict` serve


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "quickstart",
        help="synthesise a small world, train the tiny joint SpatialNet-ViT on every task, evaluate it",
        description="The embedded default run: writes DIR/world (synthetic scenes in the UCM-captions "
        "and RSVQA-LR formats, a hyperspectral forest in the TAIGA format), trains "
        "the spatialnet_vit-tiny recipe (one shared trunk: captions + land-use, VQA, 13 forest "
        "variables) into DIR/model, evaluates every task on the test split and prints one table. "
        "Re-running continues or reuses what is already in DIR.",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/quickstart"), help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="seed of the world and of training")
    parser.add_argument(
        "--num-images", type=int, default=630, help="synthetic scenes (default 630, 30 per class)"
    )
    parser.add_argument(
        "--forest-size",
        type=int,
        default=DEFAULT_FOREST_SIZE,
        help=f"side in pixels of the synthetic forest (default {DEFAULT_FOREST_SIZE})",
    )
    parser.add_argument(
        "--spectra",
        type=Path,
        help="real (n, 110) canopy spectra (.npy) for the forest, as `synth --spectra`; "
        "default: the built-in library, the same world on every machine",
    )
    add_override_option(parser, "--set train.epochs=2 (applies to the joint recipe)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Synthesise, train the joint model, evaluate every task and print one table."""
    from spatialnet.checkpoint import WEIGHTS_FILE  # deferred: torch, only when running
    from spatialnet.data.synthetic import synthesize
    from spatialnet.data.synthetic.forest import CUBE_NAME, TABLE_NAME, synthesize_forest
    from spatialnet.heads.headlines import head_types
    from spatialnet.training.evaluation import evaluate_run
    from spatialnet.training.trainer import Trainer

    console = Console()
    started = time.perf_counter()
    stages: dict[str, float] = {}  # wall seconds of each stage: where the main job's time goes
    if args.spectra is not None and not args.spectra.is_file():
        raise DataError(f"--spectra {args.spectra}: file not found")
    world = args.out / "world"
    if not (world / "rsvqa_lr" / "LR_split_test_answers.json").is_file():
        console.print(f"[bold]1/3[/] synthesising {args.num_images} scenes into {world}")
        with _timed(stages, "scenes"):
            synthesize(world, seed=args.seed, num_images=args.num_images, progress=not args.no_progress)
    else:
        console.print(f"[bold]1/3[/] reusing the synthetic world in {world}")
    if not (world / "taiga" / TABLE_NAME).is_file():
        size = (args.forest_size, args.forest_size)
        console.print(f"      synthesising a {size[0]}×{size[1]} hyperspectral forest into {world / 'taiga'}")
        with _timed(stages, "forest"):
            synthesize_forest(world, seed=args.seed, size=size, spectra=args.spectra)
    run_dir = args.out / RUN_FOLDER
    recipe = load_recipe(RECIPE, [*args.overrides, f"data.root={world}", f"seed={args.seed}"])
    resume = (run_dir / "last" / WEIGHTS_FILE).is_file()
    console.print(f"[bold]2/3[/] training {RECIPE} into {run_dir}{' (resuming)' if resume else ''}")
    with _timed(stages, "training"):
        Trainer(recipe, run_dir, resume=resume, show_progress=not args.no_progress, log=console.print).fit()
    console.print("[bold]3/3[/] evaluating every task on the test split")
    with _timed(stages, "evaluation"):
        metrics, out = evaluate_run(run_dir, "test")
    title = f"{RECIPE} on the synthetic test split (metrics: {out})"
    console.print(headline_table(metrics, head_types(recipe.heads), title))
    stages["total"] = time.perf_counter() - started
    write_json(args.out / "timing.json", stages)
    parts = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in stages.items() if name != "total")
    console.print(f"done in {stages['total']:.0f}s ({parts})")
    image = sorted((world / "ucm_captions" / "imgs").iterdir())[0]
    tile = sorted((world / "rsvqa_lr" / "Images_LR").iterdir())[0]
    cube = world / "taiga" / f"{CUBE_NAME}.hdr"
    middle = args.forest_size // 2
    question = '"How many buildings are there?"'
    console.print(f"try: spatialnet predict {run_dir} --image {image}")
    console.print(f"     spatialnet predict {run_dir} --image {tile} --question {question}")
    console.print(f"     spatialnet predict {run_dir} --cube {cube} --pixel {middle} {middle}")
    console.print(f"     spatialnet app --checkpoint {run_dir}")
    return 0


@contextmanager
def _timed(stages: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    stages[name] = time.perf_counter() - started


def headline_table(metrics: dict[str, Any], heads: Mapping[str, type[TaskHead]], title: str) -> Table:
    """One row per headline metric of every task the model has (the numbers a reader looks for first)."""
    from spatialnet.heads.headlines import formatted, headline_values

    table = Table(title=title)
    for column in ("task", "metric", "value"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for headline, value in headline_values(metrics, heads):
        table.add_row(headline.task, headline.label, formatted(headline, value))
    return table
