"""Class-imbalance losses on TAIGA: plain CE vs class-weighted CE vs focal (with and without weights).

    python eval/taiga_losses.py --data DIR [--recipe taiga-tiny] [--seeds 0 1] [--out FILE_STEM]

Trains the recipe once per (loss variant, seed), changing only the three categorical heads'
``loss`` and ``class_weighting`` (inverse median frequency of the training centres), evaluates
each run on the test split and reports per categorical variable the mean class accuracy (the
metric class imbalance hurts), overall accuracy and macro F1, as mean over seeds. Writes
``OUT.json`` and ``OUT.md``; run folders go under ``--runs`` (re-running reuses finished runs).
Extra ``--set`` overrides apply to every run (e.g. ``--set train.epochs=20``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spatialnet.checkpoint import WEIGHTS_FILE
from spatialnet.config import load_recipe
from spatialnet.data.taiga import CATEGORICAL_NAMES
from spatialnet.files import write_json
from spatialnet.training.evaluation import evaluate_run
from spatialnet.training.trainer import Trainer

# name -> (loss, class_weighting) of every categorical head
VARIANTS: dict[str, tuple[str, str]] = {
    "cross-entropy": ("cross_entropy", "none"),
    "weighted cross-entropy": ("cross_entropy", "median_frequency"),
    "focal": ("focal", "none"),
    "focal + class weights": ("focal", "median_frequency"),
}
METRICS = ("mean_class_accuracy", "accuracy", "f1_macro")


def train_and_score(
    recipe_name: str, data: str, variant: str, seed: int, runs: Path, overrides: Sequence[str]
) -> dict[str, Any]:
    """One run of ``variant`` at ``seed`` (reused when trained): test metrics of the categorical heads."""
    loss, weighting = VARIANTS[variant]
    settings = [f"heads.{name}.loss={loss}" for name in CATEGORICAL_NAMES]
    settings += [f"heads.{name}.class_weighting={weighting}" for name in CATEGORICAL_NAMES]
    recipe = load_recipe(recipe_name, [*overrides, *settings, f"data.root={data}", f"seed={seed}"])
    run_dir = runs / f"{variant.replace(' ', '_').replace('+', 'and')}-seed{seed}"
    started = time.perf_counter()
    if not (run_dir / "best" / WEIGHTS_FILE).is_file():
        Trainer(recipe, run_dir, show_progress=False, log=lambda _: None).fit()
    metrics, _ = evaluate_run(run_dir, "test")
    return {
        "run": str(run_dir),
        "seconds": time.perf_counter() - started,
        "metrics": {name: {m: metrics[name][m] for m in METRICS} for name in CATEGORICAL_NAMES},
    }


def summarise(results: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Mean and spread over seeds of every metric, per variant and variable."""
    summary: dict[str, Any] = {}
    for variant, runs in results.items():
        summary[variant] = {
            name: {
                metric: {
                    "mean": float(np.mean([r["metrics"][name][metric] for r in runs])),
                    "min": float(np.min([r["metrics"][name][metric] for r in runs])),
                    "max": float(np.max([r["metrics"][name][metric] for r in runs])),
                }
                for metric in METRICS
            }
            for name in CATEGORICAL_NAMES
        }
    return summary


def markdown(summary: dict[str, Any], header: str) -> str:
    """The report table: mean class accuracy (min–max over seeds), OA and macro F1, ×100."""
    lines = [
        header,
        "",
        "| loss | " + " | ".join(f"{n} AA (min–max) | {n} OA | {n} F1" for n in CATEGORICAL_NAMES) + " |",
    ]
    lines.append("|---|" + "---|---|---|" * len(CATEGORICAL_NAMES))
    for variant, per_name in summary.items():
        cells = []
        for name in CATEGORICAL_NAMES:
            aa, oa, f1 = (per_name[name][m] for m in METRICS)
            cells += [
                f"{100 * aa['mean']:.1f} ({100 * aa['min']:.1f}–{100 * aa['max']:.1f})",
                f"{100 * oa['mean']:.1f}",
                f"{100 * f1['mean']:.1f}",
            ]
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", required=True, help="folder holding taiga/ (e.g. runs/quickstart/world)")
    parser.add_argument("--recipe", default="taiga-tiny")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--out", type=Path, default=Path("eval/reports/taiga_losses"))
    parser.add_argument("--runs", type=Path, default=Path("runs/taiga_losses"), help="run folders")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    runs = args.runs
    results: dict[str, list[dict[str, Any]]] = {}
    for variant in args.variants:
        for seed in args.seeds:
            result = train_and_score(args.recipe, args.data, variant, seed, runs, args.overrides)
            results.setdefault(variant, []).append(result)
            aa = {n: round(100 * result["metrics"][n]["mean_class_accuracy"], 1) for n in CATEGORICAL_NAMES}
            print(
                f"{variant:<24} seed {seed}: mean class accuracy {aa}  ({result['seconds']:.0f} s)",
                flush=True,
            )
    summary = summarise(results)
    command = " ".join(["python eval/taiga_losses.py", *(argv if argv is not None else sys.argv[1:])])
    header = (
        f"# Class-imbalance losses, `{args.recipe}` on the synthetic TAIGA test split\n\n"
        f"Seeds {args.seeds}; ×100; AA = mean class accuracy. Regenerate with `{command}`."
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(
        args.out.with_suffix(".json"),
        {"recipe": args.recipe, "seeds": args.seeds, "summary": summary, "runs": results},
    )
    args.out.with_suffix(".md").write_text(markdown(summary, header), encoding="utf-8")
    print(markdown(summary, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
