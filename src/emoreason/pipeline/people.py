"""Who is speaking: face tracks paired with diarised voices by audio-visual synchrony.

For each face track and each voice (a speaker of the diarisation) a synchrony score is measured on the
track's own frame times, where the face is seen:

1. the mouth's *movement*: the local standard deviation of the mouth opening (mouth opening / face height,
   from the mesh) over :data:`MOVEMENT_WINDOW_S` around each frame -- a talking mouth opens and closes, a
   silent one stays still whether open or shut;
2. the voice's activity at those frames (1 while the speaker's turns cover the frame, else 0);
3. their Pearson correlation over the frames where the face is seen (:func:`synchrony`);
4. plus, when the face is not always on screen and its mouth moves while the voice is heard (median
   movement over those frames at least :data:`TALKING_MOVEMENT`), how much more it is on screen while
   the voice speaks than while it does not (:func:`screen_contrast`, on the clip's frame grid ``times``):
   edited footage tends to show who speaks (shot / reverse shot), and a face seen mostly while its voice
   speaks has a correlation (3) built on a few pauses. A still mouth gets no such credit: a listener
   shown while someone else speaks is not taken for the speaker.

A correlation needs the voice both heard and not heard while the face is seen, and the contrast the
voice heard and not heard over the clip. The score is the sum of the two that can be measured, and
undefined (taken as 0) when neither can -- except for the one-face-one-voice case below.

Tracks and voices are paired one to one by the Hungarian method (``scipy.optimize.linear_sum_assignment``,
imported inside :func:`associate`) on the scores, and a pair is kept only when its score reaches
``min_score``. A voice left unpaired is an off-screen person; a face left unpaired is a person whose mouth
follows no voice (silent, or speaking unheard); each gets a note. One face track and one voice whose
score is undefined or not clearly negative (above ``-min_score``) are one person: a single-speaker clip
stays one person, as without ``people``.

Works on anything shaped like the tracks helper's ``FaceTrack`` (``track_id``, ``times``,
``mouth_open``) and the diarisation's ``Diarization`` (``n_speakers``, ``activity(times)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Seconds of mouth opening whose spread is the movement at a frame.
MOVEMENT_WINDOW_S = 0.6
#: The least score (a Pearson correlation, plus the on-screen contrast) that pairs a face with a voice.
MIN_SCORE = 0.1
#: Frames of a face, seen while the voice is heard and while it is not, needed to measure synchrony.
MIN_FRAMES = 3
#: The median mouth movement (std of mouth opening / face height over the window) while a voice is heard
#: above which a face counts as talking for the on-screen contrast. Set between the synthetic faces'
#: talking (median 0.016-0.031) and silent (0.002-0.004) frames; not checked on real footage.
TALKING_MOVEMENT = 0.008


@dataclass
class Association:
    """Which face track is which voice.

    ``pairs`` maps a track id to a speaker index; ``scores`` is the synchrony of every track (rows, in
    ``track_ids`` order) with every voice (columns), NaN where it could not be measured; ``offscreen``
    lists the voices without a face, ``silent`` the tracks without a voice; ``notes`` says why.
    """

    track_ids: list[int]
    scores: np.ndarray
    pairs: dict[int, int] = field(default_factory=dict)
    offscreen: list[int] = field(default_factory=list)
    silent: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def score(self, track_id: int, speaker: int) -> float | None:
        """The synchrony of this track and voice (None when it could not be measured)."""
        value = float(self.scores[self.track_ids.index(track_id), speaker])
        return None if np.isnan(value) else value


def mouth_movement(times: np.ndarray, mouth_open: np.ndarray, window_s: float = MOVEMENT_WINDOW_S
                   ) -> np.ndarray:
    """Per frame, the standard deviation of ``mouth_open`` over the frames within ``window_s / 2`` of it
    (NaN openings, frames where the mouth was not measured, are skipped; a frame with none is NaN)."""
    times = np.asarray(times, dtype=float)
    mouth = np.asarray(mouth_open, dtype=float)
    lo = np.searchsorted(times, times - window_s / 2, side="left")
    hi = np.searchsorted(times, times + window_s / 2, side="right")
    out = np.full(len(times), np.nan)
    for i, (a, b) in enumerate(zip(lo, hi)):
        window = mouth[a:b]
        window = window[~np.isnan(window)]
        if len(window):
            out[i] = window.std()
    return out


def synchrony(movement: np.ndarray, activity: np.ndarray) -> float:
    """The Pearson correlation of mouth movement with voice activity over the frames where both are
    known; NaN when the voice is heard on fewer than :data:`MIN_FRAMES` of them or silent on fewer."""
    known = ~np.isnan(movement)
    m, a = movement[known], np.asarray(activity, dtype=float)[known]
    if (a > 0.5).sum() < MIN_FRAMES or (a <= 0.5).sum() < MIN_FRAMES or m.std() < 1e-9:
        return float("nan")
    return float(np.corrcoef(m, a)[0, 1])


def screen_contrast(seen: np.ndarray, active: np.ndarray) -> float:
    """P(face on screen | voice heard) - P(face on screen | voice not heard) over a frame grid; NaN when
    the face is on screen in every frame (no information) or the voice is heard, or not heard, in fewer
    than :data:`MIN_FRAMES` frames."""
    seen, heard = np.asarray(seen, dtype=bool), np.asarray(active, dtype=float) > 0.5
    if seen.all() or heard.sum() < MIN_FRAMES or (~heard).sum() < MIN_FRAMES:
        return float("nan")
    return float(seen[heard].mean() - seen[~heard].mean())


def associate(tracks: list[Any], diarization: Any, times: np.ndarray | None = None,
              min_score: float = MIN_SCORE) -> Association:
    """Pair ``tracks`` (face tracks) with ``diarization``'s voices by synchrony (see the module docstring).

    ``times``: the face stage's frame times (default: every time some track has a frame), the grid of the
    on-screen contrast and of the note on speech while no face was seen."""
    from scipy.optimize import linear_sum_assignment  # scipy is slow to import; only pairing needs it

    n_voices = int(diarization.n_speakers)
    ids = [int(t.track_id) for t in tracks]
    scores = np.full((len(tracks), n_voices), np.nan)
    grid = np.asarray(times, dtype=float) if times is not None and len(times) else np.unique(
        np.concatenate([np.asarray(t.times, dtype=float) for t in tracks])) if tracks else np.zeros(0)
    grid_activity = np.asarray(diarization.activity(grid), dtype=float).reshape(n_voices, len(grid))
    for i, track in enumerate(tracks):
        t = np.asarray(track.times, dtype=float)
        if len(t) == 0 or n_voices == 0:
            continue
        movement = mouth_movement(t, track.mouth_open)
        activity = np.asarray(diarization.activity(t), dtype=float).reshape(n_voices, len(t))
        seen = np.isin(np.round(grid, 3), np.round(t, 3))
        for s in range(n_voices):
            moving = movement[(activity[s] > 0.5) & ~np.isnan(movement)]
            talking = len(moving) > 0 and float(np.median(moving)) >= TALKING_MOVEMENT
            parts = [synchrony(movement, activity[s]),
                     screen_contrast(seen, grid_activity[s]) if talking else np.nan]
            known = [v for v in parts if not np.isnan(v)]
            scores[i, s] = sum(known) if known else np.nan
    result = Association(track_ids=ids, scores=scores)
    if len(tracks) == 1 and n_voices == 1:
        value = scores[0, 0]
        if np.isnan(value) or value > -min_score:
            result.pairs[ids[0]] = 0
            if np.isnan(value):
                result.notes.append("one face and one voice: taken as one person (their synchrony could "
                                    "not be measured: the voice is heard all the time the face is seen, "
                                    "or never)")
    elif len(tracks) and n_voices:
        rows, cols = linear_sum_assignment(np.nan_to_num(scores, nan=0.0), maximize=True)
        for r, c in zip(rows, cols):
            if scores[r, c] >= min_score:
                result.pairs[ids[r]] = int(c)
    paired_voices = set(result.pairs.values())
    for s in range(n_voices):
        if s not in paired_voices:
            result.offscreen.append(s)
            best = np.nanmax(scores[:, s]) if len(tracks) and not np.isnan(scores[:, s]).all() else None
            why = ("no face was seen" if not tracks else
                   "no face's mouth moves with it" if best is None or best < min_score else
                   "the face whose mouth moves with it is paired with another voice")
            result.notes.append(f"voice {s} has no face ({why}): an off-screen speaker")
    for track_id in ids:
        if track_id not in result.pairs:
            result.silent.append(track_id)
            result.notes.append(f"face track {track_id} is paired with no voice: its mouth moves with none "
                                "(silent, or speaking unheard)")
    if times is not None and n_voices and len(times):
        unseen = _unseen_speech_seconds(tracks, diarization, np.asarray(times, dtype=float))
        if unseen >= 1.0:
            result.notes.append(f"{unseen:.1f} s of speech while no face was seen")
    return result


def voices_to_ask(association: Association, min_score: float = MIN_SCORE, max_voices: int = 6) -> int | None:
    """How many voices to diarise again for when faces say that voices were joined, from the face tracks'
    :func:`associate` with the diarisation: when two or more face tracks each move their mouth with one
    voice (synchrony of at least ``min_score``), that voice is likely several people whose voices the
    diarisation could not tell apart (look-alike voices). Returns the number of voices plus one per extra
    such face (at most ``max_voices``), or None when no voice has more than one such face or there are no
    more tracks than voices."""
    scores = association.scores
    n_voices = scores.shape[1]
    if not n_voices or len(association.track_ids) <= n_voices:
        return None
    extra = sum(max(0, int((np.nan_to_num(scores[:, s], nan=-1.0) >= min_score).sum()) - 1)
                for s in range(n_voices))
    return min(n_voices + extra, max_voices) if extra and n_voices < max_voices else None


def _unseen_speech_seconds(tracks: list[Any], diarization: Any, times: np.ndarray) -> float:
    """Seconds of the frame grid where some voice is heard and no track has a frame."""
    seen = np.zeros(len(times), dtype=bool)
    for track in tracks:
        seen |= np.isin(np.round(times, 3), np.round(np.asarray(track.times, dtype=float), 3))
    heard = np.asarray(diarization.activity(times)).reshape(-1, len(times)).max(axis=0) > 0.5
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    return float((heard & ~seen).sum() * step)
