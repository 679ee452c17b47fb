from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from spatialnet.data.images import load_image
from spatialnet.errors import DataError


def test_rgb_jpeg_roundtrip_shape_and_dtype(tmp_path: Path) -> None:
    pixels = np.full((16, 16, 3), (200, 100, 50), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png", None)
    assert out.dtype == np.uint8 and out.shape == (16, 16, 3)
    np.testing.assert_array_equal(out, pixels)
    assert out.flags.writeable


def test_grayscale_is_replicated(tmp_path: Path) -> None:
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8)
    Image.fromarray(gray).save(tmp_path / "g.png")
    out = load_image(tmp_path / "g.png", None)
    assert out.shape == (8, 8, 3)
    for band in range(3):
        np.testing.assert_array_equal(out[:, :, band], gray)


def test_rgba_is_composited_on_black(tmp_path: Path) -> None:
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., :3] = (200, 100, 40)
    rgba[0, 0, 3] = 255  # opaque
    rgba[0, 1, 3] = 0  # transparent -> black
    rgba[0, 2, 3] = 128  # half -> about half
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png", None)
    assert out.shape == (4, 4, 3)
    assert tuple(out[0, 0]) == (200, 100, 40)
    assert tuple(out[0, 1]) == (0, 0, 0)
    assert tuple(out[0, 2]) == (100, 50, 20)


def test_palette_image_is_expanded(tmp_path: Path) -> None:
    image = Image.new("P", (4, 4), 1)
    image.putpalette([0, 0, 0, 10, 20, 30] + [0] * 762)
    image.save(tmp_path / "p.png")
    out = load_image(tmp_path / "p.png", None)
    assert out.shape == (4, 4, 3) and tuple(out[2, 2]) == (10, 20, 30)


def test_16bit_png_scaled_by_dtype_range(tmp_path: Path) -> None:
    values = np.array([[0, 65535], [257 * 100, 257 * 200]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "d.png")
    out = load_image(tmp_path / "d.png", None)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[:, :, 0], [[0, 255], [100, 200]])


def test_16bit_rgb_tiff_scaled_by_dtype_range(tmp_path: Path) -> None:
    values = np.zeros((3, 3, 3), dtype=np.uint16)
    values[0, 0] = (65535, 257 * 10, 0)
    tifffile.imwrite(tmp_path / "d.tif", values, photometric="rgb")
    out = load_image(tmp_path / "d.tif", None)
    assert out.dtype == np.uint8 and out.shape == (3, 3, 3)
    assert tuple(out[0, 0]) == (255, 10, 0)


def test_planar_tiff_is_channels_last(tmp_path: Path) -> None:
    planar = np.zeros((3, 5, 7), dtype=np.uint8)
    planar[0] = 11
    planar[1] = 22
    planar[2] = 33
    tifffile.imwrite(tmp_path / "p.tif", planar, photometric="rgb", planarconfig="separate")
    out = load_image(tmp_path / "p.tif", None)
    assert out.shape == (5, 7, 3) and tuple(out[4, 6]) == (11, 22, 33)


def test_resize_to_square(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (240, 300, 3), dtype=np.uint8)).save(tmp_path / "r.png")
    out = load_image(tmp_path / "r.png", 64)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    flat = np.full((240, 300, 3), 77, dtype=np.uint8)
    Image.fromarray(flat).save(tmp_path / "f.png")
    assert np.all(load_image(tmp_path / "f.png", 32) == 77)  # a flat image stays flat


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.jpg"
    with pytest.raises(DataError, match="image file not found") as info:
        load_image(path, 32)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name", ["bad.jpg", "bad.png", "bad.tif"])
def test_corrupt_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"this is not an image at all")
    with pytest.raises(DataError, match="not a readable image") as info:
        load_image(path, 32)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_truncated_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "t.jpg"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(DataError, match="not a readable image"):
        load_image(path, 32)


def test_five_band_tiff_refused_for_rgb(tmp_path: Path) -> None:
    path = tmp_path / "ms.tif"
    tifffile.imwrite(
        path, np.zeros((8, 8, 5), dtype=np.uint8), photometric="minisblack", planarconfig="contig"
    )
    with pytest.raises(DataError, match="has 5 bands, expected 3") as info:
        load_image(path, None)
    assert str(path) in str(info.value)
    assert load_image(path, 4, channels=5).shape == (4, 4, 5)


def test_decompression_bomb_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.fromarray(np.zeros((40, 40, 3), dtype=np.uint8)).save(tmp_path / "big.png")
    tifffile.imwrite(tmp_path / "big.tif", np.zeros((40, 40, 3), dtype=np.uint8), photometric="rgb")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    for name in ("big.png", "big.tif"):
        with pytest.raises(DataError, match="decompression-bomb"):
            load_image(tmp_path / name, 8)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_images_between_pil_warning_and_error_sizes_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Image.fromarray(np.zeros((40, 40, 3), dtype=np.uint8)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 1,600 pixels: PIL only warns below 2,000
    with pytest.raises(DataError, match="big.png.*decompression-bomb"):
        load_image(tmp_path / "big.png", 8)


@pytest.mark.parametrize("name", ["a.jpg", "a.png", "a.tif", "planar.tif", "wide.tif"])
def test_encoded_bytes_decode_exactly_like_the_file(tmp_path: Path, name: str) -> None:
    """A file's bytes in memory (a Hugging Face image column) give the file's pixels, TIFFs by tifffile."""
    from spatialnet.data.images import EncodedImage

    rng = np.random.default_rng(0)
    path = tmp_path / name
    if name == "planar.tif":
        tifffile.imwrite(
            path, rng.integers(0, 256, (3, 9, 11), dtype=np.uint8), photometric="rgb", planarconfig="separate"
        )
    elif name == "wide.tif":
        tifffile.imwrite(path, rng.integers(0, 65536, (9, 11, 3), dtype=np.uint16), photometric="rgb")
    elif name.endswith(".tif"):
        tifffile.imwrite(path, rng.integers(0, 256, (9, 11, 3), dtype=np.uint8), photometric="rgb")
    else:
        Image.fromarray(rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)).save(path)
    encoded = EncodedImage(path.read_bytes(), f"row 3 ({name})")
    assert encoded.is_tiff == name.endswith(".tif")
    for size in (None, 16):
        np.testing.assert_array_equal(load_image(encoded, size), load_image(path, size))


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # PIL's, on the garbage TIFF header
def test_corrupt_bytes_name_their_source() -> None:
    from spatialnet.data.images import EncodedImage

    with pytest.raises(DataError, match=r"table train row 7 \(7.tif\): not a readable image"):
        load_image(EncodedImage(b"II*\x00garbage", "table train row 7 (7.tif)"))
    with pytest.raises(DataError, match=r"row 2: not a readable image"):
        load_image(EncodedImage(b"not an image", "row 2"))
