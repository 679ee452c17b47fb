"""Polygons of the reference frame: rotated rectangles, circles, blobs, bands along lines, planes, boats."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from spatialnet.data.synthetic.layouts.palette import CIRCLE_VERTICES, REF
from spatialnet.data.synthetic.scene_graph import (
    Point,
)


def rotated(p: Point, angle: float, centre: Point = (REF / 2, REF / 2)) -> Point:
    """``p`` turned by ``angle`` radians about ``centre`` (the frame's centre by default)."""
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
    return [rotated(p, angle, (cx, cy)) for p in pts]


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


def boat_points(cx: float, cy: float, length: float, width: float, angle: float) -> list[Point]:
    """Top-down hull outline with a pointed bow along ``angle``."""
    hl, hw = length / 2, width / 2
    local = [(hl, 0.0), (hl * 0.45, hw), (-hl, hw * 0.85), (-hl, -hw * 0.85), (hl * 0.45, -hw)]
    ca, sa = math.cos(angle), math.sin(angle)
    return [(cx + a * ca - c * sa, cy + a * sa + c * ca) for a, c in local]
