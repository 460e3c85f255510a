"""Speech to text with word times and the spoken language: faster-whisper on the packaged Whisper models.

Unless the caller gives the language, it is identified on the first window decoded
(:mod:`~emoreason.perception.speech.language_id`: Whisper base's language token on that window's own
encoder output, which decoding then reuses); Whisper base transcribes every window in that language (or
the user's ``asr_model`` does). Whisper loops (one word dozens of times) and mishears acted
speech, so this module:
- decodes speech in windows of at most :data:`MAX_WINDOW_S` seconds (the VAD's speech segments merged
  while they fit, long stretches cut at the quietest moment), one window in memory at a time;
- never conditions on previous text, and caps new tokens per window by the window's length;
- finds n-gram repetition loops and trims them to their first occurrence, with a note;
- gives every segment a confidence (mean word probability) so text evidence can be weighted by it;
- on a user's English-only model (no language ID there), says when the speech is probably not English
  (:func:`looks_not_english`): such a model turns other languages into invented English, so the
  transcript gets :data:`NOT_ENGLISH_NOTE`.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from emoreason.io.audio import AudioSource
from emoreason.io.guard import check_cancelled
from emoreason.languages import UNSURE_BELOW, join_words, language_name
from emoreason.perception.speech import language_id
from emoreason.perception.text.transcript import Transcript, TranscriptSegment, Word

MAX_WINDOW_S = 28.0  # Whisper sees 30 s at most; keep a margin
MERGE_GAP_S = 1.0  # speech segments closer than this are decoded together
PAD_S = 0.2  # context added around each speech segment
MAX_TOKENS_PER_S = 10.0  # fast speech is 4-6 text tokens/s plus timestamp tokens; a loop runs far above
MIN_TOKENS = 32
MIN_WINDOW_SAMPLES = 1600  # windows under 0.1 s are not decoded: Whisper would only see padding
# Consecutive repeats (beyond the first occurrence) that count as a loop, by n-gram size: "no no no no"
# and a sentence said three times over are speech; Whisper's loops run far longer (37 in DESIGN.md).
LOOP_REPEATS = {1: 4, 2: 3}
LOOP_REPEATS_LONGER = 3  # n >= 3
MAX_NGRAM = 8

# Non-English speech through an English-only Whisper (tiny.en): a rule of thumb from espeak-ng speech, six
# sentences each in English (en-us), German, Spanish, French and Mandarin, decoded as transcribe() decodes
# (benchmarks/asr_language.py). English: avg_logprob -0.27..-0.41, no_speech_prob 0.04..0.16, compression
# ratio <= 1.08, word probability >= 0.83. The 25 others that gave words: avg_logprob -0.53..-2.21,
# no_speech_prob 0.23..0.57, compression ratio 0.47..1.85, word probability 0.06..0.54 (5 gave none).
# Two of the four signs are needed, so one odd number on real English (noise, a shout) does not fire it;
# it flagged all 25 and no English sentence. Each threshold lies in the gap between the two groups, except
# the compression ratio's (2.0, above both: Whisper's repetition loops).
NOT_ENGLISH_SIGNS = {"avg_logprob": ("<", -0.55), "no_speech_prob": (">", 0.2),
                     "compression_ratio": (">", 2.0), "word_probability": ("<", 0.75)}
NOT_ENGLISH_MIN_SIGNS = 2
NOT_ENGLISH_NOTE = ("the speech may not be English: the English speech-to-text model's transcript is "
                    "unreliable")

_WORD_KEY = re.compile(r"[^\w']+")


def plan_windows(duration: float, speech: list[tuple[float, float]] | None,
                 max_window: float = MAX_WINDOW_S) -> list[tuple[float, float]]:
    """Spans to decode: speech segments (padded, merged across short gaps) or the whole input, each at
    most ``max_window`` seconds long. Cut points inside long speech are chosen later by :func:`_cut_quiet`."""
    if speech is None:
        spans = [(0.0, duration)] if duration > 0 else []
    else:
        spans = []
        for a, b in sorted(speech):
            a, b = max(0.0, a - PAD_S), min(duration, b + PAD_S)
            if spans:
                a = max(a, spans[-1][1])  # padding must not make two windows hear the same words
            if b <= a:
                continue
            if spans and a - spans[-1][1] <= MERGE_GAP_S and b - spans[-1][0] <= max_window:
                spans[-1] = (spans[-1][0], max(spans[-1][1], b))
            else:
                spans.append((a, b))
    return spans


def find_repetition_loop(words: list[str], max_ngram: int = MAX_NGRAM) -> tuple[int, int, int] | None:
    """The first run where an n-gram repeats back to back more often than speech plausibly does.

    Returns ``(start, end, n)``: words ``[start, start + n)`` are the first occurrence and
    ``[start + n, end)`` the repeats to drop; ``None`` when there is no loop. Words are compared
    case- and punctuation-insensitively.
    """
    keys = [_WORD_KEY.sub("", w.lower()) for w in words]
    for i in range(len(keys)):
        for n in range(1, max_ngram + 1):
            gram = keys[i:i + n]
            if len(gram) < n or not any(gram):
                break
            j = i + n
            while keys[j:j + n] == gram:
                j += n
            repeats = (j - i) // n - 1
            if repeats >= LOOP_REPEATS.get(n, LOOP_REPEATS_LONGER):
                return i, j, n
    return None


def trim_loops(words: list[Word]) -> tuple[list[Word], list[str]]:
    """Drop every repetition loop but its first occurrence; notes describe what was dropped."""
    notes = []
    while (loop := find_repetition_loop([w.text for w in words])) is not None:
        i, j, n = loop
        phrase = " ".join(w.text.strip() for w in words[i:i + n])
        notes.append(f"ASR repetition loop: '{phrase}' x{(j - i) // n} at {words[i].start:.1f} s, "
                     f"kept once")
        words = words[:i + n] + words[j:]
    return words, notes


def transcribe(audio: AudioSource, speech: list[tuple[float, float]] | None = None,
               model_dir: str | Path | None = None, language: str | None = None) -> Transcript:
    """Transcribe ``audio`` (16 kHz mono) with word times; ``speech`` = VAD spans in seconds, if known.

    ``language`` (a Whisper code or English name) skips language identification; an unknown one is a
    ConfigError. Otherwise the first window of at least 0.1 s names the language for all windows
    (:func:`language_id.identify`). Without ``speech`` the whole input is decoded (in windows) with
    faster-whisper's own VAD filter. The transcript records the language (None when nothing was long
    enough to decode) and, when identified, its probability.
    """
    r = language_id.route(model_dir, language)
    lang, probability = r.language, None
    segments: list[TranscriptSegment] = []
    notes: list[str] = []
    raw_stats: list[tuple[int, float, float, float]] = []
    for span in plan_windows(audio.duration, speech):
        for a, b in _split_long(audio, *span):
            check_cancelled()  # a caller that gave up (emoreason.io.guard) stops between windows
            samples, model = audio.read(a, b), r.model
            if lang is None and len(samples) >= MIN_WINDOW_SAMPLES:  # the first window names the language
                lang, probability, model = language_id.identify(r.model, samples, vad=speech is None)
            segs, n = _decode_window(model, samples, a, lang, vad=speech is None, stats=raw_stats)
            segments.extend(segs)
            notes.extend(n)
    if probability is not None and probability < UNSURE_BELOW:
        notes.append(f"the spoken language is uncertain: {language_name(lang)} with probability "
                     f"{probability:.2f}")
    words = [w.probability for s in segments for w in s.words]
    if r.english_only and words and looks_not_english(**decoding_stats(raw_stats, words)):
        notes.append(NOT_ENGLISH_NOTE)
    return Transcript(segments, source=f"asr:{r.name}", timed=True, notes=notes, language=lang,
                      language_probability=None if probability is None else round(probability, 4))


def decoding_stats(raw: list[tuple[int, float, float, float]], word_probs: list[float]) -> dict[str, float]:
    """Whisper's segment statistics over a transcript: ``raw`` holds ``(tokens, avg_logprob,
    no_speech_prob, compression_ratio)`` per decoded segment, averaged weighted by tokens; the word
    probability is the plain mean of ``word_probs``."""
    n = sum(max(1, t) for t, *_ in raw) or 1
    mean = [sum(max(1, t) * v[k] for t, *v in raw) / n for k in range(3)] if raw else [0.0, 0.0, 0.0]
    return {"avg_logprob": mean[0], "no_speech_prob": mean[1], "compression_ratio": mean[2],
            "word_probability": float(np.mean(word_probs)) if word_probs else 0.0}


def looks_not_english(avg_logprob: float, no_speech_prob: float, compression_ratio: float,
                      word_probability: float) -> bool:
    """True when at least :data:`NOT_ENGLISH_MIN_SIGNS` of :data:`NOT_ENGLISH_SIGNS` hold: English-only
    Whisper's own doubts (low token log-probability, high no-speech probability, a repetitive output,
    unsure words) that, together, mark speech in another language. A rule of thumb, not a language
    identifier."""
    values = {"avg_logprob": avg_logprob, "no_speech_prob": no_speech_prob,
              "compression_ratio": compression_ratio, "word_probability": word_probability}
    signs = sum(values[k] < limit if op == "<" else values[k] > limit
                for k, (op, limit) in NOT_ENGLISH_SIGNS.items())
    return signs >= NOT_ENGLISH_MIN_SIGNS


def split_sentences(words: list[Word], max_gap: float = 1.0) -> list[list[Word]]:
    """Group words into sentences: a break after ``.``, ``?`` or ``!``, or at a pause over ``max_gap`` s."""
    groups: list[list[Word]] = []
    for w in words:
        if not groups or (groups[-1] and (groups[-1][-1].text.endswith((".", "?", "!"))
                                          or w.start - groups[-1][-1].end > max_gap)):
            groups.append([])
        groups[-1].append(w)
    return groups


def _split_long(audio: AudioSource, a: float, b: float) -> list[tuple[float, float]]:
    out = []
    while b - a > MAX_WINDOW_S:
        cut = _cut_quiet(audio, a + MAX_WINDOW_S - 6.0, a + MAX_WINDOW_S)
        out.append((a, cut))
        a = cut
    out.append((a, b))
    return out


def _cut_quiet(audio: AudioSource, lo: float, hi: float, frame: float = 0.05) -> float:
    """The start of the quietest ``frame``-long stretch between ``lo`` and ``hi`` (a pause, ideally)."""
    x = audio.read(lo, hi)
    n = int(frame * audio.sample_rate)
    if len(x) < 2 * n:
        return hi
    frames = x[: len(x) // n * n].reshape(-1, n)
    return lo + float(np.argmin((frames.astype(np.float64) ** 2).mean(axis=1))) * frame


def _decode_window(model, samples: np.ndarray, offset: float, language: str | None, vad: bool,
                   stats: list[tuple[int, float, float, float]] | None = None
                   ) -> tuple[list[TranscriptSegment], list[str]]:
    """One window's sentences and notes, decoded in ``language`` (a Whisper code); each decoded segment's
    ``(tokens, avg_logprob, no_speech_prob, compression_ratio)`` is appended to ``stats`` when given."""
    duration = len(samples) / 16000
    if len(samples) < MIN_WINDOW_SAMPLES:
        return [], []
    max_tokens = min(440, max(MIN_TOKENS, math.ceil(duration * MAX_TOKENS_PER_S)))
    # temperature 0 only: faster-whisper's fallback re-decodes a window at up to five sampling temperatures
    # when its compression-ratio test fails (9x slower on repetitive speech, measured); loops are trimmed
    # below instead. Segments are re-cut into sentences from the words (split_sentences).
    raw, _ = model.transcribe(
        samples, language=language, beam_size=1, word_timestamps=True,
        condition_on_previous_text=False, vad_filter=vad, max_new_tokens=max_tokens,
        without_timestamps=False, temperature=0.0)
    n_tokens = 0
    all_words = []
    for seg in raw:  # the generator decodes as it is consumed
        n_tokens += len(seg.tokens)
        if stats is not None:
            stats.append((len(seg.tokens), float(getattr(seg, "avg_logprob", 0.0)),
                          float(getattr(seg, "no_speech_prob", 0.0)),
                          float(getattr(seg, "compression_ratio", 1.0))))
        all_words += [Word(w.word.strip(), round(offset + w.start, 3), round(offset + w.end, 3),
                           float(w.probability)) for w in (seg.words or []) if w.word.strip()]
    decoded = split_sentences(all_words)
    kept, notes = trim_loops([w for words in decoded for w in words])  # loops may span segments
    if n_tokens >= max_tokens - 2:
        notes.append(f"ASR output for {offset:.1f}-{offset + duration:.1f} s reached the cap of {max_tokens} "
                     "tokens and may be cut short")
    kept_ids = {id(w) for w in kept}
    segments = []
    for words in decoded:
        words = [w for w in words if id(w) in kept_ids]
        if not words:
            continue
        text = join_words((w.text for w in words), language)
        confidence = float(np.mean([w.probability for w in words]))
        segments.append(TranscriptSegment(words[0].start, max(words[-1].end, words[0].start), text, words,
                                          round(confidence, 4)))
    return segments, notes
