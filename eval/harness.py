"""The command line every table script shares: score a run on a split, print, optionally save JSON.

Tables that can say how sure they are take ``--bootstrap N --seed S`` (and, where the items can be
drawn in more than one unit, ``--resample``) and put 95% percentile intervals of our row beside it
(spatialnet.metrics.bootstrap). The VQA tables (RSVQA-LR's Table II, RSIVQA) also share how a run's
answers to one dataset are collected and how they are set beside the question-only floors, with
the paired test of ours against the blind floor (:func:`vqa_answers`, :func:`vqa_table`,
:func:`print_vqa_table`).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from spatialnet.files import write_json
from spatialnet.metrics.bootstrap import DEFAULT_RESAMPLES, Comparison, Intervals

# evaluate(run, split, data, device), plus bootstrap=, seed= (and resample=) for tables with intervals
Evaluate = Callable[..., dict[str, Any]]
Print = Callable[[dict[str, Any], Console], None]
OURS = "ours"


def run_table(
    doc: str | None,
    evaluate: Evaluate,
    show: Print,
    default_split: str,
    argv: Sequence[str] | None,
    intervals: bool = False,
    units: Sequence[str] = (),
) -> int:
    """Parse ``RUN --split --data --out --device``, build the table with ``evaluate`` and ``show`` it.

    With ``intervals``, also ``--bootstrap N --seed S``, passed on to ``evaluate`` as keywords; with
    ``units`` too, ``--resample`` (default the first unit), passed on as ``resample``.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0] if doc else None)
    parser.add_argument("run", type=Path, help="run folder (uses best/) or checkpoint folder")
    parser.add_argument("--split", default=default_split, help=f"split to score (default: {default_split})")
    parser.add_argument("--data", help="dataset root (default: the run's recipe)")
    parser.add_argument("--out", type=Path, help="write the rows as JSON here")
    parser.add_argument("--device", default="auto")
    if intervals:
        parser.add_argument(
            "--bootstrap",
            type=int,
            metavar="N",
            help=f"95%% intervals of our row from N bootstrap resamples (e.g. {DEFAULT_RESAMPLES})",
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the resampling (default 0)")
        if units:
            parser.add_argument(
                "--resample",
                choices=tuple(units),
                default=units[0],
                help=f"what a resample draws (default {units[0]}): questions one by one, or images with "
                "all their questions (questions of one image are not independent: intervals over "
                "questions are optimistic)",
            )
    args = parser.parse_args(argv)
    options = {"bootstrap": args.bootstrap, "seed": args.seed} if intervals else {}
    if intervals and units:
        options["resample"] = args.resample
    result = evaluate(args.run, args.split, args.data, args.device, **options)
    show(result, Console(width=160))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_json(args.out, result)
        print(f"written to {args.out}")
    return 0


def percent_intervals(intervals: Intervals, columns: Sequence[str]) -> dict[str, Any]:
    """Interval bounds ×100 in column order (None where a column has none), with their settings."""
    bounds = [intervals.intervals.get(c) for c in columns]
    return {
        "resamples": intervals.resamples,
        "seed": intervals.seed,
        "unit": intervals.unit,
        "low": [None if b is None else 100 * b.low for b in bounds],
        "high": [None if b is None else 100 * b.high for b in bounds],
    }


def percent_comparison(comparison: Comparison, columns: Sequence[str]) -> dict[str, Any]:
    """A paired test ×100 in column order: difference, its interval, the p-value (None where absent)."""
    found = [comparison.differences.get(c) for c in columns]
    return {
        "first": comparison.first,
        "second": comparison.second,
        "resamples": comparison.resamples,
        "seed": comparison.seed,
        "unit": comparison.unit,
        "difference": [None if d is None else 100 * d.difference for d in found],
        "low": [None if d is None else 100 * d.low for d in found],
        "high": [None if d is None else 100 * d.high for d in found],
        "p_value": [None if d is None else d.p_value for d in found],
    }


def interval_row(bounds: dict[str, Any]) -> list[str]:
    """The label and cells of an interval row under a table row: "low–high" or "—"."""
    cells = [
        "—" if low is None else f"{low:.2f}–{high:.2f}"
        for low, high in zip(bounds["low"], bounds["high"], strict=True)
    ]
    unit = f" {bounds['unit']}" if bounds.get("unit") else " resamples"
    return [f"  95% interval ({bounds['resamples']}×{unit})", *cells]


# -- VQA tables ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class VQAAnswers:
    """A run's answers to the questions of one VQA dataset's split, and where they come from.

    ``dataset`` is the split as built from the run's recipe (a VQAImages: its ``root`` and, for
    RSIVQA, ``images_root`` say where the training split's files are); ``source`` is its recipe
    entry.
    """

    questions: list[Any]  # VQAQuestion
    answers: dict[int, str]
    question_set: str
    dataset: Any
    source: Any  # SourceConfig
    checkpoint: Path
    recipe: str


def vqa_answers(run: Path, split: str, data: str | None, device: str, dataset_name: str) -> VQAAnswers:
    """Our answers to ``split`` of the run's dataset whose ``data.dataset`` is ``dataset_name``.

    A joint run may read several VQA datasets through one shared head: only that dataset's entry
    is run (its tasks, its modality), so the head answers in that dataset's question set.
    """
    from spatialnet.checkpoint import read_fitted
    from spatialnet.data.registry import build_dataset
    from spatialnet.data.vqa_images import VQAImages
    from spatialnet.errors import RecipeError
    from spatialnet.heads.vqa import VQAHead
    from spatialnet.model import load_run
    from spatialnet.training.evaluation import collect_predictions

    model, recipe, _, folder = load_run(run, device)
    try:
        name, source = recipe.source_reading(dataset_name)
    except RecipeError as err:
        raise SystemExit(f"{folder}: not a {dataset_name} run ({err})") from err
    if data is not None:
        source = dataclasses.replace(source, data=dataclasses.replace(source.data, root=data))
    heads = [t for t in source.tasks if t in model.heads and isinstance(model.head(t), VQAHead)]
    if not heads:
        raise SystemExit(
            f"{folder}: the {name!r} dataset trains no VQA head (its tasks: {', '.join(source.tasks)})"
        )
    dataset = build_dataset(source.data, split, train=False, fitted=read_fitted(folder, recipe)[name])
    if not isinstance(dataset, VQAImages):
        raise SystemExit(f"{folder}: the {name!r} dataset is not a VQA dataset ({type(dataset).__name__})")
    predictions, targets, _ = collect_predictions(
        model,
        dataset,
        recipe.train.eval_batch_size,
        next(model.parameters()).device,
        True,
        source.tasks,
        source.modality,
    )
    head = model.head(heads[0])
    assert isinstance(head, VQAHead)
    asked = {str(t["question_set"]) for t in targets[heads[0]]}
    if asked != {dataset.question_set}:
        raise SystemExit(f"{folder}: expected questions of {dataset.question_set!r}, got {sorted(asked)}")
    chosen = predictions[heads[0]].argmax(dim=1).tolist()
    answers = {int(t["question_id"]): head.answers[i] for t, i in zip(targets[heads[0]], chosen, strict=True)}
    questions = [q for qs in dataset.questions for q in qs]
    return VQAAnswers(questions, answers, dataset.question_set, dataset, source, folder, recipe.name)


def vqa_columns(question_set: str) -> tuple[str, ...]:
    """A VQA table's columns: the set's types, ``AA``, ``OA``, then its further averages (mean3)."""
    from spatialnet.data.question_sets import question_set as rules_of

    rules = rules_of(question_set)
    return (*rules.types, "AA", "OA", *rules.averages)


def percent_row(metrics: Mapping[str, float], columns: Sequence[str]) -> list[float | None]:
    """Metrics ×100 in column order (None for a type without questions)."""
    return [100.0 * metrics[c] if c in metrics else None for c in columns]


def vqa_table(
    found: VQAAnswers,
    split: str,
    train: Sequence[Any],
    train_source: str,
    bootstrap: int | None = None,
    seed: int = 0,
    resample: str = "questions",
) -> dict[str, Any]:
    """Ours beside the question-only floors learnt from ``train``; with ``bootstrap``, our intervals
    and the paired test of ours against the blind floor, both drawing ``resample`` units.
    """
    from spatialnet.cli.score_vqa import resampling_note
    from spatialnet.metrics.bootstrap import bootstrap as resampled
    from spatialnet.metrics.bootstrap import paired_test
    from spatialnet.metrics.vqa import score_vqa
    from spatialnet.metrics.vqa_baselines import BLIND, DESCRIPTIONS, baseline_answers
    from spatialnet.metrics.vqa_tally import Unit, vqa_tally

    if not train:
        raise SystemExit(f"{train_source}: no training questions to learn the floors from")
    columns = vqa_columns(found.question_set)
    systems = {OURS: found.answers, **baseline_answers(train, found.questions)}
    scores = {
        name: score_vqa(found.questions, answers, source=name, question_set=found.question_set)
        for name, answers in systems.items()
    }
    result: dict[str, Any] = {
        "split": split,
        "question_set": found.question_set,
        "num_questions": len(found.questions),
        "num_images": len({q.image_id for q in found.questions}),
        "counts": scores[OURS].counts,
        "checkpoint": str(found.checkpoint),
        "recipe": found.recipe,
        "train": train_source,
        "columns": list(columns),
        "rows": {name: percent_row(s.metrics, columns) for name, s in scores.items()},
        "notes": {name: DESCRIPTIONS[name] for name in systems if name in DESCRIPTIONS},
        "intervals": {},
        "paired": None,
    }
    if bootstrap:
        tallies = {
            name: vqa_tally(found.questions, systems[name], name, found.question_set, by=cast(Unit, resample))
            for name in (OURS, BLIND)
        }
        result["intervals"][OURS] = percent_intervals(resampled(tallies[OURS], bootstrap, seed), columns)
        comparison = paired_test(tallies[OURS], tallies[BLIND], bootstrap, seed)
        result["paired"] = percent_comparison(comparison, columns)
        result["resampling"] = resampling_note(resample, bootstrap, found.questions)
    return result


def _cell(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def print_vqa_table(result: dict[str, Any], console: Console, title: str) -> None:
    """Ours (with its interval), the floors, ours − blind (paired), then any published rows.

    ``result["published"]`` (optional): ``{"split", "rows", "compare_to"}``. Published rows of
    another split are labelled as such and not subtracted from ours; on their own split each of our
    rows gets its difference to ``compare_to``.
    """
    columns = result["columns"]
    table = Table(title=escape(title))
    table.add_column("method", no_wrap=True)
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    published = result.get("published") or {}
    comparable = bool(published) and published.get("split") == result["split"]
    for name, values in result["rows"].items():
        table.add_row(f"[bold]{escape(name)}[/]", *(_cell(v) for v in values))
        if name in result.get("intervals", {}):
            table.add_row(*interval_row(result["intervals"][name]))
        if comparable:
            reference = published["rows"][published["compare_to"]]
            diffs = (
                None if v is None or p is None else v - p for v, p in zip(values, reference, strict=True)
            )
            table.add_row(f"  Δ vs {escape(published['compare_to'])}", *(_cell(d, True) for d in diffs))
    paired = result.get("paired")
    if paired:
        table.add_section()
        label = f"{paired['first']} − {paired['second']}"
        table.add_row(f"[bold]{escape(label)}[/]", *(_cell(d, True) for d in paired["difference"]))
        bounds = zip(paired["low"], paired["high"], strict=True)
        table.add_row(
            "  95% interval (paired)",
            *("—" if lo is None else f"{lo:+.2f}–{hi:+.2f}" for lo, hi in bounds),
        )
        table.add_row(
            "  p (approximate randomisation)", *("—" if p is None else f"{p:.3f}" for p in paired["p_value"])
        )
    if published:
        table.add_section()
        where = f"{published['split'].upper()} split"
        for name, values in published["rows"].items():
            table.add_row(f"[dim]{escape(name)}, {where}[/]", *(f"[dim]{_cell(v)}[/]" for v in values))
    console.print(table)
    counts = ", ".join(f"{k} {v}" for k, v in result["counts"].items())
    console.print(
        f"{result['num_questions']} questions on {result['num_images']} images ({counts}); "
        f"checkpoint {result['checkpoint']}",
        markup=False,
    )
    for name, note in result.get("notes", {}).items():
        console.print(f"{name}: {note}; learnt from {result['train']}", markup=False)
    if result.get("resampling"):
        console.print(result["resampling"], markup=False)
    if published:
        note = f"the last rows are published figures of the {published['split'].upper()} split"
        if not comparable:
            note += f": not comparable with these {result['split']}-split rows"
        console.print(note, markup=False)
