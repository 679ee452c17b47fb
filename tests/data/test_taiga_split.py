"""The stand-disjoint block split and the TAIGA window dataset on a small synthetic forest world."""

import json

import numpy as np
import pytest
import torch

from spatialnet.data.synthetic.forest import CUBE_NAME, LABEL_NAME, synthesize_forest
from spatialnet.data.taiga import CATEGORICAL_NAMES, CONTINUOUS_NAMES, decode_targets, open_envi
from spatialnet.data.taiga.dataset import TaigaPreprocessing, TaigaWindows, fit_preprocessing
from spatialnet.data.taiga.split import (
    block_split,
    fit_label_rules,
    make_split,
    stand_sets,
    valid_centre_mask,
)
from spatialnet.labels import IGNORE_INDEX
from spatialnet.processors import processor_from_dict, processor_to_dict

WINDOW = 21
BLOCK = 5  # small blocks so the tiny world yields enough samples; the 13 px grid is tested too


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("taiga_split")
    synthesize_forest(out, seed=3, size=(256, 256), bands=16, stand_size=40.0, spectra=None)
    root = out / "taiga"
    labels = open_envi(root / f"{LABEL_NAME}.hdr")
    cube = open_envi(root / f"{CUBE_NAME}.hdr")
    sets = stand_sets(root)
    maps, scaling = fit_label_rules(labels, sets.training)
    valid, stand_id = valid_centre_mask(labels, cube, maps, WINDOW)
    split = make_split(out, seed=0, window=WINDOW, block=BLOCK)  # the folder containing taiga/ works
    return {
        "root": root,
        "labels": np.asarray(labels.memmap()),
        "cube": np.asarray(cube.memmap()),
        "sets": sets,
        "maps": maps,
        "scaling": scaling,
        "valid": valid,
        "stand_id": stand_id,
        "split": split,
    }


@pytest.fixture(scope="module")
def preprocessing(world):
    return fit_preprocessing(world["root"], world["split"])


def test_split_is_stand_disjoint_and_non_trivial(world):
    split, stand_id, sets = world["split"], world["stand_id"], world["sets"]
    counts = split.counts()
    assert counts["train"] >= 50 and counts["val"] >= 5 and counts["test"] >= 5, counts

    def stands(name):
        c = split.get(name)
        return set(stand_id[c[:, 0], c[:, 1]].tolist())

    assert stands("train") <= sets.training and stands("val") <= sets.training
    assert stands("test") <= sets.holdout
    assert not (stands("train") | stands("val")) & stands("test")
    all_centres = np.concatenate([split.train, split.val, split.test])
    assert len({tuple(c) for c in all_centres.tolist()}) == len(all_centres)


def test_every_centre_is_valid(world):
    split, valid = world["split"], world["valid"]
    lines, samples = valid.shape
    half = WINDOW // 2
    targets = decode_targets(world["labels"])
    nodata = world["cube"].sum(axis=-1, dtype=np.int64) == 0
    for name in ("train", "val", "test"):
        for r, c in split.get(name).tolist():
            assert valid[r, c]
            assert half <= r < lines - half and half <= c < samples - half
            assert not nodata[r - half : r + half + 1, c - half : c + half + 1].any()
            assert targets.continuous["lai"][r, c] > 0
            for var in CATEGORICAL_NAMES:
                assert world["maps"][var].encode(targets.categorical[var][r, c]) != IGNORE_INDEX


def test_valid_mask_matches_a_brute_force_check(world):
    valid, labels, cube = world["valid"], world["labels"], world["cube"]
    half = WINDOW // 2
    nodata = cube.sum(axis=-1, dtype=np.int64) == 0
    targets = decode_targets(labels)
    rng = np.random.default_rng(0)
    for r, c in rng.integers(0, valid.shape, size=(300, 2)).tolist():
        inside = half <= r < valid.shape[0] - half and half <= c < valid.shape[1] - half
        clean = inside and not nodata[r - half : r + half + 1, c - half : c + half + 1].any()
        kept = all(
            world["maps"][v].encode(targets.categorical[v][r, c]) != IGNORE_INDEX for v in CATEGORICAL_NAMES
        )
        assert valid[r, c] == (clean and kept and targets.continuous["lai"][r, c] > 0), (r, c)


def test_blocks_follow_the_13px_grid(world):
    sets, stand_id = world["sets"], world["stand_id"]
    labelled = stand_id > 0
    split = block_split(stand_id, labelled, sets.training, sets.holdout, seed=0, window=WINDOW)
    centres = np.concatenate([split.train, split.val, split.test])
    assert len(centres) > 0
    assert ((centres - 6) % 13 == 0).all()
    for r, c in centres.tolist():
        tile = stand_id[r - 6 : r + 7, c - 6 : c + 7]
        assert (tile > 0).all()
        ids = set(np.unique(tile).tolist())
        assert ids <= sets.training or ids <= sets.holdout


def test_block_rule_on_a_hand_made_raster():
    stand_id = np.zeros((39, 39), dtype=np.int64)
    stand_id[:13, :13] = 1  # training block
    stand_id[:13, 13:26] = 2  # holdout block
    stand_id[:13, 26:39] = 1
    stand_id[0, 38] = 2  # mixed sets: dropped
    stand_id[13:26, :13] = 3  # two training stands in one block: kept
    stand_id[20, 5] = 4
    stand_id[13:26, 13:26] = 1
    stand_id[15, 15] = 0  # one unlabelled pixel: dropped
    split = block_split(stand_id, stand_id > 0, {1, 3, 4}, {2}, seed=0, val_fraction=0.0, window=13)
    assert split.train.tolist() == [[6, 6], [19, 6]]
    assert split.test.tolist() == [[6, 19]]
    centre_mask = np.ones_like(stand_id, dtype=bool)
    centre_mask[19, 6] = False
    split = block_split(
        stand_id, stand_id > 0, {1, 3, 4}, {2}, seed=0, val_fraction=0.0, window=13, centre_mask=centre_mask
    )
    assert split.train.tolist() == [[6, 6]]
    # A window larger than the distance to the border drops border blocks.
    assert block_split(stand_id, stand_id > 0, {1, 3, 4}, {2}, seed=0, window=15).counts()["train"] == 0


def test_val_fraction_and_determinism(world):
    a = make_split(world["root"], seed=0, window=WINDOW, block=BLOCK)
    b = make_split(world["root"], seed=0, window=WINDOW, block=BLOCK)
    c = make_split(world["root"], seed=1, window=WINDOW, block=BLOCK)
    for name in ("train", "val", "test"):
        assert np.array_equal(a.get(name), b.get(name))
    n_training = len(a.train) + len(a.val)
    assert len(a.val) == round(0.1 * n_training)
    assert not np.array_equal(a.val, c.val)
    assert np.array_equal(a.test, c.test)
    assert {tuple(x) for x in np.concatenate([a.train, a.val]).tolist()} == {
        tuple(x) for x in np.concatenate([c.train, c.val]).tolist()
    }


def test_preprocessing_json_round_trip(preprocessing):
    data = json.loads(json.dumps(preprocessing.to_dict()))
    processor = json.loads(json.dumps(processor_to_dict(preprocessing.input)))
    assert set(data) == {"class_maps", "scaling"}  # the input side is the processor's
    assert TaigaPreprocessing.from_dict(data, processor_from_dict(processor)) == preprocessing
    legacy = {**data, **preprocessing.input.to_dict()}  # checkpoints before processors.json
    assert TaigaPreprocessing.from_dict(legacy) == preprocessing
    assert preprocessing.input.bands == tuple(range(16))  # default 0-109 clipped to the 16 bands
    assert set(preprocessing.num_classes) == set(CATEGORICAL_NAMES)


def _dataset(world, preprocessing, **kwargs):
    return TaigaWindows(
        world["root"], window=WINDOW, splits=world["split"], preprocessing=preprocessing, **kwargs
    )


def test_centre_items(world, preprocessing):
    for split in ("train", "test"):
        ds = _dataset(world, preprocessing, split=split)
        assert len(ds) == len(world["split"].get(split))
        targets = decode_targets(world["labels"])
        for i in range(0, len(ds), max(1, len(ds) // 7)):
            item = ds[i]
            r, c = item["centre"].tolist()
            assert item["image"].shape == (16, WINDOW, WINDOW) and item["image"].dtype == torch.float32
            values = torch.stack([item[n] for n in CONTINUOUS_NAMES])
            assert values.shape == (10,) and values.dtype == torch.float32
            assert item["stand_id"].shape == () and int(item["stand_id"]) == targets.stand_id[r, c]
            for name in CATEGORICAL_NAMES:
                assert item[name].shape == () and item[name].dtype == torch.int64
                raw = targets.categorical[name][r, c]
                assert int(item[name]) == preprocessing.class_maps[name].encode(raw)
                assert int(item[name]) != IGNORE_INDEX
            expected = [
                min(targets.continuous[n][r, c] / preprocessing.scaling.p98[n], 1.0) for n in CONTINUOUS_NAMES
            ]
            assert np.allclose(values.numpy(), expected, atol=1e-6)
            half = WINDOW // 2
            raw_window = world["cube"][r - half : r + half + 1, c - half : c + half + 1, :]
            x = raw_window / 10000.0
            stats = preprocessing.input
            expected_image = (x - np.asarray(stats.band_mean)) / np.asarray(stats.band_std)
            assert np.allclose(item["image"].numpy(), expected_image.transpose(2, 0, 1), atol=1e-4)


def test_dense_items_mask_other_stands(world, preprocessing):
    ds = _dataset(world, preprocessing, split="test", dense=True)
    half = WINDOW // 2
    holdout = world["sets"].holdout
    for i in range(len(ds)):
        item = ds[i]
        r, c = item["centre"].tolist()
        values = torch.stack([item[n] for n in CONTINUOUS_NAMES])
        assert values.shape == (10, WINDOW, WINDOW)
        for name in CATEGORICAL_NAMES:
            assert item[name].shape == (WINDOW, WINDOW)
        ids = world["stand_id"][r - half : r + half + 1, c - half : c + half + 1]
        labelled = item["species"].numpy() != IGNORE_INDEX
        assert np.isin(ids[labelled], list(holdout)).all()
        assert labelled[half, half]
        assert np.array_equal(labelled, ~np.isnan(values.numpy()).any(axis=0))
        centre = _dataset(world, preprocessing, split="test")[i]
        for name in CATEGORICAL_NAMES:
            assert int(item[name][half, half]) == int(centre[name])
        for name in CONTINUOUS_NAMES:
            assert torch.allclose(item[name][half, half], centre[name])


def test_flips_keep_window_and_targets_aligned(world, preprocessing):
    plain = _dataset(world, preprocessing, split="train", dense=True)
    flipped = _dataset(world, preprocessing, split="train", dense=True, flips=True)
    seen = set()
    for epoch in range(3):
        flipped.set_epoch(epoch)
        for i in range(8):
            a, b = plain[i], flipped[i]
            assert torch.equal(b["centre"], a["centre"])
            for dims in ((), (-1,), (-2,), (-2, -1)):
                image = torch.flip(b["image"], dims) if dims else b["image"]
                if torch.equal(image, a["image"]):
                    break
            else:
                raise AssertionError("flipped window is not a flip of the window")
            seen.add(dims)
            for name in (*CATEGORICAL_NAMES, *CONTINUOUS_NAMES):
                back = torch.flip(b[name], dims) if dims else b[name]
                assert torch.equal(back.nan_to_num(-1.0), a[name].nan_to_num(-1.0)), name
            again = flipped[i]
            assert torch.equal(again["image"], b["image"])  # same epoch seed and index: same flip
    assert len(seen) >= 3


def test_valid_mask_is_the_same_in_small_chunks(world, monkeypatch):
    import spatialnet.data.taiga.split as split_module

    monkeypatch.setattr(split_module, "CHUNK_VALUES", 256 * 14 * 3)  # 3-row chunks, halo of 10 rows
    labels = open_envi(world["root"] / f"{LABEL_NAME}.hdr")
    cube = open_envi(world["root"] / f"{CUBE_NAME}.hdr")
    valid, stand_id = valid_centre_mask(labels, cube, world["maps"], WINDOW)
    assert np.array_equal(valid, world["valid"]) and np.array_equal(stand_id, world["stand_id"])
    maps, scaling = fit_label_rules(labels, world["sets"].training)
    assert maps == world["maps"] and scaling == world["scaling"]
