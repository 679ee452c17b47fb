"""RSIVQA (UC Merced photos): a trained VQA run beside the question-only floors.

    python eval/table_rsivqa.py RUN --split val [--data ROOT] [--out FILE.json]
        [--bootstrap 1000 --resample images|questions --seed 0]

Rows printed (accuracy %, per type: theme, presence, count, location; AA, OA): our model (the
run's VQA head on its RSIVQA dataset: a joint run whose one head also answers RSVQA-LR is run on
that dataset alone, in RSIVQA's question set); "majority per type" and "blind" (the most frequent
training answer of the type, or of the same question text), learnt from the training split of the
same question files. ``--bootstrap N`` adds our row's 95% intervals and the paired test of ours
against the blind floor, drawing photos with their five questions each (the default) or single
questions. No published rows: none is cited here, since a published figure would have to score the
same split of RSIVQA's UC Merced part to stand beside these (UCM-captions' splits; the questions of
its test photos are held out in ../shared/data). With ``--data ../shared/data`` the real val
split (245 questions on 49 photos) is scored.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import print_vqa_table, run_table, vqa_answers, vqa_table
from rich.console import Console

from spatialnet.data.rsivqa.files import read_split

COLUMNS = ("theme", "presence", "count", "location", "AA", "OA")


def evaluate_table(
    run: Path,
    split: str,
    data: str | None,
    device: str,
    bootstrap: int | None = None,
    seed: int = 0,
    resample: str = "images",
) -> dict[str, Any]:
    """Score the run and both floors on ``split``; every row ×100 and, with ``bootstrap``, our intervals."""
    found = vqa_answers(run, split, data, device, "rsivqa")
    files = [found.dataset.root / name for name in found.source.data.question_files]
    train_split = found.source.data.train_split
    annotations = found.dataset.images_root / "dataset.json"
    train = [q for qs in read_split(files, annotations, train_split).questions for q in qs]
    names = ", ".join(str(f) for f in files)
    result = vqa_table(found, split, train, f"{names} ({train_split} split)", bootstrap, seed, resample)
    assert tuple(result["columns"]) == COLUMNS
    return result


def print_table(result: dict[str, Any], console: Console) -> None:
    """Ours with its interval, the floors, ours − blind."""
    print_vqa_table(result, console, f"RSIVQA (UC Merced) — {result['split']} split, accuracy %")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, score, print, optionally save JSON."""
    return run_table(
        __doc__, evaluate_table, print_table, "val", argv, intervals=True, units=("images", "questions")
    )


if __name__ == "__main__":
    sys.exit(main())
