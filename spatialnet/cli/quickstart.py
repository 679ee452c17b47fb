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
from spatialnet.data.synthetic.forest import CUBE_NAME, DEFAULT_FOREST_SIZE, TABLE_NAME, synthesize_forest
from spatialnet.training.checkpoint import WEIGHTS_FILE
from spatialnet.training.trainer import Trainer

# (recipe, run folder under DIR): until the joint model lands, one tiny run per task family
STAGES: tuple[tuple[str, str], ...] = (
    ("ucm_captions-tiny", "captions"),  # captions + auxiliary land-use head on DIR/world/ucm_captions
    ("rsvqa_lr-tiny", "vqa"),  # question answering on DIR/world/rsvqa_lr
    ("taiga-tiny", "forest"),  # 13 forest variables from hyperspectral windows of DIR/world/taiga
)


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "quickstart",
        help="synthesise a small world, train tiny captioning + land-use, VQA and forest models, "
        "evaluate them",
        description="The embedded default run: writes DIR/world (synthetic scenes in the UCM-captions "
        "and RSVQA-LR formats, a hyperspectral forest in the TAIGA format), trains "
        "tasks/ucm_captions-tiny.yaml into DIR/captions, tasks/rsvqa_lr-tiny.yaml into DIR/vqa and "
        "tasks/taiga-tiny.yaml into DIR/forest, evaluates each on the test split and prints the "
        "tables. Re-running continues or reuses what is already in DIR.",
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
    add_override_option(parser, "--set train.epochs=2 (applies to every tiny recipe)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Synthesise, then train and evaluate each stage, summarising as it goes."""
    console = Console()
    started = time.perf_counter()
    world = args.out / "world"
    steps = 1 + 2 * len(STAGES)
    if not (world / "rsvqa_lr" / "LR_split_test_answers.json").is_file():
        console.print(f"[bold]1/{steps}[/] synthesising {args.num_images} scenes into {world}")
        synthesize(world, seed=args.seed, num_images=args.num_images, progress=not args.no_progress)
    else:
        console.print(f"[bold]1/{steps}[/] reusing the synthetic world in {world}")
    if not (world / "taiga" / TABLE_NAME).is_file():
        size = (args.forest_size, args.forest_size)
        console.print(f"      synthesising a {size[0]}×{size[1]} hyperspectral forest into {world / 'taiga'}")
        synthesize_forest(world, seed=args.seed, size=size)
    step = 1
    for recipe_name, folder in STAGES:
        run_dir = args.out / folder
        recipe = load_recipe(recipe_name, [*args.overrides, f"data.root={world}", f"seed={args.seed}"])
        resume = (run_dir / "last" / WEIGHTS_FILE).is_file()
        step += 1
        console.print(
            f"[bold]{step}/{steps}[/] training {recipe_name} into {run_dir}{' (resuming)' if resume else ''}"
        )
        Trainer(recipe, run_dir, resume=resume, show_progress=not args.no_progress, log=console.print).fit()
        step += 1
        console.print(f"[bold]{step}/{steps}[/] evaluating {folder} on the test split")
        metrics, out = evaluate_run(run_dir, "test")
        print_summary(metrics, f"quickstart {folder}: synthetic test split", console)
        _headline(metrics, out, console)
    console.print(f"done in {time.perf_counter() - started:.0f}s")
    image = sorted((world / "ucm_captions" / "imgs").iterdir())[0]
    tile = sorted((world / "rsvqa_lr" / "Images_LR").iterdir())[0]
    console.print(f"try: spatialnet predict {args.out / 'captions'} --image {image}")
    question = '"How many buildings are there?"'
    console.print(f"     spatialnet predict {args.out / 'vqa'} --image {tile} --question {question}")
    cube = world / "taiga" / f"{CUBE_NAME}.hdr"
    middle = args.forest_size // 2
    console.print(f"     spatialnet predict {args.out / 'forest'} --cube {cube} --pixel {middle} {middle}")
    return 0


def _headline(metrics: dict[str, Any], out: Path, console: Console) -> None:
    """One line per task with the numbers a reader looks for first."""
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
    if "overall" in metrics and "mean_rmse" in metrics["overall"]:
        overall = metrics["overall"]
        accuracies = ", ".join(
            f"{name} {100 * metrics[name]['accuracy']:.1f}"
            for name in ("fertility", "soil", "species")
            if name in metrics
        )
        console.print(
            f"forest: accuracy {accuracies}; mean RMSE {overall['mean_rmse']:.3f} (p98-normalised); "
            f"figures in {out.parent}"
        )
    vqa = metrics.get("vqa", {})
    if "OA" in vqa:
        console.print(
            f"VQA: AA {100 * vqa['AA']:.1f}, OA {100 * vqa['OA']:.1f} over {vqa['num_questions']} questions "
            f"(answers in {out.parent / vqa['predictions_file']})"
        )
