"""The optional LLM explanation, against a fake OpenAI-compatible server on 127.0.0.1."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

import emoreason
from emoreason.errors import ModelError


@pytest.fixture()
def fake_llm():
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append((self.path, body))
            reply = {"choices": [{"message": {"content": "The words are warm and joyful, so: happy."}}]}
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1", seen
    server.shutdown()


def test_llm_writes_the_explanation_from_the_evidence(fake_llm):
    url, seen = fake_llm
    r = emoreason.analyze(text="What a wonderful day, I love it!", explain_endpoint=url, explain_model="m")
    assert r.explanation == "The words are warm and joyful, so: happy."
    path, body = seen[0]
    assert path == "/v1/chat/completions" and body["model"] == "m"
    sent = json.loads(body["messages"][1]["content"])
    assert sent["emotion"] == r.label and sent["cues"]  # the evidence travels, not the media


def test_unreachable_llm_is_reported_and_the_template_kept():
    r = emoreason.analyze(text="What a wonderful day, I love it!", explain_endpoint="http://127.0.0.1:9/v1")
    assert r.explanation.startswith("Words:")
    assert any("LLM explanation not used" in n for n in r.notes)


def test_asr_model_must_be_a_local_model_folder(tmp_path, speech_clip):
    with pytest.raises(ModelError, match="not a CTranslate2 Whisper model"):
        emoreason.analyze(speech_clip, modalities="text", asr_model=tmp_path)
