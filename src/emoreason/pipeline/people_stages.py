"""The per-person stages of ``people=True``: the voices (diarisation, each voice's emotion, each voice's
words) on the audio path, and the faces (tracks, each track's face analysis) on the video path.

- :func:`perceive_voices`: the diarisation (:func:`emoreason.perception.speech.diarize.diarize`) of the
  speech VAD found, then per voice the voice model over that voice's turns alone -- one recording per
  speaker, so its within-recording normalisation and speaker gate see one speaker -- and the text model
  over the words said in those turns (:func:`split_transcript`). With one voice, its outputs are the
  clip's own (the same speech and words), not computed twice. When the faces show that voices were
  joined (two faces' mouths moving with one voice), :func:`split_joined_voices` diarises again for more.
- :class:`FacePeopleBuilder`: every frame (or the one image) into the tracks helper's
  :class:`~emoreason.perception.face.tracks.MultiFaceAnalyzer`; its tracks and one face output per track.

The diarisation (resemblyzer's encoder, torch) and the face tracks (dlib) are imported inside the functions
that use them: they are heavy, and only ``people=True`` needs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emoreason.io.audio import AudioSource
from emoreason.perception.base import ModalityOutput
from emoreason.perception.text.transcript import Transcript, TranscriptSegment, Word
from emoreason.pipeline.people import Association, associate, voices_to_ask

#: The most voices the diarisation estimates when ``speakers`` is not given.
MAX_VOICES = 6
#: A word outside every turn goes to the nearest turn within this many seconds, else to nobody.
WORD_SNAP_S = 0.5


@dataclass
class VoicePeople:
    """What the audio path found per voice: the diarisation, and per speaker index the voice and text
    outputs and the words said (text, start, end)."""

    diarization: Any
    voice: dict[int, ModalityOutput] = field(default_factory=dict)
    text: dict[int, ModalityOutput] = field(default_factory=dict)
    words: dict[int, list[tuple[str, float, float]]] = field(default_factory=dict)
    transcripts: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: The clip's face tracks paired with these voices (:func:`~emoreason.pipeline.people.associate`), made
    #: by :func:`split_joined_voices` when the two paths meet; None where it did not run.
    association: Association | None = None

    def turns(self, speaker: int) -> list[tuple[float, float]]:
        return [(float(t.start), float(t.end)) for t in self.diarization.turns if t.speaker == speaker]


@dataclass
class FacePeople:
    """What the video path found per face: the tracks, one face output per track id, the frame times."""

    tracks: list[Any]
    outputs: dict[int, ModalityOutput]
    times: np.ndarray


def speaker_at(start: float, end: float, turns: list[Any], snap_s: float = WORD_SNAP_S) -> int | None:
    """The speaker whose turns overlap ``start..end`` the most; with no overlap, the speaker of the nearest
    turn within ``snap_s`` seconds; else None."""
    best, best_overlap, nearest, nearest_gap = None, 0.0, None, snap_s
    for turn in turns:
        overlap = min(end, turn.end) - max(start, turn.start)
        if overlap > best_overlap or (overlap == best_overlap > 0 and best is None):
            best, best_overlap = turn.speaker, overlap
        gap = max(turn.start - end, start - turn.end, 0.0)
        if overlap <= 0 and gap <= nearest_gap:
            nearest, nearest_gap = turn.speaker, gap
    return int(best) if best is not None else (int(nearest) if nearest is not None else None)


def split_transcript(transcript: Transcript, turns: list[Any]) -> tuple[dict[int, Transcript], int]:
    """``transcript`` split by speaker: each word goes to :func:`speaker_at` the first half of its time
    (Whisper's word ends run on into the following pause; a segment without word times goes whole); a
    speaker's consecutive words in one segment make one segment of theirs (confidence: their words' mean
    probability). Returns the transcripts by speaker and how many words went to
    nobody."""
    pieces: dict[int, list[TranscriptSegment]] = {}
    lost = 0
    for seg in transcript.segments:
        if not seg.words:
            who = speaker_at(seg.start, seg.end, turns)
            if who is None:
                lost += len(seg.text.split())
            else:
                pieces.setdefault(who, []).append(seg)
            continue
        run: list[Word] = []
        run_who: int | None = None
        for word in [*seg.words, None]:
            # a word's first half: Whisper's word ends run on into the pause after them
            who = (speaker_at(word.start, (word.start + word.end) / 2, turns) if word is not None
                   else None)
            if word is None or who != run_who:
                if run and run_who is not None:
                    text = " ".join(w.text.strip() for w in run if w.text.strip())
                    conf = float(np.mean([w.probability for w in run]))
                    pieces.setdefault(run_who, []).append(
                        TranscriptSegment(run[0].start, run[-1].end, text, list(run), conf))
                elif run:
                    lost += len(run)
                run, run_who = [], who
            if word is not None:
                run.append(word)
    out = {s: Transcript(segs, source=transcript.source, timed=transcript.timed, notes=list(transcript.notes))
           for s, segs in pieces.items()}
    return out, lost


def perceive_voices(pipeline: Any, outputs: dict[str, ModalityOutput], options: Any, audio: AudioSource,
                    speech: list[tuple[float, float]] | None, transcript: Transcript | None,
                    n_speakers: int | None = None) -> VoicePeople:
    """Diarise ``audio``'s ``speech``, then each voice's emotion and words (see the module docstring).
    ``outputs``: the clip's own modality outputs (reused when there is one voice); ``n_speakers``: the
    number of voices to find (default ``options.speakers``: given, or estimated)."""
    from emoreason.perception.speech.diarize import diarize  # resemblyzer and torch: only for people

    n = n_speakers if n_speakers is not None else options.speakers
    diarization = diarize(audio.read(), audio.sample_rate, speech=None if speech is None else list(speech),
                          n_speakers=n, max_speakers=max(MAX_VOICES, n or 0))
    found = VoicePeople(diarization=diarization, notes=list(diarization.notes))
    speakers = range(int(diarization.n_speakers))
    by_speaker: dict[int, Transcript] = {}
    if transcript is not None and transcript.timed:
        by_speaker, lost = split_transcript(transcript, diarization.turns)
        if lost:
            found.notes.append(f"{lost} transcribed word(s) fall in no speaker's turn and are nobody's")
    elif transcript is not None:
        found.notes.append("the transcript has no times: its words are given to no one person")
    for s in speakers:
        t = by_speaker.get(s)
        found.transcripts[s] = t.text if t is not None else ""
        found.words[s] = [(w.text.strip(), w.start, w.end) for seg in (t.segments if t else [])
                          for w in (seg.words or [Word(seg.text, seg.start, seg.end, seg.confidence)])]
    if len(speakers) == 1:  # one voice: the clip's own speech and words
        for m, store in (("voice", found.voice), ("text", found.text)):
            if m in outputs:
                store[0] = outputs[m]
        return found
    if "voice" in options.modalities:
        analyzer = pipeline.voice_analyzer(options.speaker_normalisation)
        for s in speakers:
            found.voice[s] = analyzer.analyze(audio, found.turns(s))
    if "text" in options.modalities and "text" in outputs and outputs["text"].usable and by_speaker:
        context = list(options.context) if options.context else None
        said = [s for s in speakers if s in by_speaker]
        for s, out in zip(said, pipeline.text_analyzer().analyze_many([by_speaker[s] for s in said],
                                                                      [context] * len(said))):
            found.text[s] = out
    return found


def split_joined_voices(pipeline: Any, faces: FacePeople, voices: VoicePeople,
                        outputs: dict[str, ModalityOutput], options: Any, audio: AudioSource,
                        speech: list[tuple[float, float]] | None, transcript: Transcript | None
                        ) -> VoicePeople:
    """``voices``, or the voices diarised again for more speakers when the faces say some were joined
    (:func:`emoreason.pipeline.people.voices_to_ask`: two faces whose mouths both move with one voice)
    and the new voices pair more faces than the old (else the old are kept). Never with ``speakers``
    given: the user's count stands. The voices returned carry their pairing with the faces
    (``VoicePeople.association``) for :func:`emoreason.pipeline.people_result.people_of`."""
    if options.speakers is not None or not faces.tracks or not voices.diarization.n_speakers:
        return voices
    voices.association = associate(faces.tracks, voices.diarization, faces.times)
    ask = voices_to_ask(voices.association, max_voices=MAX_VOICES)
    if ask is None:
        return voices
    again = perceive_voices(pipeline, outputs, options, audio, speech, transcript, n_speakers=ask)
    again.association = associate(faces.tracks, again.diarization, faces.times)  # the new voices
    before, after = len(voices.association.pairs), len(again.association.pairs)
    joined = voices.diarization.n_speakers
    if after > before:
        again.notes.append(f"{joined} voice(s) were found, but more faces' mouths moved with them: diarised "
                           f"again for {ask} voices, which paired {after} faces instead of {before}")
        return again
    voices.notes.append(f"more faces' mouths moved with the {joined} voice(s) found than there are voices; "
                        f"diarised again for {ask}, the new voices paired no more faces and were not used")
    return voices


class FacePeopleBuilder:
    """The video path's per-person face stage: frames in, :class:`FacePeople` out."""

    def __init__(self, options: Any, still: bool = False):
        """``still``: one image, whose every face is a person (a video's tracks need 3 frames or more)."""
        from emoreason.perception.face.tracks import FaceTrackBuilder, MultiFaceAnalyzer  # dlib: people only

        builder = FaceTrackBuilder(min_observations=1) if still else None
        self._faces = MultiFaceAnalyzer(fps=options.fps, face_model=options.face_model, builder=builder)
        self._times: list[float] = []

    def add_frame(self, t: float, rgb: np.ndarray) -> None:
        self._times.append(float(t))
        self._faces.add_frame(t, rgb)

    def finish(self) -> FacePeople:
        tracks, outputs = self._faces.finish()
        return FacePeople(tracks=list(tracks), outputs=dict(outputs), times=np.asarray(self._times))
