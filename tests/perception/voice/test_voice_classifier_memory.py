"""The voice classifier on a long recording: the same probabilities as the plain formula (every view
transformed at once), with one transformed view in memory at a time."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from emoreason.labels import CANONICAL
from emoreason.perception.voice.classifier import VoiceClassifier, logistic_proba, zscore


def _views(classifier: VoiceClassifier, n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    mean, std = classifier.tensors["population.feature_mean"], classifier.tensors["population.feature_std"]
    return [mean + std * rng.standard_normal((n, classifier.dim)) for _ in range(3)]


def _plain(classifier: VoiceClassifier, variant: str, views: list[np.ndarray]) -> np.ndarray:
    """The classifier's probabilities as the formula reads, every view transformed up front."""
    params = {k.split(".", 1)[1]: v for k, v in classifier.tensors.items() if k.startswith(variant + ".")}
    filled = [np.where(np.isnan(x), classifier.tensors["population.feature_mean"], x) for x in views]
    inputs = {"population": filled, "speaker": [zscore(x) for x in filled],
              "recording": [np.hstack([x, zscore(x)]) for x in filled]}[variant]
    p = np.mean([logistic_proba(params, x) for x in inputs], axis=0)
    canon = np.zeros((len(p), len(CANONICAL)))
    for j, cls in enumerate(classifier.config.classes):
        canon[:, CANONICAL.index(classifier.config.to_canonical[cls])] += p[:, j]
    return canon


@pytest.mark.parametrize(("mode", "n", "variant"), [("never", 2, "population"), ("never", 40, "recording"),
                                                      ("always", 40, "speaker")])
def test_the_same_probabilities_as_the_plain_formula(mode, n, variant):
    classifier = VoiceClassifier(speaker_normalisation=mode)
    views = _views(classifier, n)
    views[0][1, 5] = np.nan  # an unmeasured value is filled with the training mean
    probs, used, _ = classifier.predict_with_gate(views)
    assert used == variant
    np.testing.assert_array_equal(probs, _plain(classifier, variant, views))


def test_one_transformed_view_at_a_time():
    """On 400 segments (about 15 minutes of speech) the recording classifier's extra memory stays near what
    one view with its z-scores takes, not three views' worth."""
    classifier = VoiceClassifier(speaker_normalisation="never")
    views = _views(classifier, 400)
    one_view = views[0].nbytes
    tracemalloc.start()
    try:
        probs, variant, _ = classifier.predict_with_gate(views)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert variant == "recording" and probs.shape == (400, len(CANONICAL))
    assert peak < 6.5 * one_view, f"peak {peak / one_view:.1f} views"
