"""``spatialnet synth``: write the synthetic world (the embedded default data)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from spatialnet.data.synthetic import synthesize
from spatialnet.data.synthetic.rsvqa_world import DEFAULT_QUESTIONS_PER_IMAGE


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "synth",
        help="generate synthetic aerial scenes in the real datasets' formats",
        description="Render procedural 256×256 aerial scenes with exact scene graphs and write them as "
        "DIR/ucm_captions (Karpathy dataset.json + imgs/), DIR/scenes.jsonl and DIR/rsvqa_lr (the same "
        "images as RSVQA-LR: Images_LR/*.tif and LR_split_*_{images,questions,answers}.json, answers "
        "exact from the scene graphs, drawn so that the question alone does not give the answer away). "
        "Same seed, same bytes.",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--num-images", type=int, default=420, help="number of scenes (default 420, 20 per class)"
    )
    parser.add_argument(
        "--questions-per-image",
        type=int,
        default=DEFAULT_QUESTIONS_PER_IMAGE,
        help=f"RSVQA questions per image: one rural/urban, the rest presence, count and comparison "
        f"(default {DEFAULT_QUESTIONS_PER_IMAGE})",
    )
    parser.add_argument("--no-rsvqa", action="store_true", help="do not write DIR/rsvqa_lr")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Generate and summarise."""
    summary = synthesize(
        args.out,
        seed=args.seed,
        num_images=args.num_images,
        progress=not args.no_progress,
        rsvqa=not args.no_rsvqa,
        questions_per_image=args.questions_per_image,
    )
    print(f"wrote {summary.num_images} scenes to {args.out} (splits: {summary.split_counts})")
    if summary.rsvqa is not None:
        vqa = summary.rsvqa
        per_split = {split: sum(c.values()) for split, c in vqa.counts.items()}
        print(f"wrote {vqa.num_questions} RSVQA-LR questions to {vqa.root} (splits: {per_split})")
    return 0
