"""AnalyzeOptions' people and speakers: checked once, with the messages users see."""

import numpy as np
import pytest

from emoreason.errors import ConfigError
from emoreason.pipeline.options import AnalyzeOptions


def test_people_defaults_off_and_speakers_normalised():
    o = AnalyzeOptions()
    assert o.people is False and o.speakers is None
    o = AnalyzeOptions(people=np.bool_(True), speakers=np.int64(3))
    assert o.people is True and o.speakers == 3 and type(o.speakers) is int
    assert AnalyzeOptions(people=True, speakers=2.0).speakers == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"people": True, "speakers": 0}, "speakers must be between 1 and 20"),
    ({"people": True, "speakers": 21}, "speakers must be between 1 and 20"),
    ({"people": True, "speakers": 2.5}, "speakers must be a whole number"),
    ({"people": True, "speakers": "2"}, "speakers must be a whole number"),
    ({"people": True, "speakers": True}, "speakers must be a whole number"),
    ({"speakers": 2}, "speakers .* is for people=True"),
    ({"people": "yes"}, "people must be True or False"),
    ({"people": True, "model": "runs/emollm"}, "no per-person path"),
])
def test_bad_people_options_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        AnalyzeOptions(**kwargs)
