"""GeoTIFF copies of map rasters: georeferencing, nodata, colour tables, class names, tiles, COG, reads.

The rasters are written by hand (no model): 300 × 520 pixels, so the 256² tiles do not divide them.
"""

import json
import shutil
import subprocess
import warnings
from xml.etree import ElementTree

import numpy as np
import pytest
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import NotGeoreferencedWarning

from spatialnet.data.taiga.envi import open_envi, write_envi
from spatialnet.mapping.geotiff import BLOCK, GeoTiffSet, geotiff_files, tiff_name, write_geotiffs
from spatialnet.mapping.layers import VALID, Layer
from spatialnet.mapping.quicklook import class_colours
from spatialnet.mapping.rasters import RasterSet, georeferencing

SHAPE = (300, 520)
CLASSES = ("pine", "spruce", "birch")
# tie pixel (1.5, 2.5): the ground point (392000, 6855000) is the centre of the pixel at row 1, col 0
MAP_INFO = ["UTM", "1.5", "2.5", "392000.000", "6855000.000", "2.0", "3.0", "35", "North", "WGS-84"]
LAYERS = [
    Layer("species_class", "species", "class", ("species",), "uint8", class_names=CLASSES),
    Layer("species_probability", "species", "probability", CLASSES, "float32"),
    Layer("height", "height", "value", ("height (m)",), "float32", unit="m"),
    Layer(VALID, "", "valid", ("valid (1 = predicted)",), "uint8"),
]


def fake_map(folder, georeference, strip_rows=37):
    """A map's ENVI rasters filled strip by strip, as the scene loop fills them; the arrays written."""
    rng = np.random.default_rng(0)
    valid = np.zeros((1, *SHAPE), np.uint8)
    valid[:, 8:-8, 8:-8] = 1
    probabilities = rng.dirichlet(np.ones(len(CLASSES)), SHAPE).transpose(2, 0, 1).astype(np.float32)
    arrays = {
        "species_class": np.where(valid == 1, probabilities.argmax(0, keepdims=True) + 1, 0).astype(np.uint8),
        "species_probability": np.where(valid == 1, probabilities, np.nan).astype(np.float32),
        "height": np.where(valid == 1, rng.gamma(4.0, 4.0, (1, *SHAPE)), np.nan).astype(np.float32),
        VALID: valid,
    }
    rasters = RasterSet.create(folder, LAYERS, SHAPE, georeference, "cube.hdr")
    with rasters.opened():
        for first in range(0, SHAPE[0], strip_rows):
            rasters.write_strip(first, {name: a[:, first : first + strip_rows] for name, a in arrays.items()})
    return rasters, arrays


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("geotiff")
    rasters, arrays = fake_map(folder / "envi", georeferencing(MAP_INFO, None))
    write_geotiffs(rasters, folder / "gtiff", "cube.hdr")
    return rasters, arrays, folder / "gtiff"


def test_georeferencing_is_the_map_info_and_nodata_the_envi_convention(written):
    _, _, out = written
    # ENVI pixel (1.5, 2.5), 1-based, is half a pixel right and 1.5 pixels down from the corner
    corner = Affine(2.0, 0.0, 392000.0 - 0.5 * 2.0, 0.0, -3.0, 6855000.0 + 1.5 * 3.0)
    nodata = {"class": 0.0, "probability": np.nan, "value": np.nan, "valid": None}
    for layer in LAYERS:
        with rasterio.open(out / tiff_name(layer)) as tif:
            assert tif.crs == CRS.from_epsg(32635) and tif.transform.almost_equals(corner), layer.name
            assert tif.shape == SHAPE and tif.dtypes[0] == layer.dtype
            assert tif.descriptions == layer.band_names
            assert (
                tif.tags()["TIFFTAG_IMAGEDESCRIPTION"]
                == f"spatialnet map of cube.hdr: {layer.kind} layer {layer.name}"
            )
            expected = nodata[layer.kind]
            assert tif.nodata == expected or (np.isnan(expected or 0) and np.isnan(tif.nodata))
    with rasterio.open(out / "height.tif") as tif:
        assert tif.units == ("m",)


def test_pixels_equal_the_envi_rasters_across_tiles(written):
    rasters, arrays, out = written
    for layer in LAYERS:
        with rasterio.open(out / tiff_name(layer)) as tif:
            np.testing.assert_array_equal(tif.read(), arrays[layer.name])
            np.testing.assert_array_equal(tif.read(), rasters.read(layer))


def test_tiles_compression_and_predictor_fit_the_data_type(written):
    _, _, out = written
    for layer in LAYERS:
        with rasterio.open(out / tiff_name(layer)) as tif:
            structure = tif.tags(ns="IMAGE_STRUCTURE")
            assert tif.profile["tiled"] and set(tif.block_shapes) == {(BLOCK, BLOCK)}
            assert tif.compression.name == "deflate" and structure["INTERLEAVE"] == "BAND"
            assert structure.get("PREDICTOR") == ("3" if layer.dtype == "float32" else None), layer.name


def test_class_maps_carry_colours_and_class_names_that_gdal_reads(written, tmp_path):
    _, _, out = written
    with rasterio.open(out / "species_class.tif") as tif:
        colours = tif.colormap(1)
        assert [colours[k + 1][:3] for k in range(3)] == [tuple(c) for c in class_colours(3).tolist()]
        assert tif.tags(1) == {
            "CLASS_0": "no data",
            "CLASS_1": "pine",
            "CLASS_2": "spruce",
            "CLASS_3": "birch",
        }
        # GDAL's own category names (stored in the .aux.xml beside the file, where QGIS reads them):
        # rasterio has no call for them, so let GDAL write them out into a VRT description
        rasterio.shutil.copy(tif, tmp_path / "class.vrt", driver="VRT")
    names = (
        ElementTree.parse(tmp_path / "class.vrt").getroot().iterfind("VRTRasterBand/CategoryNames/Category")
    )
    assert [name.text for name in names] == ["no data", *CLASSES]
    assert sorted(p.name for p in out.iterdir()) == sorted(geotiff_files(LAYERS))


@pytest.mark.skipif(shutil.which("gdalinfo") is None, reason="gdalinfo (Debian's gdal-bin) is not installed")
def test_gdalinfo_reads_the_class_names_colours_and_units(written):
    _, _, out = written
    info = json.loads(
        subprocess.run(
            ["gdalinfo", "-json", str(out / "species_class.tif")], capture_output=True, check=True
        ).stdout
    )
    band = info["bands"][0]
    assert band["categories"] == ["no data", *CLASSES] and band["noDataValue"] == 0
    assert band["colorTable"]["entries"][1] == [*class_colours(1)[0].tolist(), 255]
    height = json.loads(
        subprocess.run(["gdalinfo", "-json", str(out / "height.tif")], capture_output=True, check=True).stdout
    )
    assert height["bands"][0]["unit"] == "m" and height["bands"][0]["description"] == "height (m)"


def test_decimated_reads_equal_the_envi_reads(written):
    rasters, _, out = written
    tiffs = GeoTiffSet(out, LAYERS, SHAPE)
    for step in (1, 3, 7, 300):
        for layer in LAYERS:
            np.testing.assert_array_equal(tiffs.read(layer, step), rasters.read(layer, step))


def test_cog_has_overviews_and_the_same_pixels(written, tmp_path):
    rasters, arrays, _ = written
    write_geotiffs(rasters, tmp_path, "cube.hdr", cog=True)
    assert not list(rasters.folder.glob("*.tif*")), "the COG's intermediate GeoTIFFs are removed"
    for layer in LAYERS:
        with rasterio.open(tmp_path / tiff_name(layer)) as tif:
            assert tif.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG" and tif.overviews(1) == [
                2,
                4,
            ]  # until under a tile
            assert set(tif.block_shapes) == {(BLOCK, BLOCK)} and tif.crs == CRS.from_epsg(32635)
            np.testing.assert_array_equal(tif.read(), arrays[layer.name])
    with rasterio.open(tmp_path / "species_class.tif") as tif:
        assert tif.colormap(1)[1][:3] == tuple(class_colours(1)[0].tolist())
        assert tif.tags(1)["CLASS_3"] == "birch"
    with rasterio.open(tmp_path / "height.tif") as tif:
        assert tif.units == ("m",) and np.isnan(tif.nodata)


def test_a_wkt_coordinate_system_wins_over_the_map_infos_projection(tmp_path):
    # the cube's WKT as spectral hands it over: split at its commas
    wkt = CRS.from_epsg(3067).to_wkt()
    cube = write_envi(
        tmp_path / "cube.hdr",
        np.ones((4, 4, 2), np.int16),
        metadata={"map info": MAP_INFO, "coordinate system string": "{" + wkt + "}"},
    )
    parts = open_envi(cube.path).metadata["coordinate system string"]
    assert isinstance(parts, list) and len(parts) > 1
    rasters, _ = fake_map(tmp_path / "envi", georeferencing(MAP_INFO, parts))
    write_geotiffs(rasters, tmp_path, "cube.hdr")
    with rasterio.open(tmp_path / "valid.tif") as tif:
        assert tif.crs == CRS.from_epsg(3067) and tif.transform.a == 2.0
    assert open_envi(rasters.folder / "valid.hdr").metadata["coordinate system string"] == parts


def test_without_map_info_nothing_is_invented(tmp_path):
    assert georeferencing(None, "PROJCS[...]") == {}
    rasters, arrays = fake_map(tmp_path / "envi", {})
    write_geotiffs(rasters, tmp_path, "cube.hdr")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with rasterio.open(tmp_path / "height.tif") as tif:
            assert tif.crs is None and tif.transform == Affine.identity()
            np.testing.assert_array_equal(tif.read(), arrays["height"])
    assert any(issubclass(w.category, NotGeoreferencedWarning) for w in caught)
