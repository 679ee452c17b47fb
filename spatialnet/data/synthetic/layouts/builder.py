"""The builder every rule draws with: places, scales, rotates and clips objects into the scene graph."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from spatialnet.data.synthetic.classes import class_index
from spatialnet.data.synthetic.layouts.geometry import (
    band_points,
    circle_points,
    offset_line,
    rect_points,
    rotated,
)
from spatialnet.data.synthetic.layouts.palette import (
    ASPHALT,
    CAR_L,
    CAR_W,
    CARS,
    FRAME_HI,
    FRAME_LO,
    LANE_WIDTH,
    MIN_OBJECT_AREA,
    PLACE_TRIES,
    REF,
    ROOFS,
    WHITE,
    Palette,
    jitter,
    pick,
)
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
        return [(x * self.scale, y * self.scale) for x, y in (rotated(p, self.rotation) for p in pts)]

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
