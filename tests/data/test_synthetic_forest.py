"""The synthetic TAIGA scene: exact real file formats, coherent labels, buffers, determinism, spectra."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage
from spectral.io import envi

from spatialnet.data.synthetic import forest
from spatialnet.data.synthetic.forest import (
    CUBE_NAME,
    LABEL_NAME,
    TABLE_COLUMNS,
    TABLE_NAME,
    ForestSummary,
    synthesize_forest,
)
from spatialnet.data.synthetic.forest_stands import make_stand
from spatialnet.errors import DataError

SIZE = (192, 192)
BANDS = 16
STAND = 40.0


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> ForestSummary:
    return synthesize_forest(
        tmp_path_factory.mktemp("forest"), seed=0, size=SIZE, bands=BANDS, stand_size=STAND
    )


def _read(s: ForestSummary, name: str) -> np.ndarray:
    """Native-dtype (rows, cols, bands) copy of one ENVI file, as a reader would see it."""
    img = envi.open(str(s.root / f"{name}.hdr"), str(s.root / name))
    return np.array(img.open_memmap(interleave="bip"))


def _cube(s: ForestSummary) -> np.ndarray:
    return _read(s, CUBE_NAME)


def _labels(s: ForestSummary) -> np.ndarray:
    return _read(s, LABEL_NAME)


def _table(s: ForestSummary) -> list[dict[str, str]]:
    with (s.root / TABLE_NAME).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_headers_match_the_real_format(scene: ForestSummary) -> None:
    cube = envi.open(str(scene.root / f"{CUBE_NAME}.hdr"), str(scene.root / CUBE_NAME))
    meta = cube.metadata
    assert (cube.nrows, cube.ncols, cube.nbands) == (*SIZE, BANDS)
    assert meta["interleave"] == "bsq" and meta["data type"] == "2" and meta["byte order"] == "0"
    assert meta["reflectance scale factor"] == "10000" and meta["wavelength units"] == "Micrometers"
    assert meta["map info"][0] == "UTM" and meta["map info"][5:7] == ["1.0", "1.0"]
    wl = np.array(meta["wavelength"], dtype=float)
    assert len(wl) == BANDS and np.all(np.diff(wl) > 0) and 0.39 < wl[0] and wl[-1] < 1.0
    labels = envi.open(str(scene.root / f"{LABEL_NAME}.hdr"), str(scene.root / LABEL_NAME))
    lmeta = labels.metadata
    assert (labels.nrows, labels.ncols, labels.nbands) == (*SIZE, 14)
    assert lmeta["interleave"] == "bip" and lmeta["data type"] == "3" and lmeta["data ignore value"] == "0"
    assert lmeta["map info"] == meta["map info"]  # pixel-aligned
    assert _cube(scene).dtype == np.int16 and _labels(scene).dtype == np.int32
    assert (scene.root / CUBE_NAME).stat().st_size == SIZE[0] * SIZE[1] * BANDS * 2


def test_default_band_grid_is_the_sensor_grid(tmp_path: Path) -> None:
    wl = forest.sensor_wavelengths()
    assert len(wl) == 128 and wl[0] == pytest.approx(0.400) and wl[109] == pytest.approx(0.9014)


def test_labels_decode_to_coherent_stands(scene: ForestSummary) -> None:
    lab = _labels(scene).reshape(-1, 14)
    lab = lab[lab[:, 13] > 0]
    assert len(lab) == scene.labelled_pixels > 0
    assert set(np.unique(lab[:, 0])) <= {1, 2, 3, 4, 5, 6}
    assert set(np.unique(lab[:, 1])) <= {1, 2} and set(np.unique(lab[:, 2])) <= {1, 2, 3}
    pct = lab[:, 7:10]
    assert np.all(pct.sum(axis=1) == 100)
    main = pct[np.arange(len(lab)), lab[:, 2] - 1]
    assert np.all(main > np.sort(pct, axis=1)[:, 1] - 1) and np.all(main == pct.max(axis=1))
    for band, lo, hi in [(3, 500, 6000), (4, 500, 4000), (5, 100, 9000), (6, 300, 3200), (10, 5, 400)]:
        assert lo <= lab[:, band].min() and lab[:, band].max() <= hi, band
    assert np.all(lab[:, 11] >= lab[:, 12]) and np.all(lab[:, 12] > 0)  # LAI >= effective LAI > 0
    for sid in np.unique(lab[:, 13]):  # one label vector per stand
        assert len(np.unique(lab[lab[:, 13] == sid], axis=0)) == 1


def test_stand_ids_match_the_table(scene: ForestSummary) -> None:
    rows = _table(scene)
    assert tuple(rows[0].keys()) == TABLE_COLUMNS
    lab = _labels(scene)
    assert {int(r["standid"]) for r in rows} == set(np.unique(lab[..., 13])) - {0}
    assert {r["set"] for r in rows} <= {"training", "holdout"}
    by_id = {int(r["standid"]): r for r in rows}
    flat = lab.reshape(-1, 14)
    for vec in np.unique(flat[flat[:, 13] > 0], axis=0):
        row = by_id[int(vec[13])]
        assert round(float(row["basalarea"]) * 100) == vec[3] and int(row["stemdensity"]) == vec[5]
        assert round(float(row["effLAI"]) * 100) == vec[12]


def test_buffers_and_nodata_rule(scene: ForestSummary) -> None:
    lab = _labels(scene)[..., 13]
    has_data = _cube(scene).sum(axis=2) != 0
    assert scene.nodata_pixels == int((~has_data).sum()) > 0
    labelled = lab > 0
    # Every labelled pixel's 45x45 window is all data and inside the image.
    window_ok = ndimage.minimum_filter(has_data, size=45, mode="constant", cval=False)
    assert np.all(window_ok[labelled])
    # No pixel of another stand (or open land) within 10 px: check on the full stand map.
    layout = forest._Layout.draw(0, *SIZE, STAND)
    cells = layout.cells(0, SIZE[0])
    yy, xx = np.mgrid[-10:11, -10:11]
    disk = yy**2 + xx**2 <= 100
    same = ndimage.maximum_filter(cells, footprint=disk) == ndimage.minimum_filter(cells, footprint=disk)
    assert np.all(same[labelled])
    assert not np.all(same[~labelled & has_data])  # the buffer really removed border pixels


def test_same_seed_same_files(tmp_path: Path, scene: ForestSummary) -> None:
    again = synthesize_forest(tmp_path / "a", seed=0, size=SIZE, bands=BANDS, stand_size=STAND)
    other = synthesize_forest(tmp_path / "b", seed=1, size=SIZE, bands=BANDS, stand_size=STAND)
    for name in (CUBE_NAME, f"{CUBE_NAME}.hdr", LABEL_NAME, f"{LABEL_NAME}.hdr", TABLE_NAME):

        def digest(root: Path, name: str = name) -> str:
            return hashlib.sha256((root / name).read_bytes()).hexdigest()

        assert digest(again.root) == digest(scene.root), name
    assert digest(other.root, CUBE_NAME) != digest(scene.root, CUBE_NAME)


def test_labels_do_not_depend_on_block_height(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scene: ForestSummary
) -> None:
    monkeypatch.setattr(forest, "BLOCK_VALUES", SIZE[1] * BANDS * 7)  # 7-row blocks
    small = synthesize_forest(tmp_path, seed=0, size=SIZE, bands=BANDS, stand_size=STAND)
    assert np.array_equal(_labels(small), _labels(scene))
    assert np.array_equal(_cube(small) == 0, _cube(scene) == 0)


def test_fertility_is_imbalanced(scene: ForestSummary) -> None:
    shares = {k: v / scene.labelled_pixels for k, v in scene.fertility_pixels.items()}
    assert min(shares.values()) < 0.05 and len(shares) >= 3
    assert max(shares, key=lambda k: shares[k]) in (2, 3, 4, 5)


def test_spectra_are_reflectance_and_differ_by_species(scene: ForestSummary) -> None:
    cube = _cube(scene).astype(np.float64) / 10000.0
    data = cube[cube.sum(axis=2) > 0]
    assert 0.005 < np.median(data[:, 0]) < 0.1 and 0.1 < np.median(data[:, -1]) < 0.6
    # canopy spectra by main species, before structure (cover, crown texture, shade) mixes them
    rng = np.random.default_rng(0)
    stands = [make_stand(rng, 1000 + i, fertility) for i, fertility in enumerate([2, 3, 4] * 20)]
    optics = forest._cell_spectra(0, list(stands), BANDS, None)
    means = [optics.canopy[[s.species == k for s in stands]].mean(axis=0) for k in (1, 2, 3)]
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.linalg.norm(means[i] - means[j]) / np.linalg.norm(means[i]) > 0.05


def test_structure_shows_in_cover_texture_and_shade() -> None:
    rng = np.random.default_rng(1)
    stands = [make_stand(rng, 1000 + i, 3) for i in range(60)]
    optics = forest._cell_spectra(0, list(stands), BANDS, None)
    height = np.array([s.height for s in stands])
    dbh = np.array([s.dbh for s in stands])
    lai = np.array([s.eff_lai for s in stands])
    assert np.corrcoef(height, optics.shade)[0, 1] < -0.9  # taller stands, deeper shadows
    assert np.corrcoef(dbh, optics.texture)[0, 1] > 0.9  # bigger crowns, coarser texture
    assert np.corrcoef(lai, optics.cover)[0, 1] > 0.4  # denser canopy, fewer gaps (density adds to it)


def test_parametric_library_by_default(tmp_path: Path) -> None:
    s = synthesize_forest(tmp_path, seed=2, size=(128, 128), bands=8, stand_size=40.0)
    assert s.spectra_source == "parametric"
    manifest = json.loads((s.root / forest.MANIFEST_NAME).read_text())
    assert manifest["spectra"] == "parametric" and manifest["spectra_sha256"] is None
    assert manifest["seed"] == 2 and manifest["size"] == [128, 128] and manifest["bands"] == 8
    cube = _cube(s).astype(np.float64) / 10000.0
    data = cube[cube.sum(axis=2) > 0]
    assert 0.005 < np.median(data[:, 0]) < 0.15 and np.median(data[:, -1]) > 2 * np.median(data[:, 0])


def _spectra_file(path: Path) -> Path:
    """60 vegetation-like (n, 110) spectra: dark visible, a red edge, bright near-infrared."""
    wl = np.linspace(0.400, 0.901, 110)
    rng = np.random.default_rng(5)
    nir = rng.uniform(0.2, 0.45, size=(60, 1))
    spectra = 0.04 + nir / (1.0 + np.exp(-(wl - 0.715) / 0.015))
    np.save(path, spectra)
    return path


def test_real_spectra_only_when_named_and_recorded(tmp_path: Path) -> None:
    spectra = _spectra_file(tmp_path / "stands.npy")
    named = synthesize_forest(tmp_path / "named", seed=2, size=(128, 128), bands=8, spectra=spectra)
    default = synthesize_forest(tmp_path / "default", seed=2, size=(128, 128), bands=8)
    assert named.spectra_source == "stands.npy"
    manifest = json.loads((named.root / forest.MANIFEST_NAME).read_text())
    assert manifest["spectra"] == "stands.npy"
    assert manifest["spectra_sha256"] == hashlib.sha256(spectra.read_bytes()).hexdigest()
    assert not np.array_equal(_cube(named), _cube(default))  # the spectra did change the scene
    assert np.array_equal(_labels(named), _labels(default))  # and nothing else


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "spectra file not found"),
        (np.zeros((5, 64)), r"expected \(n, 110\)"),
        (np.zeros(110), r"expected \(n, 110\)"),
        (b"not numpy", "not a .npy array"),
    ],
)
def test_bad_spectra_file_named(tmp_path: Path, content: object, expected: str) -> None:
    path = tmp_path / "bad.npy"
    if isinstance(content, np.ndarray):
        np.save(path, content)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(DataError, match=expected) as err:
        synthesize_forest(tmp_path / "out", seed=2, size=(128, 128), bands=8, spectra=path)
    assert str(path) in str(err.value)


def test_rejects_too_small_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        synthesize_forest(tmp_path, size=(30, 200))
