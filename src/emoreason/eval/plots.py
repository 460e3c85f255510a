"""The evaluation figures: the one confusion-matrix figure (row-normalised cells with counts, one panel
per system or model) and the per-class precision / recall / F1 bar chart.

The confusion figure is used by the evaluation report (``emoreason eval``) and by the training scripts'
model-card figures. matplotlib is imported when this module is: modules that only sometimes draw (the
report writer) import this one inside the function that draws.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from emoreason.io.atomic import atomic_path  # noqa: E402


def row_normalise(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (rows that sum to 0 stay 0)."""
    cm = np.asarray(counts, dtype=float)
    rows = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)


def draw_confusion(ax, counts: np.ndarray, labels: Sequence[str], title: str = "", *,
                   show_counts: bool = True, ylabel: str = "reference", fontsize: int = 7,
                   dark_above: float = 0.5) -> None:
    """Draw one row-normalised confusion matrix on ``ax``: each cell its share of the row and, with
    ``show_counts``, its count."""
    cm = np.asarray(counts, dtype=float)
    norm = row_normalise(cm)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            text = f"{int(cm[i, j])}\n{norm[i, j]:.2f}" if show_counts else f"{norm[i, j]:.2f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                    color="white" if norm[i, j] > dark_above else "black")
    ax.set_xticks(range(len(labels)), list(labels), rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), list(labels))
    ax.set_xlabel("predicted")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=9)


def save_confusion_figure(panels: Sequence[tuple[np.ndarray, Sequence[str], str]], path: str | Path, *,
                          suptitle: str = "", dpi: int = 110, panel_size: tuple[float, float] | None = None,
                          show_counts: bool = True, ylabel: str = "reference") -> Path:
    """One figure with a confusion panel per ``(counts, labels, title)``, written atomically to ``path``."""
    n = len(panels)
    if n == 0:
        raise ValueError("no confusion matrix to draw")
    k = max(len(p[1]) for p in panels)
    w, h = panel_size or (1.1 * k + 2, 1.0 * k + 1.5)
    fig, axes = plt.subplots(1, n, figsize=(w * n, h))
    for ax, (counts, labels, title) in zip(np.atleast_1d(axes), panels):
        draw_confusion(ax, counts, labels, title, show_counts=show_counts, ylabel=ylabel)
    if suptitle:
        fig.suptitle(suptitle)
    return _save(fig, path, dpi)


def save_per_class_figure(scores: Mapping[str, Mapping[str, float]], path: str | Path, title: str = "", *,
                          dpi: int = 110) -> Path:
    """Bars of precision, recall and F1 per class (``scores``: class -> those three and ``support``, as
    :meth:`emoreason.eval.metrics.PerClass.as_dict` gives), written atomically to ``path``."""
    classes = list(scores)
    x = np.arange(len(classes))
    fig, ax = plt.subplots(figsize=(1.0 * len(classes) + 2, 3.5))
    for k, (metric, off) in enumerate((("precision", -0.27), ("recall", 0.0), ("f1", 0.27))):
        ax.bar(x + off, [scores[c][metric] for c in classes], width=0.27, label=metric, color=f"C{k}")
    ax.set_xticks(x, [f"{c}\n(n={scores[c]['support']})" for c in classes], fontsize=8)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path, dpi)


def _save(fig, path: str | Path, dpi: int) -> Path:
    """Lay out, write atomically and close ``fig``."""
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi)
    plt.close(fig)
    return Path(path)
