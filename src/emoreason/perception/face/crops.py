"""The face crops the two image models read, cut around the 478-point mesh.

* :func:`face_crop_gray` -- fer's input: a 64x64 grey square around the mesh with a 10 % margin.
* :func:`face_square_gray` -- facex's input: the grey square around the mesh at the image's own
  resolution, which :func:`resize_like_skimage` brings to 200x200 the way facex's own pipeline does
  (scikit-image's ``resize``: Gaussian anti-aliasing, then bilinear).
* :func:`stretch_flat` -- both crops are contrast-stretched when they are dark or flat.

The crops read a grey version of the frame; :class:`GrayFrame` converts only the regions the crops read
(each at most once per frame, shared by the crops of one face), which gives the same pixels as
converting the whole frame (the conversion is per pixel).
"""

from __future__ import annotations

import cv2
import numpy as np

from emoreason.perception.face.mesh import check_rgb

#: Margin around the mesh's box on every side (fraction of its size) and whether to level the eyes:
#: chosen on 1,500 facial_expressions photos (fer alone, UAR: margin 0.10 0.48, 0.15 0.42, 0.25 0.39;
#: levelling the eyes 0.45 vs 0.48 unlevelled -- FER2013's own crops are not levelled).
FER_MARGIN = 0.10
FER_ALIGN = False
FER_SIZE = 64
FACEX_SIZE = 200
#: facex's own pipeline crops OpenCV's Haar box; ours is the mesh's box made square, with this margin on
#: every side (fraction of its size) and moved down by ``FACEX_SHIFT`` x its side. Chosen on the
#: facial_expressions photos (see docs/model_cards/face.md, "facex's crop").
FACEX_MARGIN = 0.10
FACEX_SHIFT = 0.0
#: A crop whose grey levels span less than this (1st to 99th percentile) is dark or flat -- under-exposed,
#: back-lit, hazy -- and is stretched onto 0..255 before the expression models (``stretch_flat``). In a
#: sample of 300 facial_expressions photos, 1 % of fer's crops spanned less than 122 levels; the same photos
#: under-exposed (benchmarks/face_conditions.py's "dark") 38-63. A rule of thumb.
FLAT_CROP_RANGE = 100.0
#: Pixels beyond the sampled area that a crop's warp may read (bilinear reads 1; kept wide).
_READ_MARGIN = 3


def stretch_flat(crop: np.ndarray, flat_range: float = FLAT_CROP_RANGE) -> np.ndarray:
    """``crop`` (uint8) with its 1st-99th percentile grey levels mapped onto 0..255 when they span less
    than ``flat_range`` levels (and at least 1); otherwise unchanged. ``flat_range=0`` never stretches."""
    lo, hi = np.percentile(crop, [1, 99])
    if hi - lo < 1 or hi - lo >= flat_range:
        return crop
    return np.clip(np.round((crop.astype(np.float64) - lo) * 255.0 / (hi - lo)), 0, 255).astype(np.uint8)


class GrayFrame:
    """The grey version (``cv2.COLOR_RGB2GRAY``) of one HxWx3 uint8 RGB frame, converted region by region
    as the crops ask for them: :meth:`covering` returns a full-size grey image that is exact inside the
    requested rectangle (and every rectangle requested before); elsewhere it holds zeros."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.rgb = check_rgb(rgb)
        self._gray: np.ndarray | None = None
        self._done: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 (exclusive) converted so far

    def covering(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        """The grey frame, exact at least on rows ``y0:y1`` and columns ``x0:x1`` (clipped to the frame)."""
        h, w = self.rgb.shape[:2]
        x0, x1 = max(0, min(x0, w)), max(0, min(x1, w))
        y0, y1 = max(0, min(y0, h)), max(0, min(y1, h))
        if self._gray is None:
            self._gray = np.zeros((h, w), np.uint8)
        done = self._done
        if done is not None:
            if done[0] <= x0 and done[1] <= y0 and x1 <= done[2] and y1 <= done[3]:
                return self._gray
            x0, y0, x1, y1 = min(x0, done[0]), min(y0, done[1]), max(x1, done[2]), max(y1, done[3])
        if x0 < x1 and y0 < y1:
            self._gray[y0:y1, x0:x1] = cv2.cvtColor(np.ascontiguousarray(self.rgb[y0:y1, x0:x1]),
                                                    cv2.COLOR_RGB2GRAY)
        self._done = (x0, y0, x1, y1)
        return self._gray


def _as_gray_frame(frame: np.ndarray | GrayFrame) -> GrayFrame:
    return frame if isinstance(frame, GrayFrame) else GrayFrame(frame)


def face_crop_gray(rgb: np.ndarray | GrayFrame, points: np.ndarray, margin: float = FER_MARGIN,
                   size: int = FER_SIZE, align: bool = FER_ALIGN,
                   flat_range: float = FLAT_CROP_RANGE) -> np.ndarray:
    """A ``size`` x ``size`` uint8 grey square crop of the face (rotated so the eyes are level if ``align``),
    contrast-stretched if it is flat (:func:`stretch_flat`). ``rgb``: the RGB frame, or its
    :class:`GrayFrame` to share one conversion between crops."""
    frame = _as_gray_frame(rgb)
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    eye_r = (pts[33] + pts[133]) / 2
    eye_l = (pts[263] + pts[362]) / 2
    angle = float(np.degrees(np.arctan2(eye_l[1] - eye_r[1], eye_l[0] - eye_r[0]))) if align else 0.0
    center = (pts.min(0) + pts.max(0)) / 2
    rot = cv2.getRotationMatrix2D((float(center[0]), float(center[1])), angle, 1.0)
    rotated = pts @ rot[:, :2].T + rot[:, 2]
    lo, hi = rotated.min(0), rotated.max(0)
    side = float(max(hi - lo)) * (1.0 + 2.0 * margin)
    c = (lo + hi) / 2
    # map the square [c - side/2, c + side/2] of the rotated image onto size x size, in one warp
    s = size / side
    m = rot * s
    m[:, 2] += -np.array([c[0] - side / 2, c[1] - side / 2]) * s
    # the pixels the warp reads: the output square mapped back onto the frame, with a margin for the
    # interpolation's neighbours (border replication reads the frame's edge, which the clipped box keeps)
    corners = np.array([[0.0, 0.0, 1.0], [size, 0.0, 1.0], [0.0, size, 1.0], [size, size, 1.0]])
    src = corners @ cv2.invertAffineTransform(m).T
    h, w = frame.rgb.shape[:2]
    lo = np.clip(np.floor(src.min(0)) - _READ_MARGIN, 0, [w - 1, h - 1]).astype(int)
    hi = np.clip(np.ceil(src.max(0)) + _READ_MARGIN, 0, [w - 1, h - 1]).astype(int) + 1
    gray = frame.covering(int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1]))
    crop = cv2.warpAffine(gray, m, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    return stretch_flat(crop, flat_range)


def face_square_gray(rgb: np.ndarray | GrayFrame, points: np.ndarray, margin: float = FACEX_MARGIN,
                     shift: float = FACEX_SHIFT, flat_range: float = FLAT_CROP_RANGE) -> np.ndarray:
    """The grey square around the mesh (``margin`` on every side, moved down by ``shift`` x side), at the
    image's own resolution, padded by repeating the edge where it leaves the image, contrast-stretched if
    it is flat (:func:`stretch_flat`). ``rgb``: the RGB frame or its :class:`GrayFrame`."""
    frame = _as_gray_frame(rgb)
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    lo, hi = pts.min(0), pts.max(0)
    side = max(2, int(round(float(max(hi - lo)) * (1.0 + 2.0 * margin))))
    cx, cy = (lo + hi) / 2 + np.array([0.0, shift * side])
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    h, w = frame.rgb.shape[:2]
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if xa >= xb or ya >= yb:
        raise ValueError("the face square lies outside the image")
    gray = frame.covering(xa, ya, xb, yb)[ya:yb, xa:xb].copy()
    pads = ((ya - y0, y0 + side - yb), (xa - x0, x0 + side - xb))
    square = np.pad(gray, pads, mode="edge") if any(p for pair in pads for p in pair) else gray
    return stretch_flat(square, flat_range)


def resize_like_skimage(gray: np.ndarray, size: int = FACEX_SIZE) -> np.ndarray:
    """``skimage.transform.resize(gray, (size, size))`` with OpenCV: float32 in 0..1 (uint8 input is
    divided by 255), Gaussian anti-aliasing with sigma = (scale - 1) / 2 per axis when shrinking
    (truncated at 4 sigma, mirrored edges), then bilinear interpolation on pixel centres."""
    img = np.asarray(gray)
    img = img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)
    if img.ndim != 2 or min(img.shape) < 1:
        raise ValueError(f"expected a 2-D grey image, got shape {img.shape}")
    sig = [max(0.0, (n / size - 1.0) / 2.0) for n in img.shape]  # (rows, columns)
    if max(sig) > 0:
        img = cv2.sepFilter2D(img, -1, _gaussian_kernel(sig[1]), _gaussian_kernel(sig[0]),
                              borderType=cv2.BORDER_REFLECT_101)
    if min(img.shape) >= size:  # OpenCV's bilinear is skimage's when no output pixel maps outside the image
        return cv2.resize(img, (size, size), interpolation=cv2.INTER_LINEAR)
    # enlarging: skimage mirrors the image at its edges; interpolation matrices do the same
    rows, cols = _bilinear_matrix(img.shape[0], size), _bilinear_matrix(img.shape[1], size)
    return (rows @ img @ cols.T).astype(np.float32)


def _gaussian_kernel(sigma: float) -> np.ndarray:
    """A normalised 1-D Gaussian (column vector) truncated at 4 sigma; ``[[1]]`` for sigma 0."""
    if sigma <= 0:
        return np.ones((1, 1), np.float32)
    r = int(4.0 * sigma + 0.5)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    return (k / k.sum()).astype(np.float32).reshape(-1, 1)


def _bilinear_matrix(n: int, size: int) -> np.ndarray:
    """(size, n) matrix of bilinear weights from n pixel centres to size, mirrored beyond the edges."""
    src = (np.arange(size) + 0.5) * (n / size) - 0.5
    i0 = np.floor(src).astype(int)
    frac = src - i0
    m = np.zeros((size, n), np.float32)
    for idx, wgt in ((i0, 1.0 - frac), (i0 + 1, frac)):
        if n > 1:  # mirror (gfedcb|abcdefgh|gfedcba), folded until inside
            period = 2 * (n - 1)
            idx = np.abs(np.mod(idx, period))
            idx = np.where(idx > n - 1, period - idx, idx)
        else:
            idx = np.zeros_like(idx)
        np.add.at(m, (np.arange(size), idx), wgt)
    return m
