"""Figures for the report, drawn with matplotlib from record data and embedded in the HTML as PNG.

Only formatting: the numbers come from the records (scalars.jsonl) the runner wrote.
"""
from __future__ import annotations

import base64
import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MIN_RELATIVE_SPAN = 0.05  # a near-constant series keeps this much vertical room around its level


def _y_limits(values: list[float]) -> tuple[float, float]:
    """At least 5% of the series' magnitude as span, so a flat line stays flat instead of noise
    blown up to full height."""
    lo, hi = min(values), max(values)
    level = max(abs(lo), abs(hi), 1e-12)
    pad = max(hi - lo, MIN_RELATIVE_SPAN * level) * 0.55
    mid = (lo + hi) / 2
    return mid - pad, mid + pad


def _data_url(fig) -> str:
    """The figure as a PNG data: URL for an <img>, and the figure closed."""
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def curves_png(series: dict[str, dict[str, list[tuple[float, float]]]], title: str, x_label: str = "iteration") -> str:
    """One small panel per scalar, one line per seed: {scalar: {seed label: [(x, value)]}}.
    Returns a data: URL for an <img>."""
    names = sorted(series)
    cols = min(4, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.3 * rows), squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    for ax, name in zip(axes.flat, names):
        every = []
        for seed, points in sorted(series[name].items()):
            xs, ys = zip(*points)
            ax.plot(xs, ys, linewidth=1.1, marker="o" if len(xs) < 10 else None, markersize=3, label=seed)
            every += ys
        ax.set_ylim(*_y_limits(every))
        ax.set_title(name, fontsize=9)
        ax.set_xlabel(x_label, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    if any(len(s) > 1 for s in series.values()):
        axes.flat[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return _data_url(fig)


def tradeoff_png(points: list[dict], x_label: str, y_label: str, title: str) -> str:
    """One point per row with its 95% interval on both axes: {"label", "x", "y", "x_ci", "y_ci", "paper"}, where
    paper rows (drawn hollow) are the paper's own numbers for the same row. Returns a data: URL."""
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    for i, p in enumerate(points):
        colour = f"C{i % 10}"
        ax.errorbar(p["x"], p["y"], xerr=p.get("x_ci") or 0, yerr=p.get("y_ci") or 0, fmt="o", color=colour,
                    capsize=3, label=p["label"])
        if p.get("paper"):
            px, py = p["paper"]
            ax.plot(px, py, "o", mfc="none", color=colour)
            ax.annotate("paper", (px, py), fontsize=6, color=colour, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel(x_label, fontsize=8)
    ax.set_ylabel(y_label, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=9)
    return _data_url(fig)


def image_grid_png(grid) -> str:
    """(rows, columns, 784) binary pixels, tiled as 28 x 28 images with a 2-pixel gap. Returns a data: URL."""
    import numpy as np
    grid = np.asarray(grid, dtype=np.float32).reshape(grid.shape[0], grid.shape[1], 28, 28)
    rows, cols = grid.shape[:2]
    canvas = np.full((rows * 30 + 2, cols * 30 + 2), 0.5, dtype=np.float32)
    for r in range(rows):
        for c in range(cols):
            canvas[2 + 30 * r: 30 + 30 * r, 2 + 30 * c: 30 + 30 * c] = grid[r, c]
    fig, ax = plt.subplots(figsize=(cols * 0.42, rows * 0.42))
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")
    return _data_url(fig)
