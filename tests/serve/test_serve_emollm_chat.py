"""The chat endpoint with a real (tiny, random) emoreason multimodal LLM checkpoint, streamed over HTTP."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from emoreason.emollm.checkpoint import core_model, save_trained  # noqa: E402
from emoreason.emollm.tiny import build_tiny_model  # noqa: E402
from emoreason.serve.app import create_app  # noqa: E402
from emoreason.serve.chat import ChatTurn, MediaItem  # noqa: E402
from emoreason.serve.emollm_chat import EmoLLMChat  # noqa: E402


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A tiny random EmoLLM with encoders, built by emoreason.emollm.tiny and saved as a checkpoint."""
    model, processor = build_tiny_model(with_encoders=True)
    out = tmp_path_factory.mktemp("emollm") / "tiny-emollm"
    save_trained(out, model, processor, save_base=False)
    return out


def test_emollm_chat_streams_what_greedy_generation_gives(tiny_checkpoint, tmp_path, wav):
    chat = EmoLLMChat(tiny_checkpoint)
    assert chat.model_id == "tiny-emollm"
    clip = tmp_path / "tone.wav"
    clip.write_bytes(wav)
    turns = [ChatTurn("user", "[emotion] Please determine the emotion.", [MediaItem("audio", clip)])]
    pieces = list(chat.stream_chat(turns, max_tokens=12, temperature=0.0))
    ids, feats = chat.prompt(turns)
    assert "audio" in feats  # the clip's audio reached the model
    core = core_model(chat.model)
    with torch.no_grad():
        new = core.generate(torch.tensor([ids]), features=feats, max_new_tokens=12, do_sample=False,
                            eos_token_id=chat.processor.tokenizer.eos_token_id,
                            pad_token_id=chat.processor.tokenizer.pad_token_id,
                            suppress_tokens=list(core.config.placeholder_token_ids.values()))
    expected = chat.processor.tokenizer.decode(new[0], skip_special_tokens=True)
    assert "".join(pieces).split() == expected.split() and expected.strip()
    with pytest.raises(Exception, match="one clip"):
        list(chat.stream_chat([ChatTurn("user", "x", [MediaItem("audio", clip)] * 2)], max_tokens=4,
                              temperature=0.0))


def test_emollm_chat_over_http(tiny_checkpoint, serve, fake, wav):
    app = create_app(fake, chat_model=EmoLLMChat(tiny_checkpoint))
    audio = base64.b64encode(wav).decode()
    body = {"model": "tiny-emollm", "max_tokens": 8, "messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": audio, "format": "wav"}},
        {"type": "text", "text": "[reason] What is the tone of voice?"}]}]}
    with serve(app) as url, httpx.Client(base_url=url, timeout=60) as c:
        full = c.post("/v1/chat/completions", json=body)
        assert full.status_code == 200, full.text
        text = full.json()["choices"][0]["message"]["content"]
        with c.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as r:
            events = [line[6:] for line in r.iter_lines() if line.startswith("data: ")]
        assert events[-1] == "[DONE]"
        streamed = "".join(json.loads(e)["choices"][0]["delta"].get("content", "") for e in events[:-1])
        assert streamed == text and text.strip()
        bad = c.post("/v1/chat/completions", json={**body, "messages": [{"role": "system", "content": "hi"},
                                                                          *body["messages"]]})
        assert bad.status_code == 400 and "one user message" in bad.json()["error"]["message"]


def test_emollm_chat_with_the_compact_model_reads_the_face_stage(tmp_path):
    """The compact model's face token is computed by emoreason's face stage (not an HF encoder): the chat
    must compute it too, and ask [emotion] with the model's own label words."""
    from emoreason.emollm.checkpoint import compact_dir
    if not (compact_dir() / "config.json").is_file():
        pytest.skip(f"the compact model is not shipped ({compact_dir()} is absent)")
    from PIL import Image
    from skimage import data

    photo = tmp_path / "face.png"
    Image.fromarray(data.astronaut()).save(photo)
    chat = EmoLLMChat("compact")
    ids, feats = chat.prompt([ChatTurn("user", "[emotion]", [MediaItem("image", photo)])])
    assert list(feats) == ["face"]
    prompt = chat.processor.tokenizer.decode(ids)
    assert "neutral, happy, sad, angry, fearful, disgusted, surprised" in prompt
