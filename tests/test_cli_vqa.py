"""VQA through the CLI: train, evaluate (official-format answers + scores), predict with a question."""

import json
import subprocess
import sys

import numpy as np
import pytest
import tifffile
import yaml

from spatialnet.cli.main import main
from tests.helpers import REPO, TINY_RECIPE, tiny_vqa_spec

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
        "vqa": tiny_vqa_spec(count_weight=0.5),
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
    assert 1 <= len(answer["top"]) <= 3 and answer["top"][0]["answer"] == answer["answer"]
    assert all(item["probability"] > 0 for item in answer["top"])  # nothing outside the question's type
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
    argv = [
        sys.executable,
        str(script),
        str(vqa_run),
        "--split",
        "test",
        "--out",
        str(out),
        "--bootstrap",
        "50",
    ]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "SpatialNet-ViT (Table II), TEST split" in result.stdout
    assert "blind (same question text)" in result.stdout and "Δ vs SpatialNet-ViT (Table II)" in result.stdout
    table = json.loads(out.read_text())
    assert set(table["rows"]) == {"ours", "majority per type", "blind (same question text)"}
    assert table["published"]["split"] == "test"
    assert table["published"]["rows"]["SpatialNet-ViT (Table II)"][:6] == [
        80.22,
        94.53,
        92.50,
        96.00,
        92.81,
        90.18,
    ]
    assert all(0 <= v <= 100 for row in table["rows"].values() for v in row if v is not None)
    assert "95% interval (50× questions)" in result.stdout and set(table["intervals"]) == {"ours"}
    ours, bounds = table["rows"]["ours"], table["intervals"]["ours"]
    assert [v is None for v in ours] == [lo is None for lo in bounds["low"]]
    assert all(lo <= hi for lo, hi in zip(bounds["low"], bounds["high"], strict=True) if lo is not None)
    paired = table["paired"]
    assert (paired["first"], paired["second"], paired["unit"]) == (
        "ours",
        "blind (same question text)",
        "questions",
    )
    blind = table["rows"]["blind (same question text)"]
    for d, a, b in zip(paired["difference"], ours, blind, strict=True):
        assert (d is None) == (a is None) and (d is None or d == pytest.approx(a - b))


def test_score_vqa_on_the_real_val_split(shared_data, tmp_path, capsys):
    folder = shared_data / "rsvqa_lr"
    files = {
        f"{s}_{k}": folder / f"LR_split_{s}_{k}.json"
        for s in ("train", "val")
        for k in ("questions", "answers")
    }
    if not all(path.is_file() for path in files.values()):
        pytest.skip(f"real RSVQA-LR train/val question and answer files absent from {folder}")
    from spatialnet.data.rsvqa.files import read_questions_and_answers
    from spatialnet.metrics.vqa_baselines import blind_answers

    train = read_questions_and_answers(files["train_questions"], files["train_answers"])
    val = read_questions_and_answers(files["val_questions"], files["val_answers"])
    predictions = tmp_path / "blind.json"
    predictions.write_text(
        json.dumps([{"question_id": i, "answer": a} for i, a in blind_answers(train, val).items()])
    )
    out = tmp_path / "scores.json"
    argv = ["score-vqa", "--questions", str(files["val_questions"]), "--answers", str(files["val_answers"])]
    argv += [
        "--train-questions",
        str(files["train_questions"]),
        "--train-answers",
        str(files["train_answers"]),
    ]
    argv += [
        "--predictions",
        str(predictions),
        "--out",
        str(out),
        "--bootstrap",
        "100",
        "--resample",
        "images",
    ]
    assert main(argv) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert "resampled 100 times: the 16 images, each with all its questions (1601 questions" in printed
    document = json.loads(out.read_text())
    percent = {k: round(100 * v, 2) for k, v in document["metrics"].items()}
    assert percent == {
        "count": 59.75,
        "presence": 89.33,
        "comp": 87.04,
        "rural_urban": 56.25,
        "AA": 73.09,
        "OA": 79.08,
        "mean3": 77.54,
    }
    assert document["num_questions"] == 1601 and document["num_images"] == 16
    assert document["baselines"]["blind (same question text)"]["metrics"] == document["metrics"]
    assert document["bootstrap"]["method"] == "percentile bootstrap over images"


def test_score_vqa_train_files_go_together(tmp_path, capsys):
    argv = ["score-vqa", "--questions", "q.json", "--answers", "a.json", "--predictions", "p.json"]
    assert main([*argv, "--out", str(tmp_path / "s.json"), "--train-questions", "t.json"]) == 2
    assert "--train-questions and --train-answers go together" in capsys.readouterr().err
