import pytest

from emoreason.errors import ConfigError
from emoreason.labels import (
    CANONICAL,
    LABEL_MAPS,
    MER2023,
    RAVDESS,
    get_label_map,
    normalise_scores,
    valence_arousal_from_scores,
)


def test_every_map_targets_only_canonical_labels():
    for lm in LABEL_MAPS.values():
        for src, canon in lm.to_canonical.items():
            assert canon is None or canon in CANONICAL, (lm.name, src)
        for canon, target in lm.from_canonical.items():
            assert canon in CANONICAL
            assert target is None or target in lm.labels, (lm.name, canon, target)


def test_documented_special_cases():
    assert MER2023.canonical("worried") == "fearful"
    assert RAVDESS.canonical("calm") == "neutral"
    assert get_label_map("meld").canonical("joy") == "happy"
    assert get_label_map("emorynlp").canonical("peaceful") is None
    assert get_label_map("iemocap").canonical("exc") == "happy"
    with pytest.raises(KeyError):
        MER2023.canonical("boredom")


def test_convert_scores_drops_missing_classes_and_renormalises():
    scores = dict(zip(CANONICAL, [0.1, 0.2, 0.1, 0.1, 0.2, 0.2, 0.1]))
    out = MER2023.convert_scores(scores)
    assert set(out) == set(MER2023.labels)
    assert out["worried"] == pytest.approx(0.2 / 0.8)
    assert sum(out.values()) == pytest.approx(1.0)


def test_unknown_label_set_is_a_config_error():
    with pytest.raises(ConfigError):
        get_label_map("nope")


def test_valence_arousal_rule():
    v, a = valence_arousal_from_scores(normalise_scores({"happy": 1.0}))
    assert v > 0.5 and a > 0
    v, a = valence_arousal_from_scores(normalise_scores({"sad": 1.0}))
    assert v < 0 and a < 0
