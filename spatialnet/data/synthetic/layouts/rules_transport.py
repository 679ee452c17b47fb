"""Rules of the transport classes: airplanes, freeway, harbor, intersection, overpass, parking lot, runway."""

from __future__ import annotations

import math

from spatialnet.data.synthetic.layouts.builder import Builder
from spatialnet.data.synthetic.layouts.geometry import (
    airplane_points,
    band_points,
    boat_points,
    offset_line,
    rect_points,
)
from spatialnet.data.synthetic.layouts.palette import (
    ASPHALT,
    BOATS,
    CAR_L,
    CAR_W,
    CARS,
    CONCRETE,
    DRY_GRASS,
    FRAME_HI,
    FRAME_LO,
    LANE_WIDTH,
    PLACE_TRIES,
    PLANES,
    REF,
    ROOFS,
    WHITE,
    YELLOW,
    jitter,
    pick,
)
from spatialnet.data.synthetic.layouts.rules_built import parking_lot


def _airplane(b: Builder) -> None:
    rng = b.rng
    b.rotation = float(rng.uniform(0, 2 * math.pi))
    if rng.random() < 0.5:
        b.add(
            "grass area", rect_points(REF / 2, FRAME_LO + 60, 600, 120), "rectangular", jitter(rng, DRY_GRASS)
        )
        b.occupy(rect_points(REF / 2, FRAME_LO + 60, 600, 120))
    b.mark(None, [(FRAME_LO, REF * 0.75), (FRAME_HI, REF * 0.75)], 1.5, YELLOW)
    n = int(rng.integers(1, 6))
    placed = 0
    for _ in range(n * PLACE_TRIES):
        if placed == n:
            break
        span = float(rng.uniform(50, 110))
        cx, cy = (float(v) for v in rng.uniform(span / 2, REF - span / 2, size=2))
        box = rect_points(cx, cy, span, span)
        if not b.free(box, 4):
            continue
        b.occupy(box)
        name, rgb = pick(rng, PLANES)
        ang = float(rng.uniform(0, 2 * math.pi))
        b.add(
            "airplane",
            airplane_points(cx, cy, span, ang),
            "irregular",
            rgb,
            colour=name,
            angle=ang,
            height=span * 0.12,
        )
        placed += 1
    for _ in range(int(rng.integers(0, 7))):
        cx, cy = (float(v) for v in rng.uniform(10, REF - 10, size=2))
        pts = rect_points(cx, cy, CAR_L, CAR_W, float(rng.uniform(0, math.pi)))
        if b.free(pts, 2):
            b.occupy(pts)
            name, rgb = pick(rng, CARS)
            b.add("car", pts, "rectangular", rgb, colour=name, height=2.0)


def _freeway(b: Builder) -> None:
    rng = b.rng
    b.rotation = float(rng.uniform(0, 2 * math.pi))
    lanes = int(rng.integers(3, 5))
    width = lanes * LANE_WIDTH + 4
    median = float(rng.uniform(6, 24))
    c = REF / 2 + float(rng.uniform(-20, 20))
    for side in (-1, 1):
        y = c + side * (median + width) / 2
        line = [(FRAME_LO, y), (FRAME_HI, y)]
        b.road(line, lanes, subtype="freeway", edges=True)
        offs = [-width / 2 + 2 + (k + 0.5) * LANE_WIDTH for k in range(lanes)]
        b.cars_along(line, offs, 0.35, [side < 0] * lanes)
    b.scatter_trees(int(rng.integers(0, 16)), margin=2)


def _harbor(b: Builder) -> None:
    rng = b.rng
    b.rotation = float(rng.choice([0, 1, 2, 3])) * math.pi / 2 + float(rng.uniform(-0.3, 0.3))
    quay = float(rng.uniform(10, 40))
    b.add(
        "water area",
        rect_points(REF / 2, REF / 2, FRAME_HI - FRAME_LO, FRAME_HI - FRAME_LO),
        "square",
        b.scene.background_rgb,
        colour="blue",
        subtype="marina",
    )
    b.add(
        "parking",
        [(FRAME_LO, FRAME_LO), (FRAME_HI, FRAME_LO), (FRAME_HI, quay), (FRAME_LO, quay)],
        "rectangular",
        jitter(rng, CONCRETE),
        subtype="quay",
    )
    spacing = float(rng.uniform(44, 64))
    length = float(rng.uniform(150, 260))
    x = float(rng.uniform(-10, 20))
    fill = float(rng.uniform(0.5, 0.95))
    while x < REF + 10:
        pier = [(x, quay), (x, quay + length)]
        b.band("pier", pier, 4, jitter(rng, (196, 190, 178), 6))
        for side in (-1, 1):
            y = quay + 8.0
            while y < quay + length - 8:
                boat_w = float(rng.uniform(8, 13))
                boat_l = float(rng.uniform(16, spacing / 2 - 5))
                if rng.random() < fill:
                    name, rgb = pick(rng, BOATS)
                    bx = x + side * (2 + boat_l / 2 + 1)
                    b.add(
                        "boat",
                        boat_points(bx, y + boat_w / 2, boat_l, boat_w, math.pi * (side < 0)),
                        "irregular",
                        rgb,
                        colour=name,
                        height=3.0,
                    )
                y += boat_w + float(rng.uniform(2, 5))
        x += spacing


def _intersection(b: Builder) -> None:
    rng = b.rng
    b.rotation = float(rng.uniform(0, 2 * math.pi))
    c = REF / 2 + float(rng.uniform(-20, 20))
    lanes = int(rng.integers(2, 5))
    width = lanes * LANE_WIDTH + 4
    h_line = [(FRAME_LO, c), (FRAME_HI, c)]
    v_line = [(c, FRAME_LO), (c, FRAME_HI)]
    b.road(h_line, lanes, centre=YELLOW)
    vroad = b.road(v_line, lanes, centre=YELLOW)
    b.add(
        "road", rect_points(c, c, width, width), "square", vroad.rgb if vroad else ASPHALT, subtype="junction"
    )
    junction = b.scene.objects[-1]
    for sx, sy in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        for k in range(lanes * 2):
            off = -width / 2 + 3 + k * (width - 6) / max(1, lanes * 2 - 1)
            px, py = c + sx * (width / 2 + 5), c + sy * (width / 2 + 5)
            if sx:
                b.mark(junction, [(px - 3, py + off), (px + 3, py + off)], 2.0, WHITE)
            else:
                b.mark(junction, [(px + off, py - 3), (px + off, py + 3)], 2.0, WHITE)
    busy = float(rng.choice([0.05, 0.25, 0.5]))
    offs = [-width / 2 + 2 + (k + 0.5) * LANE_WIDTH for k in range(lanes)]
    flips = [k < lanes // 2 for k in range(lanes)]
    b.cars_along([(FRAME_LO, c), (c - width / 2 - 8, c)], offs, busy, flips)
    b.cars_along([(c + width / 2 + 8, c), (FRAME_HI, c)], offs, busy, flips)
    b.cars_along([(c, FRAME_LO), (c, c - width / 2 - 8)], offs, busy, flips)
    b.cars_along([(c, c + width / 2 + 8), (c, FRAME_HI)], offs, busy, flips)
    for qx in (-1, 1):
        for qy in (-1, 1):
            for _ in range(int(rng.integers(0, 3))):
                w, h = float(rng.uniform(20, 50)), float(rng.uniform(18, 40))
                d = width / 2 + 12
                bx = c + qx * (d + w / 2 + float(rng.uniform(0, 40)))
                by = c + qy * (d + h / 2 + float(rng.uniform(0, 40)))
                b.building(bx, by, w, h, 0.0, str(rng.choice(["residential", "commercial"])), ROOFS, 4)
    b.scatter_trees(int(rng.integers(3, 20)), margin=1)


def _overpass(b: Builder) -> None:
    rng = b.rng
    b.rotation = float(rng.uniform(0, 2 * math.pi))
    lanes = int(rng.integers(2, 4))
    width = lanes * LANE_WIDTH + 4
    low = [(FRAME_LO, REF / 2), (FRAME_HI, REF / 2)]
    b.road(low, lanes * 2, subtype="freeway", edges=True)
    offs = [-lanes * LANE_WIDTH + (k + 0.5) * LANE_WIDTH for k in range(2 * lanes)]
    b.cars_along(low, offs, 0.2, [k < lanes for k in range(2 * lanes)])
    cross = float(rng.uniform(math.pi / 3, 2 * math.pi / 3))
    cx = REF / 2 + float(rng.uniform(-30, 30))
    d = 260.0
    high = [
        (cx - d * math.cos(cross), REF / 2 - d * math.sin(cross)),
        (cx + d * math.cos(cross), REF / 2 + d * math.sin(cross)),
    ]
    bridge = b.band("road", high, width, jitter(rng, (150, 150, 148), 8), subtype="overpass", height=10.0)
    b.mark(bridge, offset_line(high, 0.0), 1.0, YELLOW)
    for off in (-width / 2 + 1.5, width / 2 - 1.5):
        b.mark(bridge, offset_line(high, off), 2.0, (200, 200, 196))
    b.cars_along(high, [-LANE_WIDTH / 2, LANE_WIDTH / 2], 0.2, [False, True])
    b.occupy(band_points(high, width))
    b.scatter_trees(int(rng.integers(0, 20)), margin=2)


def _parkinglot(b: Builder) -> None:
    rng = b.rng
    b.rotation = float(rng.choice([0, 1])) * math.pi / 2 + float(rng.uniform(-0.25, 0.25))
    w, h = float(rng.uniform(230, 300)), float(rng.uniform(150, 260))
    cx, cy = REF / 2 + float(rng.uniform(-20, 20)), REF / 2 + float(rng.uniform(-20, 20))
    parking_lot(b, cx, cy, w, h, 0.0, float(rng.uniform(0.35, 0.95)))
    if rng.random() < 0.6:
        y = cy + h / 2 + 16
        b.road([(FRAME_LO, y), (FRAME_HI, y)], 2)
    b.scatter_trees(int(rng.integers(0, 10)), margin=1)


def _runway(b: Builder) -> None:
    rng = b.rng
    b.rotation = float(rng.uniform(0, 2 * math.pi))
    width = float(rng.uniform(70, 110))
    c = REF / 2 + float(rng.uniform(-30, 30))
    line = [(FRAME_LO, c), (FRAME_HI, c)]
    rw = b.band(
        "runway",
        line,
        width,
        jitter(rng, (70, 70, 72) if rng.random() < 0.6 else (150, 150, 146), 8),
        colour="grey",
    )
    b.mark(rw, line, 2.0, WHITE, dash=18)
    for off in (-width / 2 + 3, width / 2 - 3):
        b.mark(rw, offset_line(line, off), 1.5, WHITE)
    if rng.random() < 0.5:
        x = float(rng.uniform(30, 200))
        for k in range(6):
            y0 = c - width / 2 + 8 + k * (width - 16) / 5.5
            b.mark(rw, [(x, y0), (x + 30, y0)], 3.0, WHITE)
    if rng.random() < 0.6:
        ty = c + float(rng.choice([-1, 1])) * (width / 2 + 40)
        b.road([(FRAME_LO, ty), (FRAME_HI, ty)], 2, subtype="taxiway", centre=YELLOW)
