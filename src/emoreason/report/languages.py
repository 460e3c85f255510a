"""The spoken language on the report: its name and probability, and the markup that lets quoted words
in any script show as they are written (``dir="auto"``, ``lang``)."""

from __future__ import annotations

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
    how = "identified from the speech" if result.language_probability is not None else "as given"
    return f'<p class="note">Language: <b>{escape(language_fact(result))}</b>, {how}.</p>'
