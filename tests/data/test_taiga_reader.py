"""The real-TAIGA readers: ENVI cubes written in tmp_path, a hand-made label raster, the real stand CSVs."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from spatialnet.data.taiga import (
    BAD_STANDS_CSV,
    CONTINUOUS_NAMES,
    STANDS_CSV,
    ClassMap,
    ContinuousScaling,
    class_counts,
    decode_targets,
    kept_classes,
    open_envi,
    read_bad_stands,
    read_stand_split,
    write_envi,
)
from spatialnet.errors import DataError
from spatialnet.labels import IGNORE_INDEX


def _cube(dtype: type, shape: tuple[int, int, int] = (7, 9, 5)) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(-3000, 3000, size=shape).astype(dtype)


@pytest.mark.parametrize("interleave", ["bsq", "bil", "bip"])
@pytest.mark.parametrize("dtype", [np.int16, np.float32])
def test_envi_round_trip_windows(tmp_path: Path, interleave: str, dtype: type) -> None:
    cube = _cube(dtype)
    meta = {
        "wavelength": [0.40, 0.55, 0.70, 0.85, 0.99],
        "wavelength units": "Micrometers",
        "reflectance scale factor": 10000,
        "data ignore value": 0,
        "map info": ["UTM", "1", "1", "500000", "6800000", "1", "1", "35", "North", "WGS-84"],
    }
    image = write_envi(tmp_path / "cube.hdr", cube, interleave, meta)
    assert image.shape == (7, 9, 5)
    assert image.dtype == np.dtype(dtype)
    assert image.interleave == interleave
    assert image.wavelengths == pytest.approx(meta["wavelength"])
    assert image.wavelength_units == "Micrometers"
    assert image.scale == 10000.0 and image.ignore_value == 0.0
    assert image.map_info == meta["map info"]
    np.testing.assert_array_equal(image.memmap(), cube)
    window = image.read_window(2, 3, 4, [4, 0, 2])
    assert window.shape == (4, 4, 3)
    np.testing.assert_array_equal(window, cube[2:6, 3:7][:, :, [4, 0, 2]])
    np.testing.assert_array_equal(image.read_window(3, 5, 4), cube[3:7, 5:9])
    # Pickling (DataLoader workers) drops the map instead of copying the file.
    clone = pickle.loads(pickle.dumps(image))
    np.testing.assert_array_equal(clone.read_window(0, 0, 2), cube[:2, :2])


def test_envi_header_is_deterministic_and_extensionless_data_file(tmp_path: Path) -> None:
    cube = _cube(np.int16)
    a = write_envi(tmp_path / "a" / "mosaic.hdr", cube, "bsq", {"description": "x"}, data_ext="")
    b = write_envi(tmp_path / "b" / "mosaic.hdr", cube, "bsq", {"description": "x"}, data_ext="")
    assert a.data_path == tmp_path / "a" / "mosaic"
    assert a.path.read_bytes() == b.path.read_bytes()
    assert b"date" not in a.path.read_bytes().lower()
    # The data file path resolves to its header.
    assert open_envi(a.data_path).shape == cube.shape


def _edit_header(hdr: Path, key: str, value: str) -> None:
    lines = [
        f"{key} = {value}" if line.split("=")[0].strip() == key else line
        for line in hdr.read_text().splitlines()
    ]
    hdr.write_text("\n".join(lines) + "\n")


def test_header_fields_drive_the_reader(tmp_path: Path) -> None:
    cube = _cube(np.int16, (4, 6, 3))
    image = write_envi(tmp_path / "c.hdr", cube, "bsq")
    # Same bytes declared BIP: the reader reinterprets them as the header says.
    _edit_header(image.path, "interleave", "bip")
    as_bip = open_envi(image.path)
    assert as_bip.interleave == "bip"
    np.testing.assert_array_equal(as_bip.memmap(), cube.transpose(2, 0, 1).reshape(4, 6, 3))
    # Declared uint16 (ENVI type 12): same bit patterns, other dtype.
    _edit_header(image.path, "data type", "12")
    as_u16 = open_envi(image.path)
    assert as_u16.dtype == np.dtype(np.uint16)
    np.testing.assert_array_equal(as_u16.memmap().view(np.int16), as_bip.memmap())


def test_envi_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"missing\.hdr: ENVI header not found"):
        open_envi(tmp_path / "missing.hdr")
    image = write_envi(tmp_path / "d.hdr", _cube(np.int16, (4, 6, 3)), "bil")
    hdr = image.path

    _edit_header(hdr, "interleave", "bsx")
    with pytest.raises(DataError, match=r"d\.hdr: unknown interleave 'bsx'"):
        open_envi(hdr)
    _edit_header(hdr, "interleave", "bil")

    _edit_header(hdr, "data type", "99")
    with pytest.raises(DataError, match=r"d\.hdr: unsupported ENVI data type '99'"):
        open_envi(hdr)
    _edit_header(hdr, "data type", "2")

    _edit_header(hdr, "lines", "5")
    with pytest.raises(DataError, match=r"d\.img: 144 bytes, but its header expects 180"):
        open_envi(hdr)
    _edit_header(hdr, "lines", "4")

    with pytest.raises(ValueError, match="outside the image"):
        open_envi(hdr).read_window(2, 0, 3)

    image.data_path.unlink()
    with pytest.raises(DataError, match=r"d\.hdr: data file not found"):
        open_envi(hdr)

    (tmp_path / "e.hdr").write_text("not an envi header\n")
    with pytest.raises(DataError, match=r"e\.hdr: not a readable ENVI header"):
        open_envi(tmp_path / "e.hdr")


def _label_pixel(fert: int, soil: int, species: int, cont: tuple[int, ...], stand: int) -> list[int]:
    assert len(cont) == 10
    return [fert, soil, species, *cont, stand]


def test_decode_targets_factors_and_missing() -> None:
    # Stored integers: basal area 2345 (=23.45 m²/ha), dbh 3089 (30.89 cm), stems 1200, height 1850
    # (18.5 m), pine 60 %, spruce 40 %, birch 0 %, biomass 120 t/ha, LAI 350 (3.5), eff. LAI 211 (2.11).
    stored = (2345, 3089, 1200, 1850, 60, 40, 0, 120, 350, 211)
    labels = np.array(
        [
            [_label_pixel(3, 1, 1, stored, 24127413), _label_pixel(0, 2, 0, stored, 24127641)],
            [_label_pixel(0, 0, 0, (0,) * 10, 0), _label_pixel(5, 1, 2, stored, 24127413)],
        ],
        dtype=np.int32,
    )
    targets = decode_targets(labels)
    np.testing.assert_array_equal(targets.stand_id, [[24127413, 24127641], [0, 24127413]])
    np.testing.assert_array_equal(targets.categorical["fertility"], [[3, 0], [0, 5]])
    np.testing.assert_array_equal(targets.categorical["species"], [[1, 0], [0, 2]])
    expected = dict(zip(CONTINUOUS_NAMES, (23.45, 30.89, 1200, 18.5, 60, 40, 0, 120, 3.5, 2.11), strict=True))
    for name, value in expected.items():
        got = targets.continuous[name]
        assert got.dtype == np.float32
        assert got[0, 0] == pytest.approx(value) and got[1, 1] == pytest.approx(value)
        assert np.isnan(got[1, 0]), name  # no stand: missing
    assert targets.continuous["birch"][0, 0] == 0.0  # 0 % inside a stand is a value, not a gap
    # The 'none' codes map to the ignore index.
    fertility = ClassMap("fertility", (2, 3, 4, 5))
    np.testing.assert_array_equal(
        fertility.encode(targets.categorical["fertility"]), [[1, IGNORE_INDEX], [IGNORE_INDEX, 3]]
    )
    with pytest.raises(DataError, match="expected 14 bands"):
        decode_targets(labels[..., :13])


def test_class_removal_rule() -> None:
    # 1000 labelled pixels: code 1 has 40 (4 %: dropped), code 6 has 50 (5 %: kept), code 7 has 10.
    codes = np.concatenate(
        [np.full(n, c) for c, n in {0: 500, 1: 40, 2: 300, 3: 400, 4: 150, 5: 50, 6: 50, 7: 10}.items()]
    )
    counts = class_counts(codes)
    assert counts == {1: 40, 2: 300, 3: 400, 4: 150, 5: 50, 6: 50, 7: 10}
    assert kept_classes(counts) == (2, 3, 4, 5, 6)
    assert kept_classes(counts, min_fraction=0.1) == (2, 3, 4)
    assert kept_classes({}) == ()
    cmap = ClassMap.from_counts("fertility", counts)
    assert cmap.num_classes == 5
    raw = np.array([0, 1, 2, 3, 4, 5, 6, 7])
    encoded = cmap.encode(raw)
    np.testing.assert_array_equal(encoded, [IGNORE_INDEX, IGNORE_INDEX, 0, 1, 2, 3, 4, IGNORE_INDEX])
    np.testing.assert_array_equal(cmap.decode(encoded), [0, 0, 2, 3, 4, 5, 6, 0])
    assert ClassMap.from_dict(json.loads(json.dumps(cmap.to_dict()))) == cmap


def test_p98_scaling_round_trip_and_training_stands_only() -> None:
    rng = np.random.default_rng(1)
    train_values = rng.uniform(0, 40, size=1000).astype(np.float32)
    stand_id = np.concatenate([np.full(500, 11), np.full(500, 12), np.full(100, 99), np.full(10, 0)])
    values = np.concatenate([train_values, np.full(100, 1e6, np.float32), np.full(10, np.nan, np.float32)])
    heights = np.concatenate([rng.uniform(0, 30, 1000), np.full(100, 500.0), np.full(10, np.nan)])
    scaling = ContinuousScaling.fit({"basal_area": values, "height": heights}, stand_id, {11, 12})
    # Holdout stand 99's extreme values must not move p98.
    assert scaling.p98["basal_area"] == pytest.approx(float(np.percentile(train_values, 98)))
    assert scaling.p98["height"] == pytest.approx(float(np.percentile(heights[:1000], 98)))
    assert scaling.p98["basal_area"] < 40

    physical = {"basal_area": np.array([0.0, scaling.p98["basal_area"] / 2, 1e6, np.nan])}
    scaled = scaling.normalise(physical)["basal_area"]
    np.testing.assert_allclose(scaled[:3], [0.0, 0.5, 1.0], rtol=1e-6)  # clipped at 1
    assert np.isnan(scaled[3])
    back = scaling.denormalise({"basal_area": scaled[:2]})["basal_area"]
    np.testing.assert_allclose(back, physical["basal_area"][:2], rtol=1e-6)

    restored = ContinuousScaling.from_dict(json.loads(json.dumps(scaling.to_dict())))
    assert restored == scaling
    with pytest.raises(KeyError, match="no scaling fitted"):
        scaling.normalise({"lai": np.zeros(2)})
    with pytest.raises(DataError, match="no training-stand pixels"):
        ContinuousScaling.fit({"lai": values}, stand_id, {12345})


def test_stand_csv_errors(tmp_path: Path) -> None:
    bad = tmp_path / "stands.csv"
    bad.write_text("standid,split\n1,training\n")
    with pytest.raises(DataError, match=r"stands\.csv: missing column\(s\) \['set'\]"):
        read_stand_split(bad)
    bad.write_text("standid,set\n1,training\n2,test\n")
    with pytest.raises(DataError, match=r"stands\.csv, line 3: set 'test'"):
        read_stand_split(bad)
    bad.write_text("standid,set\n1,training\n1,holdout\n")
    with pytest.raises(DataError, match="listed twice"):
        read_stand_split(bad)
    bad.write_text("standid\nabc\n")
    with pytest.raises(DataError, match=r"line 2: standid 'abc' is not an integer"):
        read_bad_stands(bad)
    with pytest.raises(DataError, match="file not found"):
        read_bad_stands(tmp_path / "nope.csv")


def test_real_stand_tables(shared_data: Path) -> None:
    root = shared_data / "taiga"
    if not (root / STANDS_CSV).is_file():
        pytest.skip(f"real TAIGA stand tables not found under {root}")
    split = read_stand_split(root / STANDS_CSV)
    assert (len(split.training), len(split.holdout)) == (624, 120)
    assert not split.training & split.holdout
    assert 24127413 in split.training
    bad = read_bad_stands(root / BAD_STANDS_CSV)
    assert len(bad) == 167
    assert {24127621, 25037135} <= bad
    cleaned = split.without(bad | {24127413})
    assert 24127413 not in cleaned.training


@pytest.mark.parametrize("interleave", ["bsq", "bil", "bip"])
def test_boxes_read_from_the_file_equal_the_array(tmp_path: Path, interleave: str) -> None:
    array = np.random.default_rng(0).integers(-999, 999, (30, 40, 12)).astype(np.int16)
    image = write_envi(tmp_path / "cube.hdr", array, interleave=interleave)
    boxes = [  # part of every axis; whole rows; the whole cube; one pixel
        (range(3, 20), range(5, 33), [1, 2, 3, 7]),
        (range(2, 9), range(0, 40), [0, 11]),
        (range(0, 30), range(0, 40), list(range(12))),
        (range(4, 5), range(39, 40), [5]),
    ]
    for rows, cols, bands in boxes:
        expected = array[rows.start : rows.stop, cols.start : cols.stop][:, :, bands]
        np.testing.assert_array_equal(image.read_box(rows, cols, bands), expected)
    image.data_path.write_bytes(image.data_path.read_bytes()[:-100])
    with pytest.raises(DataError, match="ends before"):
        image.read_box(range(0, 30), range(0, 40), [11])
