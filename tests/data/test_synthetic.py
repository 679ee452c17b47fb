"""Tests of the synthetic remote-sensing world (spatialnet.data.synthetic)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from spatialnet.data.synthetic import SynthSummary, synthesize
from spatialnet.data.synthetic.captions import COUNT_WORDS, NUMBER_WORD_MAX, count_phrase, tokens
from spatialnet.data.synthetic.classes import UCM_CLASSES
from spatialnet.data.synthetic.layouts import layout
from spatialnet.data.synthetic.scene_graph import (
    COVER_TYPES,
    SceneObject,
    clip_polygon,
    direction,
    next_to,
    polygon_area,
)
from spatialnet.data.synthetic.world import assign_classes, assign_splits

REAL_DATASET = Path(__file__).resolve().parents[3] / "shared" / "data" / "ucm_captions" / "dataset.json"
N_IMAGES = 63  # three per class


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[SynthSummary, dict[str, Any], list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("synth")
    summary = synthesize(root, seed=3, num_images=N_IMAGES, progress=False)
    data = json.loads((root / "ucm_captions" / "dataset.json").read_text())
    scenes = [json.loads(line) for line in (root / "scenes.jsonl").read_text().splitlines()]
    return summary, data, scenes


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = synthesize(tmp_path / "a", seed=7, num_images=21, progress=False)
    b = synthesize(tmp_path / "b", seed=7, num_images=21, progress=False)
    for rel in (
        "ucm_captions/dataset.json",
        "scenes.jsonl",
        "ucm_captions/imgs/1.jpg",
        "ucm_captions/imgs/11.jpg",
        "ucm_captions/imgs/21.jpg",
    ):
        assert (a.root / rel).read_bytes() == (b.root / rel).read_bytes(), rel
    c = synthesize(tmp_path / "c", seed=8, num_images=21, progress=False)
    assert (c.root / "scenes.jsonl").read_bytes() != (a.root / "scenes.jsonl").read_bytes()


def test_worker_processes_do_not_change_the_files(tmp_path: Path) -> None:
    one = synthesize(tmp_path / "one", seed=5, num_images=24, progress=False, workers=1)
    two = synthesize(tmp_path / "two", seed=5, num_images=24, progress=False, workers=2)
    files = sorted(p.relative_to(one.root) for p in one.root.rglob("*") if p.is_file())
    # dataset.json, scenes.jsonl, JPEGs, TIFFs, RSVQA split files, RSIVQA's ucm_res.txt
    assert len(files) == 2 + 24 + 24 + 9 + 1
    assert files == sorted(p.relative_to(two.root) for p in two.root.rglob("*") if p.is_file())
    for rel in files:
        assert (one.root / rel).read_bytes() == (two.root / rel).read_bytes(), rel


def test_image_independent_of_dataset_size(tmp_path: Path) -> None:
    small = synthesize(tmp_path / "s", seed=1, num_images=21, progress=False)
    big = synthesize(tmp_path / "b", seed=1, num_images=25, progress=False)
    assert (small.root / "ucm_captions/imgs/5.jpg").read_bytes() == (
        big.root / "ucm_captions/imgs/5.jpg"
    ).read_bytes()


def _check_schema(data: dict[str, Any]) -> None:
    assert set(data) == {"images", "dataset"} and data["dataset"] == "UCM"
    next_sentid = 0
    for i, rec in enumerate(data["images"]):
        assert set(rec) == {"filename", "imgid", "split", "sentids", "sentences"}
        assert rec["imgid"] == i and rec["filename"] == f"{i + 1}.jpg"
        assert rec["split"] in ("train", "val", "test")
        assert len(rec["sentences"]) == 5 and rec["sentids"] == [s["sentid"] for s in rec["sentences"]]
        for s in rec["sentences"]:
            assert set(s) == {"tokens", "raw", "imgid", "sentid"}
            assert s["imgid"] == i and s["sentid"] == next_sentid
            assert s["raw"].endswith(" .") and s["raw"][0].isupper()
            assert s["tokens"] == s["raw"][:-2].lower().split()
            next_sentid += 1


def test_dataset_json_schema(world: tuple[SynthSummary, dict[str, Any], list[dict[str, Any]]]) -> None:
    summary, data, _ = world
    _check_schema(data)
    assert len(data["images"]) == summary.num_images == N_IMAGES
    for rec in data["images"]:
        with Image.open(summary.root / "ucm_captions" / "imgs" / rec["filename"]) as im:
            assert im.format == "JPEG" and im.size == (256, 256) and im.mode == "RGB"


def test_schema_matches_real_ucm_captions(
    world: tuple[SynthSummary, dict[str, Any], list[dict[str, Any]]],
) -> None:
    if not REAL_DATASET.exists():
        pytest.skip(f"../shared/data absent: {REAL_DATASET} not found")
    real = json.loads(REAL_DATASET.read_text())
    _, data, _ = world
    assert set(real) == set(data)
    assert set(real["images"][0]) == set(data["images"][0])
    assert set(real["images"][0]["sentences"][0]) == set(data["images"][0]["sentences"][0])
    for key in ("filename", "imgid", "split", "sentids"):
        assert type(real["images"][0][key]) is type(data["images"][0][key])


def test_every_class_and_balanced_splits(
    world: tuple[SynthSummary, dict[str, Any], list[dict[str, Any]]],
) -> None:
    summary, data, scenes = world
    assert set(summary.class_counts) == set(UCM_CLASSES) and set(summary.class_counts.values()) == {3}
    assert {s["landuse"] for s in scenes} == set(UCM_CLASSES)
    assert sum(summary.split_counts.values()) == N_IMAGES
    for s, rec in zip(scenes, data["images"], strict=True):
        assert (
            s["image_id"] == rec["imgid"] and s["split"] == rec["split"] and s["filename"] == rec["filename"]
        )
        assert UCM_CLASSES[s["landuse_index"]] == s["landuse"]
    classes = assign_classes(0, 210)
    splits = assign_splits(0, classes)
    for c in UCM_CLASSES:
        got = sorted(sp for cl, sp in zip(classes, splits, strict=True) if cl == c)
        assert got == sorted(["train"] * 8 + ["val", "test"]), c


def test_five_distinct_captions(world: tuple[SynthSummary, dict[str, Any], list[dict[str, Any]]]) -> None:
    _, data, _ = world
    for rec in data["images"]:
        raws = [s["raw"] for s in rec["sentences"]]
        assert len(set(raws)) == 5, raws


def _stated_count(toks: list[str], noun: str) -> int | None | str:
    """The count word before ``noun`` (skipping one adjective); 'absent' when the noun is not there."""
    words = noun.split()
    for i in range(len(toks) - len(words) + 1):
        if toks[i : i + len(words)] == words:
            for j in (i - 1, i - 2):
                if j >= 0 and toks[j] in COUNT_WORDS:
                    return COUNT_WORDS[toks[j]]
            return "unstated"
    return "absent"


@pytest.mark.parametrize(
    ("landuse", "kind", "nouns"),
    [
        ("airplane", "airplane", ("airplane", "airplanes")),
        ("storagetanks", "storage tank", ("storage tank", "storage tanks")),
        ("tenniscourt", "tennis court", ("tennis court", "tennis courts")),
        ("harbor", "boat", ("boat", "boats")),
        ("parkinglot", "car", ("cars",)),
        ("buildings", "building", ("buildings",)),
    ],
)
def test_caption_counts_agree_with_graph(
    world: tuple[SynthSummary, dict[str, Any], list[dict[str, Any]]],
    landuse: str,
    kind: str,
    nouns: tuple[str, ...],
) -> None:
    _, data, scenes = world
    checked = 0
    for rec, scene in zip(data["images"], scenes, strict=True):
        if scene["landuse"] != landuse:
            continue
        true = scene["counts"].get(kind, 0)
        expected = true if true <= NUMBER_WORD_MAX else None
        for s in rec["sentences"]:
            for noun in nouns:
                got = _stated_count(s["tokens"], noun)
                if got in ("absent", "unstated"):
                    continue
                assert got == expected, (s["raw"], scene["counts"])
                checked += 1
    assert checked > 0


def test_count_phrase_rule() -> None:
    assert count_phrase(1, "car", "cars") == "one car"
    assert count_phrase(4, "car", "cars") == "four cars"
    assert count_phrase(NUMBER_WORD_MAX + 1, "car", "cars") == "many cars"
    assert tokens("There are two airplanes at the airport .") == [
        "there",
        "are",
        "two",
        "airplanes",
        "at",
        "the",
        "airport",
    ]


def test_scene_graph_geometry(world: tuple[SynthSummary, dict[str, Any], list[dict[str, Any]]]) -> None:
    _, _, scenes = world
    for s in scenes:
        size = s["image_size"]
        assert abs(sum(s["land_cover"].values()) - 1.0) < 1e-3 and set(s["land_cover"]) == set(COVER_TYPES)
        assert s["rural_urban"] in ("rural", "urban")
        counted: dict[str, int] = {}
        for o in s["objects"]:
            counted[o["kind"]] = counted.get(o["kind"], 0) + 1
            x0, y0, x1, y1 = o["bbox"]
            assert 0 <= x0 <= x1 <= size and 0 <= y0 <= y1 <= size
            assert all(0 <= x <= size and 0 <= y <= size for x, y in o["polygon"])
            assert o["size"] in ("small", "medium", "large")
            assert o["shape"] in ("rectangular", "square", "circular", "irregular")
            assert o["area"] > 0
            assert abs(polygon_area([tuple(p) for p in o["polygon"]]) - o["area"]) < 1.0
        assert counted == s["counts"]
    rural = {s["rural_urban"] for s in scenes if s["landuse"] in ("forest", "chaparral", "agricultural")}
    urban = {s["rural_urban"] for s in scenes if s["landuse"] in ("parkinglot", "denseresidential")}
    assert rural == {"rural"} and urban == {"urban"}


def test_exact_counts_of_a_generated_scene() -> None:
    scene = layout("storagetanks", np.random.default_rng(0), 256)
    tanks = scene.of_kind("storage tank")
    assert scene.counts()["storage tank"] == len(tanks) >= 1
    assert all(t.shape == "circular" for t in tanks)
    forest = layout("forest", np.random.default_rng(0), 128)
    assert forest.land_cover["forest"] > 0.9 and forest.image_size == 128


def test_geometry_helpers() -> None:
    square = [(-10.0, -10.0), (10.0, -10.0), (10.0, 10.0), (-10.0, 10.0)]
    assert polygon_area(clip_polygon(square, 256.0)) == pytest.approx(100.0)
    a = SceneObject(0, "road", [(0, 0), (10, 0), (10, 10), (0, 10)], "square", "small", (0, 0, 0))
    b = SceneObject(1, "building", [(14, 0), (24, 0), (24, 10), (14, 10)], "square", "small", (0, 0, 0))
    assert direction(a, b) == {"left"} and direction(b, a) == {"right"}
    assert next_to(a, b, 256) and not next_to(a, b, 64)


def test_colour_histograms_separate_classes(
    world: tuple[SynthSummary, dict[str, Any], list[dict[str, Any]]],
) -> None:
    """Leave-one-out nearest-centroid on colour histograms beats 1/21 chance by a wide margin."""
    summary, data, scenes = world
    feats, labels = [], []
    for rec, s in zip(data["images"], scenes, strict=True):
        with Image.open(summary.root / "ucm_captions" / "imgs" / rec["filename"]) as im:
            px = np.asarray(im.convert("RGB"), dtype=np.float32).reshape(-1, 3)
        hist = np.concatenate([np.histogram(px[:, c], bins=16, range=(0, 256))[0] for c in range(3)])
        gray = px.mean(axis=1).reshape(256, 256)
        texture = [np.abs(np.diff(gray, axis=0)).mean(), np.abs(np.diff(gray, axis=1)).mean()]
        feats.append(np.concatenate([hist / px.shape[0], np.array(texture) / 50.0]))
        labels.append(s["landuse_index"])
    x, y = np.stack(feats), np.array(labels)
    correct = 0
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        cents = np.stack([x[keep & (y == c)].mean(axis=0) for c in range(len(UCM_CLASSES))])
        correct += int(np.argmin(((cents - x[i]) ** 2).sum(axis=1)) == y[i])
    accuracy = correct / len(y)
    assert accuracy > 0.3, accuracy
