"""The languages Whisper's multilingual models know (OpenAI Whisper's 99 codes, the order of its language
tokens), their English names, and the check of a language a user asks for. A light core module (it imports
only ``errors``): the options, the explanation and the report read it."""

from __future__ import annotations

from collections.abc import Iterable

from emoreason.errors import ConfigError

#: Whisper's language codes (ISO 639-1 where one exists; "haw", "jw") -> English name.
WHISPER_LANGUAGES: dict[str, str] = {
    "en": "English", "zh": "Chinese", "de": "German", "es": "Spanish", "ru": "Russian", "ko": "Korean",
    "fr": "French", "ja": "Japanese", "pt": "Portuguese", "tr": "Turkish", "pl": "Polish", "ca": "Catalan",
    "nl": "Dutch", "ar": "Arabic", "sv": "Swedish", "it": "Italian", "id": "Indonesian", "hi": "Hindi",
    "fi": "Finnish", "vi": "Vietnamese", "he": "Hebrew", "uk": "Ukrainian", "el": "Greek", "ms": "Malay",
    "cs": "Czech", "ro": "Romanian", "da": "Danish", "hu": "Hungarian", "ta": "Tamil", "no": "Norwegian",
    "th": "Thai", "ur": "Urdu", "hr": "Croatian", "bg": "Bulgarian", "lt": "Lithuanian", "la": "Latin",
    "mi": "Maori", "ml": "Malayalam", "cy": "Welsh", "sk": "Slovak", "te": "Telugu", "fa": "Persian",
    "lv": "Latvian", "bn": "Bengali", "sr": "Serbian", "az": "Azerbaijani", "sl": "Slovenian",
    "kn": "Kannada", "et": "Estonian", "mk": "Macedonian", "br": "Breton", "eu": "Basque",
    "is": "Icelandic", "hy": "Armenian", "ne": "Nepali", "mn": "Mongolian", "bs": "Bosnian",
    "kk": "Kazakh", "sq": "Albanian", "sw": "Swahili", "gl": "Galician", "mr": "Marathi", "pa": "Punjabi",
    "si": "Sinhala", "km": "Khmer", "sn": "Shona", "yo": "Yoruba", "so": "Somali", "af": "Afrikaans",
    "oc": "Occitan", "ka": "Georgian", "be": "Belarusian", "tg": "Tajik", "sd": "Sindhi", "gu": "Gujarati",
    "am": "Amharic", "yi": "Yiddish", "lo": "Lao", "uz": "Uzbek", "fo": "Faroese", "ht": "Haitian Creole",
    "ps": "Pashto", "tk": "Turkmen", "nn": "Nynorsk", "mt": "Maltese", "sa": "Sanskrit",
    "lb": "Luxembourgish", "my": "Myanmar", "bo": "Tibetan", "tl": "Tagalog", "mg": "Malagasy",
    "as": "Assamese", "tt": "Tatar", "haw": "Hawaiian", "ln": "Lingala", "ha": "Hausa", "ba": "Bashkir",
    "jw": "Javanese", "su": "Sundanese"
}
#: Languages written without spaces between words: Whisper's words in them are joined with nothing.
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "my", "km", "bo"})
#: An identified language below this probability is reported as uncertain (transcript note, explanation).
UNSURE_BELOW = 0.5
_BY_NAME = {name.lower(): code for code, name in WHISPER_LANGUAGES.items()}


def language_name(code: str | None) -> str | None:
    """The English name of a Whisper language code ("de" -> "German"); the code itself when unknown."""
    if code is None:
        return None
    return WHISPER_LANGUAGES.get(code, code)


def join_words(words: Iterable[str], language: str | None) -> str:
    """``words`` as running text: with spaces, or without in a :data:`NO_SPACE_LANGUAGES` language
    ("我 对 你" would misquote Chinese)."""
    return ("" if language in NO_SPACE_LANGUAGES else " ").join(words)


def check_language(language: str | None) -> str | None:
    """``language`` as a Whisper code: a code ("de") or an English name ("German"), any case; None stays
    None. Anything else is a ConfigError that says where the codes are listed."""
    if language is None:
        return None
    if not isinstance(language, str):
        raise ConfigError(f"language must be a language code such as 'de', got {type(language).__name__}")
    key = language.strip().lower()
    if key in WHISPER_LANGUAGES:
        return key
    if key in _BY_NAME:
        return _BY_NAME[key]
    raise ConfigError(f"unknown language {language!r}: give one of Whisper's {len(WHISPER_LANGUAGES)} "
                      "language codes (e.g. en, de, es, fr, zh, ja, ar, ru) or its English name")
