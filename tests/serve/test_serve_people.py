"""The server's people and speakers options: parsed from JSON or form fields, checked, passed on."""

import pytest

from emoreason.errors import ConfigError
from emoreason.serve.limits import Limits
from emoreason.serve.options import parse_options


@pytest.mark.parametrize("fields, expected", [
    ({"people": True}, {"people": True, "speakers": None}),
    ({"people": "yes"}, {"people": True, "speakers": None}),
    ({"people": "true", "speakers": "3"}, {"people": True, "speakers": 3}),
    ({"speakers": 2}, {"people": True, "speakers": 2}),  # speakers implies people
    ({"people": "false"}, {}),
    ({"people": False, "speakers": ""}, {}),
])
def test_people_options(fields, expected):
    got = parse_options(fields, Limits())
    got.pop("format")
    assert got == expected


@pytest.mark.parametrize("fields, message", [
    ({"people": "maybe"}, "people must be true or false"),
    ({"people": 2}, "people must be true or false"),
    ({"speakers": "two"}, "speakers must be a whole number"),
    ({"speakers": "0"}, "speakers must be between 1 and 20"),
    ({"people": True, "speakers": 2.5}, "speakers must be a whole number"),
])
def test_bad_people_options(fields, message):
    with pytest.raises(ConfigError, match=message):
        parse_options(fields, Limits())


def test_upload_with_people_reaches_the_analysis_and_the_report(serve, fake, wav):
    import httpx

    from emoreason.result import Person, Result
    from emoreason.serve.app import create_app

    def with_people(source=None, **kw):
        r: Result = fake(source, **kw)
        if kw.get("people"):
            r.people = [Person("P1", voice=0, speaking_seconds=1.0, label="angry", scores={"angry": 1.0})]
        return r

    with serve(create_app(with_people)) as url, httpx.Client(base_url=url, timeout=10) as c:
        r = c.post("/v1/analyze", files={"file": ("tone.wav", wav, "audio/wav")},
                   data={"people": "true", "speakers": "2"})
        assert r.status_code == 200, r.text
        assert [p["person_id"] for p in r.json()["people"]] == ["P1"]
        html = c.post("/v1/analyze", files={"file": ("tone.wav", wav, "audio/wav")},
                      data={"people": "true", "format": "html"})
        assert html.status_code == 200 and "People (1)" in html.text
        bad = c.post("/v1/analyze", files={"file": ("tone.wav", wav, "audio/wav")}, data={"speakers": "0"})
        assert bad.status_code == 400 and "speakers must be between 1 and 20" in bad.text
    assert fake.calls[0]["people"] is True and fake.calls[0]["speakers"] == 2
    assert "people" in fake.calls[1] and fake.calls[1]["speakers"] is None
