"""The project's one image loader: any common raster file to an (H, W, C) uint8 array.

Every reader (UCM-captions, RSVQA, Hugging Face datasets, the app, ``predict``) goes through
:func:`load_image`, so training and inference see identically decoded and resized pixels. A
source is a file path or an :class:`EncodedImage`: a file's bytes held in memory (an image
column of a Hugging Face dataset), decoded exactly as the file would be.

Conversion rules:

* grayscale (``1``, ``L``, 16-bit ``I;16``/``I``) is replicated to 3 bands when 3 are asked for;
* ``P`` (palette) is expanded; images with alpha (``RGBA``, ``LA``, ``PA``, palette transparency,
  TIFF extra samples marked as alpha) are **composited on black** — a transparent pixel is
  "no data", which remote-sensing tiles conventionally store as 0;
* more than 8 bits per sample is scaled to 0..255 by the range of the file's dtype (uint16:
  ``v * 255 / 65535``), not by the image's own min/max, so brightness is comparable across tiles;
  float images are taken as 0..1 reflectance and clipped;
* TIFFs are read with tifffile first (multi-band, 16-bit RGB, planar layouts), PIL otherwise;
* a band count that cannot be converted (e.g. a 5-band TIFF when 3 are expected) is an error,
  never a silent band selection.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import tifffile
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from spatialnet.errors import DataError

_TIFF_SUFFIXES = {".tif", ".tiff"}
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF, both byte orders
_GRAY_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R BT.601 luma, as PIL's "L"


@dataclass(frozen=True)
class EncodedImage:
    """An image file's bytes in memory; ``name`` says where they came from (in error messages)."""

    data: bytes
    name: str

    @property
    def is_tiff(self) -> bool:
        """Whether the bytes are a TIFF (read with tifffile first, as a ``.tif`` file is)."""
        return self.data[:4] in _TIFF_MAGIC

    def __str__(self) -> str:
        return self.name


ImageSource = Path | EncodedImage  # what load_image reads: a file, or a file's bytes


def load_image(source: ImageSource | str, size: int | None = None, channels: int = 3) -> NDArray[np.uint8]:
    """Read ``source`` as an (H, W, ``channels``) uint8 array, resized to ``size``×``size`` when given.

    Raises :class:`DataError` with the path (or the bytes' name) in a one-line message when the
    file is missing, unreadable, larger than PIL's decompression-bomb limit, or has a band count
    that cannot be converted to ``channels``.
    """
    path = source if isinstance(source, EncodedImage) else Path(source)
    if isinstance(path, Path) and not path.is_file():
        raise DataError(f"{path}: image file not found")
    array, alpha = _read(path)
    array = _to_uint8(array, path)
    if alpha is not None:
        array = _composite_on_black(array, _to_uint8(alpha, path))
    array = _match_channels(array, channels, path)
    if size is not None:
        array = resize_square(array, size)
    return array if array.flags.writeable else array.copy()  # PIL-backed arrays are read-only


def _read(path: ImageSource) -> tuple[NDArray[np.generic], NDArray[np.generic] | None]:
    """Decode ``path`` to (H, W, C) samples of the file's dtype, plus its alpha band if any."""
    tiff = path.is_tiff if isinstance(path, EncodedImage) else path.suffix.lower() in _TIFF_SUFFIXES
    if tiff:
        try:
            return _read_tifffile(path)
        except DataError:
            raise
        except Exception as tiff_err:  # fall back to PIL (e.g. codecs tifffile lacks)
            try:
                return _read_pil(path)
            except DataError as pil_err:
                raise DataError(f"{path}: not a readable image ({tiff_err})") from pil_err
    return _read_pil(path)


def _opened(path: ImageSource) -> Path | BinaryIO:
    """What PIL and tifffile open: the file itself, or its bytes as a file object."""
    return io.BytesIO(path.data) if isinstance(path, EncodedImage) else path


def _read_pil(path: ImageSource) -> tuple[NDArray[np.generic], NDArray[np.generic] | None]:
    """Decode with PIL; every mode is turned into gray, RGB or RGB/gray + alpha."""
    try:
        with Image.open(_opened(path)) as image:
            # Refuse from PIL's *warning* size on too (PIL itself refuses at twice it): a tile that
            # large is never intended input here. Checked by hand, not by escalating the warning:
            # warning filters are process-wide, and images are decoded on several threads.
            limit = Image.MAX_IMAGE_PIXELS
            if limit is not None and image.width * image.height > limit:
                raise Image.DecompressionBombError(f"{image.width * image.height} pixels, over {limit}")
            image.load()
            return _pil_to_array(image)
    except Image.DecompressionBombError as err:
        raise DataError(f"{path}: not a readable image (over PIL's decompression-bomb limit: {err})") from err
    except UnidentifiedImageError as err:
        raise DataError(f"{path}: not a readable image (unknown or corrupt image format)") from err
    except (OSError, ValueError, SyntaxError) as err:
        raise DataError(f"{path}: not a readable image ({err})") from err


def _pil_to_array(image: Image.Image) -> tuple[NDArray[np.generic], NDArray[np.generic] | None]:
    """Samples of a loaded PIL image as (H, W, C) plus an optional (H, W, 1) alpha band."""
    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode == "PA":
        image = image.convert("RGBA")
    elif mode in ("1", "L"):
        image = image.convert("L")
    elif mode not in ("RGB", "RGBA", "LA", "I", "F") and not mode.startswith("I;16"):
        image = image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, RGBX, RGBa, La ...
    array = np.asarray(image)
    if image.mode == "I":
        # PIL stores 16-bit files as 32-bit "I"; values inside 0..65535 are 16-bit samples.
        if array.size and array.min() >= 0 and array.max() <= np.iinfo(np.uint16).max:
            array = array.astype(np.uint16)
    if array.ndim == 2:
        array = array[:, :, None]
    if image.mode in ("RGBA", "LA"):
        return array[:, :, :-1], array[:, :, -1:]
    return array, None


def _read_tifffile(path: ImageSource) -> tuple[NDArray[np.generic], NDArray[np.generic] | None]:
    """Decode a TIFF with tifffile, keeping every band and the sample dtype."""
    with tifffile.TiffFile(_opened(path)) as tif:
        if not tif.series:
            raise ValueError("no image data")
        series = tif.series[0]
        shape, axes = tuple(series.shape), series.axes
        _check_bomb(path, shape, axes)
        array = np.asarray(series.asarray())
        extrasamples = tuple(np.atleast_1d(tif.pages[0].extrasamples)) if tif.pages else ()  # type: ignore[union-attr]
    array = np.squeeze(array) if array.ndim > 3 else array
    if array.ndim == 2:
        array = array[:, :, None]
    elif array.ndim == 3 and not axes.endswith("S"):
        array = np.moveaxis(array, 0, -1)  # planar (bands, H, W) or one page per band
    elif array.ndim != 3:
        raise ValueError(f"unsupported TIFF layout {axes} {shape}")
    # TIFF ExtraSamples: 1 = associated alpha, 2 = unassociated alpha, 0 = unspecified (e.g. NIR).
    if len(extrasamples) == 1 and int(extrasamples[0]) in (1, 2) and array.shape[2] in (2, 4):
        return array[:, :, :-1], array[:, :, -1:]
    return array, None


def _check_bomb(path: ImageSource, shape: tuple[int, ...], axes: str) -> None:
    """Apply PIL's decompression-bomb pixel limit to a TIFF before decoding it."""
    limit = Image.MAX_IMAGE_PIXELS
    pixels = 1
    for axis, extent in zip(axes, shape, strict=False):
        if axis in "YX":
            pixels *= int(extent)
    if limit is not None and pixels > limit:
        raise DataError(
            f"{path}: not a readable image ({pixels} pixels, over PIL's decompression-bomb limit {limit})"
        )


def _to_uint8(array: NDArray[np.generic], path: ImageSource) -> NDArray[np.uint8]:
    """Scale samples to uint8 by the dtype's range (floats: 0..1 reflectance, clipped)."""
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array, dtype=np.uint8)
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.integer):
        info = np.iinfo(array.dtype)  # type: ignore[type-var]
        scaled = (array.astype(np.float64) - info.min) * (255.0 / (float(info.max) - float(info.min)))
        return np.rint(scaled).astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        finite = np.nan_to_num(array.astype(np.float64), nan=0.0, posinf=1.0, neginf=0.0)
        return np.rint(np.clip(finite, 0.0, 1.0) * 255.0).astype(np.uint8)
    raise DataError(f"{path}: not a readable image (unsupported sample type {array.dtype})")


def _composite_on_black(array: NDArray[np.uint8], alpha: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Premultiply by alpha: transparent pixels become 0 ("no data")."""
    blended = array.astype(np.uint16) * alpha.astype(np.uint16)
    return ((blended + 127) // 255).astype(np.uint8)


def _match_channels(array: NDArray[np.uint8], channels: int, path: ImageSource) -> NDArray[np.uint8]:
    """Replicate gray to 3 bands or reduce RGB to luma; refuse any other mismatch."""
    bands = array.shape[2]
    if bands == channels:
        return array
    if bands == 1:
        return np.repeat(array, channels, axis=2)
    if bands == 3 and channels == 1:
        luma = array.astype(np.float32) @ _GRAY_WEIGHTS
        return np.rint(luma).astype(np.uint8)[:, :, None]
    raise DataError(f"{path}: has {bands} bands, expected {channels}")


def resize_square(array: NDArray[np.uint8], size: int) -> NDArray[np.uint8]:
    """Bicubic resize to size×size (PIL widens the kernel when shrinking, i.e. antialiases)."""
    height, width, bands = array.shape
    if (height, width) == (size, size):
        return array
    if bands == 3:
        image = Image.fromarray(array).resize((size, size), Image.Resampling.BICUBIC)
        return np.asarray(image, dtype=np.uint8)
    planes = [
        Image.fromarray(np.ascontiguousarray(array[:, :, b])).resize((size, size), Image.Resampling.BICUBIC)
        for b in range(bands)
    ]
    return np.stack([np.asarray(plane) for plane in planes], axis=2).astype(np.uint8)
