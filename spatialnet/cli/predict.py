"""``spatialnet predict``: run every head of a trained model on one image."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from spatialnet.errors import DataError


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "predict",
        help="predict every task of a run for one image (or one pixel of a hyperspectral cube)",
        description="Load a run (its best checkpoint) and print each head's prediction for an image; "
        "with --question, VQA heads answer it. Forest models take --cube CUBE.hdr --pixel ROW COL "
        "and predict the variables of that pixel from the window around it.",
    )
    parser.add_argument("run", type=Path, help="run folder (uses best/) or checkpoint folder")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--image", type=Path, help="image file (any size; resized)")
    source.add_argument("--cube", type=Path, help="ENVI header of a hyperspectral cube (forest models)")
    parser.add_argument(
        "--pixel", type=int, nargs=2, metavar=("ROW", "COL"), help="the cube pixel to predict (with --cube)"
    )
    parser.add_argument(
        "--question", help='a question for VQA heads, e.g. "How many buildings are there?" (quote it)'
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
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Predict and print."""
    from spatialnet.predictor import Predictor  # deferred: torch, only when predicting

    predictor = Predictor.from_run(args.run, args.device)
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
