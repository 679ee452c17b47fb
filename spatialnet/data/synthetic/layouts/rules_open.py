"""Rules of the open-land classes: fields, beach, chaparral, forest, golf course, river."""

from __future__ import annotations

import math

import numpy as np

from spatialnet.data.synthetic.layouts.builder import Builder
from spatialnet.data.synthetic.layouts.geometry import band_points, blob_points, offset_line, rect_points
from spatialnet.data.synthetic.layouts.palette import (
    DIRT,
    DRY_GRASS,
    FIELDS,
    FOREST,
    FRAME_HI,
    FRAME_LO,
    GRASS,
    REF,
    SAND,
    SEA,
    WATER,
    jitter,
    pick,
)


def _agricultural(b: Builder) -> None:
    rng = b.rng
    b.rotation = float(rng.uniform(0, math.pi))
    n_fields = int(rng.integers(1, 5))
    cuts = np.sort(rng.uniform(FRAME_LO + 40, FRAME_HI - 40, size=n_fields - 1))
    edges = [FRAME_LO, *cuts.tolist(), FRAME_HI]
    for i in range(n_fields):
        name, rgb = pick(rng, FIELDS)
        x0, x1 = edges[i], edges[i + 1]
        rows = float(rng.choice([0.0, math.pi / 2]))
        b.add(
            "farmland",
            [(x0, FRAME_LO), (x1, FRAME_LO), (x1, FRAME_HI), (x0, FRAME_HI)],
            "rectangular",
            rgb,
            colour=name,
            angle=rows,
            width=float(rng.uniform(3, 7)),
        )
    if rng.random() < 0.5 and n_fields > 1:
        x = edges[1]
        b.band(
            "road",
            [(x, FRAME_LO), (x, FRAME_HI)],
            float(rng.uniform(5, 9)),
            jitter(rng, DIRT),
            subtype="dirt",
        )


def _beach(b: Builder) -> None:
    rng = b.rng
    b.rotation = float(rng.uniform(0, 2 * math.pi))
    xs = np.linspace(FRAME_LO, FRAME_HI, 24)
    base = float(rng.uniform(100, 160))
    wobble = (
        base + 14 * np.sin(xs / float(rng.uniform(30, 70)) + float(rng.uniform(0, 6))) + rng.normal(0, 2, 24)
    )
    coast = [(float(x), float(y)) for x, y in zip(xs, wobble, strict=True)]
    sand_w = float(rng.uniform(50, 110))
    land = [(x, y - sand_w) for x, y in coast]
    name = "white" if rng.random() < 0.6 else "yellow"
    b.add(
        "beach",
        [*land, *coast[::-1]],
        "irregular",
        jitter(rng, SAND if name == "white" else DIRT, 8),
        colour=name,
    )
    b.add(
        "water area",
        [*coast, (FRAME_HI, FRAME_HI), (FRAME_LO, FRAME_HI)],
        "irregular",
        jitter(rng, SEA, 10),
        colour="blue",
        subtype="sea",
        line=coast,
    )
    if rng.random() < 0.6:
        b.add(
            "grass area",
            [(FRAME_LO, FRAME_LO), (FRAME_HI, FRAME_LO), *land[::-1]],
            "irregular",
            jitter(rng, DRY_GRASS),
        )


def _chaparral(b: Builder) -> None:
    rng = b.rng
    for _ in range(int(rng.integers(1, 4))):
        cx, cy = (float(v) for v in rng.uniform(30, 226, size=2))
        b.add(
            "scrub",
            blob_points(rng, cx, cy, float(rng.uniform(90, 170)), 0.35),
            "irregular",
            jitter(rng, (112, 112, 86), 10),
            colour="grey",
        )
    if rng.random() < 0.4:
        y = float(rng.uniform(30, 226))
        b.band(
            "road",
            [(FRAME_LO, y), (REF / 2, y + float(rng.uniform(-40, 40))), (FRAME_HI, y)],
            5,
            jitter(rng, (196, 172, 136)),
            subtype="dirt",
            shape="irregular",
        )


def _forest(b: Builder) -> None:
    rng = b.rng
    b.add(
        "forest",
        [(0, 0), (REF, 0), (REF, REF), (0, REF)],
        "square",
        jitter(rng, FOREST, 8),
        colour="green",
        subtype=str(rng.choice(["coniferous", "mixed", "broadleaved"])),
    )
    if rng.random() < 0.3:
        cx, cy = (float(v) for v in rng.uniform(40, 216, size=2))
        b.add(
            "grass area",
            blob_points(rng, cx, cy, float(rng.uniform(14, 30)), 0.4),
            "irregular",
            jitter(rng, GRASS),
        )


def _golfcourse(b: Builder) -> None:
    rng = b.rng
    cx, cy = (float(v) for v in rng.uniform(90, 166, size=2))
    b.add(
        "grass area",
        blob_points(rng, cx, cy, float(rng.uniform(70, 110)), 0.35),
        "irregular",
        jitter(rng, (120, 160, 80), 8),
        colour="green",
        subtype="fairway",
    )
    b.occupy(rect_points(cx, cy, 60, 60))
    gx, gy = cx + float(rng.uniform(-40, 40)), cy + float(rng.uniform(-40, 40))
    b.add(
        "grass area",
        blob_points(rng, gx, gy, float(rng.uniform(12, 20)), 0.15),
        "circular",
        jitter(rng, (128, 176, 88), 6),
        colour="green",
        subtype="green",
    )
    for _ in range(int(rng.integers(0, 5))):
        a = float(rng.uniform(0, 2 * math.pi))
        d = float(rng.uniform(18, 40))
        b.add(
            "bunker",
            blob_points(rng, gx + d * math.cos(a), gy + d * math.sin(a), float(rng.uniform(5, 11)), 0.4),
            "irregular",
            jitter(rng, (228, 218, 190), 6),
            colour="white",
        )
    if rng.random() < 0.35:
        px, py = (float(v) for v in rng.uniform(20, 236, size=2))
        pond = blob_points(rng, px, py, float(rng.uniform(14, 28)), 0.3)
        b.add("water area", pond, "irregular", jitter(rng, WATER, 8), colour="blue", subtype="pond")
        b.occupy(pond)
    b.scatter_trees(int(rng.integers(10, 45)), margin=0)


def _river(b: Builder) -> None:
    rng = b.rng
    b.rotation = float(rng.uniform(0, 2 * math.pi))
    xs = np.linspace(FRAME_LO, FRAME_HI, 28)
    # Gentle meanders (bend radius > half the river width) keep the offset banks simple polygons.
    amp, per = float(rng.uniform(6, 24)), float(rng.uniform(160, 320))
    ys = REF / 2 + amp * np.sin(xs / per * 2 * math.pi + float(rng.uniform(0, 6)))
    line = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
    width = float(rng.uniform(30, 70))
    for side, edge in ((1, FRAME_HI), (-1, FRAME_LO)):
        gap = float(rng.uniform(0, 14))
        bank = offset_line(line, side * (width / 2 + gap))
        region = [*bank, (FRAME_HI, edge), (FRAME_LO, edge)]
        if rng.random() < 0.75:
            b.add("forest", region, "irregular", jitter(rng, FOREST, 8), colour="green", subtype="riparian")
        else:
            b.add("grass area", region, "irregular", jitter(rng, GRASS))
    if rng.random() < 0.5:
        b.band(
            "beach",
            offset_line(line, float(rng.choice([-1, 1])) * width / 2),
            10,
            jitter(rng, SAND, 8),
            shape="irregular",
            subtype="sandbank",
        )
    colour = "green" if rng.random() < 0.5 else "blue"
    rgb = (60, 90, 78) if colour == "green" else (50, 84, 104)
    b.band("water area", line, width, jitter(rng, rgb, 8), shape="irregular", colour=colour, subtype="river")
    b.occupy(band_points(line, width + 12))
