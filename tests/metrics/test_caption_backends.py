"""Choosing the caption metrics backend (java, nltk, auto) and recording what produced each metric."""

import json
import math
import shutil
from pathlib import Path
from typing import Any

import nltk
import pytest

from spatialnet.cli.main import main
from spatialnet.errors import SpatialNetError
from spatialnet.metrics import wordnet
from spatialnet.metrics.bootstrap import paired_test
from spatialnet.metrics.caption_tally import caption_tally
from spatialnet.metrics.captions import FALLBACK_NOTE, METRIC_NAMES, resolve_backend, score_captions
from spatialnet.metrics.scoring import caption_metrics

REFS = {
    1: ["the cat sat on the mat", "there is a cat on the mat"],
    2: ["a red car parked here", "one red car on a road"],
}
PREDS = {1: "A cat sat on the mat.", 2: "a red car"}


def _without_java(monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "java" else real_which(name))


@pytest.fixture(scope="module")
def with_wordnet() -> None:
    try:
        wordnet.shared_wordnet()
    except SpatialNetError as err:
        pytest.skip(f"the nltk backend needs WordNet, absent here ({err})")


def test_resolve_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_backend("nltk") == ("nltk", ())
    assert resolve_backend("java") == ("java", ())
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: f"/usr/bin/{name}")
    assert resolve_backend("auto") == ("java", ())
    _without_java(monkeypatch)
    assert resolve_backend("auto") == ("nltk", (FALLBACK_NOTE,))
    with pytest.raises(SpatialNetError, match="backend 'jvm': expected one of auto, java, nltk"):
        resolve_backend("jvm")


def test_java_backend_without_java_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_java(monkeypatch)
    with pytest.raises(SpatialNetError, match="java caption backend needs `java` on PATH.*--backend nltk"):
        score_captions(REFS, PREDS, backend="java")


def test_no_java_and_no_wordnet_says_how_to_get_either(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_found(resource: str) -> None:
        raise LookupError(resource)

    _without_java(monkeypatch)
    monkeypatch.setattr(wordnet, "_SHARED", None)
    monkeypatch.delenv(wordnet.ENV_VAR, raising=False)
    monkeypatch.setattr(nltk.data, "find", not_found)
    monkeypatch.setattr(wordnet, "DEBIAN_FOLDER", tmp_path / "absent")
    with pytest.raises(SpatialNetError, match=r"no WordNet found .*apt install wordnet-base"):
        score_captions(REFS, PREDS)


@pytest.mark.usefixtures("with_wordnet")
def test_auto_falls_back_to_nltk_without_java(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_java(monkeypatch)
    scores = score_captions(REFS, PREDS)
    assert scores.backend == "nltk" and scores.notes == (FALLBACK_NOTE,)
    assert list(scores.metrics) == list(METRIC_NAMES)
    # BLEU on the same tokens as the Java path (test_metrics_captions.py's hand computation).
    assert scores.metrics["Bleu_1"] == pytest.approx(math.exp(-2 / 9), abs=1e-6)
    implementations = scores.implementations
    assert list(implementations) == ["tokenizer", *METRIC_NAMES]
    assert implementations["tokenizer"].startswith(f"nltk {nltk.__version__} Treebank")
    assert implementations["METEOR"].startswith(
        f"nltk {nltk.__version__} meteor_score, alpha/beta/gamma of METEOR 1.5 (WordNet 3.0 from "
    )
    assert all(
        implementations[name].startswith("pycocoevalcap ") for name in METRIC_NAMES if name != "METEOR"
    )
    assert scores.to_dict()["notes"] == [FALLBACK_NOTE]


@pytest.mark.usefixtures("with_wordnet")
def test_caption_metrics_record_the_implementations(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_java(monkeypatch)
    targets = [{"image_id": i, "references": r} for i, r in REFS.items()]
    result = caption_metrics(list(PREDS.values()), targets)
    assert result["implementations"]["METEOR"].startswith("nltk ")
    assert result["notes"] == [FALLBACK_NOTE] and result["num_images"] == 2


def _dataset(tmp_path: Path) -> Path:
    images = [
        {"filename": f"{i}.tif", "imgid": i, "split": "test", "sentences": [{"raw": s} for s in refs]}
        for i, refs in REFS.items()
    ]
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps({"images": images}), encoding="utf-8")
    return path


@pytest.mark.usefixtures("with_wordnet")
def test_cli_marks_the_nltk_backend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    predictions: list[dict[str, Any]] = [{"image_id": i, "caption": c} for i, c in PREDS.items()]
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps(predictions), encoding="utf-8")
    out = tmp_path / "scores.json"
    argv = ["score-captions", "--references", str(_dataset(tmp_path)), "--predictions", str(preds)]
    assert main([*argv, "--backend", "nltk", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "backend nltk" in printed and "meteor_score" in printed and "tokenizer: nltk" in printed
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["backend"] == "nltk" and document["notes"] == []
    assert document["implementations"]["METEOR"].startswith("nltk ")
    assert set(document["implementations"]) == {"tokenizer", *METRIC_NAMES}


@pytest.mark.usefixtures("with_wordnet")
def test_bootstrap_on_the_nltk_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_java(monkeypatch)
    tally = caption_tally(REFS, PREDS, source="preds", backend="auto")
    scores = score_captions(REFS, PREDS)
    assert tally.metrics() == pytest.approx(scores.metrics, rel=0, abs=1e-12)
    comparison = paired_test(tally, caption_tally(REFS, PREDS, source="same", backend="nltk"), 50)
    assert comparison.differences.keys() == set(METRIC_NAMES)
    assert all(d.difference == 0 and d.p_value == 1 for d in comparison.differences.values())
