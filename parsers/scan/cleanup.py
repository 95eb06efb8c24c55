"""A page made fit to read: the red seal faded, the light evened, the form straightened (skew and a
phone's perspective, from the table's ruling lines) and brought to the size of a 200-dpi scan."""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

Pixels = np.ndarray[Any, Any]

# Red seal ink (公章, 红头): red well above both green and blue. Paper under warm light stays below
# this (a yellowish page is about R-B 25); the seal is R-G over 100.
SEAL_MARGIN = 50
# Under the seal, what is darker than this in the red channel is print (black stays black in red).
_UNDER_SEAL = 150
# Below this grey level (0-255, after the light is evened) a pixel is ink. Rules are looked for
# with a laxer level: a table's 0.5-pt rule is 1–2 px wide, and a soft scan leaves it pale grey.
INK_LEVEL = 170
RULE_LEVEL = 215
# The official table is about 1,350 px wide on a 200-dpi scan of A4: photos are brought to that.
TABLE_WIDTH = 1350
PAGE_WIDTH = 1650
# Lines longer than this share of the page's shorter side are the table's rules, not text.
_RULE_SHARE = 0.2
_MAX_SKEW_DEGREES = 15.0
# Smaller slants are left alone: over a 1,350-px rule 0.05° is a pixel.
_MIN_SKEW_DEGREES = 0.05
# Rules at least this long (px) are fitted for the fine angle, when there are this many.
_FIT_LENGTH = 300
_FIT_RULES = 3
# Lines are looked for by Hough at half size (a quarter of the time); rules 1 px wide survive it.
_HOUGH_SCALE = 2
# A perspective is undone only when the table's corners are this far (px) from a rectangle's: the
# corners found on a noisy scan of a square table are a few pixels off.
_KEYSTONE_PX = 12.0


def grey(rgb: Pixels) -> Pixels:
    """Grey levels with red ink faded: where red stands well above green and blue, white, unless the
    red channel is dark there too (black print under the seal, which stays). The red channel alone
    leaves the seal a pale grey that the recogniser still reads as characters (用章 as 田喜)."""
    r, g, b = (rgb[..., i].astype(np.int16) for i in range(3))
    plain = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    red = ((r - np.maximum(g, b)) > SEAL_MARGIN).astype(np.uint8)
    # JPEG blurs colour at half resolution: the seal's edges are pinkish grey, not red. Widening the
    # seal by two pixels takes them too; print under it is dark in the red channel as well, so stays.
    seal = cv2.dilate(red, np.ones((5, 5), np.uint8)) > 0
    faded = np.where(rgb[..., 0] < _UNDER_SEAL, rgb[..., 0], 255)
    return np.where(seal, faded, plain).astype(np.uint8)


def even_light(page: Pixels) -> Pixels:
    """Divide by the paper's own brightness (a wide median, ink removed by it): a shadow or a lamp
    on one side leaves white paper white and ink dark; a desk round the sheet turns white too."""
    height, width = page.shape[:2]
    small = cv2.resize(page, (max(8, width // 8), max(8, height // 8)), interpolation=cv2.INTER_AREA)
    paper = cv2.medianBlur(cv2.dilate(small, np.ones((3, 3), np.uint8)), 21)
    paper = cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(page, np.maximum(paper, 1), scale=255)


def ink(page: Pixels, level: int = INK_LEVEL) -> Pixels:
    return (page < level).astype(np.uint8) * 255


def straighten(page: Pixels) -> Pixels:
    """The page turned so the table's rules are level, its perspective undone, at scan size."""
    page = _deskew(page)
    quad = _table_quad(ink(page, RULE_LEVEL))
    if quad is not None and _keystoned(quad):
        page = _unwarp(page, quad)
        # Corners found to a few pixels leave the rules a little aslant.
        page = _rotate_by(page, _fine_slant(ink(page, RULE_LEVEL)) or 0.0)
        quad = _table_quad(ink(page, RULE_LEVEL))
    return _rescale(page, quad)


def _rules(binary: Pixels) -> list[tuple[float, float, float, float]]:
    height, width = binary.shape[:2]
    small = cv2.resize(binary, (width // _HOUGH_SCALE, height // _HOUGH_SCALE), interpolation=cv2.INTER_AREA)
    small = (small > 64).astype(np.uint8) * 255
    side = min(small.shape[:2])
    found = cv2.HoughLinesP(small, 1, math.pi / 720, threshold=80, minLineLength=int(side * _RULE_SHARE), maxLineGap=4)
    if found is None:
        return []
    k = _HOUGH_SCALE
    return [(float(x0) * k, float(y0) * k, float(x1) * k, float(y1) * k) for x0, y0, x1, y1 in np.asarray(found).reshape(-1, 4)]


def _deskew(page: Pixels) -> Pixels:
    """Level the table's rules: a first angle from the long lines (Hough, to a quarter of a degree),
    then the rest from a straight line fitted to each long horizontal rule; one rotation of the page.
    A page turned by 90° is straightened all the same (turning it upright is for later)."""
    binary = ink(page, RULE_LEVEL)
    fine = _fine_slant(binary)
    if fine is not None:  # a slant of a few degrees at most: no Hough needed
        return _rotate_by(page, fine)
    coarse = _coarse_slant(binary)
    turned = _rotate(page, coarse) if coarse else page
    return _rotate_by(page, coarse + (_fine_slant(ink(turned, RULE_LEVEL)) or 0.0))


def _rotate_by(page: Pixels, angle: float) -> Pixels:
    return _rotate(page, angle) if abs(angle) >= _MIN_SKEW_DEGREES else page


def _coarse_slant(binary: Pixels) -> float:
    slants = []
    for x0, y0, x1, y1 in _rules(binary):
        angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
        offset = (angle + 45) % 90 - 45  # the slant from the nearer axis
        if abs(offset) <= _MAX_SKEW_DEGREES:
            slants.append(offset)
    return float(np.median(slants)) if slants else 0.0


def _fine_slant(binary: Pixels) -> float | None:
    """The median slope (degrees) of the long, nearly level rules; None when there are none (or the
    page is slanted too far for a rule to stay in one row of pixels for 30 px, about 3°)."""
    across = cv2.morphologyEx(binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (30, 1)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(across, connectivity=8)
    slopes = []
    for label in range(1, count):
        x, y, w, h, _ = (int(v) for v in stats[label])
        if w < _FIT_LENGTH or h > w * 0.1:
            continue
        ys, xs = np.nonzero(labels[y : y + h, x : x + w] == label)
        slopes.append(float(np.polyfit(xs, ys, 1)[0]))
    return math.degrees(math.atan(float(np.median(slopes)))) if len(slopes) >= _FIT_RULES else None


def _rotate(page: Pixels, angle: float) -> Pixels:
    height, width = page.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    size = (int(height * sin + width * cos), int(height * cos + width * sin))
    matrix[0, 2] += size[0] / 2 - width / 2
    matrix[1, 2] += size[1] / 2 - height / 2
    return cv2.warpAffine(page, matrix, size, flags=cv2.INTER_LINEAR, borderValue=255)


def _table_quad(binary: Pixels) -> Pixels | None:
    """The corners (top-left, top-right, bottom-right, bottom-left) of the largest ruled table."""
    mask = np.zeros_like(binary)
    for x0, y0, x1, y1 in _rules(binary):
        cv2.line(mask, (round(x0), round(y0)), (round(x1), round(y1)), 255, 3)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    largest = max(contours, key=cv2.contourArea)
    height, width = binary.shape[:2]
    if cv2.contourArea(largest) < 0.05 * height * width:
        return None
    hull = cv2.convexHull(largest)
    approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True).reshape(-1, 2)
    corners = approx if len(approx) == 4 else cv2.boxPoints(cv2.minAreaRect(largest))
    return _order(np.asarray(corners, np.float32))


def _order(points: Pixels) -> Pixels:
    total = points.sum(axis=1)
    diff = points[:, 1] - points[:, 0]
    return np.array(
        [points[total.argmin()], points[diff.argmin()], points[total.argmax()], points[diff.argmax()]], np.float32
    )


def _keystoned(quad: Pixels) -> bool:
    tl, tr, br, bl = quad
    return bool(max(abs(tl[1] - tr[1]), abs(bl[1] - br[1]), abs(tl[0] - bl[0]), abs(tr[0] - br[0])) > _KEYSTONE_PX)


def _unwarp(page: Pixels, quad: Pixels) -> Pixels:
    """Map the table's corners to a rectangle; the whole sheet, being flat, follows."""
    tl, tr, br, bl = quad
    width = (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2
    height = (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2
    x, y = float(tl[0]), float(tl[1])
    target = np.array([(x, y), (x + width, y), (x + width, y + height), (x, y + height)], np.float32)
    matrix = cv2.getPerspectiveTransform(quad, target)
    h, w = page.shape[:2]
    corners = cv2.perspectiveTransform(np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float32), matrix)[0]
    low = corners.min(axis=0)
    high = corners.max(axis=0)
    shift = np.array([[1, 0, -low[0]], [0, 1, -low[1]], [0, 0, 1]], np.float64)
    size = (int(min(high[0] - low[0], 2 * w)), int(min(high[1] - low[1], 2 * h)))
    return cv2.warpPerspective(page, shift @ matrix, size, flags=cv2.INTER_LINEAR, borderValue=255)


def _rescale(page: Pixels, quad: Pixels | None) -> Pixels:
    """At the scale of a 200-dpi scan, by the table's width or, with no table, the page's."""
    height, width = page.shape[:2]
    if quad is not None:
        tl, tr, _, bl = quad
        measured = max(float(np.linalg.norm(tr - tl)), float(np.linalg.norm(bl - tl)))
        scale = TABLE_WIDTH / measured
    else:
        scale = PAGE_WIDTH / min(width, height)
    if 0.8 < scale < 1.25:
        return page
    size = (round(width * scale), round(height * scale))
    return cv2.resize(page, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
