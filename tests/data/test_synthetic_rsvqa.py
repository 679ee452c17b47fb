"""Tests of the synthetic world's RSVQA-LR output (questions.py, rsvqa_world.py)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from PIL import Image

from spatialnet.cli.main import main
from spatialnet.data.rsvqa.answers import QUESTION_TYPES, bin_count
from spatialnet.data.rsvqa.files import read_split
from spatialnet.data.synthetic import SynthSummary, synthesize
from spatialnet.data.synthetic.questions import (
    NOUNS,
    Phrase,
    Question,
    count_of,
    generate_questions,
    question_quotas,
)
from spatialnet.data.synthetic.rsvqa_world import DATE_ADDED, contrast_scene
from spatialnet.data.synthetic.scene_graph import Scene, SceneObject
from spatialnet.metrics.vqa import score_vqa
from spatialnet.metrics.vqa_baselines import blind_answers

REAL_LR = Path(__file__).resolve().parents[3] / "shared" / "data" / "rsvqa_lr"
N_IMAGES = 105  # five per class: about ten test images
PER_IMAGE = 30
SPLITS = ("train", "val", "test")
KINDS = ("images", "questions", "answers")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[SynthSummary, list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("rsvqa_world")
    summary = synthesize(root, seed=4, num_images=N_IMAGES, progress=False, questions_per_image=PER_IMAGE)
    scenes = [json.loads(line) for line in (root / "scenes.jsonl").read_text().splitlines()]
    return summary, scenes


def _split_file(root: Path, split: str, kind: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        (root / "rsvqa_lr" / f"LR_split_{split}_{kind}.json").read_text()
    )[kind]
    return rows


def _active_qa(root: Path, split: str) -> list[tuple[dict[str, Any], str]]:
    """(question row, answer) of every active question of a split, read from the files."""
    answers = _split_file(root, split, "answers")
    return [
        (q, answers[q["answers_ids"][0]]["answer"])
        for q in _split_file(root, split, "questions")
        if q["active"]
    ]


# ---- format ------------------------------------------------------------------------------------


def test_split_files_are_id_indexed_and_split_by_image(
    world: tuple[SynthSummary, list[dict[str, Any]]],
) -> None:
    summary, scenes = world
    root = summary.root
    n_questions = len(_split_file(root, "train", "questions"))
    owner: dict[int, str] = {}
    per_image: list[int] = []
    for split in SPLITS:
        images, questions, answers = (_split_file(root, split, k) for k in KINDS)
        assert len(images) == N_IMAGES and len(questions) == len(answers) == n_questions
        for kind, rows in (("images", images), ("questions", questions), ("answers", answers)):
            for i, row in enumerate(rows):
                assert row["id"] == i, (split, kind, i)
                if not row["active"]:
                    assert row == {"id": i, "active": False}
        for scene, img in zip(scenes, images, strict=True):
            assert img["active"] == (scene["split"] == split)
            if not img["active"]:
                continue
            assert img == {
                "id": scene["image_id"],
                "date_added": DATE_ADDED,
                "original_name": scene["filename"],
                "sensor": "synthetic",
                "res_x": "0.3m",
                "res_y": "0.3m",
                "people_id": 0,
                "type": "RGB",
                "questions_ids": img["questions_ids"],
                "active": True,
            }
            assert 1 <= len(img["questions_ids"]) <= PER_IMAGE
            per_image.append(len(img["questions_ids"]))
            for qid in img["questions_ids"]:
                q, a = questions[qid], answers[qid]
                assert q["active"] and q["img_id"] == img["id"] and q["answers_ids"] == [qid]
                assert set(q) == {
                    "id",
                    "date_added",
                    "img_id",
                    "people_id",
                    "type",
                    "question",
                    "answers_ids",
                    "active",
                }
                assert a == {
                    "id": qid,
                    "date_added": DATE_ADDED,
                    "question_id": qid,
                    "people_id": 0,
                    "answer": a["answer"],
                    "active": True,
                }
                assert qid not in owner
                owner[qid] = split
        active = {q["id"] for q in questions if q["active"]}
        assert active == {qid for qid, s in owner.items() if s == split}
    assert sorted(owner) == list(range(n_questions))  # every question in exactly one split
    assert np.mean(per_image) >= 0.95 * PER_IMAGE  # slots rarely stay empty
    counts = {s: sum(c.values()) for s, c in summary.rsvqa.counts.items()} if summary.rsvqa else {}
    assert counts == {s: sum(v == s for v in owner.values()) for s in SPLITS}


def test_answer_vocabulary_and_one_rural_urban_per_image(
    world: tuple[SynthSummary, list[dict[str, Any]]],
) -> None:
    summary, scenes = world
    for split in SPLITS:
        per_image: Counter[int] = Counter()
        for q, answer in _active_qa(summary.root, split):
            assert q["type"] in QUESTION_TYPES
            if q["type"] == "count":
                assert re.fullmatch(r"\d+", answer), answer  # raw, as the real files
            elif q["type"] == "rural_urban":
                assert q["question"] == "Is it a rural or an urban area"
                assert answer == scenes[q["img_id"]]["rural_urban"]
                per_image[q["img_id"]] += 1
            else:
                assert answer in ("yes", "no")
        assert per_image == Counter({s["image_id"]: 1 for s in scenes if s["split"] == split})


def test_tiffs_hold_the_same_images(world: tuple[SynthSummary, list[dict[str, Any]]]) -> None:
    summary, scenes = world
    for scene in scenes[:3]:
        path = summary.root / "rsvqa_lr" / "Images_LR" / f"{scene['image_id']}.tif"
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            assert page.compression == 1 and page.photometric == 2  # none, RGB
            pixels = page.asarray()
        assert pixels.shape == (256, 256, 3) and pixels.dtype == np.uint8
        with Image.open(summary.root / "ucm_captions" / "imgs" / scene["filename"]) as im:
            jpeg = np.asarray(im.convert("RGB"), dtype=np.float64)
        assert np.abs(jpeg - pixels).mean() < 3.0  # the UCM JPEG of the same pixels


def test_format_matches_the_real_files(world: tuple[SynthSummary, list[dict[str, Any]]]) -> None:
    if not (REAL_LR / "LR_split_test_answers.json").exists():
        pytest.skip(f"../shared/data absent: {REAL_LR} not found")
    summary, _ = world
    real_img = next(
        r for r in json.loads((REAL_LR / "LR_split_test_images.json").read_text())["images"] if r["active"]
    )
    real_ans = next(
        r for r in json.loads((REAL_LR / "LR_split_test_answers.json").read_text())["answers"] if r["active"]
    )
    ours_img = next(r for r in _split_file(summary.root, "test", "images") if r["active"])
    ours_ans = next(r for r in _split_file(summary.root, "test", "answers") if r["active"])
    assert set(ours_img) <= set(real_img)  # the real rows also carry map coordinates
    assert set(ours_ans) == set(real_ans)
    for key in ours_img:
        assert type(ours_img[key]) is type(real_img[key]), key
    real_tif = sorted((REAL_LR / "Images_LR").glob("*.tif"))[0]
    with (
        tifffile.TiffFile(real_tif) as real,
        tifffile.TiffFile(summary.root / "rsvqa_lr/Images_LR/0.tif") as ours,
    ):
        a, b = real.pages[0], ours.pages[0]
        assert (a.shape, a.dtype, a.compression, a.photometric, a.planarconfig) == (
            b.shape,
            b.dtype,
            b.compression,
            b.photometric,
            b.planarconfig,
        )


# ---- answers, recomputed here from scenes.jsonl --------------------------------------------------

ATTRS = ("small", "medium", "large", "circular", "rectangular", "square")
SIDES = {
    "on the left of": "left",
    "on the right of": "right",
    "at the top of": "top",
    "at the bottom of": "bottom",
}
_NOUN = "|".join(sorted(NOUNS, key=len, reverse=True))
_ONE = rf"(?:({'|'.join(ATTRS)}) )?({_NOUN})"
_MANY = rf"(?:({'|'.join(ATTRS)}) )?({_NOUN})(?:e?s)"
_REL = rf"(?: (next to|{'|'.join(SIDES)}) an? {_ONE})?"
_SUFFIX = r"(?: in the image)?\?"
PRESENCE = re.compile(rf"Is (?:there an? {_ONE}{_REL}{_SUFFIX}|an? {_ONE}{_REL} present{_SUFFIX})")
COUNT = re.compile(
    rf"(?:How many {_MANY}{_REL} are there|What is the (?:number|amount) of {_MANY}{_REL}){_SUFFIX}"
)
COMP = re.compile(
    rf"(?:Are there (more|less) {_MANY}{_REL} than {_MANY}{_REL}"
    rf"|Is the number of {_MANY}{_REL} equal to the number of {_MANY}{_REL}){_SUFFIX}"
)


def _matches(obj: dict[str, Any], attr: str | None, noun: str) -> bool:
    kind, subtype = NOUNS[noun]
    return (
        obj["kind"] == kind
        and (subtype is None or obj["subtype"] == subtype)
        and (attr is None or attr in (obj["size"], obj["shape"]))
    )


def _related(a: dict[str, Any], b: dict[str, Any], relation: str, size: int) -> bool:
    """The documented relations, from the stored bbox and centre."""
    if a["id"] == b["id"]:
        return False
    ax0, ay0, ax1, ay1 = a["bbox"]
    bx0, by0, bx1, by1 = b["bbox"]
    if relation == "next to":
        gap_x, gap_y = max(0.0, max(ax0, bx0) - min(ax1, bx1)), max(0.0, max(ay0, by0) - min(ay1, by1))
        return bool((gap_x**2 + gap_y**2) ** 0.5 <= 8 / 256 * size)
    cx, cy = a["centre"]
    return {"left": cx < bx0, "right": cx > bx1, "top": cy < by0, "bottom": cy > by1}[SIDES[relation]]


def _count(scene: dict[str, Any], groups: tuple[str | None, ...]) -> int:
    """Objects of the phrase (attr, noun, relation, attr2, noun2) in a scene dict."""
    attr, noun, relation, attr2, noun2 = groups
    assert noun is not None
    found = [o for o in scene["objects"] if _matches(o, attr, noun)]
    if relation is None:
        return len(found)
    assert noun2 is not None
    others = [o for o in scene["objects"] if _matches(o, attr2, noun2)]
    return sum(any(_related(a, b, relation, scene["image_size"]) for b in others) for a in found)


def _recomputed(q: dict[str, Any], scene: dict[str, Any]) -> tuple[str, str]:
    """(answer, family) of a question, from its text and the scene dict alone."""
    text = q["question"]
    if q["type"] == "presence":
        m = PRESENCE.fullmatch(text)
        assert m, text
        g = m.groups()
        phrase = g[:5] if g[1] else g[5:]
        return ("yes" if _count(scene, phrase) else "no"), (
            "relation" if phrase[2] else "attribute" if phrase[0] else "plain"
        )
    if q["type"] == "count":
        m = COUNT.fullmatch(text)
        assert m, text
        g = m.groups()
        phrase = g[:5] if g[1] else g[5:]
        return str(_count(scene, phrase)), (
            "relation" if phrase[2] else "attribute" if phrase[0] else "plain"
        )
    m = COMP.fullmatch(text)
    assert m, text
    g = m.groups()
    if g[0]:
        na, nb = _count(scene, g[1:6]), _count(scene, g[6:11])
        holds = na > nb if g[0] == "more" else na < nb
        return ("yes" if holds else "no"), g[0]
    na, nb = _count(scene, g[11:16]), _count(scene, g[16:21])
    return ("yes" if na == nb else "no"), "equal"


def test_answers_recomputed_from_scene_graphs(world: tuple[SynthSummary, list[dict[str, Any]]]) -> None:
    summary, scenes = world
    families: Counter[tuple[str, str]] = Counter()
    for split in SPLITS:
        for q, answer in _active_qa(summary.root, split):
            if q["type"] == "rural_urban":
                continue
            expected, family = _recomputed(q, scenes[q["img_id"]])
            assert answer == expected, (q["question"], q["img_id"])
            families[q["type"], family] += 1
    for key in [(t, f) for t in ("presence", "count") for f in ("plain", "attribute", "relation")]:
        assert families[key] >= 20, (key, families)
    for relation in ("more", "less", "equal"):
        assert families["comp", relation] >= 50, families


def test_phrase_objects_on_a_hand_made_scene() -> None:
    def box(
        i: int, kind: str, x0: float, y0: float, x1: float, y1: float, shape: str, subtype: str | None = None
    ) -> SceneObject:
        poly = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        return SceneObject(i, kind, poly, shape, "medium", (0, 0, 0), subtype=subtype)

    scene = Scene(256, "river", 0, "grass", (0, 0, 0))
    scene.objects = [
        box(0, "water area", 150, 100, 250, 200, "square"),
        box(1, "road", 10, 100, 30, 250, "rectangular"),  # far left of the water
        box(2, "building", 130, 120, 146, 136, "square", "residential"),  # 4 px from the water
        box(3, "building", 10, 10, 26, 26, "square", "commercial"),  # top left
    ]
    water = Phrase("water area")
    assert count_of(scene, Phrase("building")) == 2
    assert count_of(scene, Phrase("residential building", "square")) == 1
    assert count_of(scene, Phrase("building", "circular")) == 0
    assert [o.id for o in Phrase("road", None, "on the left of", water).objects(scene)] == [1]
    assert [o.id for o in Phrase("building", None, "next to", water).objects(scene)] == [2]
    assert [o.id for o in Phrase("building", None, "at the top of", water).objects(scene)] == [3]
    assert Phrase("road", None, "on the right of", water).objects(scene) == []
    assert Phrase("residential building", "circular", "at the top of", Phrase("road")).text(plural=True) == (
        "circular residential buildings at the top of a road"
    )
    assert Phrase("beach").text(plural=True) == "beaches"
    assert Phrase("building", None, "next to", Phrase("airplane")).text() == "building next to an airplane"


# ---- determinism --------------------------------------------------------------------------------


def test_same_seed_same_bytes_and_independent_of_image_count(tmp_path: Path) -> None:
    kwargs: dict[str, Any] = {"num_images": 21, "image_size": 64, "progress": False}
    a = synthesize(tmp_path / "a", seed=7, **kwargs)
    b = synthesize(tmp_path / "b", seed=7, **kwargs)
    files = [f"LR_split_{s}_{k}.json" for s in SPLITS for k in KINDS] + [
        "Images_LR/0.tif",
        "Images_LR/20.tif",
    ]
    for rel in files:
        assert (a.root / "rsvqa_lr" / rel).read_bytes() == (b.root / "rsvqa_lr" / rel).read_bytes(), rel
    c = synthesize(tmp_path / "c", seed=8, **kwargs)
    assert (c.root / "rsvqa_lr/LR_split_train_questions.json").read_bytes() != (
        a.root / "rsvqa_lr/LR_split_train_questions.json"
    ).read_bytes()
    big = synthesize(tmp_path / "big", seed=7, **{**kwargs, "num_images": 25})

    def texts(root: Path, image_id: int) -> list[tuple[str, str]]:
        return [
            (q["question"], ans) for s in SPLITS for q, ans in _active_qa(root, s) if q["img_id"] == image_id
        ]

    for image_id in (0, 5, 20):
        assert texts(a.root, image_id) == texts(big.root, image_id) != []


def test_ucm_output_unchanged_and_rsvqa_optional(tmp_path: Path) -> None:
    on = synthesize(tmp_path / "on", seed=2, num_images=21, image_size=64, progress=False)
    off = synthesize(tmp_path / "off", seed=2, num_images=21, image_size=64, progress=False, rsvqa=False)
    assert off.rsvqa is None and not (off.root / "rsvqa_lr").exists()
    for rel in (
        "ucm_captions/dataset.json",
        "scenes.jsonl",
        *(f"ucm_captions/imgs/{i}.jpg" for i in range(1, 22)),
    ):
        assert (on.root / rel).read_bytes() == (off.root / rel).read_bytes(), rel


# ---- balance and the blind baseline ---------------------------------------------------------------


def test_question_quotas() -> None:
    assert question_quotas(20) == {"rural_urban": 1, "presence": 6, "count": 6, "comp": 7}
    assert question_quotas(1) == {"rural_urban": 1, "presence": 0, "count": 0, "comp": 0}
    for n in range(1, 40):
        assert sum(question_quotas(n).values()) == n
    with pytest.raises(ValueError, match="questions per image"):
        question_quotas(0)


def test_answers_balanced_per_family(world: tuple[SynthSummary, list[dict[str, Any]]]) -> None:
    summary, _ = world
    assert summary.rsvqa is not None
    questions = [q for qs in summary.rsvqa.questions.values() for q in qs]
    by_template: dict[str, Counter[str]] = {}
    for q in questions:
        by_template.setdefault(q.template, Counter())[q.answer] += 1
    for qtype in ("presence", "comp"):
        yes = [q.answer == "yes" for q in questions if q.type == qtype]
        assert 0.4 <= np.mean(yes) <= 0.6, qtype
        for template, answers in by_template.items():
            if template.startswith(qtype) and sum(answers.values()) >= 50:
                assert 0.35 <= answers["yes"] / sum(answers.values()) <= 0.65, (template, answers)
    bins = Counter(bin_count(int(q.answer)) for q in questions if q.type == "count")
    assert max(bins.values()) / sum(bins.values()) < 0.6, bins
    assert len(bins) >= 3, bins


def test_blind_baseline_near_chance_on_the_world(world: tuple[SynthSummary, list[dict[str, Any]]]) -> None:
    summary, _ = world
    train = read_split(summary.root / "rsvqa_lr", "train", require_images=False).questions
    held_out = [
        q
        for s in ("val", "test")
        for q in read_split(summary.root / "rsvqa_lr", s, require_images=False).questions
    ]
    scores = score_vqa(held_out, blind_answers(train, held_out))
    assert set(scores.accuracy) == set(QUESTION_TYPES)
    assert scores.accuracy["presence"] < 0.8 and scores.accuracy["comp"] < 0.8
    assert scores.accuracy["count"] < 0.7 and scores.OA < 0.7


def test_generate_questions_is_seeded_and_distinct() -> None:
    from spatialnet.data.synthetic.layouts import layout

    def draw(seed: int) -> list[Question]:
        rng = np.random.default_rng(seed)
        scene = layout("harbor", rng, 128)
        return generate_questions(scene, contrast_scene(scene, rng), rng, 25)

    first = draw(1)
    assert first == draw(1) and first != draw(2)
    assert len({x.question for x in first}) == len(first) >= 20
    assert first[0] == Question(
        "rural_urban", "Is it a rural or an urban area", first[0].answer, "rural_urban"
    )


@pytest.mark.slow
def test_cli_writes_rsvqa_and_reports_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "w"
    assert (
        main(["synth", "--out", str(out), "--num-images", "3", "--questions-per-image", "5", "--no-progress"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "RSVQA-LR questions" in printed
    images = _split_file(out, "train", "images")
    assert len(images) == 3 and all(len(r["questions_ids"]) <= 5 for r in images if r["active"])
    assert (
        main(["synth", "--out", str(tmp_path / "x"), "--num-images", "1", "--questions-per-image", "0"]) == 2
    )
