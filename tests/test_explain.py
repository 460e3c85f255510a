from emoreason.explain import explain
from emoreason.result import Evidence


def test_explanation_cites_supporting_cues_with_times_and_dropped_modalities():
    ev = [Evidence("face", "AU12", 0.9, 1.2, 1.8, 0.4, "lip corners pull up", supports="happy"),
          Evidence("voice", "pitch", 1.5, 0.5, 2.0, 0.3, "pitch high and rising", supports="surprised"),
          Evidence("face", "AU4", 0.2, 2.5, 2.7, 0.01, "brows lower", supports="angry")]
    text = explain("happy", {"happy": 0.5, "surprised": 0.4, "neutral": 0.1}, ev, {"face": 0.6, "voice": 0.4},
                   {"text": "no speech"})
    assert "lip corners pull up (AU12, 1.2–1.8 s)" in text
    assert "surprised close behind" in text
    assert "brows lower" not in text  # a weak cue for another label is not cited
    assert "no speech" in text
