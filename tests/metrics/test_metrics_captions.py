import json
import math
import shutil
import subprocess
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.meteor.meteor import Meteor
from pycocoevalcap.rouge.rouge import Rouge
from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

from spatialnet.cli.main import main
from spatialnet.errors import DataError, SpatialNetError
from spatialnet.metrics import captions_java
from spatialnet.metrics.captions import (
    METRIC_NAMES,
    read_predictions,
    read_references,
    score_captions,
)

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None, reason="pycocoevalcap's PTB tokeniser and METEOR need `java` on PATH"
)

# Lower-case words without punctuation: the PTB tokeniser leaves them as they are.
HAND_REFS = {
    1: ["the cat sat on the mat", "there is a cat on the mat"],
    2: ["a red car parked here", "one red car on a road"],
}
HAND_PREDS = {1: "a cat sat on the mat", 2: "a red car"}


def test_identical_captions_score_one() -> None:
    refs = {7: ["a plane is parked at the airport", "a plane is parked at the airport"], 9: ["green trees"]}
    scores = score_captions(refs, {7: "a plane is parked at the airport", 9: "green trees"})
    for n in range(1, 5):
        assert scores.metrics[f"Bleu_{n}"] == pytest.approx(1.0, abs=1e-6)
    assert scores.metrics["ROUGE_L"] == pytest.approx(1.0)
    assert list(scores.metrics) == list(METRIC_NAMES)
    assert scores.num_images == 2


def test_bleu_by_hand() -> None:
    # Image 1, candidate "a cat sat on the mat" (6 words), refs of 6 and 7 words:
    #   1-grams 6/6; 2-grams 5/5 (a cat | cat sat, sat on, on the, the mat);
    #   3-grams 3/4 ("a cat sat" in no ref); 4-grams 2/3 (cat sat on the, sat on the mat);
    #   closest ref length 6.
    # Image 2, candidate "a red car" (3 words), refs of 5 and 6 words:
    #   1-grams 3/3; 2-grams 2/2; 3-grams 1/1; 4-grams 0/0; closest ref length 5.
    # Corpus counts: correct (9, 7, 4, 2) over guessed (9, 7, 5, 3); length 9 vs 6 + 5 = 11,
    # brevity penalty exp(1 - 11/9) = exp(-2/9); Bleu_n = BP * (p1 ... pn) ** (1/n).
    bp = math.exp(-2 / 9)
    expected = {
        "Bleu_1": bp,
        "Bleu_2": bp,
        "Bleu_3": bp * (4 / 5) ** (1 / 3),
        "Bleu_4": bp * (4 / 5 * 2 / 3) ** (1 / 4),
    }
    scores = score_captions(HAND_REFS, HAND_PREDS)
    for name, value in expected.items():
        assert scores.metrics[name] == pytest.approx(value, abs=1e-6), name
    # Image 1 alone: (1 * 1 * 3/4 * 2/3) ** (1/4) with no brevity penalty (6 words vs 6).
    assert scores.per_image[1]["Bleu_4"] == pytest.approx(0.5**0.25, abs=1e-6)
    assert set(scores.per_image) == {1, 2}
    assert all(set(values) == {"CIDEr", "Bleu_4"} for values in scores.per_image.values())


def _pycocoevalcap_directly(refs: dict[int, list[str]], preds: dict[int, str]) -> dict[str, float]:
    """The reference recipe (pycocoevalcap/eval.py): tokenise each side, then each scorer."""
    tokenizer = PTBTokenizer()
    gts = tokenizer.tokenize({i: [{"caption": s} for s in sentences] for i, sentences in refs.items()})
    res = tokenizer.tokenize({i: [{"caption": c}] for i, c in preds.items()})
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    out = {f"Bleu_{n + 1}": bleu[n] for n in range(4)}
    meteor = Meteor()
    out["METEOR"], _ = meteor.compute_score(gts, res)
    captions_java.stop(meteor)  # pycocoevalcap's __del__ leaves the pipes open (ResourceWarning)
    out["ROUGE_L"], _ = Rouge().compute_score(gts, res)
    out["CIDEr"], _ = Cider().compute_score(gts, res)
    return {name: float(value) for name, value in out.items()}


@pytest.mark.slow
def test_same_numbers_as_pycocoevalcap() -> None:
    refs = {
        3: ["Many buildings and green trees are around a parking lot.", "Cars are parked in the lot ."],
        5: ["A river runs through the forest.", "There is a river with green trees on both sides ."],
        8: ["Some white tanks sit near a road.", "Storage tanks are next to the road ."],
        11: ["A café near the rôad, naïvely drawn.", "It is a small café beside a road ."],
        12: ["An empty field.", "Bare land with nothing on it ."],
    }
    preds = {
        3: "Cars are parked in a parking lot near green trees.",
        5: "a river with trees",
        8: "Several storage tanks are next to a road .",
        11: "a café beside the road",
        12: "...",  # tokenises to the empty string: must score 0, not crash METEOR
    }
    ours = score_captions(refs, preds)
    assert ours.metrics == pytest.approx(_pycocoevalcap_directly(refs, preds), abs=1e-9)
    assert set(ours.per_image) == set(refs)
    assert ours.per_image[12] == pytest.approx({"CIDEr": 0.0, "Bleu_4": 0.0}, abs=1e-3)


def test_line_breaks_inside_a_caption_do_not_shift_the_others() -> None:
    # PTBTokenizer reads one caption per line: an embedded \r must not misalign later captions.
    folded = score_captions(HAND_REFS, {1: "a cat sat\ron the mat", 2: "a red\u2028car"})
    assert folded.metrics == pytest.approx(score_captions(HAND_REFS, HAND_PREDS).metrics)


@pytest.mark.slow
def test_meteor_instance_is_reused_and_restarted_when_dead() -> None:
    first = score_captions(HAND_REFS, HAND_PREDS)
    meteor = captions_java.shared_meteor()
    score_captions(HAND_REFS, HAND_PREDS)
    assert captions_java.shared_meteor() is meteor
    meteor.meteor_p.kill()
    meteor.meteor_p.wait()
    again = score_captions(HAND_REFS, HAND_PREDS)
    assert captions_java.shared_meteor() is not meteor
    assert again.metrics == first.metrics


def test_meteor_failure_stops_the_jvm_and_frees_its_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stand-in for a METEOR JVM that died mid-protocol while pycocoevalcap held its lock.
    process = subprocess.Popen(
        ["sh", "-c", "echo 'Error: out of memory' >&2; exit 1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.wait()
    lock = threading.Lock()

    def broken_compute_score(gts: Any, res: Any) -> Any:
        lock.acquire()
        raise BrokenPipeError("[Errno 32] Broken pipe")

    fake = SimpleNamespace(meteor_p=process, lock=lock, compute_score=broken_compute_score)
    monkeypatch.setattr(captions_java, "shared_meteor", lambda: fake)
    with pytest.raises(
        SpatialNetError, match="METEOR .* failed: .*Broken pipe; it said: 'Error: out of memory'"
    ):
        captions_java.meteor_score({1: ["a"]}, {1: ["a"]})
    assert not lock.locked() and process.stdout is not None and process.stdout.closed


@pytest.mark.parametrize(
    ("predictions", "pattern"),
    [
        ({1: "a cat"}, r"missing 1 id \[2\]"),
        ({1: "a", 2: "b", 5: "c", 6: "d"}, r"extra 2 ids \[5, 6\]"),
        (
            [
                {"image_id": 1, "caption": "a"},
                {"image_id": 2, "caption": "b"},
                {"image_id": 2, "caption": "c"},
            ],
            r"duplicated 1 id \[2\]",
        ),
        ({}, "no predictions"),
        ({1: "a", 2: 3}, "'caption' must be a string"),
        ([{"image_id": "1", "caption": "a"}], "'image_id' must be an integer"),
        ([{"image_id": True, "caption": "a"}], "'image_id' must be an integer"),
    ],
)
def test_prediction_errors(predictions: Any, pattern: str) -> None:
    with pytest.raises(DataError, match=rf"^preds\.json: .*{pattern}"):
        score_captions(HAND_REFS, predictions, source="preds.json")


def test_mismatch_lists_are_truncated_with_counts() -> None:
    refs = {i: ["a b c"] for i in range(30)}
    with pytest.raises(DataError, match=r"missing 25 ids \[5, 6, 7, 8, 9, 10, 11, 12, 13, 14, \.\.\.\]"):
        score_captions(refs, {i: "a b c" for i in range(5)})


@pytest.mark.parametrize(
    ("references", "pattern"),
    [
        ({1: []}, "image 1 has no sentences"),
        ({1: "a cat"}, "image 1 has no sentences"),
        ({1: ["a cat", "  "]}, "image 1 sentence 1 is not a non-empty string"),
        ({"1": ["a cat"]}, "image id '1' is not an integer"),
    ],
)
def test_reference_errors(references: Any, pattern: str) -> None:
    with pytest.raises(DataError, match=f"references: {pattern}"):
        score_captions(references, {1: "a cat"})


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (None, "no such file"),
        (b"[]", "the predictions list is empty"),
        (b'[{"image_id": 1, "caption": "a"', "invalid JSON at line 1"),
        (b'\xff\xfe[{"image_id": 1}]', r"not UTF-8 text \(byte 0xff at offset 0\)"),
        (b'{"image_id": 1, "caption": "a"}', "expected a JSON list"),
        (b'[{"image_id": 1, "caption": "a"}, {"caption": "b"}]', "row 1: 'image_id' must be an integer"),
        (b'[{"image_id": 1, "caption": null}]', "row 0: 'caption' must be a string"),
    ],
)
def test_read_predictions_errors(tmp_path: Path, content: bytes | None, pattern: str) -> None:
    path = tmp_path / "preds.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=f"^{path}: {pattern}"):
        read_predictions(path)


def _karpathy(tmp_path: Path) -> Path:
    def image(imgid: int, split: str, raws: list[str]) -> dict[str, Any]:
        sentences = [{"raw": raw, "tokens": raw.lower().split()[:-1] + ["typo"]} for raw in raws]
        return {"filename": f"{imgid + 1}.tif", "imgid": imgid, "split": split, "sentences": sentences}

    images = [
        image(0, "train", ["A farm field .", "Green crops ."]),
        image(1, "test", ["There is a piece of farmland .", "It is a piece of cropland ."]),
        image(2, "test", ["Many planes are parked .", "An airport with planes ."]),
    ]
    return _write(tmp_path / "dataset.json", {"images": images, "dataset": "ucm"})


def test_read_references_uses_raw(tmp_path: Path) -> None:
    refs = read_references(_karpathy(tmp_path), "test")
    assert refs == {
        1: ["There is a piece of farmland .", "It is a piece of cropland ."],
        2: ["Many planes are parked .", "An airport with planes ."],
    }


def test_read_references_errors(tmp_path: Path) -> None:
    path = _karpathy(tmp_path)
    with pytest.raises(DataError, match=f"^{path}: no images in split 'val'; available splits: test, train"):
        read_references(path, "val")
    with pytest.raises(DataError, match="no such file"):
        read_references(tmp_path / "absent.json", "test")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"images": [')
    with pytest.raises(DataError, match=f"^{bad}: invalid JSON"):
        read_references(bad, "test")
    bad.write_bytes(b"\xff\xfe{}")
    with pytest.raises(DataError, match=f"^{bad}: not UTF-8"):
        read_references(bad, "test")
    _write(bad, {"images": [{"filename": "3.tif", "imgid": 3, "split": "test", "sentences": []}]})
    with pytest.raises(DataError, match=r"image 3.tif \(imgid 3\) has an empty caption or none"):
        read_references(bad, "test")
    _write(bad, {"images": [{"imgid": 3, "split": "test", "sentences": []}]})
    with pytest.raises(DataError, match=r"images\[0\] has no 'filename'"):
        read_references(bad, "test")


def test_cli_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = _karpathy(tmp_path)
    preds = _write(
        tmp_path / "preds.json",
        [{"image_id": 2, "caption": "many planes are parked"}, {"image_id": 1, "caption": "a farmland"}],
    )
    out = tmp_path / "scores" / "scores.json"
    argv = ["score-captions", "--references", str(dataset), "--predictions", str(preds), "--out", str(out)]
    assert main(argv) == 0
    assert "Bleu_4" in capsys.readouterr().out
    document = json.loads(out.read_text(encoding="utf-8"))
    assert set(document) == {
        "references", "split", "predictions", "num_images", "metrics", "per_image", "unavailable",
        "backend", "implementations", "notes",
    }  # fmt: skip
    assert document["split"] == "test" and document["num_images"] == 2
    assert document["predictions"] == str(preds) and document["references"] == str(dataset)
    assert set(document["metrics"]) == set(METRIC_NAMES)  # write_json sorts keys
    assert set(document["per_image"]) == {"1", "2"}
    assert "SPICE" in document["unavailable"]
    assert document["backend"] == "java" and document["notes"] == []
    assert document["implementations"]["METEOR"].startswith("METEOR 1.5 (pycocoevalcap")
    assert document["implementations"]["tokenizer"].startswith("Stanford PTBTokenizer")


def test_cli_bad_predictions_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = _karpathy(tmp_path)
    preds = _write(tmp_path / "preds.json", [{"image_id": 1, "caption": "a farmland"}])
    argv = ["score-captions", "--references", str(dataset), "--predictions", str(preds)]
    assert main(argv) == 2
    assert f"{preds}: image ids must match the 2 reference images exactly; missing 1 id [2]" in (
        capsys.readouterr().err
    )
