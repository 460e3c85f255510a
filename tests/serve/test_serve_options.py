"""The request options the server accepts (checked through AnalyzeOptions), and whether a host is loopback."""

import pytest

from emoreason.errors import ConfigError
from emoreason.serve.errors import ApiError
from emoreason.serve.limits import Limits
from emoreason.serve.options import parse_options
from emoreason.serve.server import is_loopback


def test_only_given_options_come_back_normalised():
    assert parse_options({"text": "hi"}, Limits()) == {"text": "hi", "format": "json"}
    got = parse_options({"labels": "MER2023", "face_model": "default", "speaker_normalisation": "never",
                         "modalities": "voice, text", "fps": "2.5", "format": "HTML"}, Limits())
    assert got == {"labels": "mer2023", "face_model": None, "speaker_normalisation": "never",
                   "modalities": ["voice", "text"], "fps": 2.5, "format": "html"}
    assert parse_options({"text": "   "}, Limits())["text"] is None
    assert parse_options({"language": "German"}, Limits())["language"] == "de"


@pytest.mark.parametrize("fields, message", [
    ({"modalities": "audio"}, "subset of face, voice, text"),  # the server takes canonical names only
    ({"fps": "45"}, "at most 30"),  # below the library's 60
    ({"labels": "nope"}, "unknown label set"),
    ({"face_model": "vgg"}, "face model must be one of"),
    ({"format": "xml"}, "format must be one of json, html"),
    ({"language": "klingon"}, "unknown language 'klingon'"),
])
def test_bad_options(fields, message):
    with pytest.raises(ConfigError, match=message):
        parse_options(fields, Limits())


def test_server_side_fields_and_long_text_are_refused():
    with pytest.raises(ApiError, match="no server-side paths"):
        parse_options({"model": "/m"}, Limits())
    with pytest.raises(ApiError, match="at most 10"):
        parse_options({"text": "x" * 11}, Limits(max_text_chars=10))


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("localhost", True), ("::1", True),
    ("0.0.0.0", False), ("192.168.1.4", False), ("example.org", False),
])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback
