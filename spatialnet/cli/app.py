"""``spatialnet app``: serve a checkpoint's tasks in a Gradio web app."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "app",
        help="serve a trained run in a web app (caption, land use, questions)",
        description="Load a run (its best checkpoint) once and serve a Gradio app on this machine. "
        "It binds 127.0.0.1 unless --host says otherwise and never creates a public share link.",
    )
    parser.add_argument(
        "--checkpoint", type=Path, required=True, help="run folder (uses best/) or checkpoint"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from spatialnet.app.build import launch  # gradio loads only for this command

    launch(args.checkpoint, args.host, args.port, args.device, block=True)
    return 0
