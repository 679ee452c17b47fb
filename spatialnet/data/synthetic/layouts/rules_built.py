"""Rules of the built-up classes: buildings, the four residential kinds, storage tanks, sports grounds."""

from __future__ import annotations

import math

import numpy as np

from spatialnet.data.synthetic.layouts.builder import Builder
from spatialnet.data.synthetic.layouts.geometry import blob_points, rect_points
from spatialnet.data.synthetic.layouts.palette import (
    ASPHALT,
    CAR_L,
    CAR_W,
    CARS,
    CONCRETE,
    COURTS,
    DIRT,
    FLAT_ROOFS,
    FRAME_HI,
    FRAME_LO,
    LANE_WIDTH,
    LAWN,
    PLACE_TRIES,
    REF,
    ROOFS,
    SERVICE_LINE_FRACTION,
    TANKS,
    WHITE,
    jitter,
    pick,
)
from spatialnet.data.synthetic.scene_graph import (
    Point,
)


def _buildings(b: Builder) -> None:
    rng = b.rng
    b.rotation = float(rng.choice([0.0, math.pi / 2])) + float(rng.uniform(-0.3, 0.3))
    y = float(rng.uniform(60, 196))
    road = [(FRAME_LO, y), (FRAME_HI, y)]
    b.road(road, 2)
    b.cars_along(road, [-6.0, 6.0], 0.3, [False, True])
    target = int(rng.integers(4, 12))
    placed = 0
    for _ in range(target * PLACE_TRIES):
        if placed == target:
            break
        w, h = float(rng.uniform(30, 90)), float(rng.uniform(26, 70))
        cx, cy = float(rng.uniform(-10, REF + 10)), float(rng.uniform(-10, REF + 10))
        if b.building(cx, cy, w, h, 0.0, str(rng.choice(["commercial", "industrial"])), FLAT_ROOFS, 5):
            placed += 1
    if rng.random() < 0.7:
        px, py = float(rng.uniform(40, 216)), float(rng.uniform(40, 216))
        pts = rect_points(px, py, 70, 40)
        if b.free(pts, 2):
            parking_lot(b, px, py, 70, 40, 0.0, float(rng.uniform(0.3, 0.9)))
    b.scatter_trees(int(rng.integers(0, 8)))


def parking_lot(b: Builder, cx: float, cy: float, w: float, h: float, angle: float, fill: float) -> int:
    """A parking with stall lines and cars in rows along its long side; returns the number of cars."""
    rng = b.rng
    lot = b.rect(
        "parking",
        cx,
        cy,
        w,
        h,
        angle,
        jitter(rng, ASPHALT if rng.random() < 0.7 else CONCRETE, 8),
        subtype="surface",
    )
    b.occupy(rect_points(cx, cy, w, h, angle))
    row_depth, stall = 18.0, 10.0
    n_rows = max(1, int(h // (row_depth + 2)))
    cars = 0
    ca, sa = math.cos(angle), math.sin(angle)

    def at(u: float, v: float) -> Point:
        return (cx + u * ca - v * sa, cy + u * sa + v * ca)

    for r in range(n_rows):
        v0 = -h / 2 + 2 + r * (row_depth + 2)
        for k in range(int(w // stall) + 1):
            u = -w / 2 + k * stall
            b.mark(lot, [at(u, v0), at(u, v0 + row_depth * 0.8)], 0.8, WHITE)
            if u + stall <= w / 2 and rng.random() < fill:
                p = at(u + stall / 2, v0 + row_depth * 0.45)
                name, rgb = pick(rng, CARS)
                if b.rect(
                    "car",
                    p[0],
                    p[1],
                    CAR_W,
                    CAR_L,
                    angle + float(rng.normal(0, 0.04)),
                    rgb,
                    colour=name,
                    height=2.0,
                ):
                    cars += 1
    return cars


def _residential(
    b: Builder,
    spacing: tuple[float, float],
    house: tuple[float, float],
    street_gap: float,
    trees: tuple[int, int],
    pools: float,
    kind: str = "building",
) -> None:
    """Rows of houses along parallel streets; spacing and house size set the density class."""
    rng = b.rng
    b.rotation = float(rng.uniform(0, 2 * math.pi))
    y = float(rng.uniform(FRAME_LO + 20, FRAME_LO + 20 + street_gap))
    streets = []
    while y < FRAME_HI:
        streets.append(y)
        b.road([(FRAME_LO, y), (FRAME_HI, y)], 2, rgb=jitter(rng, (110, 110, 112), 8))
        y += street_gap
    if rng.random() < 0.6:
        x = float(rng.uniform(60, 196))
        b.road([(x, FRAME_LO), (x, FRAME_HI)], 2, rgb=jitter(rng, (110, 110, 112), 8))
    roof = ROOFS[int(rng.integers(len(ROOFS)))]
    for ys in streets:
        for side in (-1, 1):
            x = FRAME_LO + float(rng.uniform(0, spacing[1]))
            while x < FRAME_HI:
                w = float(rng.uniform(*house))
                d = float(rng.uniform(house[0] * 0.8, house[1] * 1.1))
                cy = ys + side * (LANE_WIDTH + 6 + d / 2 + float(rng.uniform(2, 6)))
                palette = (roof,) if rng.random() < 0.6 else ROOFS
                if kind == "mobile home":
                    obj = b.building(x + w / 2, cy, 8.0, d * 1.6, 0.0, "residential", palette, 1.0, kind)
                else:
                    obj = b.building(x + w / 2, cy, w, d, 0.0, "residential", palette, 2.0)
                if obj is not None and rng.random() < pools:
                    px, py = x + w / 2, cy + side * (d / 2 + 9)
                    pool = rect_points(px, py, 12, 8)
                    if b.free(pool, 1):
                        b.occupy(pool)
                        b.rect(
                            "swimming pool",
                            px,
                            py,
                            12,
                            8,
                            0.0,
                            jitter(rng, (70, 170, 200), 10),
                            colour="blue",
                        )
                x += (8.0 if kind == "mobile home" else w) + float(rng.uniform(*spacing))
    b.scatter_trees(int(rng.integers(*trees)), margin=1)


def _denseresidential(b: Builder) -> None:
    _residential(b, (2, 5), (18, 26), 100.0, (2, 12), 0.0)


def _mediumresidential(b: Builder) -> None:
    _residential(b, (18, 36), (18, 28), 120.0, (12, 30), 0.1)


def _mobilehomepark(b: Builder) -> None:
    _residential(b, (2, 5), (14, 18), 90.0, (0, 10), 0.0, kind="mobile home")


def _sparseresidential(b: Builder) -> None:
    rng = b.rng
    b.rotation = float(rng.uniform(0, 2 * math.pi))
    if rng.random() < 0.7:
        b.road([(FRAME_LO, 40.0), (FRAME_HI, 40.0)], 2, rgb=jitter(rng, (110, 110, 112), 8))
    n = int(rng.integers(1, 5))
    placed = 0
    for _ in range(n * PLACE_TRIES):
        if placed == n:
            break
        w, h = float(rng.uniform(30, 50)), float(rng.uniform(24, 40))
        cx, cy = float(rng.uniform(30, 226)), float(rng.uniform(70, 226))
        if b.building(cx, cy, w, h, float(rng.uniform(-0.2, 0.2)), "residential", ROOFS, 14):
            placed += 1
            if rng.random() < 0.5:
                pool = rect_points(cx, cy + h / 2 + 12, 18, 10)
                if b.free(pool, 1):
                    b.occupy(pool)
                    b.rect(
                        "swimming pool",
                        cx,
                        cy + h / 2 + 12,
                        18,
                        10,
                        0.0,
                        jitter(rng, (70, 170, 200), 10),
                        colour="blue",
                    )
    b.scatter_trees(int(rng.integers(20, 60)), margin=0)


def _storagetanks(b: Builder) -> None:
    rng = b.rng
    n = int(rng.integers(1, 10))
    big = n <= 3
    placed = 0
    if rng.random() < 0.5:
        b.road(
            [(FRAME_LO, float(rng.uniform(20, 236))), (FRAME_HI, float(rng.uniform(20, 236)))],
            1,
            rgb=jitter(rng, (120, 118, 114)),
        )
    for _ in range(n * PLACE_TRIES):
        if placed == n:
            break
        r = float(rng.uniform(22, 44) if big else rng.uniform(12, 26))
        cx, cy = (float(v) for v in rng.uniform(r, REF - r, size=2))
        box = rect_points(cx, cy, 2 * r, 2 * r)
        if not b.free(box, 5):
            continue
        b.occupy(box)
        name, rgb = pick(rng, TANKS)
        b.circle("storage tank", cx, cy, r, rgb, colour=name, subtype="industrial", height=r * 0.4)
        placed += 1
    for _ in range(int(rng.integers(0, 3))):
        w, h = float(rng.uniform(20, 40)), float(rng.uniform(14, 30))
        b.building(
            float(rng.uniform(20, 236)), float(rng.uniform(20, 236)), w, h, 0.0, "industrial", FLAT_ROOFS, 4
        )


def _baseballdiamond(b: Builder) -> None:
    rng = b.rng
    b.rotation = float(rng.uniform(0, 2 * math.pi))
    home = (float(rng.uniform(90, 166)), float(rng.uniform(150, 200)))
    radius = float(rng.uniform(70, 105))
    fan = [home] + [
        (home[0] + radius * math.cos(a), home[1] - radius * math.sin(a))
        for a in np.linspace(math.pi / 4, 3 * math.pi / 4, 12)
    ]
    b.add(
        "grass area",
        blob_points(rng, home[0], home[1] - radius * 0.6, radius * 1.5, 0.15),
        "irregular",
        jitter(rng, LAWN),
    )
    infield = b.add("baseball diamond", fan, "irregular", jitter(rng, DIRT, 10), colour="brown")
    side = radius * 0.42
    diamond = [
        home,
        (home[0] + side * 0.707, home[1] - side * 0.707),
        (home[0], home[1] - side * 1.414),
        (home[0] - side * 0.707, home[1] - side * 0.707),
        home,
    ]
    for p, q in zip(diamond[:-1], diamond[1:], strict=True):
        b.mark(infield, [p, q], 1.2, WHITE)
    b.occupy(fan, 6)
    if rng.random() < 0.6:
        b.road([(FRAME_LO, 235.0), (FRAME_HI, 235.0)], 2)
    if rng.random() < 0.5:
        b.building(
            home[0] + float(rng.choice([-1, 1])) * 70, home[1] + 10, 36, 18, 0.0, "commercial", FLAT_ROOFS
        )
    b.scatter_trees(int(rng.integers(4, 20)), margin=2)


def _tenniscourt(b: Builder) -> None:
    rng = b.rng
    b.rotation = float(rng.uniform(0, 2 * math.pi))
    n = int(rng.integers(1, 5))
    name, rgb = pick(rng, COURTS)
    cw, cl = (54.0, 104.0) if n == 1 else (40.0, 80.0)
    x0 = REF / 2 - n * (cw + 4) / 2
    cy = REF / 2 + float(rng.uniform(-20, 20))
    surround = b.rect(
        "parking",
        REF / 2,
        cy,
        n * (cw + 4) + 16,
        cl + 16,
        0.0,
        jitter(rng, (150, 120, 100), 6),
        subtype="court surround",
    )
    del surround
    for k in range(n):
        cx = x0 + (cw + 4) * (k + 0.5)
        court = b.rect("tennis court", cx, cy, cw, cl, 0.0, jitter(rng, rgb, 4), colour=name)
        # Singles court inside the surface, with the net across and service lines near it.
        iw, il = cw * 0.6, cl * 0.7
        x_l, x_r, y_t, y_b = cx - iw / 2, cx + iw / 2, cy - il / 2, cy + il / 2
        y_s = il * SERVICE_LINE_FRACTION
        for line in (
            [(x_l, y_t), (x_r, y_t), (x_r, y_b), (x_l, y_b), (x_l, y_t)],
            [(x_l, cy), (x_r, cy)],
            [(cx, y_t + y_s), (cx, y_b - y_s)],
            [(x_l, y_t + y_s), (x_r, y_t + y_s)],
            [(x_l, y_b - y_s), (x_r, y_b - y_s)],
        ):
            b.mark(court, line, 1.2, WHITE)
    b.occupy(rect_points(REF / 2, cy, n * (cw + 4) + 16, cl + 16), 4)
    if rng.random() < 0.5:
        b.building(
            REF / 2 + float(rng.choice([-1, 1])) * (n * (cw + 4) / 2 + 40),
            cy,
            40,
            50,
            0.0,
            "residential",
            ROOFS,
            4,
        )
    b.scatter_trees(int(rng.integers(5, 30)), margin=1)
