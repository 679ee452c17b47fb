"""``spatialnet predict``: run every head of a trained model on one image, or on many into a table."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from spatialnet.batch_prediction import IMAGE_SUFFIXES
from spatialnet.errors import DataError


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "predict",
        help="predict every task of a run for one image, many images into a table, or one cube pixel",
        description="Load a run (its best checkpoint) and print each head's prediction for an image; "
        "with --question, VQA heads answer it. --images DIR|GLOB … --out preds.jsonl|preds.csv predicts "
        "every image file found into one table (one row per file; a re-run skips the files already "
        "there; under torchrun the processes share the files). Forest models take --cube CUBE.hdr "
        "--pixel ROW COL and predict the variables of that pixel from the window around it.",
    )
    parser.add_argument(
        "run",
        nargs="?",
        default=None,
        help="run folder (uses best/), checkpoint folder, bundled model name (spatialnet models) or "
        "Hugging Face hub id; default: the bundled spatialnet-vit-real-cpu",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--image", type=Path, help="image file (any size; resized)")
    source.add_argument(
        "--images",
        nargs="+",
        metavar="DIR|GLOB",
        help="image folders (searched recursively), glob patterns (quote them) or files "
        f"({' '.join(IMAGE_SUFFIXES)}), predicted into the table --out",
    )
    source.add_argument("--cube", type=Path, help="ENVI header of a hyperspectral cube (forest models)")
    parser.add_argument(
        "--pixel", type=int, nargs=2, metavar=("ROW", "COL"), help="the cube pixel to predict (with --cube)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="with --images: the table to write, by suffix .jsonl (a JSON object per line) or .csv; "
        "rows already there are kept and their files skipped (files whose row is an error are retried)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=16, help="with --images: images per forward pass (default 16)"
    )
    parser.add_argument(
        "--question",
        help='a question for VQA heads, e.g. "How many buildings are there?" (quote it); with --images, '
        "asked of every image",
    )
    parser.add_argument(
        "--question-set",
        metavar="NAME",
        help="the conventions the question is answered in, for a model that learned several: rsvqa_lr "
        "(Sentinel-2 tiles: yes/no, count bins, rural/urban) or rsivqa (aerial photos: theme, counts in "
        "words, locations); default: the first the model learned",
    )
    parser.add_argument("--top-k", type=int, default=5, help="classes to show per classification head")
    parser.add_argument(
        "--beams", type=int, help="beam width of caption search (default: the recipe's num_beams; 1 = greedy)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text (--image, --cube)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--no-progress", action="store_true", help="with --images: no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Predict and print."""
    from spatialnet.predictor import Predictor  # deferred: torch, only when predicting

    if args.images is not None:
        return run_batch(args)
    predictor = Predictor.from_run(_model(args.run), args.device)
    if args.cube is not None:
        if args.pixel is None:
            raise DataError("--cube needs --pixel ROW COL: the pixel whose forest variables to predict")
        result = predictor.predict_pixel(args.cube, args.pixel[0], args.pixel[1], args.top_k)
    else:
        if args.beams is not None and args.beams < 1:
            raise DataError(f"--beams: {args.beams}; expected a beam width ≥ 1")
        if args.question_set is not None and args.question is None:
            raise DataError("--question-set needs --question: the question to answer in that set")
        result = predictor.predict_file(
            args.image, args.top_k, args.question, num_beams=args.beams, question_set=args.question_set
        )
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for head, value in result.items():
        if isinstance(value, dict) and "answer" in value:
            print(
                f"{head}: {value['answer']} ({value['probability']:.3f})  "
                f"[{value['type']} question, {value['question_set']}]"
            )
            for rank, item in enumerate(value["top"], 1):
                print(f"  {rank}. {item['answer']:<22} {item['probability']:.3f}")
            if value["unknown_words"]:
                print(f"  words not seen in training (read as unknown): {', '.join(value['unknown_words'])}")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            print(f"{head}:")
            for rank, item in enumerate(value, 1):
                print(f"  {rank}. {item['label']:<20} {item['probability']:.3f}")
        elif isinstance(value, dict) and "value" in value:
            print(f"{head}: {value['value']:.4g} {value['unit']}".rstrip())
        else:
            print(f"{head}: {value}")
    return 0


def run_batch(args: argparse.Namespace) -> int:
    """Predict every image of ``--images`` into the table ``--out`` and print what was done."""
    if args.out is None:
        raise DataError("--images needs --out preds.jsonl or preds.csv: the table to write")
    if args.batch_size < 1:
        raise DataError(f"--batch-size: {args.batch_size}; expected ≥ 1")
    if args.beams is not None and args.beams < 1:
        raise DataError(f"--beams: {args.beams}; expected a beam width ≥ 1")
    if args.question_set is not None and args.question is None:
        raise DataError("--question-set needs --question: the question to answer in that set")
    from spatialnet.batch_prediction import find_images, predict_files, table_format
    from spatialnet.predictor import Predictor
    from spatialnet.training.distributed import barrier, init_distributed, shutdown

    table_format(args.out)
    files = find_images(args.images)
    context = init_distributed(args.device)  # torchrun: join the process group; else one process
    try:
        predictor = Predictor.from_run(_model(args.run), args.device)
        predictor.model.to(context.device)  # each process its own GPU
        summary = predict_files(
            predictor,
            files,
            args.out,
            args.batch_size,
            args.top_k,
            args.question,
            args.question_set,
            args.beams,
            context.rank,
            context.world_size,
            progress=not args.no_progress,
        )
        barrier(context)  # every process leaves the group together, after rank 0 merged the table
    finally:
        shutdown(context)
    if context.is_main:
        print(
            f"predicted {summary.predicted} of {summary.images} images into {summary.out} "
            f"({summary.errors} errors, {summary.skipped} skipped: already there) in {summary.seconds:.1f} s "
            f"({summary.images_per_second:.1f} images/s)"
        )
    return 0


def _model(named: str | None) -> Path:
    """The model to load: the one named, else the default bundled model."""
    from spatialnet.pretrained import DEFAULT_MODEL

    return Path(named or DEFAULT_MODEL)
