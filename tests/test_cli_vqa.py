"""VQA through the CLI: train, evaluate (official-format answers + scores), predict with a question."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tifffile
import yaml

from spatialnet.cli.main import main
from tests.helpers import REPO, TINY_RECIPE

VQA_RECIPE = {
    **TINY_RECIPE,
    "name": "test-vqa",
    "data": {
        **TINY_RECIPE["data"],
        "dataset": "rsvqa_lr",
        "questions_per_image": 5,
        "augment": {"hflip": True, "vflip": True, "rot90": True, "random_resized_crop": None},
    },
    "heads": {
        "vqa": {
            "type": "vqa",
            "target": "answer",
            "hidden_size": 32,
            "layers": 1,
            "attention_heads": 2,
            "fusion_layers": 1,
            "count_weight": 0.5,
        }
    },
    "train": {**TINY_RECIPE["train"], "epochs": 1, "select_metric": "vqa/AA"},
}


@pytest.fixture(scope="module")
def vqa_run(tmp_path_factory, tiny_world):
    folder = tmp_path_factory.mktemp("vqa")
    recipe = folder / "vqa.yaml"
    recipe.write_text(yaml.safe_dump({**VQA_RECIPE, "data": {**VQA_RECIPE["data"], "root": str(tiny_world)}}))
    run = folder / "run"
    assert main(["train", str(recipe), "--out", str(run), "--no-progress"]) == 0
    return run


def test_training_logs_the_official_metrics(vqa_run):
    history = json.loads((vqa_run / "history.json").read_text())
    assert {"vqa/AA", "vqa/OA", "vqa/count", "vqa/presence", "vqa/comp", "vqa/rural_urban"} <= set(
        history[-1]["val"]
    )
    assert (vqa_run / "best" / "vqa" / "tokenizer.json").is_file()


def test_evaluate_writes_answers_the_evaluator_scores_identically(vqa_run, tiny_world, capsys):
    out = vqa_run / "eval.json"
    assert main(["evaluate", str(vqa_run), "--split", "test", "--out", str(out)]) == 0
    assert "OA" in capsys.readouterr().out
    metrics = json.loads(out.read_text())["metrics"]["vqa"]
    answers = json.loads((vqa_run / metrics["predictions_file"]).read_text())
    questions = json.loads((tiny_world / "rsvqa_lr" / "LR_split_test_questions.json").read_text())[
        "questions"
    ]
    assert sorted(row["question_id"] for row in answers) == [q["id"] for q in questions if q["active"]]
    assert (vqa_run / metrics["confusion_png"]).is_file()
    scores = vqa_run / "scores.json"
    folder = tiny_world / "rsvqa_lr"
    argv = ["score-vqa", "--questions", str(folder / "LR_split_test_questions.json")]
    argv += ["--answers", str(folder / "LR_split_test_answers.json")]
    assert (
        main([*argv, "--predictions", str(vqa_run / metrics["predictions_file"]), "--out", str(scores)]) == 0
    )
    again = json.loads(scores.read_text())["metrics"]
    for key in ("count", "presence", "comp", "rural_urban", "AA", "OA", "mean3"):
        assert again[key] == pytest.approx(metrics[key])


@pytest.mark.parametrize(
    "question",
    [
        "How many buildings are there?",
        "Is there a road at the left of a water area?",
        "Y a-t-il un bâtiment près de l'eau ? 建筑物",  # non-ASCII, words never seen in training
        "Is there a road " * 60,  # longer than the question encoder's positions: truncated
    ],
)
def test_predict_answers_any_question(vqa_run, tiny_world, capsys, question):
    image = tiny_world / "rsvqa_lr" / "Images_LR" / "0.tif"
    assert main(["predict", str(vqa_run), "--image", str(image), "--question", question, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)["vqa"]
    assert answer["answer"] in ("yes", "no", "rural", "urban", "0") or answer["answer"].startswith(
        ("between", "more")
    )
    assert len(answer["top"]) == 3 and answer["top"][0]["answer"] == answer["answer"]
    assert sum(item["probability"] for item in answer["top"]) <= 1.0 + 1e-6
    assert answer["type"] in ("count", "presence", "comp", "rural_urban")


def test_predict_reports_unknown_words(vqa_run, tiny_world, capsys):
    image = tiny_world / "rsvqa_lr" / "Images_LR" / "0.tif"
    main(["predict", str(vqa_run), "--image", str(image), "--question", "How many zorblaxes are there?"])
    assert "words not seen in training (read as unknown): zorblaxes" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("question", "message"),
    [("   ", "question: empty"), ("x" * 1001, "question: 1001 characters; expected at most 1000")],
)
def test_predict_refuses_empty_or_absurd_questions(vqa_run, tiny_world, capsys, question, message):
    image = tiny_world / "rsvqa_lr" / "Images_LR" / "0.tif"
    assert main(["predict", str(vqa_run), "--image", str(image), "--question", question]) == 2
    assert message in capsys.readouterr().err


def test_predict_refuses_an_image_with_the_wrong_band_count(vqa_run, tmp_path, capsys):
    cube = tmp_path / "cube.tif"
    tifffile.imwrite(cube, np.zeros((16, 16, 5), dtype=np.uint8), planarconfig="contig")
    assert main(["predict", str(vqa_run), "--image", str(cube), "--question", "Is there a road?"]) == 2
    assert "has 5 bands, expected 3" in capsys.readouterr().err


@pytest.mark.slow
def test_table2_harness_prints_paper_rows_ours_and_baselines(vqa_run, tmp_path):
    out = tmp_path / "table2.json"
    script = REPO / "eval" / "table2_rsvqa_lr.py"
    result = subprocess.run(
        [
            sys.executable,
            str(script),
            str(vqa_run),
            "--split",
            "test",
            "--out",
            str(out),
            "--bootstrap",
            "50",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "SpatialNet-ViT (Table II) (paper)" in result.stdout and "blind (same question text)" in result.stdout
    )
    table = json.loads(out.read_text())
    assert set(table["rows"]) == {"ours", "majority per type", "blind (same question text)"}
    assert table["paper"]["SpatialNet-ViT (Table II)"][:6] == [80.22, 94.53, 92.50, 96.00, 92.81, 90.18]
    assert all(0 <= v <= 100 for row in table["rows"].values() for v in row if v is not None)
    assert "95% interval (50 resamples)" in result.stdout and set(table["intervals"]) == {"ours"}
    ours, bounds = table["rows"]["ours"], table["intervals"]["ours"]
    assert [v is None for v in ours] == [lo is None for lo in bounds["low"]]
    assert all(lo <= hi for lo, hi in zip(bounds["low"], bounds["high"], strict=True) if lo is not None)
