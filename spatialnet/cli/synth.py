"""``spatialnet synth``: write the synthetic world (the embedded default data)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from spatialnet.data.synthetic import synthesize


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "synth",
        help="generate synthetic aerial scenes in the real datasets' formats",
        description="Render procedural 256×256 aerial scenes with exact scene graphs and write them as "
        "DIR/ucm_captions (Karpathy dataset.json + imgs/) and DIR/scenes.jsonl. Same seed, same bytes.",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--num-images", type=int, default=420, help="number of scenes (default 420, 20 per class)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Generate and summarise."""
    summary = synthesize(args.out, seed=args.seed, num_images=args.num_images, progress=not args.no_progress)
    print(f"wrote {summary.num_images} scenes to {args.out} (splits: {summary.split_counts})")
    return 0
