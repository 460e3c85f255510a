"""emoreason: offline multimodal emotion recognition and reasoning."""

__version__ = "0.1.0"

from emoreason.api import analyze, run_perception  # noqa: E402
from emoreason.errors import EmoreasonError  # noqa: E402
from emoreason.labels import CANONICAL  # noqa: E402
from emoreason.pipeline.clips import analyze_clips  # noqa: E402
from emoreason.result import Evidence, Result, Segment  # noqa: E402

__all__ = ["analyze", "analyze_clips", "run_perception", "Result", "Segment", "Evidence", "EmoreasonError", "CANONICAL",
           "__version__"]
