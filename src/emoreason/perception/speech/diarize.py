"""Speaker diarisation: who speaks when, offline.

:func:`diarize` runs in five steps:

1. speech segments from the VAD (:func:`perception.speech.vad.detect_speech`) unless the caller gives
   them;
2. windows of 1.6 s (the GE2E encoder's training length) every ``HOP`` s inside each segment, each
   embedded by :class:`perception.speech.speakers.SpeakerEncoder` after its level is brought to
   -30 dBFS; a segment shorter than a window is one shorter window (segments under ``MIN_WINDOW_S``
   are not embedded; their frames take the nearest window's speaker). The mel spectrogram is made one
   segment at a time and windows are embedded 32 at a time, so memory stays flat with the length
   (47-48 MiB traced at 1 and 10 minutes) but for the clustering's n_windows^2 / 2 distances: about 6 MiB
   for 10 minutes of speech (1,200 windows), 200 MiB for an hour;
3. agglomerative clustering of the windows (average linkage on cosine distance), cut at the distance
   ``THRESHOLD`` (tuned on RAVDESS actors 1-8 only; docs/people.md) or at ``n_speakers`` clusters when
   given, never more than ``max_speakers``; when the count is estimated, a cluster holding less than
   ``MIN_SPEAKER_S`` of speech joins its nearest neighbour;
4. every window scored against the clusters' centroids, each 10 ms speech frame given the speaker whose
   mean score over the windows covering it is highest;
5. turns: runs of one speaker; a run shorter than ``MIN_TURN_S`` inside continuous speech joins the
   neighbour it is most like. Speakers are numbered 0.. by first appearance.

Not handled (said in the result's ``notes``): overlapped speech gets one speaker; turns shorter than
``MIN_TURN_S`` inside continuous speech are merged into a neighbour; look-alike voices (same sex, similar
pitch and timbre) can be joined into one speaker. A recording with no speech gives a ``Diarization``
with no turns and zero speakers (and a note), not an error: a silent clip may still show people. The
numbers (DER, speaker counts, RTF) are in docs/people.md, "Diarisation".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from emoreason.errors import ConfigError
from emoreason.io.audio import SAMPLE_RATE, ArrayAudio, resample, waveform_to_float
from emoreason.io.guard import check_cancelled
from emoreason.perception.speech import speakers
from emoreason.perception.speech.speakers import (
    EMBED_DIM,
    NORM_TARGET_DBFS,
    PARTIAL_FRAMES,
    SpeakerEncoder,
    mel_frames,
)
from emoreason.perception.speech.vad import detect_speech

MEL_HOP = speakers.HOP
FPS = SAMPLE_RATE // MEL_HOP  # mel frames (and scoring frames) per second: 100
HOP = 0.5  # seconds between window starts
MIN_WINDOW_S = 0.4  # shorter speech segments are not embedded (their frames take the nearest speaker)
THRESHOLD = 0.4  # cosine distance at which the average-linkage tree is cut
MIN_SPEAKER_S = 2.0  # an estimated speaker with less speech than this joins its nearest neighbour
MIN_TURN_S = 0.8  # shorter runs inside continuous speech join a neighbour


@dataclass
class SpeakerTurn:
    start: float
    end: float
    speaker: int


@dataclass
class Diarization:
    """Speaker turns (sorted by start), the number of speakers, one L2-normalised 256-d embedding per
    speaker (row ``k`` is speaker ``k``), and notes on what the result does not capture."""

    turns: list[SpeakerTurn]
    n_speakers: int
    embeddings: np.ndarray
    notes: list[str] = field(default_factory=list)

    def activity(self, times: np.ndarray) -> np.ndarray:
        """(n_speakers, len(times)) 0/1: whether each speaker has a turn covering each time (s)."""
        times = np.asarray(times, dtype=np.float64)
        out = np.zeros((self.n_speakers, len(times)), dtype=np.uint8)
        for t in self.turns:
            out[t.speaker, (times >= t.start) & (times < t.end)] = 1
        return out


_ENCODER: SpeakerEncoder | None = None


def _encoder() -> SpeakerEncoder:
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = SpeakerEncoder()
    return _ENCODER


def diarize(audio: np.ndarray, sample_rate: int, speech: list[tuple[float, float]] | None = None,
            n_speakers: int | None = None, max_speakers: int = 6,
            encoder: SpeakerEncoder | None = None) -> Diarization:
    """Who speaks when in mono ``audio`` (see the module docstring). ``audio`` is float in -1..1 or
    integer PCM (converted as ``io.audio.waveform_to_float`` does, each conversion in ``notes``), at
    ``sample_rate`` (resampled to 16 kHz). ``speech``: segments ``(start, end)`` in seconds to use
    instead of the VAD's; ``n_speakers``: the number of speakers when known (it may exceed
    ``max_speakers``, the cap on an estimated count)."""
    if np.ndim(audio) != 1 or np.size(audio) == 0:
        raise ConfigError(f"diarize needs a non-empty mono waveform, got shape {np.shape(audio)}")
    x, conversions = _as_float(np.asarray(audio))
    if sample_rate <= 0:
        raise ConfigError(f"sample_rate must be positive, got {sample_rate}")
    if max_speakers < 1:
        raise ConfigError(f"max_speakers must be at least 1, got {max_speakers}")
    if n_speakers is not None and n_speakers < 1:
        raise ConfigError(f"n_speakers must be at least 1, got {n_speakers}")
    if n_speakers is not None:
        max_speakers = max(max_speakers, n_speakers)  # a count given wins over the cap
    if sample_rate != SAMPLE_RATE:
        x = resample(x, sample_rate, SAMPLE_RATE)
    duration = len(x) / SAMPLE_RATE
    if speech is None:
        speech = detect_speech(ArrayAudio(x))
    segments = sorted((max(0.0, float(a)), min(duration, float(b))) for a, b in speech)
    segments = [(a, b) for a, b in segments if b - a >= 0.05]
    notes = conversions + ["overlapped speech is given to one speaker",
             f"turns shorter than {MIN_TURN_S:g} s inside continuous speech are merged into a neighbour",
             "look-alike voices (same sex, similar pitch and timbre) can be joined into one speaker"]
    nothing = Diarization([], 0, np.zeros((0, EMBED_DIM), np.float32),
                          conversions + ["no speech found: no speaker turns"])
    if not segments:
        return nothing
    n_frames = len(x) // MEL_HOP + 1
    spans, emb = embed_windows(x, segments, encoder or _encoder())
    if len(emb) == 0:  # every segment is shorter than MIN_WINDOW_S: embed them anyway
        spans, emb = embed_windows(x, segments, encoder or _encoder(), min_s=0.0)
    if len(emb) == 0:  # the segments hold only digital silence
        return nothing
    labels = _cluster(emb, spans, n_speakers, max_speakers)
    frame_speaker = _frame_labels(emb, spans, labels, segments, n_frames)
    turns, order = _turns(frame_speaker)
    embeddings = np.stack([_unit(emb[labels == k].mean(axis=0)) for k in order]) if order else \
        np.zeros((0, EMBED_DIM), np.float32)
    found = len(order)
    if n_speakers is not None and found < n_speakers:
        notes.append(f"{n_speakers} speakers were asked for; {n_speakers - found} of them kept no turn")
    else:
        notes.append(f"{found} speaker{'s' if found != 1 else ''} "
                     f"{'given' if n_speakers is not None else 'estimated'}")
    return Diarization(turns, found, embeddings.astype(np.float32), notes)


def _as_float(x: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """``x`` itself when it is finite float32 in -1..1 (no copy: a long recording stays one array),
    else ``io.audio.waveform_to_float``'s conversion (integer PCM scaled, NaN zeroed, each noted)."""
    if x.dtype == np.float32:
        lo, hi = float(x.min()), float(x.max())  # NaN or inf anywhere makes these non-finite
        if np.isfinite(lo) and np.isfinite(hi) and -1.0 <= lo and hi <= 1.0:
            return x, []
    return waveform_to_float(x)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def embed_windows(x: np.ndarray, segments: Sequence[tuple[float, float]], encoder: SpeakerEncoder,
                  min_s: float = MIN_WINDOW_S) -> tuple[np.ndarray, np.ndarray]:
    """The windows of 16 kHz ``x`` inside ``segments`` (seconds): their spans (n, 2) in 10 ms frames and
    their GE2E embeddings (n, 256), each window's level brought to -30 dBFS first. A segment shorter than
    ``min_s`` is skipped; one shorter than 1.6 s is one window. The mel spectrogram is computed one
    segment at a time and windows are embedded ``speakers._BATCH`` at a time, so memory does not grow
    with the recording's length (only the (n, 256) embeddings do)."""
    hop = int(round(HOP * FPS))
    spans: list[tuple[int, int]] = []
    pending: dict[int, list[tuple[int, np.ndarray]]] = {}  # window length -> (index, levelled mel window)
    out: dict[int, np.ndarray] = {}

    def flush(length: int) -> None:
        idx, windows = zip(*pending.pop(length))
        for i, e in zip(idx, encoder.embed_mels(np.stack(windows))):
            out[i] = e

    for a, b in segments:
        check_cancelled()  # a caller that gave up (emoreason.io.guard) stops between segments
        fa, fb = int(round(a * FPS)), min(len(x) // MEL_HOP + 1, int(round(b * FPS)))
        if fb - fa < max(1, int(min_s * FPS)):
            continue
        piece = x[fa * MEL_HOP:fb * MEL_HOP]
        mel, power = mel_frames(piece), frame_power(piece, fb - fa)
        if fb - fa <= PARTIAL_FRAMES:
            starts, length = [0], fb - fa
        else:
            starts = list(range(0, fb - fa - PARTIAL_FRAMES + 1, hop))
            if starts[-1] + PARTIAL_FRAMES < fb - fa:
                starts.append(fb - fa - PARTIAL_FRAMES)
            length = PARTIAL_FRAMES
        for s in starts:
            level = float(power[s:s + length].mean())
            if level <= 0:  # digital silence: nothing to embed (its embedding would be all zeros)
                continue
            pending.setdefault(length, []).append((len(spans), _level(mel[s:s + length], level)))
            spans.append((fa + s, fa + s + length))
            if len(pending[length]) >= speakers._BATCH:
                flush(length)
    for length in list(pending):
        flush(length)
    if not spans:
        return np.zeros((0, 2), int), np.zeros((0, EMBED_DIM), np.float32)
    found = [out[i] for i in range(len(spans))]
    return np.array(spans), np.stack(found).astype(np.float32)


def frame_power(x: np.ndarray, n_frames: int) -> np.ndarray:
    """Mean squared sample of each 10 ms mel frame's hop (n_frames,)."""
    n = min(len(x) // MEL_HOP, n_frames)
    out = np.zeros(n_frames)
    out[:n] = np.square(x[: n * MEL_HOP].astype(np.float64)).reshape(n, MEL_HOP).mean(axis=1)
    return out


def _level(window: np.ndarray, power: float) -> np.ndarray:
    """A mel window scaled as if its waveform were at -30 dBFS RMS (mel power scales with the waveform's
    power); ``power`` (> 0) is the window's mean squared sample."""
    return (window * (10 ** (NORM_TARGET_DBFS / 10) / power)).astype(np.float32)


def _cluster(emb: np.ndarray, spans: np.ndarray, n_speakers: int | None, max_speakers: int) -> np.ndarray:
    """A cluster label per window (0..k-1): average-linkage agglomeration on cosine distance, cut at
    ``THRESHOLD`` (at most ``max_speakers`` clusters) or at ``n_speakers`` clusters."""
    if len(emb) == 1:
        return np.zeros(1, int)
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(emb.astype(np.float64), method="average", metric="cosine")
    if n_speakers is not None:
        labels = fcluster(tree, t=min(n_speakers, len(emb)), criterion="maxclust")
        return np.unique(labels, return_inverse=True)[1]
    labels = fcluster(tree, t=THRESHOLD, criterion="distance")
    if labels.max() > max_speakers:
        labels = fcluster(tree, t=max_speakers, criterion="maxclust")
    return _absorb_small(emb, spans, np.unique(labels, return_inverse=True)[1])


def _absorb_small(emb: np.ndarray, spans: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Clusters covering less than MIN_SPEAKER_S of speech join the nearest other cluster, smallest
    first, until none is left (or one cluster remains)."""
    labels = labels.copy()
    while True:
        ids = np.unique(labels)
        if len(ids) <= 1:
            break
        cover = {k: _covered_frames(spans[labels == k]) / FPS for k in ids}
        small = min(ids, key=lambda k: cover[k])
        if cover[small] >= MIN_SPEAKER_S:
            break
        cents = {k: _unit(emb[labels == k].mean(axis=0)) for k in ids}
        others = [k for k in ids if k != small]
        labels[labels == small] = max(others, key=lambda k: float(cents[k] @ cents[small]))
    _, labels = np.unique(labels, return_inverse=True)
    return labels


def _covered_frames(spans: np.ndarray) -> int:
    """How many frames the windows ``spans`` cover together (overlaps counted once)."""
    if len(spans) == 0:
        return 0
    mark = np.zeros(int(spans[:, 1].max()), dtype=bool)
    for s, e in spans:
        mark[int(s):int(e)] = True
    return int(mark.sum())


def _frame_labels(emb: np.ndarray, spans: np.ndarray, labels: np.ndarray,
                  segments: Sequence[tuple[float, float]], n_frames: int) -> np.ndarray:
    """A speaker per 10 ms frame (-1 outside speech): the best mean centroid score of covering windows."""
    k = int(labels.max()) + 1
    cents = np.stack([_unit(emb[labels == c].mean(axis=0)) for c in range(k)])
    scores = emb @ cents.T  # (windows, k)
    total = np.zeros((n_frames, k))
    count = np.zeros(n_frames)
    for (s, e), sc in zip(spans, scores):
        total[s:e] += sc
        count[s:e] += 1
    out = np.full(n_frames, -1, dtype=int)
    centres = (spans[:, 0] + spans[:, 1]) / 2
    for a, b in segments:
        fa, fb = int(round(a * FPS)), min(n_frames, int(round(b * FPS)))
        for f in range(fa, fb):
            if count[f] > 0:
                out[f] = int(np.argmax(total[f]))
            else:  # a frame no window covers: the nearest window's speaker
                out[f] = int(np.argmax(scores[int(np.argmin(np.abs(centres - f)))]))
        _merge_short_runs(out, fa, fb, total, count)
    return out


def _merge_short_runs(out: np.ndarray, fa: int, fb: int, total: np.ndarray, count: np.ndarray) -> None:
    """Inside one speech segment, relabel runs shorter than MIN_TURN_S to the neighbouring run's speaker
    that scores higher over the run, shortest run first."""
    min_len = int(MIN_TURN_S * FPS)
    while True:
        runs = _runs(out[fa:fb])
        if len(runs) <= 1:
            return
        i = min(range(len(runs)), key=lambda j: runs[j][1] - runs[j][0])
        s, e, _ = runs[i]
        if e - s >= min_len:
            return
        neighbours = [runs[j][2] for j in (i - 1, i + 1) if 0 <= j < len(runs)]
        mean = total[fa + s:fa + e].sum(axis=0) / max(1.0, float(count[fa + s:fa + e].sum()))
        out[fa + s:fa + e] = max(neighbours, key=lambda c: mean[c])


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """Maximal runs ``(start, end, label)`` of equal labels."""
    if len(labels) == 0:
        return []
    cuts = np.flatnonzero(np.diff(labels)) + 1
    bounds = np.concatenate([[0], cuts, [len(labels)]])
    return [(int(a), int(b), int(labels[a])) for a, b in zip(bounds[:-1], bounds[1:])]


def _turns(frame_speaker: np.ndarray) -> tuple[list[SpeakerTurn], list[int]]:
    """Turns from frame labels, speakers renumbered by first appearance; the old labels in new order."""
    order: list[int] = []
    turns: list[SpeakerTurn] = []
    for s, e, lab in _runs(frame_speaker):
        if lab < 0:
            continue
        if lab not in order:
            order.append(lab)
        turns.append(SpeakerTurn(round(s / FPS, 3), round(e / FPS, 3), order.index(lab)))
    return turns, order
