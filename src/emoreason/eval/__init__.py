"""Evaluation: corpus adapters, metrics, a resumable parallel harness and reports (``emoreason eval``)."""

from emoreason.eval.evaluate import evaluate

__all__ = ["evaluate"]
