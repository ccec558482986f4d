"""Server-rendered SVG charts: geometry here, markup in templates/macros/charts.html.

Series differ by marker shape and dash pattern as well as colour, so a chart
reads without colour; every chart is also offered as a table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

MARKERS = (
    "circle",
    "square",
    "triangle",
    "diamond",
    "cross",
    "circle-open",
    "square-open",
    "triangle-open",
    "diamond-open",
    "plus",
)
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 4", "6 2 2 2", "3 6", "12 3")


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float
    label: str


@dataclass(frozen=True)
class Series:
    name: str
    points: list[Point]
    marker: str
    dash: str
    index: int

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    series: list[Series]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    title: str
    y_label: str


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    y_min: float = 0.0,
    y_max: float | None = None,
    y_label: str = "",
    y_format: Callable[[float], str] = lambda v: f"{v:g}",
    width: int = 640,
    height: int = 280,
) -> LineChart:
    left, right, top, bottom = 56, 16, 16, 40
    plot_width, plot_height = width - left - right, height - top - bottom
    values = [v for points in series.values() for v in points]
    top_value = y_max if y_max is not None else max(values + [y_min + 1])
    span = (top_value - y_min) or 1.0
    count = len(x_labels)

    def x_at(i: int) -> float:
        return left + (plot_width / 2 if count == 1 else i * plot_width / (count - 1))

    def y_at(v: float) -> float:
        return top + plot_height - (v - y_min) / span * plot_height

    drawn = []
    for index, (name, points) in enumerate(series.items()):
        drawn.append(
            Series(
                name=name,
                points=[Point(x_at(i), y_at(v), v, x_labels[i]) for i, v in enumerate(points)],
                marker=MARKERS[index % len(MARKERS)],
                dash=DASHES[index % len(DASHES)],
                index=index,
            )
        )
    step = max(1, -(-count // 8))  # at most about eight labels on the x axis
    x_ticks = [Tick(x_at(i), x_labels[i]) for i in range(0, count, step)]
    y_ticks = [Tick(y_at(y_min + span * k / 4), y_format(y_min + span * k / 4)) for k in range(5)]
    return LineChart(
        width, height, left, top, plot_width, plot_height, drawn, x_ticks, y_ticks, title, y_label
    )
