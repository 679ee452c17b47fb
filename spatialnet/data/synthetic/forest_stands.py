"""Stand variables of the synthetic TAIGA world: one coherent forest inventory record per stand.

A stand draws its fertility class first, then soil and main species conditioned on it, then a
development stage that drives height, DBH, stem density, basal area, biomass and LAI through
simple allometry. The relations are calibrated on the real TAIGA stand table (means: basal area
22 m2/ha, DBH 20 cm, density 1010 /ha, height 17 m, effective LAI 3.3, woody biomass 94 t/ha;
corr(basal area, biomass) 0.97, corr(DBH, height) 0.98, corr(DBH, density) -0.7) and the baseline's
p98 values (basal area 35.5, DBH 30.9, density 6240, height 24.2, biomass 180, LAI 9.7, eff. LAI 6.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FERTILITY_CODES = (1, 2, 3, 4, 5, 6)  # 1 herb-rich forest .. 6 barren heath forest
# Target share of labelled pixels per fertility class: mesic and sub-xeric heaths dominate, the
# extremes are rare, as in southern Finnish forest inventories.
FERTILITY_SHARES = np.array([0.03, 0.17, 0.40, 0.28, 0.09, 0.03])
RARE_CODES = (1, 6)
P_ORGANIC = (0.30, 0.18, 0.08, 0.08, 0.15, 0.30)  # peat under rich fens and poor bogs alike
# P(main species = pine, spruce, birch | fertility): pine takes over as sites get poorer.
P_SPECIES = np.array(
    [
        [0.05, 0.50, 0.45],
        [0.15, 0.55, 0.30],
        [0.35, 0.47, 0.18],
        [0.75, 0.18, 0.07],
        [0.92, 0.05, 0.03],
        [0.97, 0.02, 0.01],
    ]
)
MAX_HEIGHT_M = (28.0, 27.0, 25.0, 22.0, 18.0, 13.0)  # mature stand height by fertility
CLUMPING = (0.70, 0.60, 0.85)  # effective/true LAI ratio of pine, spruce, birch shoots
LAI_FACTOR = (0.90, 1.15, 1.00)  # leaf area per basal area, relative, pine/spruce/birch
# Range of the main species' share: pure pine stands are common, pure birch stands rare.
MAIN_SHARE = ((0.55, 1.0), (0.5, 0.95), (0.4, 0.8))
MAX_DENSITY = 9000  # young dense stands; the real p98 is 6240 /ha


@dataclass(frozen=True)
class Stand:
    """One forest stand in physical units, as coded in the TAIGA label raster and stand table."""

    stand_id: int
    fertility: int  # 1..6
    soil: int  # 1 mineral, 2 organic
    species: int  # 1 pine, 2 spruce, 3 birch
    percent: tuple[int, int, int]  # % of basal area: pine, spruce, birch; sums to 100
    basal_area: float  # m2/ha
    dbh: float  # cm
    stem_density: int  # 1/ha
    height: float  # m
    woody_biomass: float  # t/ha
    stem_biomass: float  # t/ha
    lai: float
    eff_lai: float

    def label_vector(self) -> np.ndarray:
        """The 14 int32 label bands in the real raster's codes and x100 factors."""
        return np.array(
            [
                self.fertility,
                self.soil,
                self.species,
                round(self.basal_area * 100),
                round(self.dbh * 100),
                self.stem_density,
                round(self.height * 100),
                *self.percent,
                round(self.woody_biomass),
                round(self.lai * 100),
                round(self.eff_lai * 100),
                self.stand_id,
            ],
            dtype=np.int32,
        )


def assign_fertility(rng: np.random.Generator, pixels: np.ndarray) -> np.ndarray:
    """Fertility code per stand so that labelled-pixel shares follow ``FERTILITY_SHARES``.

    Stands are put in a random order and cut where their cumulative pixel share crosses the target
    quantiles; each rare class then gets the smallest stand of its neighbouring class if the cut
    missed it, so rare classes exist but stay small (the real imbalance). Stands without labelled
    pixels get a class by plain sampling.
    """
    n = len(pixels)
    codes = rng.choice(FERTILITY_CODES, size=n, p=FERTILITY_SHARES)
    labelled = np.flatnonzero(pixels > 0)
    if len(labelled) == 0:
        return codes
    order = labelled[rng.permutation(len(labelled))]
    share = pixels[order] / pixels[order].sum()
    mid = np.cumsum(share) - share / 2
    cuts = np.cumsum(FERTILITY_SHARES)[:-1]
    codes[order] = np.searchsorted(cuts, mid) + 1
    if len(labelled) >= 8:
        for rare, neighbour in ((1, 2), (6, 5)):
            if np.any(codes[labelled] == rare):
                continue
            donors = labelled[codes[labelled] == neighbour]
            if len(donors) > 1:
                codes[donors[np.argmin(pixels[donors])]] = rare
    return codes


def _percentages(rng: np.random.Generator, main: int) -> tuple[int, int, int]:
    """Integer shares summing to 100 with the main species strictly the largest."""
    low, high = MAIN_SHARE[main]
    main_share = rng.uniform(low, high)
    rest = rng.dirichlet([1.0, 1.0]) * (1.0 - main_share)
    shares = np.insert(rest, main, main_share) * 100
    ints = np.floor(shares).astype(int)
    for i in np.argsort(-(shares - ints), kind="stable")[: 100 - ints.sum()]:
        ints[i] += 1
    others = [i for i in range(3) if i != main]
    while ints[main] <= max(ints[o] for o in others):  # only for main near 1/3: move points over
        donor = max(others, key=lambda o: ints[o])
        ints[donor] -= 1
        ints[main] += 1
    return int(ints[0]), int(ints[1]), int(ints[2])


def make_stand(rng: np.random.Generator, stand_id: int, fertility: int) -> Stand:
    """Draw one stand's variables given its fertility class; all values lie in realistic ranges."""
    f = fertility - 1
    soil = 2 if rng.random() < P_ORGANIC[f] else 1
    main = int(rng.choice(3, p=P_SPECIES[f]))
    percent = _percentages(rng, main)
    weights = np.array(percent) / 100.0
    stage = rng.beta(2.2, 1.6)  # development: young (0) .. mature (1)
    height = MAX_HEIGHT_M[f] * (0.22 + 0.78 * stage**0.8) * rng.lognormal(0.0, 0.06)
    if soil == 2:
        height *= 0.85  # slower growth on peat
    dbh = max(6.0, 1.25 * height - 1.0 + rng.normal(0.0, 1.2))
    stocking = rng.uniform(0.6, 1.0)  # fraction of the self-thinning maximum density
    density = min(MAX_DENSITY, 1400.0 * (dbh / 20.0) ** -1.6 * stocking * rng.lognormal(0.0, 0.12))
    basal_area = density * np.pi * (dbh / 200.0) ** 2 * 0.65  # mean vs quadratic-mean DBH
    woody = 0.255 * basal_area * height * (0.95, 1.05, 1.0)[main] * rng.lognormal(0.0, 0.08)
    eff_lai = 0.26 * basal_area**0.82 * float(weights @ LAI_FACTOR) * rng.lognormal(0.0, 0.1)
    lai = eff_lai / float(weights @ CLUMPING)
    return Stand(
        stand_id=stand_id,
        fertility=fertility,
        soil=soil,
        species=main + 1,
        percent=percent,
        basal_area=round(float(basal_area), 2),
        dbh=round(float(dbh), 2),
        stem_density=int(round(density)),
        height=round(float(height), 2),
        woody_biomass=round(float(woody), 2),
        stem_biomass=round(float(woody) * 0.8, 2),
        lai=round(float(lai), 2),
        eff_lai=round(float(eff_lai), 2),
    )
