"""The optional LLM explanation, against a fake OpenAI-compatible server on 127.0.0.1."""

import json

import pytest

import emoreason
from emoreason.errors import ModelError


def test_llm_writes_the_explanation_from_the_evidence(fake_openai):
    url, seen = fake_openai(lambda body: "The words are warm and joyful, so: happy.")
    r = emoreason.analyze(text="What a wonderful day, I love it!", explain_endpoint=url + "/v1",
                          explain_model="m")
    assert r.explanation == "The words are warm and joyful, so: happy."
    assert r.provenance["explanation"] == f"LLM m at {url}/v1"
    assert seen[0]["path"] == "/v1/chat/completions" and seen[0]["body"]["model"] == "m"
    sent = json.loads(seen[0]["body"]["messages"][1]["content"])
    assert sent["emotion"] == r.label and sent["cues"]  # the evidence travels, not the media
    emoreason.analyze(text="What a wonderful day!", explain_endpoint=url + "/", explain_model="m")
    assert seen[1]["path"] == "/v1/chat/completions"  # a server root gets the /v1 API path


def test_unreachable_llm_is_reported_and_the_template_kept():
    r = emoreason.analyze(text="What a wonderful day, I love it!", explain_endpoint="http://127.0.0.1:9/v1")
    assert r.explanation.startswith("Words:")
    assert any("LLM explanation not used" in n for n in r.notes)


def test_asr_model_must_be_a_local_model_folder(tmp_path, speech_clip):
    with pytest.raises(ModelError, match="not a CTranslate2 Whisper model"):
        emoreason.analyze(speech_clip, modalities="text", asr_model=tmp_path)
