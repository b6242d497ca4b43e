"""Charts drawn on the server as SVG (no script, no chart library): horizontal stacked bars.

Each chart is an ``<svg role="img">`` with a title and a description that says in words what it
shows, every bar segment carries its own ``<title>`` (shown on hover, read by screen readers),
and the pages put the same numbers in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

ROW = 24  # px per bar
LABEL = 150  # px for the labels on the left
BAR = 460  # px for the longest bar
NUMBER = 190  # px for the total on the right ("30,000.00 / 100,000.00")
WIDTH = LABEL + BAR + NUMBER


@dataclass(frozen=True)
class Segment:
    """A part of a bar: its legend key, its label, its value and its colour."""

    key: str
    label: str
    value: float
    colour: str


@dataclass(frozen=True)
class Bar:
    label: str
    segments: Sequence[Segment]
    total_text: str = ""  # the number written after the bar (defaults to the sum)

    @property
    def total(self) -> float:
        return sum(s.value for s in self.segments)


def stacked_bars(chart_id: str, title: str, description: str, bars: Sequence[Bar]) -> Markup:
    """An SVG of one stacked bar per item, scaled to the largest, with a legend below."""
    top = max((b.total for b in bars), default=0.0) or 1.0
    legend: dict[str, Segment] = {}
    parts: list[str] = []
    for row, bar in enumerate(bars):
        y = row * ROW
        parts.append(
            f'<text x="{LABEL - 6}" y="{y + 16}" text-anchor="end" font-size="12">{escape(bar.label)}</text>'
        )
        x = float(LABEL)
        for s in bar.segments:
            legend.setdefault(s.key, s)
            if s.value <= 0:
                continue
            width = BAR * s.value / top
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{width:.1f}" height="{ROW - 8}" fill="{s.colour}">'
                f"<title>{escape(bar.label)} · {escape(s.label)}：{s.value:g}</title></rect>"
            )
            x += width
        number = bar.total_text or f"{bar.total:g}"
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 16}" font-size="12">{escape(number)}</text>')
    y = len(bars) * ROW + 8
    x = float(LABEL)
    for s in legend.values():
        step = 28 + 13 * len(s.label)  # a CJK character is about 12 px wide at 12 px
        if x + step > WIDTH and x > LABEL:  # the legend wraps to the next line
            x, y = float(LABEL), y + 18
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="12" height="12" fill="{s.colour}"/>')
        parts.append(f'<text x="{x + 16:.1f}" y="{y + 11}" font-size="12">{escape(s.label)}</text>')
        x += step
    height = y + 20
    width = WIDTH
    return Markup(  # noqa: S704 - every text inside is escaped above
        f'<svg class="chart" id="{escape(chart_id)}" role="img" aria-labelledby="{escape(chart_id)}-t '
        f'{escape(chart_id)}-d" viewBox="0 0 {width} {height}" width="100%" '
        f'style="max-width:{width}px" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-d">{escape(description)}</desc>{"".join(parts)}</svg>'
    )
