"""Contradiction flags and the OpenAI-compatible client, against a fake server on 127.0.0.1."""

from __future__ import annotations

import base64

import pytest

from emoreason.dataset_builder.reasoning import (
    MERR_SYSTEM_PROMPT,
    ChatEndpoint,
    ReasoningError,
    check_consistency,
    merr_question,
    offline_reasoning,
)
from emoreason.errors import ConfigError


@pytest.mark.parametrize("text, label, contradicts", [
    ("The lip corners rise and the voice is bright, so the person is happy.", "happy", False),
    ("She smiles, yet her words are sharp; she is not happy but annoyed.", "happy", True),
    ("The frown and raised voice show anger.", "happy", True),
    ("At first he seems surprised, but the falling voice shows he is sad.", "surprised", True),
    ("Wide eyes and a dropped jaw: the person feels fear, then astonishment.", "surprised", False),
    ("The lips part and the eyes widen at 1.2 s.", "neutral", False),
    ("Nothing here is angry; the calm voice and relaxed face point to a neutral state.", "neutral", False),
    ("She is not only happy but proud of the prize.", "happy", False),
    ("He looks sad rather than happy.", "happy", True),
])
def test_check_consistency(text, label, contradicts):
    assert check_consistency(text, label).contradicts is contradicts


def test_offline_reasoning_closes_only_with_the_models_own_label():
    assert offline_reasoning("Smile at 1 s. Overall: happy.", "happy", "happy").endswith("feels happy.")
    text = offline_reasoning("Frown at 1 s. Overall: sad.", "happy", "sad")
    assert text == "Frown at 1 s. Overall: sad." and check_consistency(text, "happy").contradicts
    assert offline_reasoning("", "happy", "happy") == ""


def test_chat_sends_merr_prompt_deterministically(fake_llm):
    server = fake_llm(lambda body: (200, "  The smile shows joy, so the person is happy.  "))
    ep = ChatEndpoint(server.url, "tiny-llm", seed=7, api_key="k")
    answer = ep.chat(merr_question("This person in the video is on camera.", "happy"))
    assert answer == "The smile shows joy, so the person is happy."
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions"
    body = req["body"]
    assert body["model"] == "tiny-llm" and body["temperature"] == 0 and body["seed"] == 7
    assert body["messages"][0] == {"role": "system", "content": MERR_SYSTEM_PROMPT}
    assert body["messages"][1]["content"].startswith("This person in the video is on camera.")
    assert body["messages"][1]["content"].endswith("infer why the person in the video feels happy.")


def test_chat_retries_server_errors_then_fails_clearly(fake_llm):
    calls = []

    def flaky(body):
        calls.append(1)
        return (500, "") if len(calls) < 2 else (200, "ok")

    server = fake_llm(flaky)
    assert ChatEndpoint(server.url, "m", retries=2).chat([{"role": "user", "content": "hi"}]) == "ok"
    bad = fake_llm(lambda body: (400, "nope"))
    with pytest.raises(ReasoningError, match="HTTP 400"):
        ChatEndpoint(bad.url, "m", retries=2).chat([{"role": "user", "content": "hi"}])
    assert len(bad.requests) == 1  # a client error is not retried
    empty = fake_llm(lambda body: (200, "   "))
    with pytest.raises(ReasoningError, match="empty"):
        ChatEndpoint(empty.url, "m", retries=0).chat([{"role": "user", "content": "hi"}])


def test_unreachable_endpoint_and_bad_urls():
    with pytest.raises(ReasoningError, match="no usable answer"):
        endpoint = ChatEndpoint("http://127.0.0.1:9/v1", "m", retries=0, timeout=2)
        endpoint.chat([{"role": "user", "content": "x"}])
    for url in ("ftp://127.0.0.1/v1", "127.0.0.1:8080", "file:///etc/passwd"):
        with pytest.raises(ConfigError):
            ChatEndpoint(url, "m")


def test_describe_image_sends_a_jpeg_data_url(fake_llm):
    server = fake_llm(lambda body: (200, "A person in a grey room."))
    assert ChatEndpoint(server.url, "vlm").describe_image(b"\xff\xd8jpegbytes") == "A person in a grey room."
    content = server.requests[0]["body"]["messages"][0]["content"]
    url = content[1]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == b"\xff\xd8jpegbytes"
