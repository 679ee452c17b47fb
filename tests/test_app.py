"""The app on a free localhost port: every endpoint through gradio_client, equal to ``predict``;
the Ask tab across question sets and the examples it takes from real data."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from gradio_client import handle_file
from PIL import Image

from spatialnet.app.build import app_examples, serve
from spatialnet.app.examples import find_examples
from spatialnet.app.set_notes import TEMPLATE_QUESTIONS, set_label
from spatialnet.app.tasks import AppTasks, TaskError
from spatialnet.cli.main import main
from spatialnet.config import BackboneConfig, DataConfig, Recipe, SourceConfig, load_recipe, recipe_from_dict
from spatialnet.data.base import Fitted
from spatialnet.data.question_sets import question_set
from spatialnet.data.rsvqa.answers import ANSWERS_BY_TYPE, COUNT_BINS
from spatialnet.heads.fitting import Sentences, fit_heads
from spatialnet.inference_form import inference_form
from spatialnet.model import SpatialNet
from spatialnet.predictor import Predictor
from spatialnet.processors import ImageProcessor
from tests.helpers import TINY_RECIPE, free_port, tiny_vqa_spec, uploaded_cube


def predicted(run, image, capsys, question=None, beams=None):
    args = ["predict", str(run), "--image", str(image), "--json"]
    args += ["--question", question] if question else []
    assert main(args + (["--beams", str(beams)] if beams else [])) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("beams", [None, 1, 4])
def test_caption_and_land_use_match_predict(app_client, joint_run, tiny_world, capsys, beams):
    image = sorted((tiny_world / "ucm_captions" / "imgs").iterdir())[0]
    caption, landuse = app_client.predict(
        handle_file(str(image)), *([beams] if beams else []), api_name="/caption"
    )
    expected = predicted(joint_run, image, capsys, beams=beams)
    assert caption == expected["captions"]
    assert landuse["label"] == expected["landuse"][0]["label"]
    confidences = {c["label"]: c["confidence"] for c in landuse["confidences"]}
    for item in expected["landuse"]:
        assert confidences[item["label"]] == pytest.approx(item["probability"], rel=1e-5)


def test_answers_match_predict(app_client, joint_run, tiny_world, capsys):
    tile = sorted((tiny_world / "rsvqa_lr" / "Images_LR").iterdir())[0]
    question = "How many buildings are there?"
    answer, top, kind = app_client.predict(handle_file(str(tile)), question, api_name="/ask")
    expected = predicted(joint_run, tile, capsys, question)["vqa"]
    assert answer == expected["answer"] and kind == expected["type"] == "count"
    assert {c["label"] for c in top["confidences"]} == {a["answer"] for a in expected["top"]}


def test_about_names_the_recipe_and_its_datasets(app_client):
    card = app_client.predict(api_name="/about")
    assert "test-joint" in card and "rsvqa_lr" in card and "fertility" in card


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n broken"])
def test_bad_uploads_get_a_message_and_the_app_keeps_serving(app_client, tmp_path, tiny_world, content):
    bad = tmp_path / "upload.png"
    bad.write_bytes(content)
    with pytest.raises(Exception, match="The image|image"):
        app_client.predict(handle_file(str(bad)), api_name="/caption")
    with pytest.raises(Exception, match="Type a question"):
        app_client.predict(handle_file(str(bad)), "   ", api_name="/ask")
    image = sorted((tiny_world / "ucm_captions" / "imgs").iterdir())[0]
    assert isinstance(app_client.predict(handle_file(str(image)), api_name="/caption")[0], str)


def test_forest_maps_an_area_of_a_bundled_cube_and_reads_the_pixel(app_client, joint_run, forest, capsys):
    maps, readout = app_client.predict(
        "20170615_reflectance_mosaic_128b.hdr", None, 128, 128, 32, api_name="/forest"
    )
    names = {Path(item["image"]).name for item in maps}
    assert {"fertility_class.png", "lai.png"} <= names, names
    cube = forest / "taiga" / "20170615_reflectance_mosaic_128b.hdr"
    assert main(["predict", str(joint_run), "--cube", str(cube), "--pixel", "128", "128", "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    assert readout["fertility"][0]["label"] == expected["fertility"][0]["label"]
    assert readout["lai"]["value"] == pytest.approx(expected["lai"]["value"], rel=1e-5)
    with pytest.raises(Exception, match="not in the list of choices"):  # no path a person names is read
        app_client.predict("/etc/passwd", None, 128, 128, 32, api_name="/forest")


def test_forest_maps_an_uploaded_envi_cube(app_client, joint_run, forest, tmp_path, capsys):
    header, data = uploaded_cube(forest, tmp_path)
    maps, readout = app_client.predict(
        "uploaded cube", [handle_file(str(header)), handle_file(str(data))], 20, 30, 16, api_name="/forest"
    )
    assert {"fertility_class.png", "lai.png"} <= {Path(item["image"]).name for item in maps}
    assert main(["predict", str(joint_run), "--cube", str(header), "--pixel", "20", "30", "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    assert readout["fertility"][0]["label"] == expected["fertility"][0]["label"]
    assert readout["lai"]["value"] == pytest.approx(expected["lai"]["value"], rel=1e-5)


def test_bad_cube_uploads_are_refused_with_a_message(app_client, forest, tmp_path):
    header, data = uploaded_cube(forest, tmp_path)
    refusals = {
        "Upload two files": [handle_file(str(header))],
        "bytes, but its header expects": [handle_file(str(header)), handle_file(str(truncated(data)))],
        "Pick a pixel": [handle_file(str(header)), handle_file(str(data))],
    }
    for message, files in refusals.items():
        with pytest.raises(Exception, match=message):
            app_client.predict("uploaded cube", files, 39, 30, 16, api_name="/forest")


def truncated(data):
    short = data.with_name("short.img")
    short.write_bytes(data.read_bytes()[:1000])
    return short


# -- question sets: a VQA head of any name answering in several sets ------------------------------
RSIVQA_ANSWERS = {
    "theme": ["harbor", "overpass"],
    "presence": ["yes", "no"],
    "count": ["zero", "one", "two"],
    "location": ["center", "top left corner", "i cannot see it"],
}
COUNT = "How many cars in the picture?"


def two_set_predictor(root: Path, head: str = "answerer") -> Predictor:
    """An untrained tiny model whose one VQA head (named ``head``) answers RSIVQA and RSVQA-LR questions.

    Built in memory in a second: nothing is trained, answers are only held to each set's answers.
    """
    sets = {"rsivqa": RSIVQA_ANSWERS, "rsvqa_lr": {k: list(v) for k, v in ANSWERS_BY_TYPE.items()}}
    spec = tiny_vqa_spec(
        answers=list(dict.fromkeys(a for types in sets.values() for v in types.values() for a in v)),
        answer_sets=sets,
        default_question_set="rsivqa",
    )
    recipe = Recipe(
        name="test-two-sets",
        data=DataConfig(root=str(root)),
        datasets={n: SourceConfig(DataConfig(dataset=n, image_size=16), [head]) for n in sets},
        backbone=BackboneConfig(preset="tiny", img_size=16, patch_size=8, embed_dim=32, depth=1, num_heads=2),
        heads={head: spec},
    )
    torch.manual_seed(0)
    model = SpatialNet.from_recipe(
        recipe, fits=fit_heads(recipe, {head: Sentences([COUNT, "Is there a road?"])})
    )
    fitted = {name: Fitted(ImageProcessor.from_config(s.data)) for name, s in recipe.sources().items()}
    return Predictor(inference_form(model), recipe, fitted)


@pytest.fixture(scope="module")
def two_sets(tiny_world: Path) -> AppTasks:
    """The app's tasks over :func:`two_set_predictor`, its data root the tiny world (RSVQA-LR only)."""
    return AppTasks(two_set_predictor(tiny_world))


@pytest.fixture
def photo(tmp_path: Path) -> str:
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (24, 24, 3), np.uint8)).save(path)
    return str(path)


def test_the_answering_head_is_found_by_what_it_does_whatever_its_name(two_sets: AppTasks, photo: str):
    answer, top, kind = two_sets.ask(photo, COUNT)  # the default set: RSIVQA's counts in words
    assert kind == "count" and answer in RSIVQA_ANSWERS["count"] and set(top) <= set(RSIVQA_ANSWERS["count"])
    assert sum(top.values()) == pytest.approx(1.0)  # the 3 count words share all the probability
    answer, top, kind = two_sets.ask(photo, COUNT, "rsvqa_lr")
    assert kind == "count" and answer in COUNT_BINS and set(top) <= set(COUNT_BINS)


def test_a_model_without_a_vqa_head_says_so(tiny_world: Path, photo: str):
    recipe = recipe_from_dict({**TINY_RECIPE, "data": {**TINY_RECIPE["data"], "root": str(tiny_world)}})
    model = SpatialNet.from_recipe(recipe, fits=fit_heads(recipe))
    fitted = {name: Fitted(ImageProcessor.from_config(s.data)) for name, s in recipe.sources().items()}
    tasks = AppTasks(Predictor(inference_form(model), recipe, fitted))
    assert tasks.question_sets() == [] and app_examples(tasks).questions == {}
    with pytest.raises(TaskError, match="This model has no question-answering head"):
        tasks.ask(photo, COUNT)
    assert "question sets" not in tasks.about()


def test_the_question_set_is_picked_by_name_default_first_and_unknown_ones_refused(
    two_sets: AppTasks, photo: str
):
    assert two_sets.question_sets() == ["rsivqa", "rsvqa_lr"]
    assert two_sets.set_choices() == [
        ("RSIVQA — aerial photos (theme, counts in words, locations)", "rsivqa"),
        ("RSVQA-LR — Sentinel-2 tiles (yes/no, count bins, rural/urban)", "rsvqa_lr"),
    ]
    assert two_sets.ask_shown(photo, COUNT, "")[2:] == ("count", two_sets.set_choices()[0][0])
    assert two_sets.ask_shown(photo, COUNT, "rsvqa_lr")[3].startswith("RSVQA-LR — Sentinel-2")
    for bad in ("nope", "RSIVQA", 7):
        with pytest.raises(
            TaskError, match=r"Unknown question set .*; this model answers as: rsivqa \(RSIVQA"
        ):
            two_sets.ask(photo, COUNT, bad)  # type: ignore[arg-type]


def test_questions_of_different_sets_are_never_answered_in_one_batch(
    two_sets: AppTasks, photo: str, monkeypatch: pytest.MonkeyPatch
):
    release = threading.Event()
    calls: list[tuple[int, str | None]] = []
    original = two_sets.predictor.predict_arrays

    def spy(arrays: list[np.ndarray], *args: Any, question_set: str | None = None, **options: Any) -> Any:
        release.wait(5)  # the first batch waits until every request is queued behind it
        calls.append((len(arrays), question_set))
        return original(arrays, *args, question_set=question_set, **options)

    monkeypatch.setattr(two_sets.predictor, "predict_arrays", spy)
    asked = ["rsivqa", "rsvqa_lr", "rsvqa_lr", "rsivqa", "rsvqa_lr", "rsivqa", "rsivqa"]
    with ThreadPoolExecutor(len(asked)) as pool:
        futures = [pool.submit(two_sets.ask_shown, photo, COUNT, name) for name in asked]
        time.sleep(0.5)
        release.set()
        answers = [f.result(timeout=30) for f in futures]
    for name, (answer, _, _, label) in zip(asked, answers, strict=True):
        assert label == set_label(name)
        assert answer in (RSIVQA_ANSWERS["count"] if name == "rsivqa" else COUNT_BINS)
    assert sum(size for size, _ in calls) == len(asked) and max(size for size, _ in calls) > 1
    assert {name for _, name in calls} == {"rsivqa", "rsvqa_lr"}


def test_the_ask_endpoint_takes_the_set_as_an_optional_third_argument(two_sets: AppTasks, photo: str):
    from gradio_client import Client

    demo, url = serve(two_sets, port=free_port(), block=False)
    try:
        client = Client(url, verbose=False)
        endpoint = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/ask"]
        parameters = [(p["parameter_name"], p["parameter_default"]) for p in endpoint["parameters"]]
        assert parameters == [("image", None), ("question", None), ("question_set", "rsivqa")]
        assert len(endpoint["returns"]) == 3  # answer, top answers, question type: as before sets
        answer, top, kind = client.predict(handle_file(photo), COUNT, api_name="/ask")
        assert kind == "count" and answer in RSIVQA_ANSWERS["count"]
        positional = client.predict(handle_file(photo), COUNT, "rsvqa_lr", api_name="/ask")
        keyword = client.predict(handle_file(photo), COUNT, question_set="rsvqa_lr", api_name="/ask")
        for answer, _, kind in (positional, keyword):
            assert kind == "count" and answer in COUNT_BINS
        with pytest.raises(Exception, match="nope is not in the list of choices"):
            client.predict(handle_file(photo), COUNT, "nope", api_name="/ask")
    finally:
        demo.close()


def test_the_model_card_lists_the_question_sets_and_each_sets_metrics(two_sets: AppTasks, tmp_path: Path):
    metrics = {
        "best_epoch": 3,
        "select_metric": "joint",
        "val": {"answerer@rsivqa": {"AA": 0.5, "OA": 0.625}, "answerer@rsvqa_lr": {"AA": 0.25}},
    }
    (tmp_path / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    card = AppTasks(dataclasses.replace(two_sets.predictor, checkpoint=tmp_path)).about()
    assert "- RSIVQA — aerial photos (theme, counts in words, locations) (`rsivqa`, the default)" in card
    assert "- RSVQA-LR — Sentinel-2 tiles (yes/no, count bins, rural/urban) (`rsvqa_lr`)" in card
    for row in ("| answerer@rsivqa | AA (%) | 50.0 |", "| answerer@rsivqa | OA (%) | 62.5 |"):
        assert row in card
    assert "| answerer@rsvqa_lr | AA (%) | 25.0 |" in card


# -- examples: real validation data where the recipe's folders hold it ------------------------------
def test_examples_are_real_validation_data_where_the_recipe_points(shared_data: Path):
    if not shared_data.is_dir():
        pytest.skip(f"real data not found at {shared_data} (see the README's data section)")
    recipe = load_recipe("spatialnet_vit-real-cpu", [f"data.root={shared_data}"])
    examples = find_examples(recipe.sources(), ["rsivqa", "rsvqa_lr"])
    ucm = json.loads((shared_data / "ucm_captions" / "dataset.json").read_text(encoding="utf-8"))
    val_photos = {r["filename"] for r in ucm["images"] if r["split"] == "val"}
    assert examples.real == {"rsivqa", "rsvqa_lr"} and len(examples.images) == 4
    for image in examples.images:
        assert Path(image).parent == shared_data / "ucm_captions" / "imgs" and Path(image).name in val_photos
    lines = (shared_data / "rsivqa_ucm" / "ucm_res.txt").read_text(encoding="utf-8").splitlines()
    asked = [(Path(image), question) for image, question in examples.questions["rsivqa"]]
    for image, question in asked:
        assert image.parent == shared_data / "ucm_captions" / "imgs" and image.name in val_photos
        assert any(line.startswith(f"{image.stem}.tif:{question}") for line in lines), (image, question)
    assert [question_set("rsivqa").type_of(q) for _, q in asked] == ["theme", "presence", "count", "location"]
    rows = json.loads((shared_data / "rsvqa_lr" / "LR_split_val_questions.json").read_text())["questions"]
    val = {(row["img_id"], row["question"]): row["type"] for row in rows if row.get("active")}
    tiles = [(Path(image), question) for image, question in examples.questions["rsvqa_lr"]]
    assert all(tile.parent == shared_data / "rsvqa_lr" / "Images_LR" for tile, _ in tiles)
    assert [val[int(tile.stem), question] for tile, question in tiles] == list(question_set("rsvqa_lr").types)


def test_examples_fall_back_to_the_data_folders_images_and_template_questions(tmp_path: Path):
    (tmp_path / "imgs").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "imgs" / "a.png")
    sources = {"rsivqa": SourceConfig(DataConfig(dataset="rsivqa", root=str(tmp_path)), ["vqa"])}
    examples = find_examples(sources, ["rsivqa"])
    image = str(tmp_path / "imgs" / "a.png")
    assert examples.images == [image] and examples.real == frozenset()
    assert examples.questions == {"rsivqa": [(image, q) for q in TEMPLATE_QUESTIONS["rsivqa"]]}
    nothing = find_examples({"rsivqa": SourceConfig(DataConfig(dataset="rsivqa"), ["vqa"])}, ["rsivqa"])
    assert nothing.images == [] and {image for image, _ in nothing.questions["rsivqa"]} == {None}


def test_each_set_takes_examples_from_its_own_datasets_root(tiny_world: Path, tmp_path: Path):
    """RSVQA-LR's root holds its files (its val split: real examples); RSIVQA's an empty folder."""
    sources = {
        "rsivqa": SourceConfig(DataConfig(dataset="rsivqa", root=str(tmp_path)), ["vqa"]),
        "rsvqa_lr": SourceConfig(DataConfig(dataset="rsvqa_lr", root=str(tiny_world)), ["vqa"]),
    }
    examples = find_examples(sources, ["rsivqa", "rsvqa_lr"])
    assert examples.real == {"rsvqa_lr"} and list(examples.questions) == ["rsivqa", "rsvqa_lr"]
    rows = json.loads((tiny_world / "rsvqa_lr" / "LR_split_val_questions.json").read_text())["questions"]
    val = {(row["img_id"], row["question"]) for row in rows if row.get("active")}
    tiles = [(Path(str(tile)), q) for tile, q in examples.questions["rsvqa_lr"]]
    assert tiles and all(tile.is_file() and (int(tile.stem), q) in val for tile, q in tiles)
    assert [q for _, q in examples.questions["rsivqa"]] == list(TEMPLATE_QUESTIONS["rsivqa"])
