"""The app on a free localhost port: every endpoint through gradio_client, equal to ``predict``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gradio_client import handle_file

from spatialnet.cli.main import main


def predicted(run, image, capsys, question=None):
    args = ["predict", str(run), "--image", str(image), "--json"]
    assert main([*args, "--question", question] if question else args) == 0
    return json.loads(capsys.readouterr().out)


def test_caption_and_land_use_match_predict(app_client, joint_run, tiny_world, capsys):
    image = sorted((tiny_world / "ucm_captions" / "imgs").iterdir())[0]
    caption, landuse = app_client.predict(handle_file(str(image)), api_name="/caption")
    expected = predicted(joint_run, image, capsys)
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
        "20170615_reflectance_mosaic_128b.hdr", 128, 128, 32, api_name="/forest"
    )
    names = {Path(item["image"]).name for item in maps}
    assert {"fertility_class.png", "lai.png"} <= names, names
    cube = forest / "taiga" / "20170615_reflectance_mosaic_128b.hdr"
    assert main(["predict", str(joint_run), "--cube", str(cube), "--pixel", "128", "128", "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    assert readout["fertility"][0]["label"] == expected["fertility"][0]["label"]
    assert readout["lai"]["value"] == pytest.approx(expected["lai"]["value"], rel=1e-5)
    with pytest.raises(Exception, match="not in the list of choices"):  # no path a person names is read
        app_client.predict("/etc/passwd", 128, 128, 32, api_name="/forest")
