"""A trained joint model against trained single-task models on real val splits, with paired tests.

    python eval/joint_vs_single_real.py --joint runs/joint-real \
        --single landuse=runs/landuse-pt --single captions=runs/captions-pt \
        --single vqa@rsivqa=runs/rsivqa --single vqa@rsvqa_lr=runs/rsvqa-real \
        --split val --bootstrap 1000 --out eval/reports/joint_vs_single-real

Each ``--single KEY=RUN`` names a task of the joint model by its metrics key (a head, or
``head@dataset`` for a head several datasets train) and the run of a model trained on that task
alone. Both checkpoints are scored on the same split of the same data (the joint recipe's dataset
that trains the task); every headline metric goes side by side with the joint − single
difference, its paired-bootstrap 95 % interval and the approximate-randomisation p-value
(:func:`spatialnet.metrics.bootstrap.paired_test` over the heads' per-item statistics, VQA by
image). Unlike ``eval/joint_vs_single.py`` the runs are trained beforehand, by their own recipes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from spatialnet.checkpoint import read_fitted
from spatialnet.data.registry import build_dataset
from spatialnet.files import write_json
from spatialnet.heads.headlines import head_of, headline_values
from spatialnet.metrics.bootstrap import DEFAULT_RESAMPLES, bootstrap, paired_test
from spatialnet.model import SpatialNet, load_run
from spatialnet.training.evaluation import collect_predictions, score_predictions


def scored_task(run: Path, key: str, split: str, device: str, joint_recipe: Any = None) -> dict[str, Any]:
    """A run's metrics, predictions and targets for task ``key`` on ``split``.

    The data is that of the joint recipe's dataset training the task (``joint_recipe``), read with
    the run's own fitted processor; a single-task run finds the task under the head's name.
    """
    model, recipe, _, folder = load_run(run, device)
    head = head_of(key)
    sources = recipe.sources()
    trainers = [name for name, entry in sources.items() if head in entry.tasks]
    if not trainers:
        raise SystemExit(f"{folder}: no head {head!r} (heads: {', '.join(model.heads)})")
    wanted = key.partition("@")[2]
    name = wanted if wanted in trainers else trainers[0]
    entry = sources[name]
    data = entry.data
    if joint_recipe is not None:  # score on the joint run's data: the same images and questions
        joint_sources = joint_recipe.sources()
        joint_name = wanted or next(n for n, e in joint_sources.items() if head in e.tasks)
        data = joint_sources[joint_name].data
    fitted = read_fitted(folder, recipe)[name]
    dataset = build_dataset(data, split, train=False, fitted=fitted)
    device_ = next(model.parameters()).device
    found, truth, losses = collect_predictions(
        model, dataset, recipe.train.eval_batch_size, device_, True, [head], entry.modality
    )
    metrics = score_predictions(model, found, truth, losses)[head]
    return {
        "model": model,
        "folder": folder,
        "metrics": metrics,
        "predictions": found[head],
        "targets": truth[head],
    }


def compare(
    joint: Path, singles: dict[str, Path], split: str, device: str, resamples: int, seed: int
) -> dict[str, Any]:
    """Every named task: both arms' headlines, and the paired test of every metric both tallies give."""
    _, joint_recipe, _, _ = load_run(joint, device)
    rows: list[dict[str, Any]] = []
    for key, run in singles.items():
        ours = scored_task(joint, key, split, device)
        alone = scored_task(run, key, split, device, joint_recipe)
        model: SpatialNet = ours["model"]
        head = model.head(head_of(key))
        # each arm's own head reads its predictions: their answer lists and vocabularies differ
        tallies = [
            arm["model"].head(head_of(key)).tally(arm["predictions"], arm["targets"]) for arm in (ours, alone)
        ]
        tests, spans = {}, [{}, {}]
        if tallies[0] is not None and tallies[1] is not None:
            tests = paired_test(tallies[0], tallies[1], resamples, seed).to_dict()["metrics"]
            spans = [bootstrap(t, resamples, seed).to_dict()["intervals"] for t in tallies]
        heads = {head_of(key): head}
        for headline, value in headline_values({key: ours["metrics"]}, heads):
            single = dict(headline_values({key: alone["metrics"]}, heads)).get(headline)
            test = tests.get(headline.key, {})
            rows.append(
                {
                    "task": key,
                    "metric": headline.key,
                    "label": headline.label,
                    "percent": headline.percent,
                    "joint": value,
                    "single": single,
                    "difference": None if single is None else value - single,
                    "low": test.get("low"),
                    "high": test.get("high"),
                    "p_value": test.get("p_value"),
                    "joint_interval": _span(spans[0], headline.key),
                    "single_interval": _span(spans[1], headline.key),
                    "unit": tallies[0].unit if tallies[0] is not None else None,
                }
            )
        print(f"{key}: joint {ours['folder']} vs single {alone['folder']}", flush=True)
    return {
        "split": split,
        "joint": str(joint),
        "singles": {k: str(v) for k, v in singles.items()},
        "resamples": resamples,
        "seed": seed,
        "rows": rows,
    }


def _span(intervals: dict[str, Any], key: str) -> list[float] | None:
    found = intervals.get(key)
    return None if found is None else [found["low"], found["high"]]


def _cell(row: dict[str, Any], key: str, signed: bool = False) -> str:
    value = row[key]
    if value is None:
        return "—"
    scaled = 100 * value if row["percent"] else value
    return f"{scaled:+.2f}" if signed else f"{scaled:.2f}"


def _bracket(row: dict[str, Any], key: str) -> str:
    span = row.get(key)
    if not span:
        return ""
    scale = 100 if row["percent"] else 1
    return f"[{scale * span[0]:.2f}, {scale * span[1]:.2f}]"


def markdown(report: dict[str, Any]) -> str:
    """The table as Markdown (what the README quotes)."""
    lines = [
        f"Joint `{report['joint']}` vs single-task runs, {report['split']} split; difference joint − single "
        f"with its paired-bootstrap 95 % interval and randomisation p ({report['resamples']} resamples, "
        f"seed {report['seed']}).",
        "",
        "| task | metric | joint [95 %] | single [95 %] | joint − single | 95 % interval | p | resampled |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        interval = "—" if row["low"] is None else f"[{_cell(row, 'low', True)}, {_cell(row, 'high', True)}]"
        p = "—" if row["p_value"] is None else f"{row['p_value']:.3f}"
        lines.append(
            f"| {row['task']} | {row['label']} | {_cell(row, 'joint')} {_bracket(row, 'joint_interval')} | "
            f"{_cell(row, 'single')} {_bracket(row, 'single_interval')} | "
            f"{_cell(row, 'difference', True)} | {interval} | {p} | {row['unit'] or '—'} |"
        )
    return "\n".join(lines) + "\n"


def show(report: dict[str, Any]) -> None:
    """The table in the terminal."""
    table = Table(title=f"joint vs single, {report['split']} split")
    for column in ("task", "metric", "joint", "single", "joint − single", "95% interval", "p"):
        table.add_column(column, justify="left" if column in ("task", "metric") else "right")
    for row in report["rows"]:
        interval = "—" if row["low"] is None else f"[{_cell(row, 'low', True)}, {_cell(row, 'high', True)}]"
        p = "—" if row["p_value"] is None else f"{row['p_value']:.3f}"
        table.add_row(
            row["task"], row["label"], _cell(row, "joint"), _cell(row, "single"),
            _cell(row, "difference", True), interval, p,
        )  # fmt: skip
    Console(width=160).print(table)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, score both arms of every task, print and write the report."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--joint", type=Path, required=True, help="the joint run (its best/ is scored)")
    parser.add_argument(
        "--single", action="append", default=[], metavar="KEY=RUN",
        help="a task of the joint model (its metrics key: head or head@dataset) and a single-task run",
    )  # fmt: skip
    parser.add_argument("--split", default="val")
    parser.add_argument("--bootstrap", type=int, default=DEFAULT_RESAMPLES, metavar="N")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, help="write OUT.json and OUT.md")
    args = parser.parse_args(argv)
    singles = {}
    for item in args.single:
        key, sep, run = item.partition("=")
        if not sep or not key or not run:
            parser.error(f"--single {item!r}: expected KEY=RUN, e.g. landuse=runs/landuse-pt")
        singles[key] = Path(run)
    if not singles:
        parser.error("name at least one --single KEY=RUN")
    report = compare(args.joint, singles, args.split, args.device, args.bootstrap, args.seed)
    show(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_json(args.out.with_suffix(".json"), report)
        args.out.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
        print(f"written to {args.out.with_suffix('.json')} and {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
