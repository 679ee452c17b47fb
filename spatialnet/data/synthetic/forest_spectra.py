"""Spectral library for the synthetic TAIGA cube: per-species canopy spectra and the ground under them.

Shapes come from a built-in parametric vegetation model, so the same seed gives the same scene on
every machine. Real spectra are used only when a file is named (``synth --spectra FILE``, e.g. the
AISA Eagle II stand spectra ``x-110-l2.npy``: 171 spectra, first 110 bands, L2-normalised). Real
spectra carry no species, so they are split into terciles of near-infrared level: darkest ->
spruce, middle -> pine, brightest -> birch (dense spruce crowns absorb most, birch leaves scatter
most). All library shapes live on the first 110
bands of the sensor grid and are L2-normalised there, so one gain turns either source into
reflectance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spatialnet.errors import DataError

# AISA Eagle II grid: 128 bands from 0.400 um in 4.6 nm steps (0.400-0.984 um); bands 0-109 are
# the clean ones the TAIGA baseline keeps (up to 0.901 um).
SENSOR_BANDS = 128
CLEAN_BANDS = 110
FIRST_WAVELENGTH_UM = 0.400
BAND_STEP_UM = 0.0046
# Gain from an L2-normalised 110-band shape to reflectance: the real mean shape peaks near 0.17
# in the NIR, so x2 gives NIR ~0.33 and visible ~0.02-0.06, typical boreal canopy reflectance.
REFLECTANCE_GAIN = 2.0
SPECIES = ("pine", "spruce", "birch")
# Canopy brightness per species on top of the shape: conical spruce crowns self-shade most,
# broadleaved birch crowns scatter most (boreal canopies differ ~±20 % in NIR reflectance).
SPECIES_GAIN = {"pine": 1.0, "spruce": 0.82, "birch": 1.22}
FALLBACK_VARIANTS = 24  # parametric spectra per species, as many as a real tercile holds roughly
NIR_SLICE = slice(80, 110)  # 0.77-0.90 um


def sensor_wavelengths(bands: int = SENSOR_BANDS) -> np.ndarray:
    """Band centres in um: the real 128-band grid, or the same range resampled to ``bands`` bands."""
    last = FIRST_WAVELENGTH_UM + BAND_STEP_UM * (SENSOR_BANDS - 1)
    if bands == SENSOR_BANDS:
        return FIRST_WAVELENGTH_UM + BAND_STEP_UM * np.arange(SENSOR_BANDS)
    return np.linspace(FIRST_WAVELENGTH_UM, last, bands)


def clean_limit_um() -> float:
    """Longest wavelength of the clean bands; bands beyond it are noisy in the real sensor."""
    return FIRST_WAVELENGTH_UM + BAND_STEP_UM * (CLEAN_BANDS - 1)


@dataclass
class SpectralLibrary:
    """Per-species pools of L2-normalised canopy shapes on the 110 clean sensor bands."""

    source: str  # "parametric" or the name of the spectra file
    pools: dict[str, np.ndarray]  # species -> (n, 110)

    def endmember(self, species: str) -> np.ndarray:
        """Mean shape of one species (what a pure, average stand looks like)."""
        return self.pools[species].mean(axis=0)


def _split_by_nir(spectra: np.ndarray) -> dict[str, np.ndarray]:
    order = np.argsort(spectra[:, NIR_SLICE].mean(axis=1), kind="stable")
    dark, mid, bright = np.array_split(order, 3)
    return {"spruce": spectra[dark], "pine": spectra[mid], "birch": spectra[bright]}


def parametric_shape(wl: np.ndarray, nir: float, green: float, edge_um: float, visible: float) -> np.ndarray:
    """Green vegetation reflectance: visible floor, green peak, red-edge sigmoid to a sloped NIR plateau."""
    green_peak = green * np.exp(-0.5 * ((wl - 0.555) / 0.028) ** 2)
    red_well = 0.6 * visible * np.exp(-0.5 * ((wl - 0.675) / 0.02) ** 2)
    edge = 1.0 / (1.0 + np.exp(-(wl - edge_um) / 0.011))
    plateau = nir * (1.0 + 0.12 * (wl - 0.75))
    blue = 0.3 * visible * (wl < 0.45) * (0.45 - wl) / 0.05
    return np.asarray(visible + green_peak - red_well + edge * (plateau - visible) + blue)


# Per species: NIR plateau, green peak, red-edge centre; birch brightest, spruce darkest.
_PARAMETRIC: dict[str, tuple[float, float, float]] = {
    "pine": (0.27, 0.035, 0.716),
    "spruce": (0.21, 0.028, 0.712),
    "birch": (0.40, 0.050, 0.720),
}


def _parametric_pools(rng: np.random.Generator) -> dict[str, np.ndarray]:
    wl = sensor_wavelengths()[:CLEAN_BANDS]
    pools: dict[str, np.ndarray] = {}
    for name in SPECIES:
        nir, green, edge = _PARAMETRIC[name]
        rows = []
        for _ in range(FALLBACK_VARIANTS):
            shape = parametric_shape(
                wl,
                nir * rng.uniform(0.85, 1.15),
                green * rng.uniform(0.8, 1.2),
                edge + rng.normal(0.0, 0.003),
                0.03 * rng.uniform(0.8, 1.2),
            )
            rows.append(shape / np.linalg.norm(shape))
        pools[name] = np.stack(rows)
    return pools


def load_library(rng: np.random.Generator, path: Path | None = None) -> SpectralLibrary:
    """The parametric library, or the real shapes in ``path``: a .npy (n, 110) array, n ≥ 3."""
    if path is None:
        return SpectralLibrary("parametric", _parametric_pools(rng))
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: spectra file not found")
    try:
        spectra = np.load(path, allow_pickle=False).astype(np.float64)
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a .npy array of spectra ({err})") from err
    if spectra.ndim != 2 or spectra.shape[1] != CLEAN_BANDS or spectra.shape[0] < 3:
        raise DataError(
            f"{path}: spectra of shape {spectra.shape}; expected (n, {CLEAN_BANDS}) with n ≥ 3 "
            f"(reflectance on the first {CLEAN_BANDS} AISA Eagle II bands)"
        )
    if not np.isfinite(spectra).all():
        raise DataError(f"{path}: spectra hold NaN or infinite values")
    norms = np.linalg.norm(spectra, axis=1, keepdims=True)
    return SpectralLibrary(path.name, _split_by_nir(spectra / np.maximum(norms, 1e-12)))


PEAT_DARKENING = 0.65  # wet peat and Sphagnum reflect about a third less than mineral-soil heath


def ground_shape(fertility: int, soil: int = 1) -> np.ndarray:
    """Forest floor under the canopy: herbs on rich sites, pale lichen and heath on poor ones.

    Organic soils (``soil`` 2) carry wet, dark peat moss: the shape keeps its norm-1 form scaled by
    :data:`PEAT_DARKENING`, so the floor seen through canopy gaps tells peat from mineral soil.
    """
    wl = sensor_wavelengths()[:CLEAN_BANDS]
    poor = (fertility - 1) / 5.0  # 0 herb-rich .. 1 barren
    herbs = parametric_shape(wl, 0.30, 0.05, 0.712, 0.03)
    lichen = 0.12 + 0.25 * (wl - 0.40) + 0.05 * (wl > 0.70)  # bright, flat, weak red edge
    shape = (1.0 - poor) * herbs + poor * lichen
    darkening = PEAT_DARKENING if soil == 2 else 1.0
    return np.asarray(darkening * shape / np.linalg.norm(shape))


def open_land_shape(wl_rng: np.random.Generator) -> np.ndarray:
    """Non-forest patch (field, clearing, bare soil): a mix of grass and a rising soil line."""
    wl = sensor_wavelengths()[:CLEAN_BANDS]
    grass = parametric_shape(wl, 0.35, 0.06, 0.710, 0.04)
    soil = 0.08 + 0.35 * (wl - 0.40)
    mix = wl_rng.uniform(0.1, 0.9)
    shape = mix * grass + (1.0 - mix) * soil
    return np.asarray(shape / np.linalg.norm(shape))


def to_sensor_grid(shapes: np.ndarray, bands: int) -> np.ndarray:
    """Resample (..., 110) shapes onto the output band grid; beyond 0.901 um the last band repeats."""
    src = sensor_wavelengths()[:CLEAN_BANDS]
    dst = sensor_wavelengths(bands)
    flat = shapes.reshape(-1, CLEAN_BANDS)
    out = np.stack([np.interp(dst, src, row) for row in flat])
    return out.reshape(*shapes.shape[:-1], bands)
