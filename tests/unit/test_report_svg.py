"""engine/reports/svg.py: server-side charts are well-formed SVG images with a title, a description and a bar (with
its own title) per value, scaled to a round axis; text is escaped."""
from __future__ import annotations

from xml.etree import ElementTree

from engine.reports.svg import bar_chart, hbar_chart, nice_top

SVG = "{http://www.w3.org/2000/svg}"


def test_bar_chart_is_an_accessible_image_with_a_bar_per_value():
    svg = bar_chart("Casos <por> mes", "Presentados y resueltos", ["2026-01", "2026-02"],
                    [("Presentados", [2, 4]), ("Resueltos", [3, 0])], ident="casos")
    root = ElementTree.fromstring(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "casos-t casos-d"
    assert root.find(f"{SVG}title").text == "Casos <por> mes"
    assert root.find(f"{SVG}desc").text == "Presentados y resueltos"
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert [b.find(f"{SVG}title").text for b in bars] == [
        "2026-01, Presentados: 2", "2026-01, Resueltos: 3", "2026-02, Presentados: 4", "2026-02, Resueltos: 0"]
    heights = [float(b.get("height")) for b in bars]
    assert heights[2] == max(heights) and heights[3] == 0 and abs(heights[0] * 2 - heights[2]) < 0.2


def test_hbar_chart_writes_each_value():
    svg = hbar_chart("Mediana por trámite", "Días hábiles", ["alfa", "beta & co"], [3.5, None], unit="días")
    root = ElementTree.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["alfa", "3.5 días", "beta & co", "—"]
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[1] == 0 and widths[0] > 0


def test_empty_charts_and_round_axis():
    ElementTree.fromstring(bar_chart("t", "d", [], []))
    ElementTree.fromstring(hbar_chart("t", "d", [], []))
    assert [nice_top(v) for v in (0, 0.3, 1, 3, 7, 11, 240, 999)] == [1, 0.5, 1, 5, 10, 20, 250, 1000]
