"""``spatialnet app``: serve a checkpoint's tasks in a Gradio web app."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "app",
        help="serve a trained run in a web app (caption, land use, questions, forest maps)",
        description="Load a run (its best checkpoint) once and serve a Gradio app on this machine. "
        "It binds 127.0.0.1 unless --host says otherwise and never creates a public share link.",
    )
    parser.add_argument(
        "--checkpoint",
        default=None,
        help="run folder (uses best/), checkpoint folder, bundled model name (spatialnet models) or "
        "Hugging Face hub id (default: the bundled spatialnet-vit-real-cpu)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument(
        "--max-batch",
        type=_at_least_one,
        default=8,
        help="captions/answers computed in one forward pass when requests arrive together (default 8)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="append each caption/answer request's stage timings to FILE (JSON lines; for benchmarks)",
    )
    parser.set_defaults(handler=run)


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number ≥ 1")
    return int(text)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from spatialnet.app.build import launch  # gradio loads only for this command
    from spatialnet.pretrained import DEFAULT_MODEL

    launch(
        Path(args.checkpoint or DEFAULT_MODEL),
        args.host,
        args.port,
        args.device,
        block=True,
        max_batch=args.max_batch,
        profile=args.profile,
    )
    return 0
