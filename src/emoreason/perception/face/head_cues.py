"""Evidence from head pose and gaze series: head lowered, gaze averted, head shakes and nods.

Rules of thumb, not trained detectors (angles in degrees, conventions of
:mod:`~emoreason.perception.face.head_pose`):

* **head lowered**: pitch <= :data:`HEAD_LOWERED_PITCH` (-20) for at least :data:`MIN_HOLD_S` (1 s) of a
  video, or in a photo. On 293 ``facial_expressions`` photos the pitch's 5th/50th/95th percentiles were
  -17.8/-5.5/+11.2 and 3.1 % of them read as lowered (``benchmarks/head_pose.py``).
* **gaze averted**: the gaze (head pose + eyes) at least :data:`GAZE_AVERTED_DEG` (30) off the line to the
  camera for at least 1 s, or in a photo. On the same photos the median was 14 degrees, the 90th percentile
  32, and 11.6 % read as averted. Meaningful only when the person would otherwise look at the camera (a video
  call, an interview to camera); a clip filmed from the side shows it all the time.
* **head shake / nod**: the yaw (shake) or pitch (nod) series swinging back and forth at least twice,
  each swing at least :data:`SWING_DEG` (10) peak to peak and at most :data:`MAX_SWING_S` (1.2 s) long.
  The series is sampled at the analysis frame rate (5 fps by default), so only swings lasting at least
  two frames (0.4 s) are seen; faster shakes alias or vanish.

A run of frames continues over gaps of at most 1.5 frame steps (frames without a face break it). None of
these cues argues for an emotion label (``supports`` is None): they are context for the explanation.
"""

from __future__ import annotations

import numpy as np

from emoreason.result import Evidence

HEAD_LOWERED_PITCH = -20.0
GAZE_AVERTED_DEG = 30.0
MIN_HOLD_S = 1.0
SWING_DEG = 10.0
MAX_SWING_S = 1.2
MIN_SWINGS = 2
#: At most this many pose and gaze cues per clip (the longest).
MAX_EVIDENCE = 4


def frame_runs(on: np.ndarray, times: np.ndarray, step: float) -> list[tuple[int, int]]:
    """(first, last) indices of runs of True over consecutive sampled frames (gaps of at most 1.5 frame
    steps): the runs that AU and pose evidence report."""
    runs, i = [], 0
    while i < len(on):
        if not on[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(on) and on[j + 1] and times[j + 1] - times[j] <= 1.5 * step:
            j += 1
        runs.append((i, j))
        i = j + 1
    return runs


def held_runs(values: np.ndarray, times: np.ndarray, step: float, on: np.ndarray,
              min_hold: float = MIN_HOLD_S) -> list[tuple[int, int]]:
    """Runs where ``on`` holds for at least ``min_hold`` seconds (a single frame when there is one frame)."""
    if len(values) == 1:
        return [(0, 0)] if bool(on[0]) else []
    return [(i, j) for i, j in frame_runs(on, times, step) if times[j] + step - times[i] >= min_hold - 1e-9]


def swings(values: np.ndarray, threshold: float = SWING_DEG) -> list[tuple[int, int]]:
    """A zig-zag with hysteresis ``threshold``: (start, end) indices of each swing between turning points,
    every swing at least ``threshold`` degrees (NaN values are skipped)."""
    idx = [k for k in range(len(values)) if np.isfinite(values[k])]
    if len(idx) < 2:
        return []
    pivots: list[int] = []
    hi = lo = ext = idx[0]
    direction = 0  # +1 rising towards ext, -1 falling towards ext, 0 not yet known
    for k in idx[1:]:
        v = values[k]
        if direction == 0:
            hi = k if v > values[hi] else hi
            lo = k if v < values[lo] else lo
            if values[hi] - values[lo] >= threshold:
                pivots, ext, direction = ([hi], lo, -1) if hi < lo else ([lo], hi, 1)
        elif direction * (v - values[ext]) >= 0:
            ext = k
        elif abs(v - values[ext]) >= threshold:
            pivots.append(ext)
            ext, direction = k, -direction
    if direction:
        pivots.append(ext)
    return list(zip(pivots, pivots[1:], strict=False))


def oscillations(values: np.ndarray, times: np.ndarray, threshold: float = SWING_DEG,
                 max_swing_s: float = MAX_SWING_S,
                 min_swings: int = MIN_SWINGS) -> list[tuple[int, int, float]]:
    """Back-and-forth movements: (first index, last index, mean swing in degrees) for each run of at least
    ``min_swings`` consecutive swings that each last at most ``max_swing_s`` seconds."""
    found: list[tuple[int, int, float]] = []
    group: list[tuple[int, int]] = []
    for a, b in swings(values, threshold) + [(0, -1)]:
        if b >= 0 and times[b] - times[a] <= max_swing_s:
            group.append((a, b))
            continue
        if len(group) >= min_swings:
            amp = float(np.mean([abs(values[y] - values[x]) for x, y in group]))
            found.append((group[0][0], group[-1][1], amp))
        group = []
    return found


def pose_evidence(times: np.ndarray, pitch: np.ndarray, yaw: np.ndarray, off_camera: np.ndarray | None,
                  step: float, limit: int = MAX_EVIDENCE) -> list[Evidence]:
    """The cues of the module's docstring, as face evidence (``off_camera`` None: gaze not read): at most
    ``limit``, the longest first (ties: in the order head lowered, gaze averted, shake, nod)."""
    times = np.asarray(times, dtype=float)
    out: list[Evidence] = []

    def add(name: str, value: float, i: int, j: int, description: str) -> None:
        out.append(Evidence(modality="face", name=name, value=round(float(value), 1), start=float(times[i]),
                            end=float(times[j]) + step, description=description, unit="degrees"))

    pitch = np.asarray(pitch, dtype=float)
    with np.errstate(invalid="ignore"):
        lowered = pitch <= HEAD_LOWERED_PITCH
    for i, j in held_runs(pitch, times, step, lowered):
        v = float(np.nanmean(pitch[i:j + 1]))
        add("head_lowered", v, i, j, f"head lowered (pitch {v:.0f}°)")
    if off_camera is not None:
        off = np.asarray(off_camera, dtype=float)
        with np.errstate(invalid="ignore"):
            away = off >= GAZE_AVERTED_DEG
        for i, j in held_runs(off, times, step, away):
            v = float(np.nanmean(off[i:j + 1]))
            add("gaze_averted", v, i, j, f"gaze away from the camera ({v:.0f}° off)")
    for name, series, what in (("head_shake", yaw, "head shakes"), ("head_nod", pitch, "head nods")):
        for i, j, amp in oscillations(np.asarray(series, dtype=float), times):
            add(name, amp, i, j, f"{what} (swings of {amp:.0f}°)")
    order = sorted(range(len(out)), key=lambda k: (-(out[k].end - out[k].start), k))
    return [out[k] for k in order[:limit]]
