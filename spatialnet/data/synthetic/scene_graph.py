"""Scene graphs of synthetic aerial scenes: objects with exact polygons, attributes and relations.

The vocabulary follows RSVQA (Lobry et al., TGRS 2020), whose objects come from OpenStreetMap
("building", "road", "water area", "grass area", "forest", "farmland", "parking", ...), plus the
objects that name UC Merced classes ("airplane", "storage tank", "tennis court", ...). Every
object keeps its polygon clipped to the image, so counts, sizes, shapes, land-cover fractions and
spatial relations can be recomputed exactly by later consumers (VQA questions, hyperspectral
forest cubes) without re-running the generator.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

Point = tuple[float, float]
RGB = tuple[int, int, int]

# Size categories, as fractions of the image area so they do not depend on image_size:
# small < 0.5 % (a car, a house), medium < 5 % (a large building, a tennis court), large otherwise.
SMALL_MAX_FRACTION = 0.005
MEDIUM_MAX_FRACTION = 0.05
# A rectangle counts as "square" when its long side is at most this many times its short side.
SQUARE_MAX_ASPECT = 1.25
# Two objects are "next to" each other when their bounding boxes are at most this fraction of the
# image side apart (8 px at 256 px).
NEXT_TO_FRACTION = 8 / 256
# Urban when built-up cover (buildings + pavement) is at least this fraction of the image.
URBAN_BUILT_FRACTION = 0.25
# Decimal places kept for coordinates in JSON: sub-pixel exact, stable across platforms.
COORD_DECIMALS = 2

# Land-cover types, in the order used by cover maps (index = value in the map).
COVER_TYPES: tuple[str, ...] = (
    "bare ground",
    "grass",
    "forest",
    "shrub",
    "farmland",
    "water",
    "sand",
    "pavement",
    "building",
)
BUILT_COVERS: frozenset[str] = frozenset({"pavement", "building"})

# The land cover each object kind puts on the ground. Vehicles and boats are absent: they sit on
# the cover under them (pavement, water) and do not change it.
KIND_COVER: dict[str, str] = {
    "building": "building",
    "mobile home": "building",
    "storage tank": "building",
    "road": "pavement",
    "parking": "pavement",
    "runway": "pavement",
    "tennis court": "pavement",
    "pier": "pavement",
    "water area": "water",
    "swimming pool": "water",
    "grass area": "grass",
    "baseball diamond": "bare ground",
    "forest": "forest",
    "tree": "forest",
    "farmland": "farmland",
    "scrub": "shrub",
    "beach": "sand",
    "bunker": "sand",
}

SHAPES: tuple[str, ...] = ("rectangular", "square", "circular", "irregular")


def polygon_area(poly: list[Point]) -> float:
    """Area of a simple polygon by the shoelace formula (pixels²)."""
    if len(poly) < 3:
        return 0.0
    xs = np.array([p[0] for p in poly])
    ys = np.array([p[1] for p in poly])
    return float(abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))) / 2.0)


def clip_polygon(poly: list[Point], size: float) -> list[Point]:
    """Clip a polygon to the square [0, size]² (Sutherland–Hodgman); keeps geometry inside the image."""

    def clip(points: list[Point], axis: int, bound: float, keep_below: bool) -> list[Point]:
        out: list[Point] = []
        n = len(points)
        for i in range(n):
            cur, prev = points[i], points[i - 1]
            cur_in = cur[axis] <= bound if keep_below else cur[axis] >= bound
            prev_in = prev[axis] <= bound if keep_below else prev[axis] >= bound
            if cur_in != prev_in:
                t = (bound - prev[axis]) / (cur[axis] - prev[axis])
                other = prev[1 - axis] + t * (cur[1 - axis] - prev[1 - axis])
                out.append((bound, other) if axis == 0 else (other, bound))
            if cur_in:
                out.append(cur)
        return out

    pts = list(poly)
    for axis, bound, below in ((0, 0.0, False), (0, size, True), (1, 0.0, False), (1, size, True)):
        if not pts:
            break
        pts = clip(pts, axis, bound, below)
    return pts


def size_category(area: float, image_size: int) -> str:
    """Small / medium / large by the documented fractions of the image area."""
    fraction = area / float(image_size * image_size)
    if fraction < SMALL_MAX_FRACTION:
        return "small"
    if fraction < MEDIUM_MAX_FRACTION:
        return "medium"
    return "large"


@dataclass
class SceneObject:
    """One object: its kind, exact polygon (clipped to the image) and the attributes questions use."""

    id: int
    kind: str
    polygon: list[Point]
    shape: str
    size: str
    rgb: RGB
    colour: str | None = None
    subtype: str | None = None
    angle: float = 0.0
    height: float = 0.0
    line: list[Point] | None = None
    width: float | None = None

    @property
    def area(self) -> float:
        """Area in pixels of the clipped polygon."""
        return polygon_area(self.polygon)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """Bounding box [x0, y0, x1, y1] of the clipped polygon, in pixels."""
        xs = [p[0] for p in self.polygon]
        ys = [p[1] for p in self.polygon]
        return (min(xs), min(ys), max(xs), max(ys))

    @property
    def centre(self) -> Point:
        """Area centroid of the polygon (the bbox centre for degenerate polygons)."""
        a = 0.0
        cx = 0.0
        cy = 0.0
        n = len(self.polygon)
        for i in range(n):
            x0, y0 = self.polygon[i]
            x1, y1 = self.polygon[(i + 1) % n]
            cross = x0 * y1 - x1 * y0
            a += cross
            cx += (x0 + x1) * cross
            cy += (y0 + y1) * cross
        if abs(a) < 1e-9:
            b = self.bbox
            return ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
        return (cx / (3 * a), cy / (3 * a))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; coordinates rounded to COORD_DECIMALS."""

        def r(v: float) -> float:
            return round(float(v), COORD_DECIMALS)

        d: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "subtype": self.subtype,
            "shape": self.shape,
            "size": self.size,
            "colour": self.colour,
            "rgb": list(self.rgb),
            "angle": r(self.angle),
            "height": r(self.height),
            "area": r(self.area),
            "bbox": [r(v) for v in self.bbox],
            "centre": [r(v) for v in self.centre],
            "polygon": [[r(x), r(y)] for x, y in self.polygon],
        }
        if self.line is not None:
            d["line"] = [[r(x), r(y)] for x, y in self.line]
            d["width"] = r(self.width or 0.0)
        return d


@dataclass
class Marking:
    """A painted line (lane mark, parking stall, court line): drawn, but neither an object nor cover."""

    line: list[Point]
    width: float
    rgb: RGB
    dash: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; coordinates rounded to COORD_DECIMALS."""
        return {
            "line": [[round(x, COORD_DECIMALS), round(y, COORD_DECIMALS)] for x, y in self.line],
            "width": round(self.width, COORD_DECIMALS),
            "rgb": list(self.rgb),
            "dash": round(self.dash, COORD_DECIMALS),
        }


@dataclass
class Scene:
    """A whole image: land-use class, background cover and objects in drawing order (bottom first).

    Markings are painted after the object they follow in ``objects`` (``after`` = that object's id,
    -1 for the background), so lane marks sit on their road and under the cars.
    """

    image_size: int
    landuse: str
    landuse_index: int
    background: str
    background_rgb: RGB
    objects: list[SceneObject] = field(default_factory=list)
    markings: list[tuple[int, Marking]] = field(default_factory=list)
    image_id: int = 0
    filename: str = ""
    split: str = "train"
    land_cover: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Number of objects per kind (the exact answers to counting questions)."""
        return dict(sorted(Counter(o.kind for o in self.objects).items()))

    def of_kind(self, kind: str) -> list[SceneObject]:
        """All objects of one kind, in drawing order."""
        return [o for o in self.objects if o.kind == kind]

    @property
    def rural_urban(self) -> str:
        """Urban when buildings + pavement cover ≥ URBAN_BUILT_FRACTION of the image, else rural."""
        built = sum(self.land_cover.get(c, 0.0) for c in BUILT_COVERS)
        return "urban" if built >= URBAN_BUILT_FRACTION else "rural"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready scene graph (one line of scenes.jsonl)."""
        return {
            "image_id": self.image_id,
            "filename": self.filename,
            "split": self.split,
            "image_size": self.image_size,
            "landuse": self.landuse,
            "landuse_index": self.landuse_index,
            "rural_urban": self.rural_urban,
            "background": self.background,
            "land_cover": {k: round(v, 4) for k, v in self.land_cover.items()},
            "counts": self.counts(),
            "objects": [o.to_dict() for o in self.objects],
            "markings": [dict(m.to_dict(), after=after) for after, m in self.markings],
        }


def cover_map(scene: Scene) -> np.ndarray:
    """Rasterise land cover (uint8 indices into COVER_TYPES), later objects over earlier ones."""
    img = Image.new("L", (scene.image_size, scene.image_size), COVER_TYPES.index(scene.background))
    draw = ImageDraw.Draw(img)
    for obj in scene.objects:
        cover = KIND_COVER.get(obj.kind)
        if cover is not None and len(obj.polygon) >= 3:
            draw.polygon(obj.polygon, fill=COVER_TYPES.index(cover))
    return np.asarray(img)


def land_cover_fractions(scene: Scene) -> dict[str, float]:
    """Fraction of image pixels per cover type (all types listed, summing to 1)."""
    counts = np.bincount(cover_map(scene).ravel(), minlength=len(COVER_TYPES))
    total = float(counts.sum())
    return {name: float(counts[i]) / total for i, name in enumerate(COVER_TYPES)}


def direction(a: SceneObject, b: SceneObject) -> set[str]:
    """Where ``a`` lies relative to ``b`` ("left", "right", "top", "bottom"), by centre position.

    ``a`` is left of ``b`` when its centre is left of ``b``'s bounding box, and likewise for the
    other sides, so an object can be both "top" and "left" of another and neither when they overlap.
    """
    ax, ay = a.centre
    x0, y0, x1, y1 = b.bbox
    out: set[str] = set()
    if ax < x0:
        out.add("left")
    if ax > x1:
        out.add("right")
    if ay < y0:
        out.add("top")
    if ay > y1:
        out.add("bottom")
    return out


def next_to(a: SceneObject, b: SceneObject, image_size: int) -> bool:
    """True when the bounding boxes are at most NEXT_TO_FRACTION of the image side apart."""
    ax0, ay0, ax1, ay1 = a.bbox
    bx0, by0, bx1, by1 = b.bbox
    gap_x = max(0.0, max(ax0, bx0) - min(ax1, bx1))
    gap_y = max(0.0, max(ay0, by0) - min(ay1, by1))
    return a.id != b.id and math.hypot(gap_x, gap_y) <= NEXT_TO_FRACTION * image_size
