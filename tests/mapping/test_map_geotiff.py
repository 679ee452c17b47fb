"""`spatialnet map --format gtiff|cog` on the tiny synthetic forest: ENVI pixels, resuming, no map info."""

import json

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS

from spatialnet.cli.main import main
from spatialnet.data.synthetic.forest import CUBE_NAME
from spatialnet.data.taiga.envi import open_envi, write_envi
from spatialnet.mapping.resume import MANIFEST
from spatialnet.mapping.scene import WORK_DIR, map_scene
from spatialnet.mapping.settings import MapSettings
from spatialnet.predictor import Predictor

# 24 × 18 output pixels in 2 strips (16 output rows each at stride 4); the top rows are too close
# to the cube's edge for a window, so the map has no-data pixels too
STRIDE = 4
REGION = (0, 40, 96, 72)


@pytest.fixture(scope="module")
def cube(forest):
    return forest / "taiga" / f"{CUBE_NAME}.hdr"


@pytest.fixture(scope="module")
def predictor(forest_run):
    return Predictor.from_run(forest_run, "cpu")


def settings(raster_format, **kwargs):
    return MapSettings(stride=STRIDE, region=REGION, raster_format=raster_format, **kwargs)


@pytest.fixture(scope="module")
def maps(predictor, cube, tmp_path_factory):
    """The same map as ENVI files and as GeoTIFFs: {format: (folder, summary)}."""
    root = tmp_path_factory.mktemp("formats")
    return {
        name: (root / name, map_scene(predictor, cube, root / name, settings(name), progress=False))
        for name in ("envi", "gtiff")
    }


def envi_layer(folder, name):
    """An ENVI layer as (bands, rows, cols), the GeoTIFF's order."""
    return np.asarray(open_envi(folder / f"{name}.hdr").memmap()).transpose(2, 0, 1)


def test_geotiffs_hold_the_envi_maps_pixels_and_georeferencing(maps, cube, predictor):
    (envi, _), (gtiff, summary) = maps["envi"], maps["gtiff"]
    assert summary.raster_format == "gtiff" and summary.georeferenced and summary.strips == 2
    names = [p.stem for p in envi.glob("*.hdr")]
    assert len(names) == 3 * 2 + 10 + 1  # class map and probabilities per categorical variable, values, mask
    tie_x, tie_y, east, north, size_x, size_y = (float(v) for v in open_envi(cube).map_info[1:7])
    row, col = REGION[:2]
    corner = Affine(
        size_x * STRIDE,
        0,
        east + (col - tie_x + 1) * size_x,
        0,
        -size_y * STRIDE,
        north - (row - tie_y + 1) * size_y,
    )
    for name in names:
        with rasterio.open(gtiff / f"{name}.tif") as tif:
            np.testing.assert_array_equal(tif.read(), envi_layer(envi, name))
            assert tif.crs == CRS.from_epsg(32635) and tif.transform.almost_equals(corner), name
    valid = envi_layer(envi, "valid")[0]
    assert 0 < valid.sum() < valid.size and summary.valid_pixels == valid.sum()
    with rasterio.open(gtiff / "species_class.tif") as tif:
        assert tif.nodata == 0 and (tif.read(1) == 0).sum() == (valid == 0).sum()
    with rasterio.open(gtiff / "lai.tif") as tif:
        assert np.isnan(tif.nodata) and tif.units == (predictor.model.head("lai").config.unit,)


def test_quicklooks_and_summary_are_those_of_the_envi_map(maps):
    (envi, envi_summary), (gtiff, summary) = maps["envi"], maps["gtiff"]
    pngs = sorted(p.name for p in envi.glob("*.png"))
    assert pngs and pngs == sorted(p.name for p in gtiff.glob("*.png"))
    for png in pngs:
        assert (envi / png).read_bytes() == (gtiff / png).read_bytes(), png
    manifest = json.loads((gtiff / MANIFEST).read_text())
    assert manifest["complete"] and manifest["geotiffs_written"] and manifest["settings"]["format"] == "gtiff"
    assert not (gtiff / WORK_DIR).exists(), "the ENVI strips are removed once copied"
    assert sorted(summary.files) == sorted(
        p.name for p in gtiff.iterdir() if p.name not in (MANIFEST, "strips.done")
    )
    assert summary.valid_pixels == envi_summary.valid_pixels


def test_a_stopped_geotiff_map_resumes_to_identical_files(maps, predictor, cube, tmp_path):
    gtiff, _ = maps["gtiff"]
    out = tmp_path / "stopped"
    first = map_scene(predictor, cube, out, settings("gtiff"), progress=False, stop_after_strips=1)
    assert first.windows > 0 and not list(out.glob("*.tif")) and (out / WORK_DIR / "valid.img").is_file()
    # as if a run had been killed while copying: a torn GeoTIFF and sidecar, not recorded as written
    (out / "valid.tif").write_bytes(b"II*\x00torn")
    (out / "species_class.tif.aux.xml").write_text("<PAMDataset>")
    resumed = map_scene(predictor, cube, out, settings("gtiff"), progress=False)
    assert resumed.strips_reused == 1 and resumed.windows > 0
    tiffs = sorted(p.name for p in gtiff.iterdir() if p.suffix in (".tif", ".xml", ".png"))
    for name in tiffs:
        assert (out / name).read_bytes() == (gtiff / name).read_bytes(), name
    # once done, the same command recomputes and rewrites nothing but the quicklooks
    again = map_scene(predictor, cube, out, settings("gtiff"), progress=False)
    assert again.windows == 0 and again.strips_reused == 2
    assert all((out / name).read_bytes() == (gtiff / name).read_bytes() for name in tiffs)


def test_another_format_in_a_map_folder_is_refused_and_overwrite_replaces_it(
    maps, forest_run, cube, tmp_path, capsys
):
    gtiff, _ = maps["gtiff"]
    args = [
        "map",
        str(forest_run),
        "--image",
        str(cube),
        "--stride",
        str(STRIDE),
        "--region",
        *map(str, REGION),
    ]
    assert main([*args, "--out", str(gtiff), "--format", "envi", "--no-progress"]) == 2
    assert "format differ" in capsys.readouterr().err
    out = tmp_path / "replaced"
    assert main([*args, "--out", str(out), "--format", "gtiff", "--no-progress", "--no-quicklooks"]) == 0
    assert (
        main([*args, "--out", str(out), "--format", "cog", "--overwrite", "--no-progress", "--no-quicklooks"])
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*(p.name for p in gtiff.glob("*.tif*")), MANIFEST, "strips.done"]
    )
    with rasterio.open(out / "valid.tif") as tif:
        assert tif.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"


def test_a_cube_without_map_info_gives_rasters_without_georeferencing(forest_run, tmp_path, capsys):
    spectra = np.random.default_rng(0).integers(100, 4000, (24, 24, 24)).astype(np.int16)
    cube = write_envi(tmp_path / "plain.hdr", spectra).path  # no map info
    out = tmp_path / "map"
    args = ["map", str(forest_run), "--image", str(cube), "--out", str(out), "--format", "gtiff"]
    assert main([*args, "--no-progress", "--no-quicklooks", "--json"]) == 0
    captured = capsys.readouterr()
    assert "no usable 'map info'" in captured.err and "no georeferencing" in captured.err
    assert json.loads(captured.out)["georeferenced"] is False
    with pytest.warns(rasterio.errors.NotGeoreferencedWarning), rasterio.open(out / "valid.tif") as tif:
        assert tif.crs is None and tif.transform == Affine.identity()
        assert tif.read(1).sum() == (24 - 16) ** 2
