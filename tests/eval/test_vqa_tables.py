"""eval/table2_rsvqa_lr.py and eval/table_rsivqa.py on a tiny joint model whose one VQA head answers both.

The tables run each dataset alone, in its own question set: their "ours" rows must be what
``spatialnet evaluate`` reports for ``vqa@rsvqa_lr`` and ``vqa@rsivqa``, the floors what score_vqa
gives their answers, and the paired difference ours − blind.
"""

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import torch
import yaml

from spatialnet.cli.main import main
from spatialnet.data.rsivqa.files import read_split as read_rsivqa
from spatialnet.data.rsvqa.files import read_split as read_rsvqa
from spatialnet.metrics.vqa import score_vqa
from spatialnet.metrics.vqa_baselines import baseline_answers
from tests.helpers import REPO, tiny_vqa_spec

THEMES = ("farmland", "harbor", "forest")
COUNTS = ("zero", "one", "two")
PLACES = ("top left corner", "center", "i cannot see it")


def rsivqa_lines(world: Path) -> list[str]:
    """Five RSIVQA questions about every photo of the tiny world, answers cycling with its number."""
    lines = []
    for record in json.loads((world / "ucm_captions" / "dataset.json").read_text())["images"]:
        n = int(Path(record["filename"]).stem)
        lines += [
            f"{n}.tif:What is the theme of this picture?{THEMES[n % 3]}",
            f"{n}.tif:Does this picture contain trees?{'yes' if n % 2 else 'no'}",
            f"{n}.tif:Does this picture contain an airplane?no",
            f"{n}.tif:How many cars in the picture?{COUNTS[n % 3]}",
            f"{n}.tif:What is the location of the trees in this picture?{PLACES[n % 3]}",
        ]
    return lines


@pytest.fixture(scope="module")
def joint_vqa_run(tmp_path_factory: pytest.TempPathFactory, tiny_world: Path) -> Path:
    """RSVQA-LR tiles and RSIVQA photos through one shared VQA head, trained for 2 × 2 steps."""
    folder = tmp_path_factory.mktemp("vqa_joint")
    (folder / "rsivqa_ucm").mkdir()
    (folder / "rsivqa_ucm" / "ucm_res.txt").write_text("\n".join(rsivqa_lines(tiny_world)) + "\n")
    no_crop = {"random_resized_crop": None}
    recipe = {
        "name": "test-vqa-joint",
        "seed": 0,
        "datasets": {
            "rsvqa_lr": {
                "tasks": ["vqa"],
                "modality": "rgb",
                "batch_size": 4,
                "data": {
                    "dataset": "rsvqa_lr",
                    "root": str(tiny_world),
                    "image_size": 32,
                    "augment": no_crop,
                },
            },
            "rsivqa": {
                "tasks": ["vqa"],
                "modality": "rgb",
                "batch_size": 4,
                "data": {
                    "dataset": "rsivqa",
                    "root": str(folder),
                    "images": str(tiny_world / "ucm_captions"),
                    "image_size": 32,
                    "augment": no_crop,
                },
            },
        },
        "backbone": {
            "type": "shared_vit",
            "embed_dim": 32,
            "depth": 1,
            "num_heads": 2,
            "options": {"modalities": {"rgb": {"in_chans": 3, "img_size": 32, "patch_size": 8}}},
        },
        "heads": {
            "vqa": tiny_vqa_spec(),
        },
        "train": {
            "epochs": 2,
            "steps_per_epoch": 2,
            "eval_batch_size": 32,
            "lr": 1.0e-3,
            "schedule": {"type": "constant"},
            "select_metric": "joint",
            "select_weights": {"vqa@rsivqa/AA": 1.0, "vqa@rsvqa_lr/AA": 1.0},
            "threads": 1,
        },
    }
    path = folder / "joint.yaml"
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    run = folder / "run"
    assert main(["train", str(path), "--out", str(run), "--no-progress"]) == 0
    return run


@pytest.fixture(scope="module")
def scripts() -> Iterator[dict[str, ModuleType]]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    sys.path.insert(0, str(REPO / "eval"))
    try:
        names = ("table2_rsvqa_lr", "table_rsivqa", "joint_vs_single_real")
        yield {name: importlib.import_module(name) for name in names}
    finally:
        sys.path.remove(str(REPO / "eval"))
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def evaluated(joint_vqa_run: Path) -> dict[str, dict[str, float]]:
    out = joint_vqa_run / "eval_val.json"
    assert main(["evaluate", str(joint_vqa_run), "--split", "val", "--out", str(out), "--device", "cpu"]) == 0
    return json.loads(out.read_text())["metrics"]


@pytest.mark.parametrize(
    ("script", "key", "resample"),
    [("table2_rsvqa_lr", "vqa@rsvqa_lr", "images"), ("table_rsivqa", "vqa@rsivqa", "images")],
)
def test_tables_score_each_dataset_of_a_shared_head(
    scripts: dict[str, ModuleType],
    joint_vqa_run: Path,
    evaluated: dict[str, dict[str, float]],
    script: str,
    key: str,
    resample: str,
) -> None:
    module = scripts[script]
    result = module.evaluate_table(joint_vqa_run, "val", None, "cpu", bootstrap=60, seed=2, resample=resample)
    columns = result["columns"]
    metrics = evaluated[key]
    assert result["num_questions"] == metrics["num_questions"]
    expected = [100 * metrics[c] if c in metrics else None for c in columns]
    assert result["rows"]["ours"] == pytest.approx(expected)
    assert result["intervals"]["ours"]["unit"] == resample == result["paired"]["unit"]
    blind = result["rows"]["blind (same question text)"]
    for d, a, b in zip(result["paired"]["difference"], result["rows"]["ours"], blind, strict=True):
        assert (d is None) == (a is None) and (d is None or d == pytest.approx(a - b))
    console_text = _printed(module, result)
    assert "ours − blind (same question text)" in console_text and "95% interval (60× images)" in console_text


def test_floors_learn_from_the_training_split(
    scripts: dict[str, ModuleType], joint_vqa_run: Path, tiny_world: Path
) -> None:
    result = scripts["table_rsivqa"].evaluate_table(joint_vqa_run, "val", None, "cpu")
    files, annotations = (
        [joint_vqa_run.parent / "rsivqa_ucm" / "ucm_res.txt"],
        tiny_world / "ucm_captions" / "dataset.json",
    )
    train = [q for qs in read_rsivqa(files, annotations, "train").questions for q in qs]
    val = [q for qs in read_rsivqa(files, annotations, "val").questions for q in qs]
    for name, answers in baseline_answers(train, val).items():
        metrics = score_vqa(val, answers, question_set="rsivqa").metrics
        assert result["rows"][name] == pytest.approx([100 * metrics[c] for c in result["columns"]])
    assert result["intervals"] == {} and result["paired"] is None  # no --bootstrap
    table2 = scripts["table2_rsvqa_lr"].evaluate_table(joint_vqa_run, "val", None, "cpu")
    rsvqa = tiny_world / "rsvqa_lr"
    train_lr = read_rsvqa(rsvqa, "train", require_images=False).questions
    val_lr = read_rsvqa(rsvqa, "val", require_images=False).questions
    blind = score_vqa(val_lr, baseline_answers(train_lr, val_lr)["blind (same question text)"]).metrics
    assert table2["rows"]["blind (same question text)"] == pytest.approx(
        [100 * blind[c] if c in blind else None for c in table2["columns"]]
    )
    assert table2["published"]["split"] == "test"


def _printed(module: ModuleType, result: dict) -> str:
    from rich.console import Console

    console = Console(width=220, record=True)
    module.print_table(result, console)
    return console.export_text()


def test_score_rsivqa_reads_what_evaluate_writes(
    joint_vqa_run: Path, evaluated: dict[str, dict[str, float]], tiny_world: Path
) -> None:
    metrics = evaluated["vqa@rsivqa"]
    predictions = joint_vqa_run / str(metrics["predictions_file"])
    out = joint_vqa_run / "rsivqa_scores.json"
    argv = ["score-rsivqa", "--questions", str(joint_vqa_run.parent / "rsivqa_ucm" / "ucm_res.txt")]
    argv += [
        "--images",
        str(tiny_world / "ucm_captions"),
        "--predictions",
        str(predictions),
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    scored = json.loads(out.read_text())["metrics"]
    assert scored == pytest.approx({k: metrics[k] for k in scored})
    assert set(scored) == {"theme", "presence", "count", "location", "AA", "OA"}


def test_joint_vs_single_rows_every_question_set(
    scripts: dict[str, ModuleType], joint_vqa_run: Path, evaluated: dict[str, dict[str, float]]
) -> None:
    """A head two datasets train gets its rows per ``head@dataset``; a run against itself differs by 0."""
    singles = {"vqa@rsivqa": joint_vqa_run, "vqa@rsvqa_lr": joint_vqa_run}
    report = scripts["joint_vs_single_real"].compare(joint_vqa_run, singles, "val", "cpu", 40, 0)
    for key in singles:
        rows = {row["metric"]: row for row in report["rows"] if row["task"] == key}
        assert {"AA", "OA"} <= set(rows), key
        for metric, row in rows.items():
            assert row["joint"] == pytest.approx(evaluated[key][metric]) == pytest.approx(row["single"])
            assert row["difference"] == 0.0 and row["unit"] == "images"
            assert row["joint_interval"] == row["single_interval"]
            assert row["joint_interval"][0] <= row["joint"] <= row["joint_interval"][1]


@pytest.fixture(scope="module")
def rsvqa_only_run(joint_vqa_run: Path) -> Path:
    """The joint recipe's RSVQA-LR half alone: a VQA head whose answer list differs from the joint one."""
    recipe = yaml.safe_load((joint_vqa_run.parent / "joint.yaml").read_text())
    recipe["datasets"] = {"rsvqa_lr": recipe["datasets"]["rsvqa_lr"]}
    recipe["train"]["select_weights"] = {"vqa/AA": 1.0}
    path = joint_vqa_run.parent / "rsvqa_only.yaml"
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    run = joint_vqa_run.parent / "rsvqa_only"
    assert main(["train", str(path), "--out", str(run), "--no-progress"]) == 0
    return run


def test_joint_vs_single_reads_each_arm_with_its_own_answers(
    scripts: dict[str, ModuleType], joint_vqa_run: Path, rsvqa_only_run: Path
) -> None:
    """The difference lies inside its paired interval and each arm inside its own interval."""
    report = scripts["joint_vs_single_real"].compare(
        joint_vqa_run, {"vqa@rsvqa_lr": rsvqa_only_run}, "val", "cpu", 200, 0
    )
    rows = {row["metric"]: row for row in report["rows"]}
    assert {"AA", "OA", "count", "presence"} <= set(rows)
    for row in rows.values():
        assert row["low"] - 1e-9 <= row["difference"] <= row["high"] + 1e-9, row
        assert row["single_interval"][0] - 1e-9 <= row["single"] <= row["single_interval"][1] + 1e-9
