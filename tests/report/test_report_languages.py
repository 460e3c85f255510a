"""The report names the spoken language and marks quoted words so that any script shows as written:
``dir="auto"`` (Arabic and Hebrew right to left), ``lang`` (Chinese and Japanese fonts), text escaped."""

from __future__ import annotations

import re

from emoreason.report.html import render_html
from emoreason.result import Result

from .conftest import clip_result_dict

ARABIC = "أنا غاضب جدا منك <b>حقا</b>"
CHINESE = "我对你很生气，你从来不听我说话。"


def _result(language: str | None, probability: float | None, words: str) -> Result:
    d = clip_result_dict()
    d["segments"][1]["text"] = words
    d["transcript"] = words
    d["evidence"][-1]["description"] = f"says '{words}'"
    d["explanation"] = f"Words, said in X: '{words}'."
    d.update(language=language, language_probability=probability)
    return Result.from_dict(d)


def test_arabic_words_are_marked_right_to_left_capable_and_escaped():
    page = render_html(_result("ar", 0.93, ARABIC))
    assert "Arabic (p 0.93)" in page  # the header
    assert "Language: <b>Arabic</b>, identified from the speech (p 0.93)." in page
    assert '<div class="transcript" dir="auto" lang="ar">' in page
    assert '<bdi dir="auto" lang="ar">أنا غاضب جدا منك &lt;b&gt;حقا&lt;/b&gt;</bdi>' in page
    assert "<b>حقا</b>" not in page  # the words' markup is text, never markup
    assert '<div class="desc" dir="auto">says \'<bdi>أنا غاضب جدا منك &lt;b&gt;' in page
    assert '<p class="explanation" dir="auto">' in page


def test_chinese_words_keep_their_script_and_a_given_language_says_so():
    page = render_html(_result("zh", None, CHINESE))
    assert CHINESE in page and 'lang="zh"' in page
    assert "Chinese (given)" in page and "Language: <b>Chinese</b>, given by the caller." in page
    assert "<bdi>" not in page.split('class="explanation"')[1].split("</p>")[0]  # left to right: no isolate
    assert re.search(r"font:[^}]*Noto Sans CJK SC", page)  # a CJK fallback in the font stack


def test_no_language_no_language_line():
    page = render_html(_result(None, None, "We actually won."))
    body = page.split("<body>", 1)[1]
    assert "Language:" not in body and 'dir="auto">We actually won.' in body and " lang=" not in body


def test_isolate_quotes_wraps_right_to_left_quotations_only():
    from emoreason.report.languages import isolate_quotes

    got = isolate_quotes("I can't say 'أنا غاضب' (2.0–4.0 s) & 'hello'")
    assert got == "I can&#x27;t say '<bdi>أنا غاضب</bdi>' (2.0–4.0 s) &amp; &#x27;hello&#x27;"
