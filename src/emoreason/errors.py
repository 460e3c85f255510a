"""Typed errors for a user's mistakes. The CLI turns each into one line and a non-zero exit."""

from __future__ import annotations


class EmoreasonError(Exception):
    """Base class: a problem with the user's input or setup, reported without a traceback."""

    exit_code = 2


class InputNotFoundError(EmoreasonError):
    """The input path does not exist."""


class EmptyInputError(EmoreasonError):
    """The input file has zero bytes or holds no usable stream."""


class UnsupportedFormatError(EmoreasonError):
    """The input could not be decoded as media (or is a format we do not read)."""


class CorruptMediaError(EmoreasonError):
    """The container opened but its streams are truncated or broken."""


class TooShortError(EmoreasonError):
    """The media is too short to analyse."""


class MediaTooLargeError(EmoreasonError):
    """The media passes a size limit: an image with too many pixels, media decoding past a duration limit."""


class MediaTooLongError(MediaTooLargeError):
    """The media's decoded time passed the duration limit set for it (whatever its header says)."""


class AnalysisCancelledError(EmoreasonError):
    """The work was cancelled by its caller (e.g. the server, when the request timed out or went away)."""


class NoUsableModalityError(EmoreasonError):
    """No modality gave anything to analyse (no face, no speech, no words)."""


class TranscriptError(EmoreasonError):
    """A transcript file could not be read (encoding, format)."""


class ConfigError(EmoreasonError):
    """An option or configuration value is invalid."""


class ModelError(EmoreasonError):
    """A model file is missing, malformed or does not match what the code expects."""


class UnparsableAnswerError(EmoreasonError):
    """A language model answered with no label from the label set."""
