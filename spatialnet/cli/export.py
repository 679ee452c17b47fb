"""``spatialnet export``: UCM-captions, RSVQA-LR or a synthetic world as Hugging Face datasets."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the subcommand is registered without loading datasets
    from spatialnet.data.hf.export import ExportSummary


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser = subparsers.add_parser(
        "export",
        help="write UCM-captions, RSVQA-LR or a synthetic world as Hugging Face datasets",
        description="Write a dataset in the Hugging Face form the hf_captions / hf_vqa recipes read: a "
        "DatasetDict saved with save_to_disk (default) or one <split>.parquet file per split. SOURCE is a "
        "UCM-captions folder (dataset.json + imgs/), an RSVQA-LR folder (LR_split_*_images.json + "
        "Images_LR/; questions from the official split files, else questions_text/<split>_qa.json) or a "
        "world holding both (`spatialnet synth` output, quickstart's DIR/world), written to OUT/ucm_captions "
        "and OUT/rsvqa_lr. Images are stored as their files' bytes (JPEG, TIFF …, not re-encoded): pixels "
        "round-trip exactly. UCM-captions: one row per image (image, filename, imgid, sentids, sentences, "
        "tokens, label). RSVQA-LR: one row per tile with its questions as lists (image, image_id, "
        "original_name, question_id, question, question_type, answer; counts raw); questions whose tile "
        "is absent are skipped and counted.",
        epilog="Train on an export: spatialnet train ucm_captions-tiny --set data.dataset=hf_captions "
        "--set data.root=OUT/ucm_captions",
    )
    parser.add_argument(
        "source", type=Path, help="ucm_captions folder, rsvqa_lr folder, or a world holding them"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (new or empty)")
    parser.add_argument(
        "--format",
        choices=("disk", "parquet"),
        default="disk",
        help="disk: a save_to_disk DatasetDict folder (default); parquet: OUT/<split>.parquet per split",
    )
    parser.add_argument(
        "--labels",
        choices=("auto", "filename", "scenes", "none"),
        default="auto",
        help="UCM-captions land-use labels: scenes.jsonl beside the folder when present, else the UC Merced "
        "file numbering (auto, default); filename; scenes; none (no label column)",
    )
    parser.add_argument(
        "--require-images",
        action="store_true",
        help="RSVQA-LR: fail when a tile of a split is absent instead of skipping its questions",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(handler=run)


def describe(summary: ExportSummary) -> str:
    """One line per export: where it went and what each split holds (and skipped)."""
    parts = []
    for split, counts in summary.splits.items():
        text = f"{split} {counts.images} images"
        if summary.kind == "rsvqa_lr":
            text += f", {counts.questions} questions"
            if counts.absent_images:
                text += (
                    f" ({counts.skipped_questions} questions skipped: {counts.absent_images} tiles absent)"
                )
        parts.append(text)
    return f"wrote {summary.kind} to {summary.out}: {'; '.join(parts)}"


def run(args: argparse.Namespace) -> int:
    """Export and summarise."""
    from spatialnet.data.hf.export import export  # deferred: datasets, only when run

    summaries = export(
        args.source, args.out, args.format, args.labels, args.require_images, progress=not args.no_progress
    )
    for summary in summaries:
        print(describe(summary))
    return 0
