"""Charts for the outcomes report, drawn with matplotlib as SVG (text kept as text).

matplotlib: the maintained standard for static charts in Python, drawing without a display (the Agg
and SVG backends) and with no browser or JavaScript, so the same SVG goes into the HTML page and,
through WeasyPrint, into the PDF; its text stays text, so the PDF's labels can be read and searched.
Plotly or Bokeh would need a browser (or kaleido) to make a static image.

Figures arrive already suppressed: a withheld value (``None``) is drawn as no bar / a gap and
labelled "withheld", never as zero.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "truancy-sync", "font.size": 9})
COLOURS = ("#1f5fa8", "#c0392b", "#2e8540", "#8e5ea2", "#e67e22", "#566573")
MARKERS = ("o", "s", "^", "D", "v", "P")
WITHHELD = "withheld"


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def rate_bars(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float | None]]) -> str:
    """Grouped bars of rates (0-1) per label, one colour per series; withheld values are marked."""
    figure, axes = plt.subplots(figsize=(7, 2.8))
    width = 0.8 / max(len(series), 1)
    for index, (name, values) in enumerate(series.items()):
        positions = [i + index * width for i in range(len(labels))]
        shown = [v * 100 if v is not None else 0 for v in values]
        bars = axes.bar(positions, shown, width, label=name, color=COLOURS[index % len(COLOURS)])
        for bar, value in zip(bars, values, strict=True):
            if value is None:
                axes.text(
                    bar.get_x() + width / 2, 1, WITHHELD, rotation=90, ha="center", va="bottom", fontsize=7
                )
    axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(labels))], labels)
    axes.set_ylabel("% of students")
    axes.set_title(title)
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def month_lines(
    title: str, months: Sequence[str], series: Mapping[str, Sequence[float | None]], *, percent: bool
) -> str:
    """One line per series over the months; a withheld month is a gap in the line."""
    figure, axes = plt.subplots(figsize=(7, 2.8))
    for index, (name, values) in enumerate(series.items()):
        shown = [(v * 100 if percent else v) if v is not None else float("nan") for v in values]
        marker = MARKERS[index % len(MARKERS)]
        axes.plot(months, shown, marker=marker, label=name, color=COLOURS[index % len(COLOURS)])
    axes.set_ylabel("% of students" if percent else "cases")
    axes.set_title(title)
    axes.tick_params(axis="x", labelrotation=45)
    axes.legend(frameon=False, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def before_after(title: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """Change in attendance rate after each kind of intervention, with its 95% confidence interval."""
    measured = [r for r in rows if r.get("change") is not None]
    figure, axes = plt.subplots(figsize=(7, 2.6))
    if not measured:
        axes.text(0.5, 0.5, "No intervention with 10 or more students measured yet", ha="center", va="center")
        axes.set_axis_off()
        return _svg(figure)
    labels = [str(r["kind"]) for r in measured]
    changes = [r["change"] * 100 for r in measured]
    errors = [
        [(r["change"] - r["ci_low"]) * 100 for r in measured],
        [(r["ci_high"] - r["change"]) * 100 for r in measured],
    ]
    axes.bar(labels, changes, yerr=errors, capsize=4, color=COLOURS[0])
    axes.axhline(0, color="#333", linewidth=0.8)
    axes.set_ylabel("change, percentage points")
    axes.set_title(title)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)
