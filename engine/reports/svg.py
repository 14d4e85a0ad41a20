"""Charts drawn on the server as SVG: no JavaScript on the clerks' PCs. Each chart is an <svg role="img"> with a
<title> and a <desc> (what a screen reader says), colours as presentation attributes (nothing a Content Security
Policy blocks), and every bar with its own <title> (its label and value on hover). The page shows the same numbers
in a table beside the chart; the chart is never the only place they are.

- bar_chart: vertical bars per label (a month), one bar per series side by side, with a legend.
- hbar_chart: one horizontal bar per label (a procedure, a clerk), the value written at its end.
"""
from __future__ import annotations

import html
import math
from typing import Sequence

# Distinguishable colours (Okabe-Ito), dark enough against white for the bars' edges.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FONT = 'font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif"'


def _e(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _number(value) -> str:
    if value is None:
        return "—"
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.1f}"


def nice_top(largest: float) -> float:
    """A round axis top at or above `largest` (1, 2, 2.5 or 5 times a power of ten; 1 for nothing)."""
    if largest <= 0:
        return 1
    power = 10 ** math.floor(math.log10(largest))
    for step in (1, 2, 2.5, 5, 10):
        if largest <= step * power:
            return step * power
    return 10 * power


def _open(width: int, height: int, title: str, desc: str, ident: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height}" width="100%" '
            f'preserveAspectRatio="xMinYMin meet" aria-labelledby="{ident}-t {ident}-d" class="chart" {FONT} '
            f'font-size="11">',
            f'<title id="{ident}-t">{_e(title)}</title>', f'<desc id="{ident}-d">{_e(desc)}</desc>']


def bar_chart(title: str, desc: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence]], *,
              ident: str = "chart", width: int = 640, height: int = 260) -> str:
    """Vertical bars: for each label a group with one bar per (name, values) series."""
    left, right, top, bottom = 44, 10, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    largest = max([float(v or 0) for _, values in series for v in values] or [0])
    top_value = nice_top(largest)
    out = _open(width, height, title, desc, ident)
    for i in range(5):  # the value axis: five lines
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc" '
                   f'stroke-width="1"/><text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#333">'
                   f'{_number(value)}</text>')
    n = max(len(labels), 1)
    group_w = plot_w / n
    bar_w = max(1.0, group_w * 0.8 / max(len(series), 1))
    for li, label in enumerate(labels):
        x0 = left + li * group_w + group_w * 0.1
        for si, (name, values) in enumerate(series):
            value = float(values[li] or 0) if li < len(values) else 0.0
            h = plot_h * value / top_value
            out.append(f'<rect x="{x0 + si * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                       f'height="{h:.1f}" fill="{PALETTE[si % len(PALETTE)]}"><title>{_e(label)}, {_e(name)}: '
                       f'{_number(values[li] if li < len(values) else None)}</title></rect>')
        if n <= 13 or li % math.ceil(n / 12) == 0:  # at most about a dozen labels under the axis
            out.append(f'<text x="{left + (li + 0.5) * group_w:.1f}" y="{top + plot_h + 14}" text-anchor="middle" '
                       f'fill="#333">{_e(label)}</text>')
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>')
    x = left
    for si, (name, _) in enumerate(series):  # the legend, above the plot
        out.append(f'<rect x="{x}" y="8" width="10" height="10" fill="{PALETTE[si % len(PALETTE)]}"/>'
                   f'<text x="{x + 14}" y="17" fill="#000">{_e(name)}</text>')
        x += 24 + 7 * len(str(name))
    out.append("</svg>")
    return "".join(out)


def hbar_chart(title: str, desc: str, labels: Sequence[str], values: Sequence, *, unit: str = "",
               ident: str = "chart", width: int = 640, bar: int = 18) -> str:
    """Horizontal bars, one per label, longest value to the full width; the value written after each bar."""
    label_w, right, top = 200, 70, 6
    height = top * 2 + max(len(labels), 1) * (bar + 6)
    plot_w = width - label_w - right
    top_value = nice_top(max([float(v or 0) for v in values] or [0]))
    out = _open(width, height, title, desc, ident)
    for i, (label, value) in enumerate(zip(labels, values)):
        y = top + i * (bar + 6)
        w = plot_w * float(value or 0) / top_value
        short = str(label) if len(str(label)) <= 32 else str(label)[:31] + "…"
        text = f"{_number(value)}{(' ' + unit) if unit and value is not None else ''}"
        out.append(f'<text x="{label_w - 6}" y="{y + bar * 0.7:.1f}" text-anchor="end" fill="#000">{_e(short)}</text>'
                   f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar}" fill="{PALETTE[0]}">'
                   f'<title>{_e(label)}: {_e(text)}</title></rect>'
                   f'<text x="{label_w + w + 4:.1f}" y="{y + bar * 0.7:.1f}" fill="#000">{_e(text)}</text>')
    out.append("</svg>")
    return "".join(out)
