"""Procedural layouts: one rule per UC Merced class that turns a random generator into a scene graph.

Layouts work in a 256 px reference frame (UCM's tile size at 1 ft/px, so a car is ~7×15 px and a
tennis court ~50×100 px) and may rotate the whole frame about the image centre; the builder
scales, rotates and clips every polygon to the requested image size, so all geometry stored in the
scene graph is exact for the image that is rendered from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw

from spatialnet.data.synthetic.classes import class_index
from spatialnet.data.synthetic.scene_graph import (
    COORD_DECIMALS,
    RGB,
    SQUARE_MAX_ASPECT,
    Marking,
    Point,
    Scene,
    SceneObject,
    clip_polygon,
    land_cover_fractions,
    polygon_area,
    size_category,
)
from spatialnet.data.ucm import UCM_CLASSES

REF = 256.0  # reference frame side, px
# Layout frames may extend beyond the image so rotated layouts still cover its corners.
FRAME_LO, FRAME_HI = -64.0, 320.0
MIN_OBJECT_AREA = 2.0  # px² left after clipping below which an object is dropped
CIRCLE_VERTICES = 32
COLOUR_JITTER = 12  # ± per channel, so objects of one colour name still differ
PLACE_TRIES = 40  # random placements tried before giving up on one object

Palette = Sequence[tuple[str, RGB]]
ROOFS: Palette = (
    ("grey", (128, 128, 128)),
    ("red", (158, 78, 62)),
    ("orange", (196, 122, 82)),
    ("brown", (122, 96, 78)),
    ("white", (214, 214, 208)),
    ("dark", (78, 78, 84)),
)
FLAT_ROOFS: Palette = (("white", (218, 218, 214)), ("grey", (150, 150, 150)), ("dark", (92, 94, 98)))
# Repeated entries weight the draw: most cars are white, silver, black or grey, as in the UCM photos.
CARS: Palette = (
    ("white", (226, 226, 226)),
    ("white", (226, 226, 226)),
    ("silver", (188, 188, 194)),
    ("black", (32, 32, 36)),
    ("black", (32, 32, 36)),
    ("grey", (140, 140, 146)),
    ("red", (172, 42, 42)),
    ("blue", (50, 72, 150)),
    ("grey", (140, 140, 146)),
    ("silver", (188, 188, 194)),
)
COURTS: Palette = (("green", (66, 128, 88)), ("blue", (58, 96, 150)), ("red", (160, 78, 66)))
TANKS: Palette = (("white", (230, 230, 226)), ("grey", (168, 168, 166)))
PLANES: Palette = (("white", (236, 236, 236)), ("grey", (178, 180, 184)))
BOATS: Palette = (
    ("white", (238, 238, 238)),
    ("white", (238, 238, 238)),
    ("white", (238, 238, 238)),
    ("blue", (70, 110, 170)),
)
FIELDS: Palette = (
    ("green", (98, 132, 62)),
    ("brown", (146, 116, 84)),
    ("yellow", (186, 168, 104)),
    ("dark green", (62, 96, 52)),
)

GRASS: RGB = (98, 128, 64)
LAWN: RGB = (108, 142, 70)
DRY_GRASS: RGB = (150, 148, 98)
FOREST: RGB = (46, 74, 40)
SOIL: RGB = (168, 142, 108)
LOESS: RGB = (176, 152, 116)
SAND: RGB = (218, 204, 170)
WATER: RGB = (42, 78, 92)
SEA: RGB = (44, 98, 122)
ASPHALT: RGB = (92, 92, 94)
CONCRETE: RGB = (178, 175, 166)
DIRT: RGB = (182, 146, 106)
WHITE: RGB = (236, 236, 232)
YELLOW: RGB = (214, 184, 64)

LANE_WIDTH = 12.0  # px per traffic lane at 1 ft/px
CAR_W, CAR_L = 7.0, 15.0
SERVICE_LINE_FRACTION = 0.23  # service lines sit this fraction of the court length from the baselines


def _rot(p: Point, angle: float, centre: Point = (REF / 2, REF / 2)) -> Point:
    c, s = math.cos(angle), math.sin(angle)
    x, y = p[0] - centre[0], p[1] - centre[1]
    return (centre[0] + c * x - s * y, centre[1] + s * x + c * y)


def rect_points(cx: float, cy: float, w: float, h: float, angle: float = 0.0) -> list[Point]:
    """Corners of a w×h rectangle centred at (cx, cy), rotated by ``angle`` radians."""
    pts = [
        (cx - w / 2, cy - h / 2),
        (cx + w / 2, cy - h / 2),
        (cx + w / 2, cy + h / 2),
        (cx - w / 2, cy + h / 2),
    ]
    return [_rot(p, angle, (cx, cy)) for p in pts]


def circle_points(cx: float, cy: float, r: float, n: int = CIRCLE_VERTICES) -> list[Point]:
    """A circle as a regular polygon (exact enough for areas and relations)."""
    return [
        (cx + r * math.cos(2 * math.pi * k / n), cy + r * math.sin(2 * math.pi * k / n)) for k in range(n)
    ]


def blob_points(rng: np.random.Generator, cx: float, cy: float, r: float, rough: float = 0.3) -> list[Point]:
    """An irregular closed blob: a circle whose radius wobbles by a few low harmonics."""
    n = CIRCLE_VERTICES
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    rad = np.full(n, r)
    for k in (2, 3, 5):
        rad += r * rough / k * math.sqrt(k) * np.cos(k * t + rng.uniform(0, 2 * math.pi)) / 2
    return [(cx + float(a) * math.cos(b), cy + float(a) * math.sin(b)) for a, b in zip(rad, t, strict=True)]


def band_points(line: Sequence[Point], width: float) -> list[Point]:
    """Buffer a polyline into a polygon of the given width (mitred joins; fine for gentle bends)."""
    left: list[Point] = []
    right: list[Point] = []
    n = len(line)
    for i in range(n):
        x0, y0 = line[max(i - 1, 0)]
        x1, y1 = line[min(i + 1, n - 1)]
        dx, dy = x1 - x0, y1 - y0
        norm = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / norm * width / 2, dx / norm * width / 2
        left.append((line[i][0] + nx, line[i][1] + ny))
        right.append((line[i][0] - nx, line[i][1] - ny))
    return left + right[::-1]


def offset_line(line: Sequence[Point], offset: float) -> list[Point]:
    """A polyline shifted sideways by ``offset`` (positive = left of the direction of travel)."""
    return band_points(line, 2 * offset)[: len(line)]


def pick(rng: np.random.Generator, palette: Palette) -> tuple[str, RGB]:
    """A named colour from a palette, jittered so that same-named objects still differ slightly."""
    name, rgb = palette[int(rng.integers(len(palette)))]
    return name, jitter(rng, rgb)


def jitter(rng: np.random.Generator, rgb: RGB, amount: int = COLOUR_JITTER) -> RGB:
    """A colour moved by up to ``amount`` per channel."""
    # Mostly a brightness change shared by all channels, plus a little hue, so greys stay grey.
    d = rng.integers(-amount, amount + 1) + rng.integers(-(amount // 3), amount // 3 + 1, size=3)
    return (
        int(np.clip(rgb[0] + d[0], 0, 255)),
        int(np.clip(rgb[1] + d[1], 0, 255)),
        int(np.clip(rgb[2] + d[2], 0, 255)),
    )


class Builder:
    """Collects objects in reference-frame coordinates and stores them scaled, rotated and clipped.

    It also keeps an occupancy grid of the unrotated layout frame so objects can be placed without
    overlapping each other (``free`` / ``occupy``).
    """

    def __init__(self, rng: np.random.Generator, size: int, landuse: str, background: str, bg_rgb: RGB):
        self.rng = rng
        self.size = size
        self.scale = size / REF
        self.rotation = 0.0
        self.scene = Scene(size, landuse, class_index(landuse), background, bg_rgb)
        span = int(FRAME_HI - FRAME_LO)
        self.grid = np.zeros((span, span), dtype=bool)

    def _to_image(self, pts: Sequence[Point]) -> list[Point]:
        return [(x * self.scale, y * self.scale) for x, y in (_rot(p, self.rotation) for p in pts)]

    def _cells(self, x0: float, y0: float, x1: float, y1: float) -> tuple[slice, slice]:
        lo, hi = int(FRAME_LO), int(FRAME_HI - FRAME_LO)
        xs = slice(int(np.clip(math.floor(x0) - lo, 0, hi)), int(np.clip(math.ceil(x1) - lo, 0, hi)))
        ys = slice(int(np.clip(math.floor(y0) - lo, 0, hi)), int(np.clip(math.ceil(y1) - lo, 0, hi)))
        return ys, xs

    def free(self, pts: Sequence[Point], margin: float = 0.0) -> bool:
        """True when the bounding box of ``pts`` (+ margin) overlaps nothing occupied."""
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        ys_, xs_ = self._cells(min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin)
        return not bool(self.grid[ys_, xs_].any())

    def occupy(self, pts: Sequence[Point], margin: float = 0.0) -> None:
        """Mark the polygon ``pts`` (its bounding box grown by ``margin`` when margin > 0) as taken.

        Polygons are rasterised, so a diagonal road blocks only its own strip, not its bounding box.
        """
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        cells = self._cells(min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin)
        if margin > 0:
            self.grid[cells] = True
            return
        ys_, xs_ = cells
        if ys_.stop <= ys_.start or xs_.stop <= xs_.start:
            return
        m = Image.new("1", (xs_.stop - xs_.start, ys_.stop - ys_.start), 0)
        ox, oy = xs_.start + FRAME_LO, ys_.start + FRAME_LO
        ImageDraw.Draw(m).polygon([(x - ox, y - oy) for x, y in pts], fill=1, outline=1)
        self.grid[cells] |= np.asarray(m, dtype=bool)

    def add(
        self,
        kind: str,
        pts: Sequence[Point],
        shape: str,
        rgb: RGB,
        colour: str | None = None,
        subtype: str | None = None,
        angle: float = 0.0,
        height: float = 0.0,
        line: Sequence[Point] | None = None,
        width: float | None = None,
    ) -> SceneObject | None:
        """Add an object given in the layout frame; returns None when it falls outside the image."""
        # Rounded as in JSON, so the stored polygon and every quantity derived from it agree exactly.
        poly = [
            (round(x, COORD_DECIMALS), round(y, COORD_DECIMALS))
            for x, y in clip_polygon(self._to_image(pts), float(self.size))
        ]
        if polygon_area(poly) < MIN_OBJECT_AREA * self.scale**2:
            return None
        obj = SceneObject(
            id=len(self.scene.objects),
            kind=kind,
            polygon=poly,
            shape=shape,
            size=size_category(polygon_area(poly), self.size),
            rgb=rgb,
            colour=colour,
            subtype=subtype,
            angle=math.degrees(angle + self.rotation) % 360.0,
            height=height * self.scale,
            line=self._to_image(line) if line is not None else None,
            width=width * self.scale if width is not None else None,
        )
        self.scene.objects.append(obj)
        return obj

    def rect(
        self, kind: str, cx: float, cy: float, w: float, h: float, angle: float, rgb: RGB, **kw: object
    ) -> SceneObject | None:
        """Add a (rotated) rectangle; its shape is "square" or "rectangular" by its aspect ratio."""
        shape = "square" if max(w, h) <= SQUARE_MAX_ASPECT * min(w, h) else "rectangular"
        return self.add(kind, rect_points(cx, cy, w, h, angle), shape, rgb, angle=angle, **kw)  # type: ignore[arg-type]

    def circle(self, kind: str, cx: float, cy: float, r: float, rgb: RGB, **kw: object) -> SceneObject | None:
        """Add a circular object."""
        return self.add(kind, circle_points(cx, cy, r), "circular", rgb, **kw)  # type: ignore[arg-type]

    def band(
        self,
        kind: str,
        line: Sequence[Point],
        width: float,
        rgb: RGB,
        shape: str = "rectangular",
        **kw: object,
    ) -> SceneObject | None:
        """Add a linear object (road, river, runway, pier) of the given width along a polyline."""
        return self.add(kind, band_points(line, width), shape, rgb, line=line, width=width, **kw)  # type: ignore[arg-type]

    def mark(
        self, after: SceneObject | None, line: Sequence[Point], width: float, rgb: RGB, dash: float = 0.0
    ) -> None:
        """Paint a marking (in the layout frame) over the object ``after`` (None: over the background)."""
        self.scene.markings.append(
            (
                after.id if after is not None else -1,
                Marking(self._to_image(line), width * self.scale, rgb, dash * self.scale),
            )
        )

    # ---- reusable pieces -------------------------------------------------------------------
    def tree(self, cx: float, cy: float, r: float | None = None) -> SceneObject | None:
        """A single tree crown (circular, casts a shadow)."""
        rr = float(self.rng.uniform(4, 9)) if r is None else r
        return self.circle(
            "tree", cx, cy, rr, jitter(self.rng, (52, 84, 44), 14), colour="green", height=rr * 1.2
        )

    def scatter_trees(self, n: int, margin: float = 1.0, lo: float = 0.0, hi: float = REF) -> int:
        """Place up to ``n`` trees on free ground; returns how many were placed."""
        placed = 0
        for _ in range(n):
            for _ in range(PLACE_TRIES // 4):
                r = float(self.rng.uniform(4, 9))
                cx, cy = (float(v) for v in self.rng.uniform(lo, hi, size=2))
                box = rect_points(cx, cy, 2 * r, 2 * r)
                if self.free(box, margin):
                    self.occupy(box)
                    if self.tree(cx, cy, r) is not None:
                        placed += 1
                    break
        return placed

    def road(
        self,
        line: Sequence[Point],
        lanes: int,
        subtype: str = "street",
        centre: RGB = WHITE,
        edges: bool = False,
        rgb: RGB | None = None,
        occupy: bool = True,
    ) -> SceneObject | None:
        """A paved road with dashed lane separators (and solid edge lines for highways)."""
        width = lanes * LANE_WIDTH + 4
        road = self.band("road", line, width, rgb or jitter(self.rng, ASPHALT, 8), subtype=subtype)
        for k in range(1, lanes):
            off = -width / 2 + 2 + k * LANE_WIDTH
            self.mark(road, offset_line(line, off), 1.0, centre if k == lanes // 2 else WHITE, dash=8)
        if edges:
            for off in (-width / 2 + 2.5, width / 2 - 2.5):
                self.mark(road, offset_line(line, off), 1.0, WHITE)
        if occupy:
            self.occupy(band_points(line, width))
        return road

    def cars_along(
        self,
        line: Sequence[Point],
        offsets: Sequence[float],
        density: float,
        flipped: Sequence[bool] | None = None,
    ) -> int:
        """Cars driving along a straight 2-point line in the lanes at the given offsets."""
        (x0, y0), (x1, y1) = line[0], line[-1]
        length = math.hypot(x1 - x0, y1 - y0)
        ang = math.atan2(y1 - y0, x1 - x0)
        n = 0
        for li, off in enumerate(offsets):
            t = float(self.rng.uniform(0, 25))
            while t < length:
                if self.rng.random() < density:
                    px = x0 + math.cos(ang) * t - math.sin(ang) * off
                    py = y0 + math.sin(ang) * t + math.cos(ang) * off
                    name, rgb = pick(self.rng, CARS)
                    flip = math.pi if flipped is not None and flipped[li] else 0.0
                    if self.rect("car", px, py, CAR_L, CAR_W, ang + flip, rgb, colour=name, height=2.0):
                        n += 1
                t += float(self.rng.uniform(24, 60))
        return n

    def building(
        self,
        cx: float,
        cy: float,
        w: float,
        h: float,
        angle: float,
        subtype: str,
        palette: Palette = ROOFS,
        margin: float = 3.0,
        kind: str = "building",
    ) -> SceneObject | None:
        """Place a building if its footprint (+ margin) is free; returns it or None."""
        pts = rect_points(cx, cy, w, h, angle)
        if not self.free(pts, margin):
            return None
        self.occupy(pts, 1.0)
        name, rgb = pick(self.rng, palette)
        height = float(self.rng.uniform(4, 8)) if subtype == "residential" else float(self.rng.uniform(8, 16))
        return self.rect(kind, cx, cy, w, h, angle, rgb, colour=name, subtype=subtype, height=height)

    def finish(self) -> Scene:
        """Compute land-cover fractions and return the scene."""
        self.scene.land_cover = land_cover_fractions(self.scene)
        return self.scene


# ---- one rule per class ------------------------------------------------------------------------
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


def airplane_points(cx: float, cy: float, span: float, angle: float) -> list[Point]:
    """Top-down airliner outline (fuselage, swept wings, tailplane) pointing along ``angle``."""
    s = span / 2
    # (along, across) in units of half the wingspan; nose at +along.
    half = [
        (1.0, 0.0),
        (0.9, 0.07),
        (0.25, 0.08),
        (-0.05, 0.95),
        (-0.18, 0.95),
        (-0.1, 0.08),
        (-0.7, 0.07),
        (-0.85, 0.38),
        (-0.95, 0.38),
        (-0.92, 0.05),
        (-1.0, 0.0),
    ]
    outline = half + [(a, -c) for a, c in reversed(half[1:-1])]
    ca, sa = math.cos(angle), math.sin(angle)
    return [(cx + s * (a * ca - c * sa), cy + s * (a * sa + c * ca)) for a, c in outline]


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
            _parking(b, px, py, 70, 40, 0.0, float(rng.uniform(0.3, 0.9)))
    b.scatter_trees(int(rng.integers(0, 8)))


def _parking(b: Builder, cx: float, cy: float, w: float, h: float, angle: float, fill: float) -> int:
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


def boat_points(cx: float, cy: float, length: float, width: float, angle: float) -> list[Point]:
    """Top-down hull outline with a pointed bow along ``angle``."""
    hl, hw = length / 2, width / 2
    local = [(hl, 0.0), (hl * 0.45, hw), (-hl, hw * 0.85), (-hl, -hw * 0.85), (hl * 0.45, -hw)]
    ca, sa = math.cos(angle), math.sin(angle)
    return [(cx + a * ca - c * sa, cy + a * sa + c * ca) for a, c in local]


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
    _parking(b, cx, cy, w, h, 0.0, float(rng.uniform(0.35, 0.95)))
    if rng.random() < 0.6:
        y = cy + h / 2 + 16
        b.road([(FRAME_LO, y), (FRAME_HI, y)], 2)
    b.scatter_trees(int(rng.integers(0, 10)), margin=1)


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


LAYOUTS: dict[str, tuple[Callable[[Builder], None], str, RGB]] = {
    "agricultural": (_agricultural, "farmland", SOIL),
    "airplane": (_airplane, "pavement", CONCRETE),
    "baseballdiamond": (_baseballdiamond, "grass", GRASS),
    "beach": (_beach, "sand", SAND),
    "buildings": (_buildings, "pavement", (150, 148, 142)),
    "chaparral": (_chaparral, "bare ground", LOESS),
    "denseresidential": (_denseresidential, "grass", LAWN),
    "forest": (_forest, "forest", FOREST),
    "freeway": (_freeway, "grass", DRY_GRASS),
    "golfcourse": (_golfcourse, "grass", (86, 122, 58)),
    "harbor": (_harbor, "water", WATER),
    "intersection": (_intersection, "grass", DRY_GRASS),
    "mediumresidential": (_mediumresidential, "grass", LAWN),
    "mobilehomepark": (_mobilehomepark, "bare ground", (150, 140, 118)),
    "overpass": (_overpass, "grass", DRY_GRASS),
    "parkinglot": (_parkinglot, "pavement", (140, 138, 132)),
    "river": (_river, "grass", GRASS),
    "runway": (_runway, "grass", DRY_GRASS),
    "sparseresidential": (_sparseresidential, "grass", LAWN),
    "storagetanks": (_storagetanks, "bare ground", SOIL),
    "tenniscourt": (_tenniscourt, "grass", LAWN),
}
assert tuple(sorted(LAYOUTS)) == UCM_CLASSES, "one layout rule per UCM class"


def layout(landuse: str, rng: np.random.Generator, image_size: int) -> Scene:
    """Draw a random scene graph of class ``landuse`` (objects, markings, land-cover fractions)."""
    rule, background, bg_rgb = LAYOUTS[landuse]
    b = Builder(rng, image_size, landuse, background, jitter(rng, bg_rgb, 10))
    rule(b)
    return b.finish()
