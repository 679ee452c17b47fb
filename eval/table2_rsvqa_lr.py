"""RSVQA-LR: a trained VQA run beside the question-only floors, and seed 004's Table II.

    python eval/table2_rsvqa_lr.py RUN --split val [--data ROOT] [--out FILE.json]
        [--bootstrap 1000 --resample questions|images --seed 0]

Rows printed (accuracy %, per type, AA, OA and the 3-type mean): our model (the run's VQA head on
its RSVQA-LR dataset: a joint run whose one head also answers other question sets is run on that
dataset alone, in its question set); "majority per type" (the most frequent training answer of
each question type); "blind" (the most frequent training answer of the same question text: the
best a model that never looks at the image can do on seen questions). Both floors learn from the
run's training split and are scored on the same questions as the model. ``--bootstrap N`` adds
our row's 95% intervals and the paired test of ours against the blind floor (difference, its
paired-bootstrap interval, the randomisation p-value), drawing questions (the field's habit) or
images with all their questions (``--resample images``: RSVQA-LR asks about 100 questions per
tile, so intervals over questions are optimistic). Last, the published rows of
``eval/reference/rsvqa_lr_table2.yaml``: TEST-split figures, set against ours only when this
table scores the test split too. With ``--data ../shared/data`` the real val split (1,601
questions on 16 tiles) is scored; the real test tiles are held out there.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from harness import print_vqa_table, run_table, vqa_answers, vqa_table
from rich.console import Console

from spatialnet.data.rsvqa.files import read_split

REFERENCE = Path(__file__).with_name("reference") / "rsvqa_lr_table2.yaml"
COLUMNS = ("count", "presence", "comp", "rural_urban", "AA", "OA", "mean3")


def published_rows(reference: dict[str, Any]) -> dict[str, Any]:
    """The published rows (with the 3-type mean computed from presence, comp and rural/urban)."""
    rows: dict[str, list[float | None]] = {}
    for name, values in reference["rows"].items():
        count, presence, comp, rural_urban, aa, oa = values
        rows[name] = [count, presence, comp, rural_urban, aa, oa, (presence + comp + rural_urban) / 3]
    return {"split": reference["split"], "rows": rows, "compare_to": reference["compare_to"]}


def evaluate_table(
    run: Path,
    split: str,
    data: str | None,
    device: str,
    bootstrap: int | None = None,
    seed: int = 0,
    resample: str = "questions",
) -> dict[str, Any]:
    """Score the run and both floors on ``split``; every row ×100, our intervals, the published rows."""
    found = vqa_answers(run, split, data, device, "rsvqa_lr")
    train_split = found.source.data.train_split
    train = read_split(found.dataset.root, train_split, require_images=False).questions
    result = vqa_table(
        found, split, train, f"{found.dataset.root} ({train_split} split)", bootstrap, seed, resample
    )
    assert tuple(result["columns"]) == COLUMNS
    result["published"] = published_rows(yaml.safe_load(REFERENCE.read_text(encoding="utf-8")))
    return result


def print_table(result: dict[str, Any], console: Console) -> None:
    """Ours with its interval, the floors, ours − blind, then the published (test-split) rows."""
    print_vqa_table(result, console, f"RSVQA-LR — {result['split']} split, accuracy %")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, score, print, optionally save JSON."""
    return run_table(
        __doc__, evaluate_table, print_table, "val", argv, intervals=True, units=("questions", "images")
    )


if __name__ == "__main__":
    sys.exit(main())
