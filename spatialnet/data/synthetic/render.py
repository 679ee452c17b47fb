"""Render a scene graph to an aerial-photo-like RGB image.

Objects are drawn bottom-up in scene-graph order: each is rasterised with PIL into a mask over its
own bounding box and composited with a numpy texture (multi-scale value noise, crop rows, tree
crowns, water ripples). Tall objects cast a shadow towards the bottom-right, as in the UCM
orthophotos, and a slight blur plus sensor noise finish the photographic look. Only the rendering
randomness (texture noise, crown positions) comes from ``rng``; all geometry comes from the graph.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from spatialnet.data.synthetic.scene_graph import Marking, Point, Scene, SceneObject

# Shadow direction (unit vector, image axes) and how much a shadow darkens the ground.
SUN = (0.62, 0.78)
SHADOW_DARKEN = 0.45
# Relative amplitude of texture noise per kind (fraction of the colour); unlisted kinds use DEFAULT.
NOISE_AMP: dict[str, float] = {
    "grass": 0.14,
    "grass area": 0.10,
    "bare ground": 0.14,
    "sand": 0.06,
    "beach": 0.06,
    "pavement": 0.07,
    "road": 0.05,
    "parking": 0.06,
    "runway": 0.05,
    "water": 0.05,
    "water area": 0.05,
    "farmland": 0.10,
    "bunker": 0.04,
    "baseball diamond": 0.08,
}
DEFAULT_NOISE_AMP = 0.06
COARSE_CELL, MEDIUM_CELL = 48, 8  # value-noise cell sizes at 256 px
FINISH_BLUR = 0.55  # px of Gaussian blur at 256 px: softens aliased PIL edges like optics do
SENSOR_NOISE = 2.5  # std of per-pixel noise, in 8-bit levels
CROWN_RADIUS = (3.5, 7.0)  # tree-crown radii in forests and scrub, px at 256 px
SCRUB_DENSITY = 1 / 260.0  # shrubs per px² inside a scrub area
FOREST_DENSITY = 1 / 45.0  # crowns per px² inside a forest
STRIPE_CONTRAST = 0.22  # relative brightness swing of crop rows

Array = np.ndarray


class _Canvas:
    """A float RGB image plus the shared noise fields that textures sample from."""

    def __init__(self, scene: Scene, rng: np.random.Generator):
        self.size = n = scene.image_size
        self.scale = n / 256.0
        self.rng = rng
        self.coarse = _value_noise(rng, n, max(2, int(COARSE_CELL * self.scale)))
        self.medium = _value_noise(rng, n, max(2, int(MEDIUM_CELL * self.scale)))
        self.fine = rng.standard_normal((n, n)).astype(np.float32)
        self.img = np.zeros((n, n, 3), dtype=np.float32)

    def box(self, pts: list[Point], pad: float = 1.0) -> tuple[int, int, int, int]:
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        x0 = max(0, int(math.floor(min(xs) - pad)))
        y0 = max(0, int(math.floor(min(ys) - pad)))
        x1 = min(self.size, int(math.ceil(max(xs) + pad)))
        y1 = min(self.size, int(math.ceil(max(ys) + pad)))
        return x0, y0, x1, y1

    def mask(self, pts: list[Point], box: tuple[int, int, int, int]) -> Array:
        x0, y0, x1, y1 = box
        m = Image.new("L", (max(1, x1 - x0), max(1, y1 - y0)), 0)
        if len(pts) >= 3:
            ImageDraw.Draw(m).polygon([(x - x0, y - y0) for x, y in pts], fill=255)
        return np.asarray(m, dtype=np.float32)[..., None] / 255.0

    def paint(
        self,
        pts: list[Point],
        tex: Array | tuple[float, float, float],
        box: tuple[int, int, int, int] | None = None,
        alpha: float = 1.0,
    ) -> None:
        """Composite a texture (or flat colour) through the polygon's mask."""
        if len(pts) < 3:
            return
        b = box or self.box(pts)
        x0, y0, x1, y1 = b
        if x1 <= x0 or y1 <= y0:
            return
        m = self.mask(pts, b) * alpha
        region = self.img[y0:y1, x0:x1]
        t = np.asarray(tex, dtype=np.float32)
        region += (t - region) * m

    def noisy(
        self,
        rgb: tuple[int, int, int] | tuple[float, float, float],
        box: tuple[int, int, int, int],
        amp: float,
    ) -> Array:
        """Flat colour modulated by the shared coarse/medium/fine noise over ``box``."""
        x0, y0, x1, y1 = box
        mod = 1.0 + amp * (
            0.9 * self.coarse[y0:y1, x0:x1] + 0.7 * self.medium[y0:y1, x0:x1] + 0.35 * self.fine[y0:y1, x0:x1]
        )
        return np.asarray(rgb, dtype=np.float32) * mod[..., None]

    def shadow(self, pts: list[Point], height: float) -> None:
        """Darken the ground where the object's footprint, shifted away from the sun, falls."""
        if height <= 0:
            return
        dx, dy = SUN[0] * height, SUN[1] * height
        moved = [(x + dx, y + dy) for x, y in pts]
        b = self.box(moved)
        if b[2] <= b[0] or b[3] <= b[1]:
            return
        m = self.mask(moved, b)
        self.img[b[1] : b[3], b[0] : b[2]] *= 1.0 - SHADOW_DARKEN * m


def _value_noise(rng: np.random.Generator, size: int, cell: int) -> Array:
    """Smooth noise in about [-1, 1]: a random grid upsampled bicubically (cheap and seamless)."""
    g = max(2, size // cell + 2)
    grid = rng.standard_normal((g, g)).astype(np.float32)
    img = Image.fromarray(grid, mode="F").resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(img, dtype=np.float32)


def _crowns(
    cv: _Canvas,
    box: tuple[int, int, int, int],
    base: Array,
    rgb: tuple[int, int, int],
    density: float,
    shadow_rgb: tuple[float, float, float] | None,
) -> Array:
    """Draw many round tree crowns (shadow, crown, sunlit highlight) over ``base`` within ``box``."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    layer = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), mode="RGB")
    draw = ImageDraw.Draw(layer)
    rng = cv.rng
    n = int(w * h * density / cv.scale**2)
    xs = rng.uniform(-4, w + 4, n)
    ys = rng.uniform(-4, h + 4, n)
    rs = rng.uniform(*CROWN_RADIUS, n) * cv.scale
    tone = rng.uniform(0.75, 1.25, n)
    for x, y, r, t in zip(xs, ys, rs, tone, strict=True):
        if shadow_rgb is not None:
            sr = tuple(int(c) for c in shadow_rgb)
            draw.ellipse((x - r + r * 0.6, y - r + r * 0.7, x + r + r * 0.6, y + r + r * 0.7), fill=sr)
        c = tuple(int(min(255, v * t)) for v in rgb)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=c)
        hl = tuple(int(min(255, v * t * 1.25 + 6)) for v in rgb)
        draw.ellipse((x - r * 0.75, y - r * 0.75, x + r * 0.15, y + r * 0.15), fill=hl)
    return np.asarray(layer, dtype=np.float32)


def _stripes(cv: _Canvas, box: tuple[int, int, int, int], angle_deg: float, period: float) -> Array:
    """Crop-row modulation in [-1, 1] along ``angle_deg`` with the given period (px)."""
    x0, y0, x1, y1 = box
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    a = math.radians(angle_deg)
    phase: Array = (xx * math.cos(a) + yy * math.sin(a)) / max(period * cv.scale, 1.0)
    out: Array = np.sin(2 * math.pi * phase).astype(np.float32)
    return out


def _draw_ground(cv: _Canvas, cover: str, rgb: tuple[int, int, int]) -> None:
    full = (0, 0, cv.size, cv.size)
    base = cv.noisy(rgb, full, NOISE_AMP.get(cover, DEFAULT_NOISE_AMP))
    if cover == "forest":
        base = _crowns(cv, full, base * 0.5, rgb, FOREST_DENSITY, None)
    cv.img[:] = base


def _draw_object(cv: _Canvas, o: SceneObject) -> None:
    pts = o.polygon
    box = cv.box(pts)
    if box[2] <= box[0] or box[3] <= box[1]:
        return
    k = o.kind
    rgb = o.rgb
    cv.shadow(pts, o.height)
    if k == "farmland":
        period = o.width or 5.0
        tex = (
            cv.noisy(rgb, box, NOISE_AMP["farmland"])
            * (1 + STRIPE_CONTRAST * _stripes(cv, box, o.angle, period))[..., None]
        )
        cv.paint(pts, tex, box)
    elif k == "forest":
        tex = _crowns(cv, box, cv.noisy(rgb, box, 0.1) * 0.5, rgb, FOREST_DENSITY, None)
        cv.paint(pts, tex, box)
    elif k == "scrub":
        x0, y0, x1, y1 = box
        ground = cv.img[y0:y1, x0:x1].copy()
        shade = tuple(float(c) * (1 - SHADOW_DARKEN) for c in cv.img[y0:y1, x0:x1].mean(axis=(0, 1)))
        tex = _crowns(cv, box, ground, rgb, SCRUB_DENSITY, shade)  # type: ignore[arg-type]
        cv.paint(pts, tex, box)
    elif k in ("water area", "swimming pool"):
        tex = cv.noisy(rgb, box, NOISE_AMP["water area"])
        if o.subtype == "sea" and o.line is not None:
            cv.paint(pts, tex, box)
            _foam(cv, o)
            return
        cv.paint(pts, tex, box)
    elif k == "building" or k == "mobile home":
        _roof(cv, o, box)
    elif k == "storage tank":
        cx, cy = o.centre
        r = math.sqrt(o.area / math.pi)
        cv.paint(pts, cv.noisy(rgb, box, 0.03), box)
        inner = [(cx + (x - cx) * 0.82, cy + (y - cy) * 0.82) for x, y in pts]
        cv.paint(inner, tuple(c * 0.9 for c in rgb), box)  # type: ignore[arg-type]
        hub = [(cx + (x - cx) * 0.12, cy + (y - cy) * 0.12) for x, y in pts]
        if r > 6:
            cv.paint(hub, tuple(c * 0.75 for c in rgb), box)  # type: ignore[arg-type]
    elif k == "tree":
        cv.paint(pts, tuple(c * 0.85 for c in rgb), box)  # type: ignore[arg-type]
        cx, cy = o.centre
        hl = [
            (
                cx + (x - cx) * 0.55 - (x - cx) * 0.0 - 0.25 * math.sqrt(o.area),
                cy + (y - cy) * 0.55 - 0.25 * math.sqrt(o.area),
            )
            for x, y in pts
        ]
        cv.paint(hl, tuple(min(255.0, c * 1.25) for c in rgb), box, alpha=0.7)  # type: ignore[arg-type]
    elif k in ("car", "boat", "airplane"):
        cv.paint(pts, cv.noisy(rgb, box, 0.03), box)
        if k != "airplane":
            cx, cy = o.centre
            inner = [(cx + (x - cx) * 0.5, cy + (y - cy) * 0.5) for x, y in pts]
            cv.paint(inner, tuple(c * 0.8 for c in rgb), box, alpha=0.6)  # type: ignore[arg-type]
    else:
        cv.paint(pts, cv.noisy(rgb, box, NOISE_AMP.get(k, DEFAULT_NOISE_AMP)), box)


def _roof(cv: _Canvas, o: SceneObject, box: tuple[int, int, int, int]) -> None:
    """Gable roofs (two shaded halves) for houses; flat roofs with AC units for other buildings."""
    pts = o.polygon
    rgb = o.rgb
    cv.paint(pts, cv.noisy(rgb, box, 0.04), box)
    if len(pts) != 4:
        return  # clipped at the image edge: keep the plain roof
    p0, p1, p2, p3 = pts
    long01 = math.dist(p0, p1) >= math.dist(p1, p2)
    if o.subtype == "residential":
        if long01:
            m0 = ((p0[0] + p3[0]) / 2, (p0[1] + p3[1]) / 2)
            m1 = ((p1[0] + p2[0]) / 2, (p1[1] + p2[1]) / 2)
            half = [p0, p1, m1, m0]
        else:
            m0 = ((p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2)
            m1 = ((p3[0] + p2[0]) / 2, (p3[1] + p2[1]) / 2)
            half = [m0, p1, p2, m1]
        cv.paint(half, tuple(c * 0.78 for c in rgb), box)  # type: ignore[arg-type]
    else:
        cx, cy = o.centre
        inner = [(cx + (x - cx) * 0.92, cy + (y - cy) * 0.92) for x, y in pts]
        cv.paint(inner, tuple(min(255.0, c * 1.06) for c in rgb), box)  # type: ignore[arg-type]
        for _ in range(int(cv.rng.integers(0, 4))):
            u, v = cv.rng.uniform(0.2, 0.8, 2)
            ax = p0[0] + u * (p1[0] - p0[0]) + v * (p3[0] - p0[0])
            ay = p0[1] + u * (p1[1] - p0[1]) + v * (p3[1] - p0[1])
            s = 2.5 * cv.scale
            cv.shadow([(ax - s, ay - s), (ax + s, ay - s), (ax + s, ay + s), (ax - s, ay + s)], 2 * cv.scale)
            cv.paint(
                [(ax - s, ay - s), (ax + s, ay - s), (ax + s, ay + s), (ax - s, ay + s)],
                (205.0, 205.0, 200.0),
            )


def _foam(cv: _Canvas, o: SceneObject) -> None:
    """White surf lines parallel to the coast, fading seaward (sea is on the right of the coast line)."""
    assert o.line is not None
    n = cv.size
    layer = Image.new("L", (n, n), 0)
    draw = ImageDraw.Draw(layer)
    for k in range(5):
        off = (3 + k * 9 + float(cv.rng.uniform(-2, 2))) * cv.scale
        shifted = _offset(o.line, off)
        draw.line(shifted, fill=int(230 - 40 * k), width=max(1, int((5 - k) * cv.scale)))
    m = np.asarray(layer.filter(ImageFilter.GaussianBlur(1.5 * cv.scale)), dtype=np.float32) / 255.0
    m *= np.clip(0.6 + 0.6 * cv.medium, 0, 1)
    water = cv.mask(o.polygon, (0, 0, n, n))[..., 0]
    a = (m * water)[..., None]
    cv.img += (np.float32(240.0) - cv.img) * a


def _offset(line: list[Point], off: float) -> list[Point]:
    out: list[Point] = []
    for i in range(len(line)):
        x0, y0 = line[max(i - 1, 0)]
        x1, y1 = line[min(i + 1, len(line) - 1)]
        d = math.hypot(x1 - x0, y1 - y0) or 1.0
        out.append((line[i][0] - (y1 - y0) / d * off, line[i][1] + (x1 - x0) / d * off))
    return out


def _dashes(line: list[Point], dash: float) -> list[list[Point]]:
    """Split a polyline into on-segments of length ``dash`` separated by gaps of the same length."""
    if dash <= 0:
        return [line]
    out: list[list[Point]] = []
    on, left = True, dash
    cur: list[Point] = [line[0]]
    for (x0, y0), (x1, y1) in zip(line[:-1], line[1:], strict=True):
        seg = math.hypot(x1 - x0, y1 - y0)
        t = 0.0
        while seg - t > left:
            t += left
            p = (x0 + (x1 - x0) * t / seg, y0 + (y1 - y0) * t / seg)
            if on:
                cur.append(p)
                out.append(cur)
            cur = [p]
            on, left = not on, dash
        left -= seg - t
        if on:
            cur.append((x1, y1))
    if on and len(cur) > 1:
        out.append(cur)
    return out


def _draw_markings(cv: _Canvas, marks: list[Marking]) -> None:
    if not marks:
        return
    n = cv.size
    by_colour: dict[tuple[int, int, int], list[Marking]] = defaultdict(list)
    for m in marks:
        by_colour[m.rgb].append(m)
    for rgb, group in by_colour.items():
        layer = Image.new("L", (n, n), 0)
        draw = ImageDraw.Draw(layer)
        for m in group:
            width = max(1, int(round(m.width)))
            strength = int(255 * min(1.0, m.width))
            for seg in _dashes(m.line, m.dash):
                draw.line(seg, fill=strength, width=width)
        a = (np.asarray(layer, dtype=np.float32) / 255.0 * 0.85)[..., None]
        cv.img += (np.asarray(rgb, dtype=np.float32) - cv.img) * a


def render(scene: Scene, rng: np.random.Generator) -> Array:
    """Scene graph → uint8 RGB array of shape (image_size, image_size, 3)."""
    cv = _Canvas(scene, rng)
    _draw_ground(cv, scene.background, scene.background_rgb)
    marks: dict[int, list[Marking]] = defaultdict(list)
    for after, m in scene.markings:
        marks[after].append(m)
    _draw_markings(cv, marks.get(-1, []))
    for o in scene.objects:
        _draw_object(cv, o)
        _draw_markings(cv, marks.get(o.id, []))
    out = Image.fromarray(np.clip(cv.img, 0, 255).astype(np.uint8), mode="RGB")
    out = out.filter(ImageFilter.GaussianBlur(FINISH_BLUR * cv.scale))
    arr = np.asarray(out, dtype=np.float32) + SENSOR_NOISE * rng.standard_normal((cv.size, cv.size, 1))
    return np.clip(arr, 0, 255).astype(np.uint8)
