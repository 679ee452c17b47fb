"""Seed 004's Table II (RSVQA-LR) beside a trained VQA run and two question-only baselines.

    python eval/table2_rsvqa_lr.py RUN --split test [--data ROOT] [--out FILE.json] [--bootstrap 1000]

Rows printed (accuracy %, per type, AA, OA and the 3-type mean): the paper's rows from
``eval/reference/rsvqa_lr_table2.yaml``; our model; "majority per type" (the most frequent
training answer of each question type); "blind" (the most frequent training answer of the same
question text: the best a model that never looks at the image can do on seen questions). Both
baselines learn from the run's training split and are scored on the same questions as the model.
The difference rows compare with the seed's SpatialNet-ViT row; ``--bootstrap N`` adds the 95%
intervals of our row over questions.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from harness import interval_row, percent_intervals, run_table
from rich.console import Console
from rich.table import Table

from spatialnet.data.registry import build_dataset
from spatialnet.data.rsvqa.dataset import RSVQALR
from spatialnet.data.rsvqa.files import read_split
from spatialnet.errors import RecipeError
from spatialnet.heads.vqa import VQAHead
from spatialnet.metrics.bootstrap import bootstrap as resample
from spatialnet.metrics.vqa import VQAScores, score_vqa
from spatialnet.metrics.vqa_baselines import blind_answers, majority_answers
from spatialnet.metrics.vqa_tally import vqa_tally
from spatialnet.model import load_run
from spatialnet.training.evaluation import collect_predictions

REFERENCE = Path(__file__).with_name("reference") / "rsvqa_lr_table2.yaml"
COLUMNS = ("count", "presence", "comp", "rural_urban", "AA", "OA", "mean3")


def percent(scores: VQAScores) -> list[float | None]:
    """Accuracies ×100 in column order (None for a type without questions)."""
    metrics = scores.metrics
    return [100.0 * metrics[c] if c in metrics else None for c in COLUMNS]


def paper_rows(reference: dict[str, Any]) -> dict[str, list[float | None]]:
    """The paper rows with the 3-type mean computed from their presence, comp and rural/urban."""
    rows: dict[str, list[float | None]] = {}
    for name, values in reference["rows"].items():
        count, presence, comp, rural_urban, aa, oa = values
        rows[name] = [count, presence, comp, rural_urban, aa, oa, (presence + comp + rural_urban) / 3]
    return rows


def evaluate_table(
    run: Path, split: str, data: str | None, device: str, bootstrap: int | None = None, seed: int = 0
) -> dict[str, Any]:
    """Score the run and both baselines on ``split``; every row ×100, the paper rows, our intervals."""
    model, recipe, _, folder = load_run(run, device)
    try:
        _, source = recipe.source_reading("rsvqa_lr")  # a joint run: its RSVQA-LR dataset
    except RecipeError as err:
        raise SystemExit(f"{folder}: not a RSVQA-LR run ({err})") from err
    if data is not None:
        source.data.root = data
    heads = [name for name in model.heads if isinstance(model.head(name), VQAHead)]
    if not heads:
        raise SystemExit(f"{folder}: the run has no VQA head (heads: {', '.join(model.heads)})")
    dataset = build_dataset(source.data, split, train=False)
    assert isinstance(dataset, RSVQALR)
    device_ = next(model.parameters()).device
    predictions, targets, _ = collect_predictions(
        model, dataset, recipe.train.eval_batch_size, device_, True, source.tasks, source.modality
    )
    head = model.head(heads[0])
    assert isinstance(head, VQAHead)
    chosen = predictions[heads[0]].argmax(dim=1).tolist()
    ours = {int(t["question_id"]): head.answers[i] for t, i in zip(targets[heads[0]], chosen, strict=True)}

    questions = [q for qs in dataset.questions for q in qs]
    train = read_split(dataset.root, source.data.train_split, require_images=False).questions
    rows = {
        "ours": percent(score_vqa(questions, ours, source="model answers")),
        "majority per type": percent(score_vqa(questions, majority_answers(train, questions))),
        "blind (same question text)": percent(score_vqa(questions, blind_answers(train, questions))),
    }
    intervals = {}
    if bootstrap:
        tally = vqa_tally(questions, ours, source="model answers")
        intervals["ours"] = percent_intervals(resample(tally, bootstrap, seed), COLUMNS)
    reference = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    return {
        "split": split,
        "num_questions": len(questions),
        "counts": score_vqa(questions, ours).counts,
        "checkpoint": str(folder),
        "recipe": recipe.name,
        "columns": list(COLUMNS),
        "paper": paper_rows(reference),
        "compare_to": reference["compare_to"],
        "rows": rows,
        "intervals": intervals,
    }


def _cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def print_table(result: dict[str, Any], console: Console) -> None:
    """Paper rows, then ours and the baselines with their difference to the seed's row."""
    paper_row = result["paper"][result["compare_to"]]
    table = Table(title=f"RSVQA-LR Table II (seed 004) vs ours — {result['split']} split, accuracy %")
    table.add_column("method", no_wrap=True)
    for column in result["columns"]:
        table.add_column(column, justify="right")
    for name, values in result["paper"].items():
        table.add_row(f"[dim]{name} (paper)[/]", *(_cell(v) for v in values))
    for name, values in result["rows"].items():
        table.add_row(f"[bold]{name}[/]", *(_cell(v) for v in values))
        if name in result.get("intervals", {}):
            table.add_row(*interval_row(result["intervals"][name]))
        diffs = (
            "—" if v is None or p is None else f"{v - p:+.2f}" for v, p in zip(values, paper_row, strict=True)
        )
        table.add_row(f"  Δ vs {result['compare_to']}", *diffs)
    console.print(table)
    counts = ", ".join(f"{k} {v}" for k, v in result["counts"].items())
    console.print(
        f"[dim]{result['num_questions']} questions ({counts}); checkpoint {result['checkpoint']}[/]"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, score, print, optionally save JSON."""
    return run_table(__doc__, evaluate_table, print_table, "test", argv, intervals=True)


if __name__ == "__main__":
    sys.exit(main())
