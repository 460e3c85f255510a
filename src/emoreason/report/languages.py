"""The spoken language on the report: its name and probability, and the markup that lets quoted words
in any script show as they are written (``dir="auto"``, ``lang``, ``<bdi>``)."""

from __future__ import annotations

import re
from html import escape

from emoreason.languages import language_name
from emoreason.result import Result


def language_fact(result: Result) -> str:
    """"German (p 0.97)" when identified, "German (given)" when the caller named it."""
    p = result.language_probability
    return f"{language_name(result.language)} " + (f"(p {p:.2f})" if p is not None else "(given)")


def lang_attrs(result: Result) -> str:
    """``dir="auto"`` (the browser sets the direction from the text: Arabic and Hebrew right to left) and,
    when the language is known, its ``lang`` (fonts and line breaking for Chinese and Japanese)."""
    lang = f' lang="{escape(result.language)}"' if result.language else ""
    return f' dir="auto"{lang}'


def language_line(result: Result) -> str:
    """A note naming the language and how it was known; empty when it is not known."""
    if result.language is None:
        return ""
    p = result.language_probability
    how = f"identified from the speech (p {p:.2f})" if p is not None else "given by the caller"
    return f'<p class="note">Language: <b>{escape(language_name(result.language))}</b>, {how}.</p>'


# a quotation ('...') holding right-to-left letters (Hebrew, Arabic and their presentation forms)
_RTL_QUOTE = re.compile(r"'([^']*?[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff][^']*?)'")


def isolate_quotes(text: str) -> str:
    """``text`` escaped for HTML, each quotation in a right-to-left script wrapped in ``<bdi>``: without
    the isolation the numbers after it ("'أنا غاضب' (2.0–4.0 s)") are drawn inside the right-to-left run,
    reversed ("4.0–2.0")."""
    out, end = [], 0
    for m in _RTL_QUOTE.finditer(text):
        out += [escape(text[end:m.start()]), "'<bdi>", escape(m.group(1)), "</bdi>'"]
        end = m.end()
    out.append(escape(text[end:]))
    return "".join(out)
