"""``spatialnet synth``: write the synthetic world (the embedded default data)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from spatialnet.data.synthetic.defaults import DEFAULT_FOREST_SIZE, DEFAULT_QUESTIONS_PER_IMAGE
from spatialnet.errors import DataError


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "synth",
        help="generate synthetic aerial scenes in the real datasets' formats",
        description="Render procedural 256×256 aerial scenes with exact scene graphs and write them as "
        "DIR/ucm_captions (Karpathy dataset.json + imgs/), DIR/scenes.jsonl and DIR/rsvqa_lr (the same "
        "images as RSVQA-LR: Images_LR/*.tif and LR_split_*_{images,questions,answers}.json, answers "
        "exact from the scene graphs, drawn so that the question alone does not give the answer away), "
        "DIR/rsivqa_ucm/ucm_res.txt (RSIVQA's lines 'N.tif:QUESTION?ANSWER' on the same images: theme, "
        "two presence, count in words and location on a 3×3 grid per image, exact from the scene graphs) "
        "and DIR/taiga (a forest scene in the TAIGA format: ENVI int16 cube, 14-band label raster, "
        "stand table). Same seed, same bytes.",
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
    parser.add_argument(
        "--no-rsivqa", action="store_true", help="do not write DIR/rsivqa_ucm (the other files stay the same)"
    )
    parser.add_argument(
        "--forest-size",
        type=int,
        default=DEFAULT_FOREST_SIZE,
        help=f"side in pixels of the TAIGA-format forest scene (default {DEFAULT_FOREST_SIZE}, ~740 MB, "
        "enough stands for the tiny forest recipes; 0 writes none); "
        "large sizes are written block by block in bounded memory",
    )
    parser.add_argument(
        "--spectra",
        type=Path,
        help="a .npy file of real (n, 110) canopy spectra for the forest (e.g. TAIGA's x-110-l2.npy); "
        "default: the built-in parametric library, the same bytes on every machine. "
        "Recorded in DIR/taiga/synthesis.json",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes drawing the scenes (default: one per core, for 32+ scenes each); "
        "the files do not depend on it",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Generate and summarise."""
    from spatialnet.data.synthetic import synthesize  # deferred: the generators, only when run
    from spatialnet.data.synthetic.forest import synthesize_forest

    if args.forest_size < 0:
        raise DataError(f"--forest-size must be >= 0, got {args.forest_size}")
    if args.spectra is not None and not args.spectra.is_file():
        raise DataError(f"--spectra {args.spectra}: file not found")
    summary = synthesize(
        args.out,
        seed=args.seed,
        num_images=args.num_images,
        progress=not args.no_progress,
        rsvqa=not args.no_rsvqa,
        questions_per_image=args.questions_per_image,
        workers=args.workers,
        rsivqa=not args.no_rsivqa,
    )
    print(f"wrote {summary.num_images} scenes to {args.out} (splits: {summary.split_counts})")
    if summary.rsvqa is not None:
        vqa = summary.rsvqa
        per_split = {split: sum(c.values()) for split, c in vqa.counts.items()}
        print(f"wrote {vqa.num_questions} RSVQA-LR questions to {vqa.root} (splits: {per_split})")
    if summary.rsivqa is not None:
        ivqa = summary.rsivqa
        per_split = {split: sum(c.values()) for split, c in ivqa.counts.items()}
        print(f"wrote {ivqa.num_questions} RSIVQA questions to {ivqa.path} (splits: {per_split})")
    if args.forest_size:
        size = (args.forest_size, args.forest_size)
        forest = synthesize_forest(args.out, seed=args.seed, size=size, spectra=args.spectra)
        print(
            f"wrote a {forest.lines}×{forest.samples}×{forest.bands} TAIGA-format forest with "
            f"{forest.num_stands} stands to {forest.root} (spectra: {forest.spectra_source})"
        )
    return 0
