"""ENVI images (a text ``.hdr`` header beside a raw data file), memory-mapped, never loaded whole.

The TAIGA mosaic is ~37 GiB (12,143 lines x 12,826 samples x 128 int16 bands), so the reader only
maps the data file and copies the windows asked for. Parsing and data-file discovery are
``spectral.io.envi``'s; this module checks what spectral leaves implicit (interleave, data type,
file size) and turns every failure into a one-line :class:`~spatialnet.errors.DataError` that
names the file. The writer is the reader's inverse, for tests and the synthetic TAIGA world.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import spectral.io.envi as spy_envi

from spatialnet.errors import DataError

INTERLEAVES: tuple[str, ...] = ("bsq", "bil", "bip")
# The axis order of each interleave on disk, as positions of (lines, samples, bands).
_DISK_AXES: dict[str, tuple[int, int, int]] = {"bsq": (2, 0, 1), "bil": (0, 2, 1), "bip": (0, 1, 2)}
# Header keys the writer keeps in a fixed order so headers are byte-reproducible.
_WRITER_OWNED = ("lines", "samples", "bands", "header offset", "data type", "interleave", "byte order")


def header_path_for(path: str | os.PathLike[str]) -> Path:
    """The header of ``path``: itself if it ends in ``.hdr``, else ``path.hdr`` or ``path`` with ``.hdr``."""
    p = Path(path)
    if p.suffix.lower() == ".hdr":
        return p
    appended = p.with_name(p.name + ".hdr")
    replaced = p.with_suffix(".hdr")
    return replaced if not appended.is_file() and replaced.is_file() else appended


def _optional_float(header: Mapping[str, Any], key: str, hdr: Path) -> float | None:
    if key not in header:
        return None
    try:
        return float(header[key])
    except (TypeError, ValueError):
        raise DataError(f"{hdr}: header field {key!r} is {header[key]!r}, expected a number") from None


@dataclass
class EnviImage:
    """An opened ENVI image: header fields plus a lazily created memory map of the data file.

    ``shape`` is always (lines, samples, bands), whatever the interleave on disk. The memory map
    is dropped when pickled (a pickled ``np.memmap`` would copy the whole file into each
    DataLoader worker); it is re-created on first use.
    """

    path: Path
    data_path: Path
    shape: tuple[int, int, int]
    dtype: np.dtype[Any]
    interleave: str
    header_offset: int = 0
    wavelengths: list[float] | None = None
    wavelength_units: str | None = None
    scale: float | None = None
    ignore_value: float | None = None
    map_info: list[str] | str | None = None
    metadata: dict[str, Any] = field(default_factory=dict, repr=False)
    _memmap: np.memmap[Any, np.dtype[Any]] | None = field(default=None, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_memmap"] = None
        return state

    def _source(self) -> np.memmap[Any, np.dtype[Any]]:
        """The data file mapped read-only, in its on-disk axis order."""
        if self._memmap is None:
            image = spy_envi.open(str(self.path), str(self.data_path))
            self._memmap = image.open_memmap(interleave="source", writable=False)
        return self._memmap

    def no_data(self, spectra: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
        """Which (..., bands) spectra are no-data: every band equals the header's ``data ignore value``.

        Without that field, all-zero spectra are no-data (how mosaics fill the gaps between flight lines).
        """
        fill = self.ignore_value if self.ignore_value is not None else 0
        return np.asarray((spectra == fill).all(axis=-1))

    def memmap(self) -> npt.NDArray[Any]:
        """A read-only (lines, samples, bands) view of the data file; indexing reads only what it touches."""
        return self._source().transpose(np.argsort(_DISK_AXES[self.interleave]))

    def read_window(
        self, row: int, col: int, size: int, bands: Sequence[int] | None = None
    ) -> npt.NDArray[Any]:
        """The ``size`` x ``size`` window whose top-left pixel is (row, col), as (size, size, len(bands)).

        ``bands`` defaults to all bands. Only the window's bytes are read from the file.
        """
        lines, samples, nbands = self.shape
        if size < 1 or row < 0 or col < 0 or row + size > lines or col + size > samples:
            raise ValueError(
                f"{self.path}: window rows {row}..{row + size - 1}, cols {col}..{col + size - 1} "
                f"is outside the image ({lines} lines x {samples} samples)"
            )
        band_index = np.arange(nbands) if bands is None else np.asarray(bands, dtype=np.intp)
        if band_index.ndim != 1 or (band_index.size and (band_index.min() < 0 or band_index.max() >= nbands)):
            raise ValueError(
                f"{self.path}: bands must be a list of indices in 0..{nbands - 1}, got {bands!r}"
            )
        window = self.memmap()[row : row + size, col : col + size, :]
        return np.ascontiguousarray(window[:, :, band_index])

    def read_box(self, rows: range, cols: range, bands: Sequence[int]) -> npt.NDArray[Any]:
        """Pixels ``rows`` × ``cols`` × ``bands`` (unit-step ranges of lines and samples), read into memory.

        File reads, not the memory map: on kernels that map whole large folios on a page fault,
        indexing the map of a band-sequential cube brought ~400 MB of the file into this process
        for one 80-row strip. Runs that are contiguous on disk are read with one call each.
        """
        band_span = range(min(bands), max(bands) + 1)
        disk_axes = _DISK_AXES[self.interleave]  # disk axis k holds (lines, samples, bands)[disk_axes[k]]
        spans = [(rows, cols, band_span)[axis] for axis in disk_axes]
        dims = [self.shape[axis] for axis in disk_axes]
        out = np.empty([len(span) for span in spans], dtype=self.dtype)
        flat = out.reshape(-1)
        # merge trailing disk axes that are read whole: fewer, longer reads
        outer = 2 if len(spans[2]) < dims[2] else 1 if len(spans[1]) < dims[1] else 0
        run = int(np.prod([len(span) for span in spans[outer:]]))
        with open(self.data_path, "rb", buffering=0) as file:
            for n, index in enumerate(np.ndindex(*[len(span) for span in spans[:outer]])):
                start = [span[k] for span, k in zip(spans, index, strict=False)]
                start += [span.start for span in spans[len(index) :]]
                file.seek(
                    self.header_offset + ((start[0] * dims[1] + start[1]) * dims[2] + start[2]) * out.itemsize
                )
                chunk = flat[n * run : (n + 1) * run]
                if file.readinto(chunk.data.cast("B")) != chunk.nbytes:
                    raise DataError(f"{self.data_path}: the file ends before its header's size")
        box = out.transpose(np.argsort(disk_axes))  # (rows, cols, band_span) view
        if list(bands) == list(band_span):
            return box
        return box[:, :, np.asarray(bands, dtype=np.intp) - band_span.start]


def open_envi(path: str | os.PathLike[str]) -> EnviImage:
    """Open an ENVI image from its header (or data file) path, checking it against its header."""
    hdr = header_path_for(path)
    if not hdr.is_file():
        raise DataError(f"{hdr}: ENVI header not found (expected a text .hdr file beside the data file)")
    try:
        header: dict[str, Any] = spy_envi.read_envi_header(str(hdr))
    except (spy_envi.EnviException, OSError, UnicodeDecodeError) as err:
        raise DataError(f"{hdr}: not a readable ENVI header ({err or type(err).__name__})") from None
    for key in ("lines", "samples", "bands", "data type", "interleave", "byte order"):
        if key not in header:
            raise DataError(f"{hdr}: header field {key!r} is missing")
    interleave = str(header["interleave"]).strip().lower()
    if interleave not in INTERLEAVES:
        raise DataError(f"{hdr}: unknown interleave {header['interleave']!r}, expected one of {INTERLEAVES}")
    code = str(header["data type"]).strip()
    if code not in spy_envi.envi_to_dtype:
        supported = sorted(spy_envi.envi_to_dtype, key=int)
        raise DataError(f"{hdr}: unsupported ENVI data type {code!r}, expected one of {supported}")
    try:
        shape = (int(header["lines"]), int(header["samples"]), int(header["bands"]))
        offset = int(header.get("header offset", 0))
        image = spy_envi.open(str(hdr))
    except spy_envi.EnviDataFileNotFoundError:
        raise DataError(
            f"{hdr}: data file not found beside the header (tried {hdr.with_suffix('')} with no extension "
            f"and with .{', .'.join(spy_envi.KNOWN_EXTS)}, .{interleave})"
        ) from None
    except (spy_envi.EnviException, ValueError) as err:
        raise DataError(f"{hdr}: header not usable ({err or type(err).__name__})") from None
    data_path = Path(image.filename)
    dtype = np.dtype(image.dtype)
    expected = offset + shape[0] * shape[1] * shape[2] * dtype.itemsize
    actual = data_path.stat().st_size
    if actual != expected:
        raise DataError(
            f"{data_path}: {actual} bytes, but its header expects {expected} "
            f"({shape[0]} lines x {shape[1]} samples x {shape[2]} bands x {dtype.itemsize} bytes"
            f"{f' + {offset} offset' if offset else ''})"
        )
    wavelengths = header.get("wavelength")
    try:
        centers = None if wavelengths is None else [float(w) for w in wavelengths]
    except (TypeError, ValueError):
        raise DataError(f"{hdr}: header field 'wavelength' is not a list of numbers") from None
    if centers is not None and len(centers) != shape[2]:
        raise DataError(f"{hdr}: {len(centers)} wavelengths for {shape[2]} bands")
    return EnviImage(
        path=hdr,
        data_path=data_path,
        shape=shape,
        dtype=dtype,
        interleave=interleave,
        header_offset=offset,
        wavelengths=centers,
        wavelength_units=header.get("wavelength units"),
        scale=_optional_float(header, "reflectance scale factor", hdr),
        ignore_value=_optional_float(header, "data ignore value", hdr),
        map_info=header.get("map info"),
        metadata=header,
    )


def write_envi(
    path_hdr: str | os.PathLike[str],
    array: npt.NDArray[Any],
    interleave: str = "bsq",
    metadata: Mapping[str, Any] | None = None,
    data_ext: str = ".img",
) -> EnviImage:
    """Write a (lines, samples, bands) array as an ENVI header + data file and open it again.

    The header holds only the given metadata plus the writer's own fields, in a fixed order and
    without timestamps, so the same inputs give byte-identical files. ``data_ext=""`` writes the
    data file without an extension, as the TAIGA files are named.
    """
    hdr = Path(path_hdr)
    if hdr.suffix.lower() != ".hdr":
        raise ValueError(f"{hdr}: the header path must end in .hdr")
    if array.ndim != 3:
        raise ValueError(f"{hdr}: expected a (lines, samples, bands) array, got shape {array.shape}")
    interleave = interleave.lower()
    if interleave not in INTERLEAVES:
        raise ValueError(f"{hdr}: unknown interleave {interleave!r}, expected one of {INTERLEAVES}")
    extra = {k: v for k, v in (metadata or {}).items() if k.lower() not in _WRITER_OWNED}
    hdr.parent.mkdir(parents=True, exist_ok=True)
    spy_envi.save_image(
        str(hdr),
        np.ascontiguousarray(array),
        interleave=interleave,
        metadata=extra,
        byteorder="little",
        ext=data_ext,
        force=True,
    )
    return open_envi(hdr)


def allocate_envi(path_hdr: str | os.PathLike[str], header: Mapping[str, Any], data_path: Path) -> None:
    """Write an ENVI header and size its data file for the whole image, to be filled block by block.

    ``header`` holds every field (lines, samples, bands, data type, interleave …). The data file
    grows sparse (no time, no disk until written) and keeps what it already holds, so a writer
    that stopped half-way can go on where it was (``spatialnet map``'s resume).
    """
    fields = dict(header)
    spy_envi.write_envi_header(str(path_hdr), fields)
    dtype = np.dtype(spy_envi.envi_to_dtype[str(fields["data type"])])
    size = int(fields["lines"]) * int(fields["samples"]) * int(fields["bands"]) * dtype.itemsize
    fd = os.open(data_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)
