"""The app on a free localhost port: every endpoint through gradio_client, equal to ``predict``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gradio_client import handle_file

from spatialnet.cli.main import main
from tests.helpers import uploaded_cube


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
