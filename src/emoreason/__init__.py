"""emoreason: offline multimodal emotion recognition and reasoning."""

__version__ = "0.1.0"

# After __version__: the modules below read it while they load.
from emoreason.api import analyze, analyze_clips, analyze_texts, run_perception  # noqa: E402
from emoreason.errors import EmoreasonError  # noqa: E402
from emoreason.labels import CANONICAL  # noqa: E402
from emoreason.result import Evidence, Result, Segment  # noqa: E402

__all__ = ["analyze", "analyze_clips", "analyze_texts", "run_perception", "Result", "Segment", "Evidence",
           "EmoreasonError", "CANONICAL", "__version__"]
