"""Per-image caption statistics: pycocoevalcap's corpus figures on the split and on each resample."""

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pycocoevalcap.bleu.bleu import Bleu
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.rouge.rouge import Rouge

from spatialnet.cli.main import main
from spatialnet.errors import DataError
from spatialnet.metrics.bootstrap import Tally, bootstrap, paired_test
from spatialnet.metrics.caption_tally import caption_tally
from spatialnet.metrics.captions import METRIC_NAMES, score_captions, tokenized
from spatialnet.metrics.captions_java import run_meteor

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None, reason="pycocoevalcap's PTB tokeniser and METEOR need `java` on PATH"
)

PLACES = ("river", "road", "forest", "beach", "runway", "harbor", "farmland", "parking lot")
THINGS = ("trees", "cars", "boats", "houses", "planes", "tanks")
# 24 images, two references each; predictions: one reference as given (perfect for BLEU and
# METEOR), a paraphrase, an empty caption, a non-ASCII one and plain wrong ones.
REFS = {
    i: [
        f"There are many {THINGS[i % 6]} near the {PLACES[i % 8]} .",
        f"Some {THINGS[i % 6]} are beside a {PLACES[i % 8]}.",
    ]
    for i in range(24)
}
GOOD = {i: f"many {THINGS[i % 6]} are near the {PLACES[i % 8]}" for i in range(24)}
GOOD.update({0: REFS[0][0], 1: "...", 2: "some café is beside a river"})
BAD = {i: f"a {PLACES[(i + 3) % 8]}" for i in range(24)}


@pytest.fixture(scope="module")
def good() -> Tally:
    return caption_tally(REFS, GOOD, source="good.json")


@pytest.fixture(scope="module")
def bad() -> Tally:
    return caption_tally(REFS, BAD, source="bad.json")


def test_split_estimates_equal_the_official_figures(good: Tally) -> None:
    official = score_captions(REFS, GOOD).metrics
    ours = good.metrics()
    assert list(ours) == list(METRIC_NAMES)
    assert ours == pytest.approx(official, rel=0, abs=1e-12)
    gts, res = tokenized(REFS, GOOD)
    bleu, _ = Bleu(4).compute_score(gts, res, verbose=0)
    for n in range(4):
        assert abs(ours[f"Bleu_{n + 1}"] - bleu[n]) <= 1e-12


def test_a_resample_recomputes_the_corpus_metrics(good: Tally) -> None:
    gts, res = tokenized(REFS, GOOD)
    picks = np.random.default_rng(7).integers(0, 24, size=24)
    assert len(set(picks.tolist())) < 24  # some images drawn twice: the case that matters
    weights = np.bincount(picks, minlength=24).astype(float)
    # The resample as a corpus of its own: repeated images under fresh keys.
    sample_gts = {k: gts[good.ids[p]] for k, p in enumerate(picks)}
    sample_res = {k: res[good.ids[p]] for k, p in enumerate(picks)}
    values = {name: float(v[0]) for name, v in good.score((weights @ good.rows)[None]).items()}
    bleu, _ = Bleu(4).compute_score(sample_gts, sample_res, verbose=0)
    meteor = run_meteor(lambda m: float(m.compute_score(sample_gts, sample_res)[0]))
    rouge, _ = Rouge().compute_score(sample_gts, sample_res)
    for n in range(4):
        assert values[f"Bleu_{n + 1}"] == pytest.approx(bleu[n], rel=0, abs=1e-12)
    assert values["METEOR"] == pytest.approx(meteor, rel=0, abs=1e-12)  # the Java corpus score
    assert values["ROUGE_L"] == pytest.approx(rouge, rel=0, abs=1e-12)
    # CIDEr keeps the split's document frequencies: the mean of the split's per-image scores drawn.
    _, per_image = Cider().compute_score(gts, res)
    assert values["CIDEr"] == pytest.approx(float(np.mean(per_image[picks])), rel=0, abs=1e-12)


def test_identical_systems(good: Tally) -> None:
    same = caption_tally(REFS, dict(GOOD), source="same.json")
    comparison = paired_test(good, same, resamples=200, seed=0)
    for difference in comparison.differences.values():
        assert difference.difference == 0 and difference.low == 0 and difference.high == 0
        assert difference.p_value == 1


def test_clearly_better_system(good: Tally, bad: Tally) -> None:
    differences = paired_test(good, bad, resamples=300, seed=0).differences
    for name in METRIC_NAMES:
        assert differences[name].difference > 0, name
        assert differences[name].p_value < 0.05, name
        assert differences[name].low > 0, name


def test_seeded(good: Tally, bad: Tally) -> None:
    assert bootstrap(good, 100, seed=4) == bootstrap(good, 100, seed=4)
    assert bootstrap(good, 100, seed=4) != bootstrap(good, 100, seed=5)
    intervals = bootstrap(good, 100, seed=4).intervals
    assert all(i.low <= i.estimate <= i.high for i in intervals.values())


def test_other_images_are_refused(good: Tally) -> None:
    fewer = {i: GOOD[i] for i in range(20)}
    with pytest.raises(
        DataError, match=r"^fewer\.json: image ids must match the 24 reference images exactly"
    ):
        caption_tally(REFS, fewer, source="fewer.json")
    other = caption_tally({i: REFS[i] for i in range(20)}, fewer, source="fewer.json")
    with pytest.raises(
        DataError, match=r"^fewer\.json: a paired test needs the same images; .* missing 4 ids"
    ):
        paired_test(good, other)


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_cli_bootstrap_and_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    images = [
        {"filename": f"{i}.tif", "imgid": i, "split": "val", "sentences": [{"raw": s} for s in sentences]}
        for i, sentences in REFS.items()
    ]
    dataset = _write(tmp_path / "dataset.json", {"images": images})
    good = _write(tmp_path / "good.json", [{"image_id": i, "caption": c} for i, c in GOOD.items()])
    bad = _write(tmp_path / "bad.json", [{"image_id": i, "caption": c} for i, c in BAD.items()])
    out = tmp_path / "scores.json"
    argv = ["score-captions", "--references", str(dataset), "--split", "val", "--predictions", str(good)]
    assert main([*argv, "--bootstrap", "100", "--compare", str(bad), "--seed", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "95% intervals from 100 resamples" in printed and "paired test" in printed
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["metrics"] == pytest.approx(
        {k: v["estimate"] for k, v in document["bootstrap"]["intervals"].items()}, rel=0, abs=1e-12
    )
    assert document["bootstrap"]["resamples"] == 100 and document["compare"]["seed"] == 2
    assert document["compare"]["second"] == str(bad)
    assert all(m["p_value"] < 0.05 for m in document["compare"]["metrics"].values())
    missing = _write(tmp_path / "missing.json", [{"image_id": 0, "caption": "a river"}])
    assert main([*argv, "--compare", str(missing)]) == 2
    assert f"{missing}: image ids must match the 24 reference images exactly" in capsys.readouterr().err
