"""Fine-grained reasoning for a clip: by an LLM behind an OpenAI-compatible endpoint, or offline.

The LLM route follows MERR: the system prompt Emotion-LLaMA's authors used, and a question that gives
the coarse caption and asks the model to "sort out the correct emotional clues and infer why the
person in the video feels {label}" (the question's wording is known to us from its ending and from a
public re-implementation; see docs/dataset_builder.md). The offline route uses the explanation that
``emoreason.analyze`` wrote from the observed cues.

MERR filtered out samples whose reasoning contradicted their label; :func:`check_consistency` flags
them here (kept in the JSONL with the flag, left out of the training exports by default).
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from emoreason.errors import ConfigError

MERR_SYSTEM_PROMPT = ("You are an emotion analysis expert. Please infer emotion label based on the given "
                      "the emotional features.")
MERR_QUESTION = ("{caption} Please sort out the correct emotional clues and infer why the person "
                 "in the video feels {label}.")
SCENE_PROMPT = ("Describe the person in this video frame and the scene around them in one or two sentences: "
                "who they appear to be, what they wear, their posture and gestures, and the setting. "
                "Do not guess their emotion.")

#: Words that name an emotion, per canonical label. Ambiguous words ("excited", "upset") are left out.
EMOTION_WORDS: dict[str, tuple[str, ...]] = {
    "neutral": ("neutral", "calm", "composed", "indifferent", "emotionless", "unemotional", "impassive"),
    "happy": ("happy", "happiness", "joy", "joyful", "glad", "delighted", "cheerful", "pleased", "amused",
              "elated"),
    "sad": ("sad", "sadness", "unhappy", "sorrow", "sorrowful", "grief", "depressed", "melancholy",
            "dejected", "disappointed", "disappointment"),
    "angry": ("angry", "anger", "furious", "fury", "rage", "irritated", "irritation", "annoyed", "annoyance",
              "mad", "frustrated", "frustration", "hostile", "indignant"),
    "fearful": ("fear", "fearful", "afraid", "scared", "frightened", "anxious", "anxiety", "worried", "worry",
                "nervous", "terrified", "panic", "panicked"),
    "disgusted": ("disgust", "disgusted", "revulsion", "repulsed", "revolted", "disgusting"),
    "surprised": ("surprise", "surprised", "astonished", "astonishment", "shocked", "amazed", "startled"),
}
_WORD_TO_LABEL = {w: lab for lab, words in EMOTION_WORDS.items() for w in words}
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")
_NEGATORS = {"not", "no", "never", "without", "isn't", "wasn't", "doesn't", "don't", "hardly", "nor", "lack"}
_NEGATING_PAIRS = {("rather", "than"), ("instead", "of"), ("absence", "of"), ("lack", "of")}


class ReasoningError(RuntimeError):
    """The LLM endpoint gave no usable answer (the clip is recorded as failed, and retried on a rerun)."""


@dataclass(frozen=True)
class Consistency:
    """Whether a reasoning text agrees with the label it explains."""

    contradicts: bool
    reason: str
    mentioned: tuple[str, ...]  # canonical labels named (not negated), in order of first mention


def check_consistency(text: str, label: str) -> Consistency:
    """Flag a reasoning text that argues for another emotion than ``label`` (a canonical label).

    It contradicts when it negates the label ("not happy"), when its last named emotion is another
    label, or when it names other emotions but never the label. Naming no emotion at all is not a
    contradiction (MERR-style reasoning may end on the cues).
    """
    tokens = _TOKEN.findall(text.lower())
    mentioned: list[str] = []
    last: str | None = None
    for i, tok in enumerate(tokens):
        lab = _WORD_TO_LABEL.get(tok)
        if lab is None:
            continue
        window = tokens[max(0, i - 3):i]
        negated = ((any(w in _NEGATORS for w in window) and not {"only", "just", "merely"} & set(window))
                   or any((a, b) in _NEGATING_PAIRS for a, b in zip(window, window[1:], strict=False)))
        if negated:
            if lab == label:
                return Consistency(True, f"negates the label: '... {' '.join(window)} {tok}'",
                                   tuple(mentioned))
            continue
        if lab not in mentioned:
            mentioned.append(lab)
        last = lab
    if not mentioned:
        return Consistency(False, "names no emotion", ())
    if label not in mentioned:
        return Consistency(True, f"names {', '.join(mentioned)} but never {label}", tuple(mentioned))
    if last != label:
        return Consistency(True, f"ends on {last}, not {label}", tuple(mentioned))
    return Consistency(False, "consistent", tuple(mentioned))


def merr_question(caption: str, label_word: str) -> list[dict[str, str]]:
    """The chat messages MERR's fine-grained step sends for one clip."""
    return [{"role": "system", "content": MERR_SYSTEM_PROMPT},
            {"role": "user", "content": MERR_QUESTION.format(caption=caption.strip(), label=label_word)}]


def offline_reasoning(explanation: str, label: str, model_label: str | None) -> str:
    """Reasoning from our own explanation (cues with times).

    The explanation argues for ``model_label``; it is closed with "Therefore ... feels {label}" only
    when that is the label to explain. Otherwise it is left as it is, and :func:`check_consistency`
    flags it (our models disagree with the clip's label).
    """
    text = explanation.strip()
    if not text or model_label != label:
        return text
    return f"{text} Therefore, the person in the video most likely feels {label}."


class ChatEndpoint:
    """A minimal client for an OpenAI-compatible ``/v1/chat/completions`` endpoint (stdlib only).

    ``base_url`` is e.g. ``http://127.0.0.1:8080/v1`` (llama.cpp server, vLLM, Ollama). Requests use
    temperature 0 and a fixed ``seed`` so a server that honours them answers deterministically.
    Transient failures (connection errors, HTTP 5xx, 429) are retried ``retries`` times.
    """

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 120.0,
                 retries: int = 2, seed: int = 0, max_tokens: int = 400):
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(f"LLM endpoint must be an http(s) URL, got {base_url!r}")
        base = base_url.rstrip("/")
        self.url = base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")
        self.model, self.api_key, self.timeout = model, api_key, timeout
        self.retries, self.seed, self.max_tokens = retries, seed, max_tokens

    def chat(self, messages: Sequence[Mapping[str, object]]) -> str:
        body = json.dumps({"model": self.model, "messages": list(messages), "temperature": 0,
                           "seed": self.seed, "max_tokens": self.max_tokens}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last_error = ""
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(self.url, data=body, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - user's endpoint
                    answer = json.loads(resp.read().decode("utf-8"))
                content = (answer["choices"][0]["message"]["content"] or "").strip()
                if not content:
                    raise ReasoningError(f"{self.url} returned an empty answer")
                return content
            except urllib.error.HTTPError as exc:
                last_error = f"HTTP {exc.code}"
                if exc.code < 500 and exc.code != 429:
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last_error = str(getattr(exc, "reason", exc))
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                last_error = f"malformed answer ({exc.__class__.__name__})"
                break
            if attempt < self.retries:
                time.sleep(0.5 * 2 ** attempt)
        raise ReasoningError(f"the LLM endpoint {self.url} gave no usable answer ({last_error})")

    def describe_image(self, jpeg: bytes, prompt: str = SCENE_PROMPT) -> str:
        """Ask a vision-language model about one image (OpenAI's ``image_url`` data-URL message form)."""
        url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
        return self.chat([{"role": "user", "content": [{"type": "text", "text": prompt},
                                                       {"type": "image_url", "image_url": {"url": url}}]}])
