"""Find the paper, undo rotation and perspective, and normalise illumination.

Geometry comes from the grid itself: the angle of each grid-line family is the one that makes the projection
profile of the thin dark structures sharpest (as in document skew detection; Postl 1986), measured in three strips
across the page; the strips' lines give each family's vanishing point by least squares, and the
homography that sends both vanishing points back to infinity (affine rectification, Hartley & Zisserman 2004 §2.7)
and the two directions to the image axes makes grid lines straight and axis-parallel again. Illumination is evened
with CLAHE on the L channel of CIELAB (Zuiderveld 1994).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import cv2
import numpy as np

WORK_SIDE_PX = 800
"""Long side (px) of the reduced copy on which geometry is estimated."""

MAX_ROTATION_DEG = 20.0
"""Largest rotation of the paper searched for (degrees)."""

RectifyMethod = Literal["grid-lines", "none"]
RECTIFY_METHODS: tuple[str, ...] = get_args(RectifyMethod)


@dataclass(frozen=True)
class Rectified:
    """An image with the paper's grid made axis-parallel.

    Attributes
    ----------
    image : ndarray (H, W, 3) uint8
        The rectified RGB image; outside the paper filled with the paper's colour.
    homography : ndarray (3, 3)
        Maps input pixel coordinates to rectified ones (homogeneous, ``x' ~ H @ [x, y, 1]``).
    paper_mask : ndarray (H, W) bool
        Where the rectified image shows paper.
    rotation_deg : float
        Rotation undone (positive = the input was turned clockwise), for reporting.
    perspective : float
        Strength of the perspective undone (relative foreshortening across the image; 0 for a flat scan).
    method : str
        How the geometry was found (``"grid-lines"``, ``"rotation-only"``, ``"none"``).
    """

    image: np.ndarray
    homography: np.ndarray
    paper_mask: np.ndarray
    rotation_deg: float
    perspective: float
    method: str


def rectify(image: np.ndarray, *, method: RectifyMethod = "grid-lines") -> Rectified:
    """Undo the rotation and perspective of a photographed or scanned ECG.

    Parameters
    ----------
    image : ndarray (H, W, 3) uint8
        RGB input.
    method : {"grid-lines", "none"}
        ``"grid-lines"``: vanishing points of the grid's line segments → homography. ``"none"``: identity.
    """
    if method not in RECTIFY_METHODS:
        raise ValueError(f"unknown rectify method {method!r}; valid methods: {', '.join(RECTIFY_METHODS)}")
    height, width = image.shape[:2]
    paper = find_paper(image)
    if method == "none":
        return Rectified(image, np.eye(3), paper, 0.0, 0.0, "none")
    homography, how = _grid_homography(image, paper)
    if homography is None:
        return Rectified(image, np.eye(3), paper, 0.0, 0.0, "none")
    return warp_page(image, homography, paper, how)


def warp_page(image: np.ndarray, homography: np.ndarray, paper: np.ndarray, how: str) -> Rectified:
    """Warp ``image`` by ``homography`` (input → rectified pixels), cropped to the paper (``paper``: input mask)."""
    height, width = image.shape[:2]
    homography, size = _fit_output(homography, paper, width, height)
    warped = cv2.warpPerspective(image, homography, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    warped_mask = cv2.warpPerspective(paper.astype(np.uint8), homography, size, flags=cv2.INTER_NEAREST) > 0
    warped = _fill_outside(warped, warped_mask)
    return Rectified(
        warped,
        homography,
        warped_mask,
        _rotation_deg(homography, width, height),
        _perspective(homography, width, height),
        how,
    )


def find_paper(image: np.ndarray) -> np.ndarray:
    """Boolean mask of the paper (the whole image for a flat scan or a render).

    The paper is the region around the image centre that keeps the centre's chromaticity (r, g, b divided by their
    sum, which shading does not change) and at least half its brightness, or that is at least as bright and no
    more tinted than the paper (a highlight washing the tint out); a desk, a scanner lid or a dark background
    differs.
    """
    height, width = image.shape[:2]
    scale = min(1.0, 300.0 / max(height, width))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    # Close away grid lines and traces: what is left is the paper's own colour.
    small = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    small = cv2.GaussianBlur(small.astype(np.float32), (0, 0), 2)
    chroma = small / (small.sum(axis=2, keepdims=True) + 1.0)
    bright = small.max(axis=2)
    h, w = bright.shape
    centre = (slice(h // 3, 2 * h // 3), slice(w // 3, 2 * w // 3))
    ref_chroma = np.median(chroma[centre].reshape(-1, 3), axis=0)
    ref_bright = float(np.median(bright[centre]))
    distance = np.linalg.norm(chroma - ref_chroma, axis=2)
    scaled = np.clip(distance / 0.1 * 255, 0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    limit = float(np.clip(otsu / 255 * 0.1, 0.012, 0.04))
    # A highlight washes the paper's tint out towards white: bright, near-neutral pixels are paper too.
    neutral = np.linalg.norm(chroma - 1.0 / 3.0, axis=2)
    washed = (bright >= 0.9 * ref_bright) & (neutral < max(limit, float(np.linalg.norm(ref_chroma - 1.0 / 3.0))))
    mask = ((distance < limit) & (bright > 0.5 * ref_bright)) | washed
    # Shading and colour casts vary the paper's colour across a photo: when the image border (the desk) differs
    # clearly from the centre, whatever is nearer the paper's colour than the desk's counts as paper too.
    border = np.concatenate([small[:3].reshape(-1, 3), small[-3:].reshape(-1, 3), small[:, :3].reshape(-1, 3),
                             small[:, -3:].reshape(-1, 3)])
    desk_chroma = np.median(border / (border.sum(axis=1, keepdims=True) + 1.0), axis=0)
    desk_bright = float(np.median(border.max(axis=1)))
    features = np.concatenate([4.0 * chroma, bright[..., None] / max(ref_bright, 1.0)], axis=2)
    paper_ref = np.concatenate([4.0 * ref_chroma, [1.0]])
    desk_ref = np.concatenate([4.0 * desk_chroma, [desk_bright / max(ref_bright, 1.0)]])
    if np.linalg.norm(paper_ref - desk_ref) > 0.25:
        nearer = np.linalg.norm(features - paper_ref, axis=2) < np.linalg.norm(features - desk_ref, axis=2)
        mask |= nearer & (bright > 0.4 * ref_bright)
    mask = mask.astype(np.uint8)
    full = np.ones((height, width), dtype=bool)
    if mask.mean() > 0.97:
        return full
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    if count < 2:
        return full
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[biggest, cv2.CC_STAT_AREA] < 0.2 * mask.size:
        return full
    region = (labels == biggest).astype(np.uint8)
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    filled = np.zeros_like(region)
    cv2.fillConvexPoly(filled, hull, 1)
    return cv2.resize(filled, (width, height), interpolation=cv2.INTER_NEAREST) > 0


def normalize_illumination(image: np.ndarray, *, clip_limit: float = 2.0, tile_px: int = 256) -> np.ndarray:
    """Even out lighting with CLAHE on the L channel of CIELAB; colours (a, b) are kept.

    Parameters
    ----------
    clip_limit : float
        CLAHE contrast limit.
    tile_px : int
        Approximate tile size in pixels (tiles much larger than the grid so lines are not amplified as texture).
    """
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    height, width = image.shape[:2]
    tiles = (max(1, round(width / tile_px)), max(1, round(height / tile_px)))
    clahe = cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=tiles)
    lab[:, :, 0] = clahe.apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


# --- geometry ---------------------------------------------------------------------------------------------------
def _grid_homography(image: np.ndarray, paper: np.ndarray) -> tuple[np.ndarray | None, str]:
    """Homography from the vanishing points of the grid's two line families, found by projection profiles."""
    height, width = image.shape[:2]
    scale = min(1.0, WORK_SIDE_PX / max(height, width))
    xs, ys = _line_pixels(image, paper, scale)
    if xs.size < 200:
        return None, "none"
    base = _best_angle(xs, ys, np.arange(-MAX_ROTATION_DEG, MAX_ROTATION_DEG + 1e-9, 0.5))
    base = _refine_angle(xs, ys, base, 0.6)
    # Vertical family: its own angle (shear and perspective make it differ from base + 90 slightly).
    base_v = _refine_angle(xs, ys, base + 90.0, 3.0)
    norm = _normaliser(width, height)
    vp_h = _strip_vanishing_point(xs, ys, base, axis=1, scale=scale, norm=norm)
    vp_v = _strip_vanishing_point(xs, ys, base_v, axis=0, scale=scale, norm=norm)
    h_norm = _rectifying_homography(vp_h, vp_v)
    how = "grid-lines"
    if h_norm is None:  # implausible perspective: undo the rotation only
        rad = np.radians(base)
        h_norm = _rectifying_homography(
            np.array([np.cos(rad), np.sin(rad), 0.0]), np.array([-np.sin(rad), np.cos(rad), 0.0])
        )
        how = "rotation-only"
    return np.linalg.inv(norm) @ h_norm @ norm, how


def _line_pixels(image: np.ndarray, paper: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (working scale) of thin dark structures on the paper: grid lines, traces, text."""
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    grey = np.minimum(np.minimum(small[:, :, 0], small[:, :, 1]), small[:, :, 2])  # any grid colour is dark here
    grey = cv2.medianBlur(grey, 3)
    hat = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    inner = cv2.resize(paper.astype(np.uint8), (small.shape[1], small.shape[0]), interpolation=cv2.INTER_NEAREST)
    margin = max(3, int(0.015 * max(small.shape[:2])))
    inner = cv2.erode(inner, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * margin + 1, 2 * margin + 1)))
    values = hat[inner > 0]
    if values.size == 0:
        return np.zeros(0), np.zeros(0)
    level = max(float(np.percentile(values, 85)), 8.0)
    ys, xs = np.nonzero((hat > level) & (inner > 0))
    return xs.astype(np.float64), ys.astype(np.float64)


def _profile_sharpness(xs: np.ndarray, ys: np.ndarray, angle_deg: float) -> float:
    """Sum of squares of the projection profile across lines at ``angle_deg`` (peaks when lines align)."""
    rad = np.radians(angle_deg)
    coord = ys * np.cos(rad) - xs * np.sin(rad)
    coord = (coord - coord.min()).astype(np.int64)
    profile = np.bincount(coord)
    return float(np.dot(profile, profile))


def _best_angle(xs: np.ndarray, ys: np.ndarray, candidates: np.ndarray) -> float:
    scores = np.array([_profile_sharpness(xs, ys, a) for a in candidates])
    i = int(np.argmax(scores))
    if 0 < i < len(candidates) - 1:  # parabolic interpolation between candidates
        left, mid, right = scores[i - 1], scores[i], scores[i + 1]
        denom = left - 2 * mid + right
        if denom < 0:
            return float(candidates[i] + 0.5 * (left - right) / denom * (candidates[1] - candidates[0]))
    return float(candidates[i])


def _refine_angle(xs: np.ndarray, ys: np.ndarray, centre: float, span: float) -> float:
    angle = _best_angle(xs, ys, centre + np.linspace(-span, span, 25))
    step = 2 * span / 24
    return _best_angle(xs, ys, angle + np.linspace(-2 * step, 2 * step, 21))


def _strip_vanishing_point(
    xs: np.ndarray, ys: np.ndarray, angle: float, *, axis: int, scale: float, norm: np.ndarray
) -> np.ndarray:
    """Vanishing point (normalised homogeneous) of one line family from its angle in three strips.

    Horizontal lines (``axis=1``) converge left or right, so their angle changes from top to bottom: the strips
    are horizontal bands. Vertical lines (``axis=0``) are measured in vertical bands.
    """
    across = ys if axis == 1 else xs
    edges = np.quantile(across, [0.0, 1 / 3, 2 / 3, 1.0])
    lines = []
    weights = []
    centre_x, centre_y = np.median(xs), np.median(ys)
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (across >= lo) & (across <= hi)
        if sel.sum() < 100:
            continue
        local = _refine_angle(xs[sel], ys[sel], angle, 3.0)
        mid = 0.5 * (lo + hi)
        px, py = (centre_x, mid) if axis == 1 else (mid, centre_y)
        rad = np.radians(local)
        p1 = norm @ np.array([px / scale, py / scale, 1.0])
        p2 = norm @ np.array([(px + 100 * np.cos(rad)) / scale, (py + 100 * np.sin(rad)) / scale, 1.0])
        line = np.cross(p1, p2)
        lines.append(line / np.linalg.norm(line[:2]))
        weights.append(float(sel.sum()))
    rad = np.radians(angle)
    if len(lines) < 3:
        return np.array([np.cos(rad), np.sin(rad), 0.0])
    stack = np.array(lines) * np.sqrt(np.array(weights) / max(weights))[:, None]
    _, _, vt = np.linalg.svd(stack)
    point = vt[-1]
    direction = np.array([np.cos(rad), np.sin(rad)])
    # A vanishing point must lie along the family's direction; keep it there, at infinity if the fit is poor.
    if abs(point[2]) > 1e-12:
        offset = point[:2] / point[2]
        if abs(offset[0] * direction[1] - offset[1] * direction[0]) > 0.2 * np.linalg.norm(offset):
            return np.array([direction[0], direction[1], 0.0])
    return point / np.linalg.norm(point)


def _normaliser(width: int, height: int) -> np.ndarray:
    s = 1.0 / max(width, height)
    return np.array([[s, 0, -0.5 * width * s], [0, s, -0.5 * height * s], [0, 0, 1.0]])


def _rectifying_homography(vp_h: np.ndarray, vp_v: np.ndarray) -> np.ndarray | None:
    """Homography (normalised coordinates) sending ``vp_h`` to the x direction and ``vp_v`` to the y direction."""
    horizon = np.cross(vp_h, vp_v)
    if abs(horizon[2]) < 1e-9:
        return None
    horizon = horizon / horizon[2]
    if np.hypot(horizon[0], horizon[1]) > 2.0:  # vanishing line crosses the image: not a photographed page
        return None
    projective = np.array([[1.0, 0, 0], [0, 1.0, 0], horizon])
    dir_h = (projective @ vp_h)[:2]
    dir_v = (projective @ vp_v)[:2]
    dir_h = dir_h / np.linalg.norm(dir_h) * (1 if dir_h[0] >= 0 else -1)
    dir_v = dir_v / np.linalg.norm(dir_v) * (1 if dir_v[1] >= 0 else -1)
    basis = np.column_stack([dir_h, dir_v])
    if abs(np.linalg.det(basis)) < 0.5:  # the two directions are far from perpendicular
        return None
    affine = np.eye(3)
    affine[:2, :2] = np.linalg.inv(basis)
    return affine @ projective


def _fit_output(
    homography: np.ndarray, paper: np.ndarray, width: int, height: int
) -> tuple[np.ndarray, tuple[int, int]]:
    """Translate the warp so the paper lands at the origin; output size = the paper's bounding box."""
    ys, xs = np.nonzero(paper[::4, ::4])
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    if xs.size:
        pts = np.column_stack([xs * 4.0, ys * 4.0])
        hull = cv2.convexHull(pts.astype(np.float32)).reshape(-1, 2).astype(np.float64)
        corners = hull
    mapped = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), homography).reshape(-1, 2)
    lo = mapped.min(axis=0)
    hi = mapped.max(axis=0)
    size = hi - lo
    limit = 1.5 * np.sqrt(width * height)
    # Never let a bad estimate blow the output up: cap each side.
    size = np.minimum(size, [limit * width / np.sqrt(width * height), limit * height / np.sqrt(width * height)])
    shift = np.array([[1.0, 0, -lo[0]], [0, 1.0, -lo[1]], [0, 0, 1.0]])
    return shift @ homography, (max(1, int(np.ceil(size[0]))), max(1, int(np.ceil(size[1]))))


def _fill_outside(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Paint what is not paper (desk, scanner lid, warp border) in the paper's median colour."""
    if mask.all() or not mask.any():
        return image
    step = max(1, int(np.sqrt(mask.size / 20000)))
    sub_image, sub_mask = image[::step, ::step], mask[::step, ::step]
    paper_colour = np.median(sub_image[sub_mask], axis=0).astype(np.uint8)
    out = np.empty_like(image)
    out[:] = paper_colour
    cv2.copyTo(image, mask.astype(np.uint8), out)
    return out


def _rotation_deg(homography: np.ndarray, width: int, height: int) -> float:
    centre = np.array([[[width / 2, height / 2]], [[width / 2 + 100, height / 2]]], dtype=np.float64)
    a, b = cv2.perspectiveTransform(centre, homography).reshape(2, 2)
    return float(-np.degrees(np.arctan2(b[1] - a[1], b[0] - a[0])))


def _perspective(homography: np.ndarray, width: int, height: int) -> float:
    h = homography / homography[2, 2]
    corners = np.array([[0, 0, 1], [width, 0, 1], [width, height, 1], [0, height, 1]], dtype=np.float64)
    w = corners @ h[2]
    return float(w.max() / w.min() - 1.0) if w.min() > 0 else float("inf")


@dataclass(frozen=True)
class InkLayers:
    """Darkness layers of a rectified image, relative to the local paper colour (0 = paper, 1 = black).

    Attributes
    ----------
    ink : ndarray (H, W) float32
        Darkness in the *brightest* channel: high only where all channels are dark (black/grey ink: traces, text,
        and the grid of a black-and-white printout). A coloured grid line keeps one channel bright and drops out.
    lines : ndarray (H, W) float32
        Darkness in the *darkest* channel: high on grid lines of any colour as well as on ink.
    """

    ink: np.ndarray
    lines: np.ndarray


def ink_layers(image: np.ndarray, *, paper_mask: np.ndarray | None = None) -> InkLayers:
    """Separate ink from a coloured grid by dividing out the paper's own (shaded, tinted) colour.

    The paper colour per channel is a grey-level closing (local maximum) much wider than a line, so shadows,
    gradients and colour casts are removed before the channels are compared.
    """
    height, width = image.shape[:2]
    factor = 4
    small = cv2.resize(image, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA)
    background = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7)))
    background = cv2.GaussianBlur(background, (0, 0), 3)
    background = cv2.resize(background, (width, height), interpolation=cv2.INTER_LINEAR)
    smooth = cv2.GaussianBlur(image, (1, 5), sigmaX=0.1, sigmaY=0.8)  # vertical only: keeps steep strokes apart
    ratio = cv2.divide(smooth.astype(np.float32), np.maximum(background, 1).astype(np.float32))
    channels = cv2.split(ratio)
    brightest = cv2.max(cv2.max(channels[0], channels[1]), channels[2])
    darkest = cv2.min(cv2.min(channels[0], channels[1]), channels[2])
    ink = np.clip(1.0 - brightest, 0.0, 1.0)
    lines = np.clip(1.0 - darkest, 0.0, 1.0)
    if paper_mask is not None and not paper_mask.all():
        # The paper's own edge is a long dark line: keep a margin inside it.
        margin = max(3, int(0.006 * max(height, width)))
        inner = cv2.erode(
            paper_mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_RECT, (2 * margin + 1,) * 2)
        )
        outside = inner == 0
        ink[outside] = 0.0
        lines[outside] = 0.0
    return InkLayers(ink, lines)
