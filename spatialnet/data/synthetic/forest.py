"""``synthesize_forest``: write a synthetic TAIGA scene in the real dataset's exact file formats.

Output under ``out/taiga/`` (see specs/taiga.md):

- ``20170615_reflectance_mosaic_128b`` + ``.hdr``: ENVI, int16 reflectance x10000, BSQ, 128 bands
  by default on the AISA Eagle II grid (0.400-0.984 um, 4.6 nm; wavelengths in um), no-data pixels
  all-zero. Bands past 0.901 um (110-127 on the real grid) repeat the last clean band with 5x noise.
- ``forestdata_stands`` + ``.hdr``: ENVI, 14 bands int32 BIP, ``data ignore value = 0``, the real
  codes and x100 factors; zero within 10 px of another stand (the 10 m inward buffer) and wherever
  a 45x45 window around the pixel would touch no-data or leave the image (the 22 px rule).
- ``taiga_forest_stand_data.csv``: the real table's columns, one row per stand with labelled
  pixels, ``set`` training/holdout at the real 624/120 ratio; the ``pred_*`` columns are 0.0 (the
  value of most real rows; they are not modelled).
- ``synthesis.json``: how the scene was made (seed, size, bands, stand size, the spectra used and,
  for a real spectra file, its SHA-256).

Geometry: 1 m pixels in UTM zone 35N (WGS-84) at an arbitrary origin near Hyytiala, so 10 px = 10 m.
Stands are a Voronoi tessellation of seeded points with coordinates warped by smooth noise (organic
borders); 8 % of cells are open land (spectra, no labels). No-data is two cut-off image corners,
like the edges of a flight-line mosaic.

Scale: everything is computed per block of rows (with a halo for the buffers) and written into
memory maps, so memory is bounded by one block whatever the image size. Determinism: draws come
from ``SeedSequence(seed, spawn_key=(stream, ...))``; pixel noise of block ``r0`` from key
``(PIXEL_STREAM, r0)`` with block height fixed by the size, so one seed gives identical files.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree
from spectral.io import envi

from spatialnet.data.synthetic.forest_spectra import (
    REFLECTANCE_GAIN,
    SENSOR_BANDS,
    SPECIES,
    SPECIES_GAIN,
    clean_limit_um,
    ground_shape,
    load_library,
    open_land_shape,
    sensor_wavelengths,
    to_sensor_grid,
)
from spatialnet.data.synthetic.forest_stands import Stand, assign_fertility, make_stand
from spatialnet.data.taiga.envi import allocate_envi
from spatialnet.files import file_digest, write_json

CUBE_NAME = "20170615_reflectance_mosaic_128b"
LABEL_NAME = "forestdata_stands"
TABLE_NAME = "taiga_forest_stand_data.csv"
MANIFEST_NAME = "synthesis.json"  # how the scene was made: seed, size, which spectra
LABEL_BANDS = 14
BORDER_BUFFER_PX = 10  # labels only where no other stand lies within 10 px (10 m)
WINDOW_HALF_PX = 22  # labels only where the 45x45 window is all data
HALO = WINDOW_HALF_PX + 1
OPEN_LAND_FRACTION = 0.08
HOLDOUT_FRACTION = 120 / 744  # the real table's holdout share
BLOCK_VALUES = 1 << 21  # values in one block of rows x bands; peak heap ~170 MB whatever the size
MAP_ORIGIN = (392000.0, 6855000.0)  # UTM 35N easting, northing of the upper-left pixel
LABEL_BAND_NAMES = (
    "fertility class",
    "soil class",
    "main tree species",
    "basal area x100",
    "mean dbh x100",
    "stem density",
    "mean height x100",
    "percentage of pine",
    "percentage of spruce",
    "percentage of birch",
    "woody biomass",
    "leaf area index x100",
    "effective leaf area index x100",
    "stand id",
)
TABLE_COLUMNS = (
    "standid",
    "basalarea",
    "stemdensity",
    "dbh",
    "meanheight",
    "effLAI",
    "stembiomass",
    "woodybiomass",
    "pred_basalarea",
    "pred_meanheight",
    "pred_effLAI",
    "pred_stembiomass",
    "set",
)
FIRST_STAND_ID = 24126441  # real ids are 8-digit numbers from here
# Independent random streams under one seed.
LAYOUT_STREAM, STAND_STREAM, SPECTRA_STREAM, PIXEL_STREAM, SPLIT_STREAM, NOISE_SALT = 0, 1, 2, 3, 4, 5


@dataclass
class ForestSummary:
    """What ``synthesize_forest`` wrote and how its labels are distributed."""

    root: Path
    lines: int
    samples: int
    bands: int
    spectra_source: str  # "parametric" (built-in, the default) or the real spectra file's name
    num_stands: int  # stands with labelled pixels (rows of the table)
    labelled_pixels: int
    nodata_pixels: int
    fertility_pixels: dict[int, int] = field(default_factory=dict)
    species_pixels: dict[int, int] = field(default_factory=dict)
    set_counts: dict[str, int] = field(default_factory=dict)


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def _hash_uniform(ix: np.ndarray, iy: np.ndarray, salt: int) -> np.ndarray:
    """Uniform [-1, 1] value per integer lattice point: a stateless hash, so any block gets the same."""
    h = np.broadcast_to(ix, np.broadcast_shapes(ix.shape, iy.shape)).astype(np.uint64)
    h *= np.uint64(0x9E3779B97F4A7C15)
    h ^= iy.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F) + np.uint64(salt)
    h ^= h >> np.uint64(31)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(29)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53) * 2.0 - 1.0


def smooth_noise(rows: np.ndarray, cols: np.ndarray, cell: float, salt: int) -> np.ndarray:
    """Bilinear value noise with feature size ``cell`` px on the grid ``rows x cols``, in [-1, 1]."""
    y = rows[:, None] / cell
    x = cols[None, :] / cell
    y0, x0 = np.floor(y), np.floor(x)
    fy, fx = y - y0, x - x0
    fy, fx = fy * fy * (3 - 2 * fy), fx * fx * (3 - 2 * fx)  # smoothstep: no lattice creases
    iy, ix = (y0 + (1 << 20)).astype(np.int64), (x0 + (1 << 20)).astype(np.int64)
    v00, v01 = _hash_uniform(ix, iy, salt), _hash_uniform(ix + 1, iy, salt)
    v10, v11 = _hash_uniform(ix, iy + 1, salt), _hash_uniform(ix + 1, iy + 1, salt)
    return np.asarray((v00 * (1 - fx) + v01 * fx) * (1 - fy) + (v10 * (1 - fx) + v11 * fx) * fy)


@dataclass
class _Layout:
    """Stand cells and no-data of the whole scene, evaluated block by block."""

    lines: int
    samples: int
    seed: int
    tree: cKDTree
    warp: float
    cuts: list[tuple[int, int, float, float]]  # corner row, corner col, leg along rows, along cols

    @classmethod
    def draw(cls, seed: int, lines: int, samples: int, stand_size: float) -> _Layout:
        rng = _rng(seed, LAYOUT_STREAM)
        margin = stand_size
        n = max(4, round((lines + 2 * margin) * (samples + 2 * margin) / stand_size**2))
        points = rng.uniform((-margin, -margin), (lines + margin, samples + margin), size=(n, 2))
        corners = [(0, 0), (0, samples - 1), (lines - 1, 0), (lines - 1, samples - 1)]
        cuts = [
            (*corners[int(i)], rng.uniform(0.25, 0.45) * lines, rng.uniform(0.25, 0.45) * samples)
            for i in rng.choice(4, size=2, replace=False)
        ]
        return cls(lines, samples, seed, cKDTree(points), 0.25 * stand_size, cuts)

    @property
    def num_cells(self) -> int:
        return int(self.tree.n)

    def cells(self, r0: int, r1: int) -> np.ndarray:
        """Cell index of each pixel in rows r0..r1 (nearest seed point in warped coordinates)."""
        rows, cols = np.arange(r0, r1, dtype=np.float64), np.arange(self.samples, dtype=np.float64)
        cell = self.warp * 4
        dy = self.warp * smooth_noise(rows, cols, cell, self.seed * 16 + 1)
        dx = self.warp * smooth_noise(rows, cols, cell, self.seed * 16 + 2)
        yy = rows[:, None] + dy
        xx = cols[None, :] + dx
        _, idx = self.tree.query(np.stack([yy.ravel(), xx.ravel()], axis=1))
        return np.asarray(idx, dtype=np.int64).reshape(r1 - r0, self.samples)

    def has_data(self, r0: int, r1: int) -> np.ndarray:
        """True where the mosaic has data (outside both cut-off corners)."""
        rows = np.arange(r0, r1, dtype=np.float64)[:, None]
        cols = np.arange(self.samples, dtype=np.float64)[None, :]
        valid = np.ones((r1 - r0, self.samples), dtype=bool)
        for cr, cc, leg_r, leg_c in self.cuts:
            valid &= np.abs(rows - cr) / leg_r + np.abs(cols - cc) / leg_c >= 1.0
        return valid

    def block(self, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cells, data mask and label mask of rows r0..r1; the label mask needs a halo of rows."""
        h0, h1 = max(0, r0 - HALO), min(self.lines, r1 + HALO)
        cells = self.cells(h0, h1)
        valid = self.has_data(h0, h1)
        # 45x45 window all data and inside the image: beyond the halo only the image edge is reached,
        # and there the constant padding (False) is exactly "outside the image is no-data".
        window_ok = ndimage.minimum_filter(valid, size=2 * WINDOW_HALF_PX + 1, mode="constant", cval=False)
        border = np.zeros_like(valid)
        diff_v = cells[1:] != cells[:-1]
        diff_h = cells[:, 1:] != cells[:, :-1]
        diff_d = cells[1:, 1:] != cells[:-1, :-1]
        diff_a = cells[1:, :-1] != cells[:-1, 1:]
        border[1:] |= diff_v
        border[:-1] |= diff_v
        border[:, 1:] |= diff_h
        border[:, :-1] |= diff_h
        border[1:, 1:] |= diff_d
        border[:-1, :-1] |= diff_d
        border[1:, :-1] |= diff_a
        border[:-1, 1:] |= diff_a
        if border.any():
            far = ndimage.distance_transform_edt(~border) > BORDER_BUFFER_PX
        else:
            far = np.ones_like(border)
        inner = slice(r0 - h0, r1 - h0)
        return cells[inner], valid[inner], (window_ok & far)[inner]


def _block_rows(samples: int, bands: int) -> int:
    return max(1, BLOCK_VALUES // (samples * max(bands, LABEL_BANDS)))


def _count_labelled(layout: _Layout, block: int) -> np.ndarray:
    counts = np.zeros(layout.num_cells, dtype=np.int64)
    for r0 in range(0, layout.lines, block):
        cells, _, keep = layout.block(r0, min(layout.lines, r0 + block))
        counts += np.bincount(cells[keep], minlength=layout.num_cells)
    return counts


def _draw_stands(seed: int, layout: _Layout, counts: np.ndarray) -> tuple[np.ndarray, list[Stand | None]]:
    """Open-land flag and a Stand (or None) per cell; stand ids grow with cell index."""
    rng = _rng(seed, STAND_STREAM)
    open_land = rng.random(layout.num_cells) < OPEN_LAND_FRACTION
    forest = np.flatnonzero(~open_land)
    fertility = assign_fertility(rng, counts[forest])
    ids = FIRST_STAND_ID + np.cumsum(rng.integers(1, 40, size=layout.num_cells))
    stands: list[Stand | None] = [None] * layout.num_cells
    for k, cell in enumerate(forest):
        stands[int(cell)] = make_stand(rng, int(ids[cell]), int(fertility[k]))
    return open_land, stands


@dataclass(frozen=True)
class _CellOptics:
    """Per cell: canopy and ground spectra on the output grid, and how the canopy shows in the image.

    Stand structure shows the way it does in airborne imagery: ``cover`` (the gap fraction)
    grows with effective LAI and with stem density (young dense stands close their canopy);
    ``texture`` (the contrast of the crown/gap pattern) grows with crown size, i.e. with DBH;
    ``shade`` darkens tall stands, whose crowns cast longer shadows into the canopy.
    """

    source: str
    canopy: np.ndarray
    ground: np.ndarray
    cover: np.ndarray
    texture: np.ndarray
    shade: np.ndarray


def _cell_spectra(seed: int, stands: list[Stand | None], bands: int, spectra: Path | None) -> _CellOptics:
    """Spectra and structure optics of every cell (open land: a bare shape, no texture or shade)."""
    rng = _rng(seed, SPECTRA_STREAM)
    library = load_library(rng, spectra)
    wl = sensor_wavelengths()[: len(library.endmember("pine"))]
    nir_weight = 1.0 / (1.0 + np.exp(-(wl - 0.715) / 0.015))
    canopy, ground = [], []
    cover = np.zeros(len(stands))
    texture = np.full(len(stands), 0.1)
    shade = np.ones(len(stands))
    for i, stand in enumerate(stands):
        if stand is None:
            shape = open_land_shape(rng)
            canopy.append(shape)
            ground.append(shape)
            continue
        mix = np.zeros_like(wl)
        for s, name in enumerate(SPECIES):
            pool = library.pools[name]
            variant = pool[rng.integers(len(pool))]
            shape = 0.6 * library.endmember(name) + 0.4 * variant
            mix += stand.percent[s] / 100.0 * SPECIES_GAIN[name] * shape
        mix *= 1.0 + 0.1 * (stand.eff_lai - 3.3) * nir_weight  # denser canopy, brighter NIR
        canopy.append(mix * rng.lognormal(0.0, 0.04))
        ground.append(ground_shape(stand.fertility, stand.soil))
        closure = 0.75 + 0.25 * min(stand.stem_density / 3000.0, 1.0)
        cover[i] = (1.0 - np.exp(-0.6 * stand.eff_lai)) * closure
        texture[i] = 0.1 + 0.4 * min(stand.dbh / 30.0, 1.0)
        shade[i] = 1.0 - 0.3 * min(stand.height / 28.0, 1.0)
    return _CellOptics(
        library.source,
        to_sensor_grid(np.stack(canopy), bands),
        to_sensor_grid(np.stack(ground), bands),
        cover,
        texture,
        shade,
    )


def _create(
    path: Path, lines: int, samples: int, bands: int, dtype: str, interleave: str, meta: dict[str, object]
) -> None:
    header = {
        "lines": lines,
        "samples": samples,
        "bands": bands,
        "header offset": 0,
        "file type": "ENVI Standard",
        "data type": envi.dtype_to_envi[np.dtype(dtype).char],
        "interleave": interleave,
        "byte order": 0,
        **meta,
    }
    path.unlink(missing_ok=True)  # a fresh file: blocks go in through our own memmap
    allocate_envi(Path(str(path) + ".hdr"), header, path)


def _map_info() -> list[str]:
    east, north = MAP_ORIGIN
    return [
        "UTM",
        "1.000",
        "1.000",
        f"{east:.3f}",
        f"{north:.3f}",
        "1.0",
        "1.0",
        "35",
        "North",
        "WGS-84",
        "units=Meters",
    ]


def synthesize_forest(
    out: Path,
    seed: int = 0,
    size: tuple[int, int] = (256, 256),
    bands: int = SENSOR_BANDS,
    stand_size: float = 64.0,
    spectra: Path | None = None,
) -> ForestSummary:
    """Generate a TAIGA-format scene of ``size`` (lines, samples) and write it under ``out/taiga``.

    ``bands`` other than 128 resamples the same 0.400-0.984 um range (small tests); ``stand_size``
    is the mean stand diameter in px; ``spectra`` is a file of real (n, 110) spectra to draw the
    canopies from (default: the built-in parametric library, so the same seed gives the same
    bytes on every machine). What was used is written to ``taiga/synthesis.json``.
    """
    lines, samples = size
    if lines < 2 * HALO or samples < 2 * HALO:
        raise ValueError(f"size must be at least {2 * HALO} px each way, got {size}")
    if bands < 2:
        raise ValueError(f"bands must be >= 2, got {bands}")
    root = Path(out) / "taiga"
    root.mkdir(parents=True, exist_ok=True)
    layout = _Layout.draw(seed, lines, samples, stand_size)
    counts = _count_labelled(layout, _block_rows(samples, bands))
    open_land, stands = _draw_stands(seed, layout, counts)
    optics = _cell_spectra(seed, stands, bands, spectra)
    table = np.zeros((layout.num_cells, LABEL_BANDS), dtype=np.int32)
    for i, stand in enumerate(stands):
        if stand is not None:
            table[i] = stand.label_vector()
    _create_files(root, seed, lines, samples, bands)
    labelled, nodata = _render(root, seed, layout, optics, table, bands)
    kept = [s for i, s in enumerate(stands) if s is not None and labelled[i] > 0]
    sets = _write_table(root / TABLE_NAME, kept, _rng(seed, SPLIT_STREAM))
    _write_manifest(root, seed, (lines, samples), bands, stand_size, optics.source, spectra)
    return _summary(root, layout, bands, optics.source, stands, labelled, nodata, sets)


def _write_manifest(
    root: Path,
    seed: int,
    size: tuple[int, int],
    bands: int,
    stand_size: float,
    source: str,
    spectra: Path | None,
) -> None:
    """``synthesis.json``: what made the scene, so a folder says which spectra its canopies came from."""
    write_json(
        root / MANIFEST_NAME,
        {
            "generator": "spatialnet synthesize_forest",
            "seed": seed,
            "size": list(size),
            "bands": bands,
            "stand_size": stand_size,
            "spectra": source,
            "spectra_sha256": file_digest(Path(spectra)) if spectra is not None else None,
        },
    )


def _summary(
    root: Path,
    layout: _Layout,
    bands: int,
    source: str,
    stands: list[Stand | None],
    labelled: np.ndarray,
    nodata: int,
    sets: list[str],
) -> ForestSummary:
    """What was written: the stands kept and their labelled pixels by fertility and species."""
    fert: dict[int, int] = {}
    spec: dict[int, int] = {}
    for i, s in enumerate(stands):
        if s is not None and labelled[i] > 0:
            fert[s.fertility] = fert.get(s.fertility, 0) + int(labelled[i])
            spec[s.species] = spec.get(s.species, 0) + int(labelled[i])
    return ForestSummary(
        root=root,
        lines=layout.lines,
        samples=layout.samples,
        bands=bands,
        spectra_source=source,
        num_stands=len(sets),
        labelled_pixels=int(labelled.sum()),
        nodata_pixels=nodata,
        fertility_pixels=dict(sorted(fert.items())),
        species_pixels=dict(sorted(spec.items())),
        set_counts={"training": sets.count("training"), "holdout": sets.count("holdout")},
    )


def _create_files(root: Path, seed: int, lines: int, samples: int, bands: int) -> None:
    """The cube and label rasters with their headers, allocated for :func:`_render` to fill."""
    _create(
        root / CUBE_NAME,
        lines,
        samples,
        bands,
        "int16",
        "bsq",
        {
            "description": f"synthetic TAIGA reflectance mosaic (spatialnet, seed {seed})",
            "sensor type": "AISA Eagle II (synthetic)",
            "reflectance scale factor": 10000,
            "map info": _map_info(),
            "wavelength units": "Micrometers",
            "wavelength": [f"{w:.4f}" for w in sensor_wavelengths(bands)],
        },
    )
    _create(
        root / LABEL_NAME,
        lines,
        samples,
        LABEL_BANDS,
        "int32",
        "bip",
        {
            "description": f"synthetic TAIGA stand labels (spatialnet, seed {seed})",
            "map info": _map_info(),
            "data ignore value": 0,
            "band names": list(LABEL_BAND_NAMES),
        },
    )


def _render(
    root: Path, seed: int, layout: _Layout, optics: _CellOptics, table: np.ndarray, bands: int
) -> tuple[np.ndarray, int]:
    """Fill the cube and labels block by block; labelled pixels per cell and the no-data count."""
    lines, samples = layout.lines, layout.samples
    block = _block_rows(samples, bands)
    cube = np.memmap(root / CUBE_NAME, dtype="<i2", mode="r+", shape=(bands, lines, samples))
    labels = np.memmap(root / LABEL_NAME, dtype="<i4", mode="r+", shape=(lines, samples, LABEL_BANDS))
    wl = sensor_wavelengths(bands)
    noisy = np.where(wl > clean_limit_um() + 1e-9, 5.0, 1.0)
    cols = np.arange(samples, dtype=np.float64)
    labelled = np.zeros(layout.num_cells, dtype=np.int64)
    nodata = 0
    for r0 in range(0, lines, block):
        r1 = min(lines, r0 + block)
        cells, valid, keep = layout.block(r0, r1)
        labels[r0:r1] = np.where(keep[..., None], table[cells], 0)
        labelled += np.bincount(cells[keep & (table[cells, 0] > 0)], minlength=layout.num_cells)
        rows = np.arange(r0, r1, dtype=np.float64)
        crowns = smooth_noise(rows, cols, 3.0, seed * 16 + NOISE_SALT)
        patches = smooth_noise(rows, cols, 24.0, seed * 16 + NOISE_SALT + 1)
        local_cover = np.clip(optics.cover[cells] + optics.texture[cells] * crowns, 0.0, 1.0)[..., None]
        refl = local_cover * optics.canopy[cells] + (1.0 - local_cover) * optics.ground[cells]
        refl *= (REFLECTANCE_GAIN * optics.shade[cells] * (1.0 + 0.08 * patches + 0.05 * crowns))[..., None]
        rng = _rng(seed, PIXEL_STREAM, r0)
        refl *= 1.0 + rng.normal(0.0, 0.01, size=refl.shape)
        refl += rng.normal(0.0, 0.002, size=refl.shape) * noisy
        dn = np.clip(np.rint(refl * 10000.0), 1, 32767).astype(np.int16)
        dn[~valid] = 0
        cube[:, r0:r1, :] = dn.transpose(2, 0, 1)
        nodata += int((~valid).sum())
    cube.flush()
    labels.flush()
    del cube, labels
    return labelled, nodata


def _write_table(path: Path, stands: list[Stand], rng: np.random.Generator) -> list[str]:
    """Stand table in the real column order; a seeded 84/16 training/holdout split of the stands."""
    n_hold = int(round(len(stands) * HOLDOUT_FRACTION))
    holdout = set(rng.permutation(len(stands))[:n_hold].tolist())
    sets = ["holdout" if i in holdout else "training" for i in range(len(stands))]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(TABLE_COLUMNS)
        for s, split in zip(stands, sets, strict=True):
            values = (
                s.basal_area,
                s.stem_density,
                s.dbh,
                s.height,
                s.eff_lai,
                s.stem_biomass,
                s.woody_biomass,
            )
            w.writerow(
                [s.stand_id, *(f"{v:.2f}" if isinstance(v, float) else v for v in values)]
                + ["0.0"] * 4
                + [split]
            )
    return sets
