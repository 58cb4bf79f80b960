"""Charts drawn on the server as SVG (no chart library, no script): bars and lines with
their axis, gridlines, values and a legend. Every label is escaped. A chart is a picture
of a table that the page prints next to it, so the SVG carries ``role="img"`` and a
title that says where the numbers are.

Colours come from a palette with at least 3:1 contrast against white, and each series
has a different shape (bar or line with markers), so the chart also reads in grey.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f")
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 56


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = step * magnitude
        if top >= value:
            return float(top)
    return float(10 * magnitude)


def _number(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def _frame(title: str, max_value: float, unit: str, parts: list[str]) -> SafeString:
    plot_h = HEIGHT - TOP - BOTTOM
    grid = []
    for i in range(5):
        value = max_value * i / 4
        y = TOP + plot_h - plot_h * i / 4
        grid.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                    f'stroke="#d8dde6" stroke-width="1"/>'
                    f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                    f'fill="#374151">{escape(_number(value))}{escape(unit)}</text>')
    svg = (f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-label="{escape(title)} (the numbers are in the table below)" '
           f'xmlns="http://www.w3.org/2000/svg" width="100%" preserveAspectRatio="xMidYMid meet">'
           f'<title>{escape(title)}</title>{"".join(grid)}{"".join(parts)}</svg>')
    return mark_safe(svg)  # noqa: S308  every text above is escaped


def _legend(names: Sequence[str], kinds: Sequence[str]) -> list[str]:
    out, x = [], LEFT
    y = HEIGHT - 14
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        if kinds[i] == "bar":
            out.append(f'<rect x="{x}" y="{y - 9}" width="12" height="10" fill="{colour}"/>')
        else:
            out.append(f'<line x1="{x}" x2="{x + 14}" y1="{y - 4}" y2="{y - 4}" '
                       f'stroke="{colour}" stroke-width="2.5"/>'
                       f'<circle cx="{x + 7}" cy="{y - 4}" r="3" fill="{colour}"/>')
        out.append(f'<text x="{x + 18}" y="{y}" font-size="12" fill="#111827">'
                   f'{escape(name)}</text>')
        x += 30 + 7 * len(name)
    return out


def _x_labels(labels: Sequence[str], positions: list[float]) -> list[str]:
    every = max(1, -(-len(labels) // 8))  # at most eight labels under the axis
    return [f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'font-size="11" fill="#374151">{escape(label)}</text>'
            for i, (label, x) in enumerate(zip(labels, positions, strict=True))
            if i % every == 0]


def bar_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence]],
              *, unit: str = "", stacked: bool = False, max_value: float | None = None
              ) -> SafeString:
    """Bars per label, one per series side by side, or ``stacked``."""
    values = [[float(v or 0) for v in vals] for _, vals in series]
    n = max(len(labels), 1)
    if stacked:
        peak = max((sum(col) for col in zip(*values, strict=True)), default=0)
    else:
        peak = max((max(v, default=0) for v in values), default=0)
    top = max_value or _nice_max(peak)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / n
    group_w = slot * 0.7
    bar_w = group_w if stacked else group_w / max(len(series), 1)
    parts, centres = [], []
    for i in range(len(labels)):
        x0 = LEFT + slot * i + (slot - group_w) / 2
        centres.append(LEFT + slot * i + slot / 2)
        base = 0.0
        for s, vals in enumerate(values):
            v = vals[i] if i < len(vals) else 0.0
            h = plot_h * v / top if top else 0
            x = x0 if stacked else x0 + bar_w * s
            y = TOP + plot_h - h - (plot_h * base / top if stacked else 0)
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" '
                         f'height="{max(h, 0):.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                         f'<title>{escape(labels[i])}, {escape(series[s][0])}: '
                         f'{escape(_number(v))}{escape(unit)}</title></rect>')
            if stacked:
                base += v
    parts += _x_labels(labels, centres)
    parts += _legend([name for name, _ in series], ["bar"] * len(series))
    return _frame(title, top, unit, parts)


def line_chart(title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence]],
               *, unit: str = "", max_value: float | None = None) -> SafeString:
    """One line per series; a missing value (None) breaks the line."""
    peak = max((float(v) for _, vals in series for v in vals if v is not None), default=0)
    top = max_value or _nice_max(peak)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(labels)
    xs = [LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2) for i in range(n)]
    parts = []
    for s, (name, vals) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        segment: list[str] = []
        segments = []
        for i, v in enumerate(vals):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            y = TOP + plot_h - plot_h * float(v) / top
            segment.append(f"{xs[i]:.1f},{y:.1f}")
            parts.append(f'<circle cx="{xs[i]:.1f}" cy="{y:.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(labels[i])}, {escape(name)}: '
                         f'{escape(_number(float(v)))}{escape(unit)}</title></circle>')
        if segment:
            segments.append(segment)
        for seg in segments:
            parts.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" '
                         f'stroke-width="2.5"/>')
    parts += _x_labels(labels, xs)
    parts += _legend([name for name, _ in series], ["line"] * len(series))
    return _frame(title, top, unit, parts)

