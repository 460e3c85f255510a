"""The LLM and VLM stages of a build, against a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

from fake_perception import FAKE_PERCEIVER

from emoreason.dataset_builder.builder import BuildOptions
from emoreason.dataset_builder.runner import build_dataset
from emoreason.dataset_builder.writers import read_jsonl, read_merr


def test_llm_reasoning_scene_and_contradiction_filter(clip_dir, tmp_path, fake_llm):
    state = {"down": True}

    def reply(body):
        if state["down"]:
            return 404, ""  # not retried (5xx would be), which keeps the test fast
        content = body["messages"][-1]["content"]
        if isinstance(content, list):  # the vision request
            return 200, "A person sitting in a grey room."
        if "feels surprised" in content:
            return 200, "The wide eyes and open mouth show fear, so the person is afraid."
        label = content.rsplit("feels ", 1)[1].rstrip(".")
        return 200, f"The clues fit together: the person feels {label}."

    server = fake_llm(reply)
    options = BuildOptions(perceiver=FAKE_PERCEIVER, reasoning="llm", llm_url=server.url, llm_model="tiny",
                           vlm_url=server.url, vlm_model="tiny-vl")
    first = build_dataset(clip_dir, tmp_path, options, progress=False)
    assert first.done == 0  # the endpoint is down: every clip fails, with the reason
    failed = read_jsonl(tmp_path / "failed.jsonl")
    assert all("no usable answer (HTTP 404)" in f["reason"] for f in failed if f["id"] == "happy_a")

    state["down"] = False
    second = build_dataset(clip_dir, tmp_path, options, progress=False)
    assert second.done == 5 and second.processed_this_run == 7
    records = {r["id"]: r for r in read_jsonl(tmp_path / "dataset.jsonl")}
    happy = records["happy_a"]
    assert happy["reasoning"] == "The clues fit together: the person feels happy."
    assert happy["reasoning_source"] == "llm:tiny" and happy["reasoning_check"]["contradicts"] is False
    assert happy["scene_description"] == "A person sitting in a grey room."
    assert happy["coarse_caption"].startswith("This person in the video is A person sitting in a grey room. ")
    assert records["surprise_b"]["reasoning_check"]["contradicts"] is True
    fine = read_merr(tmp_path / "merr" / "MERR_fine_grained.json")
    assert "surprise_b" not in fine and fine["happy_a"]["smp_reason_caption"] == happy["reasoning"]
    questions = [r["body"]["messages"][-1]["content"] for r in server.requests
                 if isinstance(r["body"]["messages"][-1]["content"], str)]
    assert any(q.startswith(happy["coarse_caption"]) for q in questions)
