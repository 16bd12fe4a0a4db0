"""Server-rendered bar charts: geometry computed here, drawn as SVG by templates/insight/_charts.html.

The chart is decoration for sighted readers; the table next to each chart is the
accessible source of the numbers, so the SVG carries only a title and a summary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

# Each bar has its label above it, so the chart is narrow enough to be drawn at its own size on a phone
# (its text, 14 units high, then stays at least 12 px; see .insight-svg in residency.css).
LABEL_WIDTH = 0
BAR_AREA = 260
ROW_HEIGHT = 44
BAR_HEIGHT = 16
LABEL_HEIGHT = 18
PADDING = 8


@dataclass
class Bar:
    label: str
    text: str
    y: int
    width: int
    mark: int | None = None  # x of a capacity marker, if any
    over: bool = False


@dataclass
class BarChart:
    id: str
    title: str
    desc: str
    bars: list[Bar] = field(default_factory=list)

    @property
    def height(self) -> int:
        return PADDING * 2 + ROW_HEIGHT * max(1, len(self.bars))

    @property
    def width(self) -> int:
        return BAR_AREA + 140

    label_width = LABEL_WIDTH
    bar_height = BAR_HEIGHT
    bar_x = 0
    label_height = LABEL_HEIGHT


def _scaled(value, scale) -> int:
    """Pixels for ``value`` on an axis whose end is ``scale``; exact arithmetic for Decimals."""
    if not scale or not value:
        return 0
    return int(Decimal(value) * BAR_AREA / Decimal(scale))


def bar_chart(id: str, title, desc, rows, marks=None) -> BarChart:
    """``rows`` are (label, value, text); ``marks`` (optional) a capacity per row drawn as a tick."""
    rows = list(rows)
    marks = list(marks) if marks is not None else [None] * len(rows)
    scale = max([0] + [v or 0 for _, v, _ in rows] + [m or 0 for m in marks])
    chart = BarChart(id=id, title=str(title), desc=str(desc))
    for i, ((label, value, text), mark) in enumerate(zip(rows, marks)):
        chart.bars.append(Bar(
            label=str(label), text=str(text), y=PADDING + LABEL_HEIGHT + i * ROW_HEIGHT, width=_scaled(value, scale),
            mark=None if mark is None else _scaled(mark, scale),
            over=mark is not None and (value or 0) > mark,
        ))
    return chart
