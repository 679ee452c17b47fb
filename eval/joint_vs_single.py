"""Joint SpatialNet-ViT vs single-task models at the same budget, over seeds: is one trunk better?

    python eval/joint_vs_single.py --data runs/quickstart/world --seeds 2 [--ucm ../shared/data/ucm_captions]

For each seed the joint recipe (default ``spatialnet_vit-tiny``) trains once; then each of its
datasets trains a single-task model: the same recipe cut down to that dataset
(``Recipe.single_source``: its heads, its modality's stem, same settings) for exactly as many
batches of it as the joint run drew. Every task thus sees the same batches in both arms; the joint
model shares one trunk and its training steps among the tasks. Each run's best checkpoint is
scored on the test split; the headline metrics (``spatialnet.heads.headlines``) go side by side
as mean (min–max) over seeds, with the joint − single difference and how many seeds favour the
joint model, in ``OUT.md`` and ``OUT.json`` (default ``eval/reports/joint_vs_single``).

``--ucm DIR`` adds a second setting where the captioning and land-use dataset is real
UCM-captions (``../shared/data`` holds its train and val splits only): its runs are scored at
their last checkpoint on the val split, which selection never saw.

A run lives under ``--runs`` in a folder named by its recipe's hash; a finished run is reused, an
unfinished one resumes, so several invocations (``--only-seeds``) can share the work.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import shlex
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from spatialnet import checkpoint as ckpt
from spatialnet.config import Recipe, load_recipe, to_dict
from spatialnet.data.registry import build_dataset
from spatialnet.heads.base import Headline, TaskHead
from spatialnet.heads.headlines import formatted, head_types, headline_values
from spatialnet.metrics.scoring import flatten_metrics
from spatialnet.training.evaluation import evaluate_run
from spatialnet.training.mixing import batch_counts, mixing_shares
from spatialnet.training.trainer import Trainer


@dataclass
class Setting:
    """One comparison: the joint recipe on some data, scored on one split of one checkpoint."""

    name: str
    overrides: list[str]
    split: str = "test"
    checkpoint: str = "best"
    note: str = ""


@dataclass
class Arm:
    """One trained and scored run: the joint model or one single-task model."""

    recipe: Recipe
    run_dir: Path
    metrics: dict[str, Any]
    train_seconds: float


def run_folder(runs: Path, recipe: Recipe) -> Path:
    """``runs/<name>-<hash of the whole recipe>``: the same recipe always lands in the same folder."""
    digest = hashlib.sha256(json.dumps(to_dict(recipe), sort_keys=True).encode()).hexdigest()[:10]
    return runs / f"{recipe.name.replace(':', '-')}-{digest}"


def finished(run_dir: Path, recipe: Recipe) -> bool:
    """Whether ``run_dir`` holds a run that trained all its epochs."""
    history = run_dir / "history.json"
    return history.is_file() and len(json.loads(history.read_text())) >= recipe.train.epochs


def train_and_score(recipe: Recipe, runs: Path, setting: Setting, label: str) -> Arm:
    """Train ``recipe`` (or reuse its finished run) and score it as ``setting`` says."""
    run_dir = run_folder(runs, recipe)
    if finished(run_dir, recipe):
        print(f"{label}: reusing {run_dir}", flush=True)
    else:
        resume = (run_dir / "last" / ckpt.WEIGHTS_FILE).is_file()
        print(f"{label}: training {run_dir}{' (resuming)' if resume else ''}", flush=True)
        started = time.perf_counter()
        Trainer(recipe, run_dir, resume=resume, show_progress=False, log=lambda _m: None).fit()
        print(f"{label}: trained in {time.perf_counter() - started:.0f} s", flush=True)
    out = run_dir / f"eval_{setting.split}_{setting.checkpoint}.json"
    if out.is_file():
        metrics = json.loads(out.read_text())["metrics"]
    else:
        metrics, _ = evaluate_run(run_dir / setting.checkpoint, setting.split, out=out)
    history = json.loads((run_dir / "history.json").read_text())
    return Arm(recipe, run_dir, metrics, float(history[-1]["seconds"]))


def compare_seed(base: Recipe, runs: Path, setting: Setting, seed: int) -> dict[str, Any]:
    """The joint run and its single-task counterparts for one seed."""
    joint_recipe = dataclasses.replace(base, seed=seed)
    joint = train_and_score(joint_recipe, runs, setting, f"[{setting.name} seed {seed}] joint")
    counts = json.loads((joint.run_dir / "history.json").read_text())[-1].get("batches") or joint_counts(
        joint_recipe
    )
    singles = {
        name: train_and_score(
            joint_recipe.single_source(name, counts[name]),
            runs,
            setting,
            f"[{setting.name} seed {seed}] {name}",
        )
        for name in joint_recipe.sources()
    }
    single_metrics: dict[str, Any] = {}
    for arm in singles.values():  # heads and dataset aggregates (e.g. "taiga") have distinct names
        single_metrics.update(arm.metrics)
    return {
        "seed": seed,
        "joint": {"run": str(joint.run_dir), "metrics": joint.metrics, "train_seconds": joint.train_seconds},
        "single": {
            name: {"run": str(arm.run_dir), "train_seconds": arm.train_seconds, "batches": counts[name]}
            for name, arm in singles.items()
        },
        "single_metrics": single_metrics,
        "single_train_seconds": sum(arm.train_seconds for arm in singles.values()),
    }


def joint_counts(recipe: Recipe) -> dict[str, int]:
    """Batches per dataset in one joint epoch, as the trainer draws them (runs whose history lacks them)."""
    sources = recipe.sources()
    sizes = {name: len(build_dataset(e.data, e.data.train_split, False)) for name, e in sources.items()}  # type: ignore[arg-type]
    proportions = {name: entry.proportion for name, entry in sources.items()}
    shares = mixing_shares(sizes, proportions, recipe.train.mix, recipe.train.mix_temperature)
    if recipe.train.steps_per_epoch is None:
        raise SystemExit(f"{recipe.name}: set train.steps_per_epoch to compare at a fixed budget")
    return batch_counts(shares, recipe.train.steps_per_epoch)


def spread(values: list[float], headline: Headline | None = None) -> str:
    """``mean (min–max)`` of ``values``, formatted as the headline shows them."""
    show = (lambda v: formatted(headline, v)) if headline else (lambda v: f"{v:.0f}")
    if len(values) == 1:
        return show(values[0])
    return f"{show(statistics.mean(values))} ({show(min(values))}–{show(max(values))})"


def summarise(seeds: list[dict[str, Any]], heads: dict[str, type[TaskHead]]) -> list[dict[str, Any]]:
    """One row per headline metric: joint and single values per seed, difference, seeds won by joint."""
    rows = []
    for headline, _ in headline_values(seeds[0]["joint"]["metrics"], heads):
        joint = [dict(headline_values(s["joint"]["metrics"], heads))[headline] for s in seeds]
        single_found = [dict(headline_values(s["single_metrics"], heads)).get(headline) for s in seeds]
        if any(v is None for v in single_found):
            continue
        single = [float(v) for v in single_found if v is not None]
        sign = 1.0 if headline.higher_is_better else -1.0
        rows.append(
            {
                "task": headline.task,
                "metric": headline.key,
                "label": headline.label,
                "percent": headline.percent,
                "higher_is_better": headline.higher_is_better,
                "joint": joint,
                "single": single,
                "difference": [j - s for j, s in zip(joint, single, strict=True)],
                "joint_better_seeds": sum(sign * (j - s) > 0 for j, s in zip(joint, single, strict=True)),
            }
        )
    return rows


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown tables, one per setting."""
    lines = [
        "# Joint SpatialNet-ViT vs single-task models at the same budget",
        "",
        f"Recipe `{report['recipe']}`; seeds {report['seeds']}. Regenerate with",
        "",
        f"    {report['command']}",
        "",
        "Each single-task model is the joint recipe cut down to one dataset (its heads, its modality's "
        "stem, the same settings) and trains on exactly as many batches of that dataset as the joint run "
        "drew, so every task sees the same samples in both arms. Values: mean (min–max) over seeds; "
        "difference = joint − single (mean); the last column counts the seeds on which the joint model "
        "is better.",
    ]
    for setting in report["settings"]:
        lines += ["", f"## {setting['name']}", "", setting["note"], ""]
        lines += [
            "| task | metric | joint | single-task | difference | joint better |",
            "|---|---|---|---|---|---|",
        ]
        for row in setting["rows"]:
            headline = Headline(
                row["task"], row["metric"], row["label"], row["percent"], row["higher_is_better"]
            )
            difference = statistics.mean(row["difference"])
            shown = f"{100 * difference:+.1f}" if row["percent"] else f"{difference:+.3f}"
            won = f"{row['joint_better_seeds']}/{len(row['joint'])}"
            lines.append(
                f"| {row['task']} | {row['label']} | {spread(row['joint'], headline)} | "
                f"{spread(row['single'], headline)} | {shown} | {won} |"
            )
        joint_s = [s["joint"]["train_seconds"] for s in setting["seeds"]]
        single_s = [s["single_train_seconds"] for s in setting["seeds"]]
        lines += [
            "",
            "Training seconds (steps only, wall clock on a 2-core CPU, inflated whenever another job "
            "shared it; `scripts/bench_joint.py` compares the cost on an idle CPU): "
            f"joint {spread(joint_s)}, the single-task models together {spread(single_s)}.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", required=True, help="synthetic world folder (ucm_captions/, rsvqa_lr/, taiga/)"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[2], help="N (seeds 0..N-1) or a list")
    parser.add_argument("--only-seeds", type=int, nargs="+", help="train only these seeds (no report)")
    parser.add_argument("--recipe", default="spatialnet_vit-tiny")
    parser.add_argument("--ucm", help="real UCM-captions folder: adds the real-UCM setting")
    parser.add_argument(
        "--settings",
        nargs="+",
        choices=("synthetic", "ucm"),
        default=["synthetic", "ucm"],
        help="which comparisons to run (default both; ucm needs --ucm)",
    )
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--runs", type=Path, default=Path("runs/joint_vs_single"))
    parser.add_argument("--out", type=Path, default=Path("eval/reports/joint_vs_single"))
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    seeds = list(range(args.seeds[0])) if len(args.seeds) == 1 else args.seeds
    if "ucm" in args.settings and len(args.settings) == 1 and not args.ucm:
        parser.error("--settings ucm needs --ucm DIR")
    settings = []
    if "synthetic" in args.settings:
        settings.append(
            Setting(
                "Synthetic world",
                [f"data.root={args.data}"],
                note="All three datasets synthetic (`spatialnet synth`); best checkpoints on the test split.",
            )
        )
    if args.ucm and "ucm" in args.settings:
        settings.append(
            Setting(
                "Real UCM-captions with the synthetic VQA and forest data",
                [f"data.root={args.data}", f"datasets.ucm_captions.data.root={args.ucm}"],
                split="val",
                checkpoint="last",
                note="Captions and land use from real UCM-captions (train 1,680 / val 210), VQA and forest "
                "synthetic; last checkpoints on the val split (no test split here; selection is not used).",
            )
        )
    chosen = args.only_seeds or seeds
    report_settings = []
    for setting in settings:
        base = load_recipe(args.recipe, [*setting.overrides, *args.overrides])
        results = [compare_seed(base, args.runs, setting, seed) for seed in chosen]
        report_settings.append(
            {
                **dataclasses.asdict(setting),
                "seeds": results,
                "rows": summarise(results, head_types(base.heads)),
            }
        )
    if args.only_seeds:
        return 0
    command = "python eval/joint_vs_single.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    report = {"recipe": args.recipe, "seeds": seeds, "command": command, "settings": report_settings}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for compared in report_settings:  # the JSON keeps every scalar metric, not matrices or per-image scores
        for result in compared["seeds"]:
            result["joint"]["metrics"] = flatten_metrics(result["joint"]["metrics"])
            result["single_metrics"] = flatten_metrics(result["single_metrics"])
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    text = markdown(report)
    args.out.with_suffix(".md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
