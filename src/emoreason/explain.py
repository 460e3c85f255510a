"""Turn the evidence into a short paragraph that names the decisive cues, with times.

The template explanation uses only what is in the evidence list and the scores, so it cannot claim a
cue that was not observed. An optional LLM (any OpenAI-compatible endpoint: llama.cpp server, vLLM,
Ollama) can rewrite it from the same evidence; a failure there is reported in the result's notes.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

from emoreason.languages import UNSURE_BELOW, language_name
from emoreason.result import Evidence

MODALITY_WORDS = {"face": "face", "voice": "voice", "text": "words"}


def _when(e: Evidence) -> str:
    if e.start is None:
        return ""
    if e.end is None or abs(e.end - e.start) < 0.05:
        return f"{e.start:.1f} s"
    return f"{e.start:.1f}–{e.end:.1f} s"


def _cue(e: Evidence) -> str:
    tags = [t for t in (e.name if e.name.upper().startswith("AU") else "", _when(e)) if t]
    if not tags:
        return e.description
    if e.description.endswith(")"):  # "pitch high (+1.4 SD)" -> "pitch high (+1.4 SD; 0.4–2.4 s)"
        return e.description[:-1] + "; " + ", ".join(tags) + ")"
    return f"{e.description} ({', '.join(tags)})"


def _pick(evidence: Sequence[Evidence], modality: str, labels: Sequence[str], k: int) -> list[Evidence]:
    own = [e for e in evidence if e.modality == modality and e.description and e.name != "dropped"]
    favoured = [e for e in own if e.supports in labels]
    rest = [e for e in own if e.supports is None]
    chosen = sorted(favoured, key=lambda e: -e.weight)[:k]
    if len(chosen) < k:
        chosen += sorted(rest, key=lambda e: -e.weight)[: k - len(chosen)]
    return sorted(chosen, key=lambda e: e.start if e.start is not None else 0.0)


def explain(
    label: str,
    scores: Mapping[str, float],
    evidence: Sequence[Evidence],
    shares: Mapping[str, float],
    dropped: Mapping[str, str],
    language: str | None = None,
    language_probability: float | None = None,
) -> str:
    """A paragraph: the cues per modality (with times) → the label, the runner-up if close, the weights.

    Only cues from the evidence list are named: those that support the chosen label (or a close
    runner-up) first, then neutral descriptions; one strong cue for another label is named as such.
    Words in a ``language`` (Whisper code) other than English are introduced as "said in German: ...",
    quoted as the text cue has them (in their own script); "(uncertain, p 0.31)" follows the name when
    ``language_probability`` is below :data:`~emoreason.languages.UNSURE_BELOW`.
    """
    foreign = language_name(language) if language not in (None, "en") else None
    if foreign and language_probability is not None and language_probability < UNSURE_BELOW:
        foreign += f" (uncertain, p {language_probability:.2f})"
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    runner = ranked[1] if len(ranked) > 1 and ranked[1][1] >= 0.5 * ranked[0][1] else None
    labels = [label] + ([runner[0]] if runner else [])
    sentences = []
    for modality in ("face", "voice", "text"):
        if modality not in shares:
            continue
        cues = _pick(evidence, modality, labels, 2 if modality != "text" else 1)
        if cues:
            body = " and ".join(_cue(e) for e in cues)
            if modality == "text" and foreign:
                body = body.removeprefix("says ")
                sentences.append(f"Words, said in {foreign}: {body}.")
                foreign = None
            else:
                sentences.append(f"{MODALITY_WORDS[modality].capitalize()}: {body}.")
    verdict = f"Overall: {label}"
    if runner:
        verdict += f", with {runner[0]} close behind"
    mix = ", ".join(f"{MODALITY_WORDS[m]} {shares[m]:.0%}" for m in shares)
    sentences.append(f"{verdict} ({mix}).")
    counter = [e for e in evidence if e.supports and e.supports not in labels and e.weight >= 0.1]
    if counter:
        e = max(counter, key=lambda x: x.weight)
        where = MODALITY_WORDS.get(e.modality, e.modality)
        sentences.append(f"One cue points elsewhere: {_cue(e)} in the {where} suggests {e.supports}.")
    for m, reason in dropped.items():
        sentences.append(f"{MODALITY_WORDS.get(m, m).capitalize()} not used: {reason}.")
    if foreign:  # no text cue named the language
        sentences.append(f"The speech was in {foreign}.")
    return " ".join(sentences)


SYSTEM_PROMPT = (
    "You are an emotion analysis expert. Using ONLY the observed cues given (facial action units with times, "
    "voice prosody, the words spoken), explain in 2-4 sentences why the person feels the given emotion. "
    "Cite times. Do not invent cues."
)


def explain_with_llm(
    endpoint: str,
    model: str,
    label: str,
    scores: Mapping[str, float],
    evidence: Sequence[Evidence],
    transcript: str,
    timeout: float = 60.0,
    language: str | None = None,
) -> str:
    """Ask an OpenAI-compatible chat endpoint (``.../v1``) to write the explanation from the evidence
    (with the transcript's language by name when it is known)."""
    cues = [
        {"modality": e.modality, "cue": e.name, "description": e.description, "start": e.start, "end": e.end}
        for e in evidence if e.description
    ]
    payload = {"emotion": label, "scores": {k: round(v, 3) for k, v in scores.items()}, "cues": cues,
               "transcript": transcript}
    if language is not None:
        payload["language"] = language_name(language)
    user = json.dumps(payload, ensure_ascii=False)
    body = json.dumps({"model": model, "temperature": 0.2, "messages": [
        {"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]}).encode()
    base = endpoint.rstrip("/")
    url = base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - user-given endpoint
            answer = json.loads(resp.read().decode())
        content = answer["choices"][0]["message"]["content"].strip()
    except (urllib.error.URLError, TimeoutError, KeyError, IndexError, ValueError) as exc:
        raise RuntimeError(f"the LLM endpoint {url} gave no usable answer ({exc})") from None
    if not content:
        raise RuntimeError(f"the LLM endpoint {url} returned an empty explanation")
    return content
