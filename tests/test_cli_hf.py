"""Training on Hugging Face datasets through the CLI: the shipped tiny recipes with --set, then evaluate.

The caption set is the tiny world exported as parquet; the VQA set is built here in the common hub
form (one row per question, the tile repeated as PNG bytes, no image ids). Evaluation writes COCO
results and official-format answers that the stand-alone scorers, reading the world's original
files, score identically: the HF items carry the original ids, references and answers.
"""

from __future__ import annotations

import io
import json
import shutil

import datasets
import pytest
from PIL import Image

from spatialnet.cli.main import main
from spatialnet.data.hf.export import export
from spatialnet.data.images import load_image
from spatialnet.data.rsvqa.files import read_split

# The shipped tiny recipes, shrunk to seconds: a 1-block ViT of width 32 on 32 px images, one epoch.
SMALL = [
    "data.image_size=32",
    "backbone.img_size=32",
    "backbone.patch_size=8",
    "backbone.embed_dim=32",
    "backbone.depth=1",
    "backbone.num_heads=2",
    "train.epochs=1",
    "train.batch_size=8",
    "train.threads=1",
]


def overrides(*items: str) -> list[str]:
    return [arg for item in (*SMALL, *items) for arg in ("--set", item)]


@pytest.mark.slow  # ~1 min on 2 busy cores, most of it the Java scorers (PTB, METEOR) starting
@pytest.mark.skipif(shutil.which("java") is None, reason="caption metrics need Java (METEOR, PTB)")
def test_caption_recipe_trains_on_parquet_and_scores_like_the_original(tiny_world, tmp_path, capsys):
    export(tiny_world / "ucm_captions", tmp_path / "hf", "parquet", progress=False)
    run = tmp_path / "run"
    text = ["heads.captions.hidden_size=32", "heads.captions.layers=1", "heads.captions.attention_heads=2"]
    argv = ["train", "ucm_captions-tiny", "--out", str(run), "--no-progress"]
    argv += overrides("data.dataset=hf_captions", f"data.root={tmp_path / 'hf'}", *text)
    assert main(argv) == 0
    out = run / "eval.json"
    assert main(["evaluate", str(run), "--split", "test", "--out", str(out)]) == 0
    metrics = json.loads(out.read_text())["metrics"]
    assert 0.0 <= metrics["landuse"]["accuracy"] <= 1.0  # the ClassLabel column trains the land-use head
    captions = metrics["captions"]
    references = tiny_world / "ucm_captions" / "dataset.json"
    test_ids = {r["imgid"] for r in json.loads(references.read_text())["images"] if r["split"] == "test"}
    results = json.loads((run / captions["predictions_file"]).read_text())
    assert {row["image_id"] for row in results} == test_ids
    scores = tmp_path / "scores.json"
    argv = ["score-captions", "--references", str(references), "--split", "test"]
    assert main([*argv, "--predictions", str(run / captions["predictions_file"]), "--out", str(scores)]) == 0
    standalone = json.loads(scores.read_text())["metrics"]
    for key in ("Bleu_1", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr"):
        assert standalone[key] == pytest.approx(captions[key])


def question_rows(world, split: str) -> dict[str, list]:
    """The world's RSVQA split as one row per question, each tile re-saved as PNG (lossless)."""
    data = read_split(world / "rsvqa_lr", split)
    png = {}
    for image in data.images:
        buffer = io.BytesIO()
        Image.fromarray(load_image(image.path)).save(buffer, "PNG")
        png[image.id] = buffer.getvalue()
    questions = data.questions
    return {
        "image": [{"bytes": png[q.image_id], "path": None} for q in questions],
        "question": [q.question for q in questions],
        "answer": [q.raw_answer for q in questions],
        "question_type": [q.type for q in questions],
        "question_id": [q.id for q in questions],
    }


def test_vqa_recipe_trains_on_question_rows_and_scores_like_the_original(tiny_world, tmp_path):
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "question": datasets.Value("string"),
            "answer": datasets.Value("string"),
            "question_type": datasets.Value("string"),
            "question_id": datasets.Value("int64"),
        }
    )
    splits = {
        s: datasets.Dataset.from_dict(question_rows(tiny_world, s), features=features)
        for s in ("train", "val", "test")
    }
    datasets.DatasetDict(splits).save_to_disk(str(tmp_path / "hf"))
    run = tmp_path / "run"
    text = [
        "heads.vqa.hidden_size=32",
        "heads.vqa.layers=1",
        "heads.vqa.attention_heads=2",
        "heads.vqa.fusion_layers=1",
    ]
    argv = ["train", "rsvqa_lr-tiny", "--out", str(run), "--no-progress"]
    argv += overrides(
        "data.dataset=hf_vqa", f"data.root={tmp_path / 'hf'}", "data.questions_per_image=5", *text
    )
    assert main(argv) == 0
    out = run / "eval.json"
    assert main(["evaluate", str(run), "--split", "test", "--out", str(out)]) == 0
    metrics = json.loads(out.read_text())["metrics"]["vqa"]
    answers = run / metrics["predictions_file"]
    asked = [q.id for q in read_split(tiny_world / "rsvqa_lr", "test").questions]
    assert sorted(row["question_id"] for row in json.loads(answers.read_text())) == asked
    folder = tiny_world / "rsvqa_lr"
    scores = tmp_path / "scores.json"
    argv = ["score-vqa", "--questions", str(folder / "LR_split_test_questions.json")]
    argv += ["--answers", str(folder / "LR_split_test_answers.json"), "--predictions", str(answers)]
    assert main([*argv, "--out", str(scores)]) == 0
    again = json.loads(scores.read_text())["metrics"]
    for key in ("count", "presence", "comp", "rural_urban", "AA", "OA"):
        assert again[key] == pytest.approx(metrics[key])
