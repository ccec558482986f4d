"""Server-rendered SVG charts: geometry here, markup in templates/macros/charts.html.

Series differ by marker shape and dash pattern as well as colour, so a chart
reads without colour; every chart is also offered as a table.

A chart scales with its viewBox: on a 390 px phone it is drawn at about half its
width, so pulse.css sets larger text (in the chart's own units) below 40rem. The
geometry leaves room for that text: at most five labels along the x axis and bar
names cut to what the label column holds at that size (the full name stays in the
bar's title, the chart's description and the table).
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


#: At most this many labels along a line chart's x axis.
X_LABELS = 5
#: The longest bar name drawn in a bar chart's label column (longer ones are cut).
BAR_NAME_CHARS = 24
#: About how wide one character of a bar chart's text is, in the chart's units, at the
#: phone text size (pulse.css: 21px below 40rem): the columns are sized with it.
CHAR_UNITS = 13
#: The least width a bar chart keeps for its bars.
MIN_PLOT_WIDTH = 160


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float
    label: str
    # Where an interval around the value starts and ends (drawn as a whisker), if any.
    low_y: float | None = None
    high_y: float | None = None


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
    intervals: dict[str, Sequence[tuple[float, float]]] | None = None,
) -> LineChart:
    """Series drawn over evenly spaced x labels; ``intervals`` optionally gives, per
    series, a (low, high) range around each value, drawn as a whisker."""
    values = [v for points in series.values() for v in points]
    top_value = y_max if y_max is not None else max(values + [y_min + 1])
    span = (top_value - y_min) or 1.0
    count = len(x_labels)
    y_texts = [y_format(y_min + span * k / 4) for k in range(5)]
    # The y labels sit left of the plot, right-aligned: room for the longest at phone
    # text size (20 units a glyph's height, up to 14 its width), so "+0.50" or "100%"
    # is never cut off at the chart's edge.
    left = max(56, 12 + 14 * max(len(text) for text in y_texts))
    right, top, bottom = 40, 16, 40
    plot_width, plot_height = width - left - right, height - top - bottom

    def x_at(i: int) -> float:
        return left + (plot_width / 2 if count == 1 else i * plot_width / (count - 1))

    def y_at(v: float) -> float:
        return top + plot_height - (v - y_min) / span * plot_height

    def point(i: int, v: float, name: str) -> Point:
        ranges = (intervals or {}).get(name)
        if ranges is None:
            return Point(x_at(i), y_at(v), v, x_labels[i])
        low, high = ranges[i]
        return Point(x_at(i), y_at(v), v, x_labels[i], y_at(low), y_at(high))

    drawn = []
    for index, (name, points) in enumerate(series.items()):
        drawn.append(
            Series(
                name=name,
                points=[point(i, v, name) for i, v in enumerate(points)],
                marker=MARKERS[index % len(MARKERS)],
                dash=DASHES[index % len(DASHES)],
                index=index,
            )
        )
    step = max(1, -(-count // X_LABELS))  # few enough to stay apart at phone text size
    x_ticks = [Tick(x_at(i), x_labels[i]) for i in range(0, count, step)]
    y_ticks = [Tick(y_at(y_min + span * k / 4), y_texts[k]) for k in range(5)]
    return LineChart(
        width, height, left, top, plot_width, plot_height, drawn, x_ticks, y_ticks, title, y_label
    )


# --- horizontal bar charts ----------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str  # the full label, also given as the bar's title
    short: str  # the label as drawn, cut to fit the label column
    value: float
    text: str  # the figures written beside the bar
    x: float
    y: float
    width: float
    height: float
    kind: str  # an extra class for the bar (e.g. "tone-positive")
    index: int

    @property
    def middle(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    bars: list[Bar]
    ticks: list[Tick]
    zero: float | None  # x of the zero line when the axis spans both signs
    title: str
    x_label: str

    @property
    def text_x(self) -> int:
        return self.left + self.plot_width + 10


def _cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, with "…" where it was cut. A name with
    a " · " part ("Yes · counted") keeps that part and shortens the rest, since the part
    is what tells two bars of one answer apart."""
    if len(text) <= limit:
        return text
    head, sep, tail = text.rpartition(" · ")
    if sep and len(sep + tail) + 2 <= limit:
        return head[: limit - len(sep + tail) - 1].rstrip() + "…" + sep + tail
    return text[: limit - 1].rstrip() + "…"


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, float]],
    *,
    texts: Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    x_min: float = 0.0,
    x_max: float | None = None,
    x_format: Callable[[float], str] = lambda v: f"{v:g}",
    x_label: str = "",
    width: int = 720,
    bar_height: int = 22,
    gap: int = 12,
) -> BarChart:
    """One horizontal bar per (label, value), from zero, which may sit mid-axis
    (a mean tone in [-1, 1]). Every bar carries its label on the left and its
    figures (``texts``, else the formatted value) on the right, so the chart reads
    without colour."""
    top, bottom = 10, 30
    count = len(bars)
    drawn_texts = list(texts) if texts is not None else [x_format(value) for _, value in bars]
    # The figures' column fits the longest figures at phone text size; the names' column
    # takes what is left (at most 340), and names are cut to what it holds.
    right = max(60, 20 + CHAR_UNITS * max((len(t) for t in drawn_texts), default=4))
    left = max(80, min(340, width - right - MIN_PLOT_WIDTH))
    name_chars = max(3, min(BAR_NAME_CHARS, (left - 20) // CHAR_UNITS))
    plot_width = width - left - right
    plot_height = max(1, count * (bar_height + gap) - gap) if count else bar_height
    height = top + plot_height + bottom
    values = [value for _, value in bars]
    top_value = x_max if x_max is not None else max(values + [x_min + 1])
    span = (top_value - x_min) or 1.0

    def x_at(v: float) -> float:
        return left + (min(max(v, x_min), top_value) - x_min) / span * plot_width

    base = x_at(0.0) if x_min <= 0.0 <= top_value else x_at(x_min)
    drawn = []
    for index, (label, value) in enumerate(bars):
        end = x_at(value)
        drawn.append(
            Bar(
                label=label,
                short=_cut(label, name_chars),
                value=value,
                text=drawn_texts[index],
                x=min(base, end),
                y=top + index * (bar_height + gap),
                width=abs(end - base),
                height=bar_height,
                kind=kinds[index] if kinds is not None else "",
                index=index,
            )
        )
    ticks = [Tick(x_at(x_min + span * k / 4), x_format(x_min + span * k / 4)) for k in range(5)]
    zero = x_at(0.0) if x_min < 0.0 < top_value else None
    return BarChart(
        width, height, left, top, plot_width, plot_height, drawn, ticks, zero, title, x_label
    )


# --- flow charts (answers before -> answers after) ------------------------------------

#: Fills of a flow chart's bands and bars, by the answer they leave (the series'
#: colours of pulse.css, all dark enough for white text and a light page).
FLOW_FILLS = ("#9b1c1c", "#0b4f8a", "#1d5e2c", "#6b3fa0", "#7a4b00", "#333333")
#: The least height of a flow chart's answer, so its two lines of text stay apart.
FLOW_MIN_SLOT = 40
#: The room between two answers of a column.
FLOW_GAP = 14
#: How tall the moves of a whole column are drawn, at most (a few moves are drawn
#: thicker, up to ``FLOW_MOVE_UNITS`` each).
FLOW_COLUMN_UNITS = 260
FLOW_MOVE_UNITS = 28


@dataclass(frozen=True)
class FlowNode:
    """One answer on one side: a bar as tall as the moves that leave (left) or reach
    (right) it, with its name and count beside it."""

    label: str
    short: str
    count: int
    text: str  # the count as written beside the bar ("3 moved away")
    x: float
    y: float
    height: float
    fill: str

    @property
    def middle(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class FlowBand:
    """The moves from one answer to another: a ribbon as thick as their number."""

    source: str
    target: str
    count: int
    thickness: float
    path: str
    fill: str
    # Where its number is written: a fifth of the way along, near its own answer,
    # so two bands that cross in the middle keep their numbers apart.
    label_x: float
    label_y: float


@dataclass(frozen=True)
class FlowChart:
    width: int
    height: int
    top: int
    left_x: float
    right_x: float
    node_width: int
    sources: list[FlowNode]
    targets: list[FlowNode]
    bands: list[FlowBand]
    title: str
    left_heading: str
    right_heading: str
    total: int


def flow_chart(
    title: str,
    labels: Sequence[str],
    flows: Sequence[tuple[int, int, int]],
    *,
    left_heading: str = "From",
    right_heading: str = "To",
    left_text: Callable[[int], str] = lambda n: f"{n}",
    right_text: Callable[[int], str] = lambda n: f"{n}",
    width: int = 720,
) -> FlowChart:
    """Answers on the left, answers on the right, and a band from one to the other for
    each ``(source index, target index, count)`` of ``flows`` (indexes into
    ``labels``), its thickness in proportion to its count. An answer appears on a side
    only when some flow leaves (left) or reaches (right) it; the bands of an answer
    are stacked in the order of ``labels`` on the other side, so none cross inside it."""
    flows = [(s, t, n) for s, t, n in flows if n > 0]
    total = sum(n for _, _, n in flows)
    top, bottom, node_width = 34, 12, 14
    label_room = min(240, width // 3)
    left_x = float(label_room)
    right_x = float(width - label_room - node_width)
    name_chars = max(3, min(BAR_NAME_CHARS, (label_room - 16) // CHAR_UNITS))
    scale = min(float(FLOW_MOVE_UNITS), FLOW_COLUMN_UNITS / total) if total else 0.0

    def column(side: int, x: float, text: Callable[[int], str]) -> dict[int, FlowNode]:
        counts: dict[int, int] = {}
        for flow in flows:
            counts[flow[side]] = counts.get(flow[side], 0) + flow[2]
        nodes: dict[int, FlowNode] = {}
        y = float(top)
        for index in sorted(counts):
            height = counts[index] * scale
            slot = max(height, FLOW_MIN_SLOT)
            nodes[index] = FlowNode(
                label=labels[index],
                short=_cut(labels[index], name_chars),
                count=counts[index],
                text=text(counts[index]),
                x=x,
                y=y + (slot - height) / 2,
                height=height,
                fill=FLOW_FILLS[index % len(FLOW_FILLS)],
            )
            y += slot + FLOW_GAP
        return nodes

    sources = column(0, left_x, left_text)
    targets = column(1, right_x, right_text)
    # Where the next band leaves each source and reaches each target.
    leaving = {index: node.y for index, node in sources.items()}
    reaching = {index: node.y for index, node in targets.items()}
    start, end = left_x + node_width, right_x
    bend = (start + end) / 2
    placed: dict[tuple[int, int], tuple[float, float, float]] = {}
    for source, target, count in sorted(flows, key=lambda flow: (flow[0], flow[1])):
        placed[(source, target)] = (leaving[source], 0.0, count * scale)
        leaving[source] += count * scale
    for source, target, _count in sorted(flows, key=lambda flow: (flow[1], flow[0])):
        y0, _, thickness = placed[(source, target)]
        placed[(source, target)] = (y0, reaching[target], thickness)
        reaching[target] += thickness
    bands = []
    for source, target, count in sorted(flows, key=lambda flow: (flow[0], flow[1])):
        y0, y1, thickness = placed[(source, target)]
        path = (
            f"M{start:.1f} {y0:.1f}C{bend:.1f} {y0:.1f} {bend:.1f} {y1:.1f} {end:.1f} {y1:.1f}"
            f"V{y1 + thickness:.1f}C{bend:.1f} {y1 + thickness:.1f} {bend:.1f} "
            f"{y0 + thickness:.1f} {start:.1f} {y0 + thickness:.1f}Z"
        )
        # The band's middle line at t = 0.2 of its curve (horizontal tangents at both
        # ends): x goes 1.5t - 1.5t^2 + t^3 of the way, y 3t^2 - 2t^3.
        middle0, middle1 = y0 + thickness / 2, y1 + thickness / 2
        bands.append(
            FlowBand(
                source=labels[source],
                target=labels[target],
                count=count,
                thickness=thickness,
                path=path,
                fill=FLOW_FILLS[source % len(FLOW_FILLS)],
                label_x=start + 0.248 * (end - start),
                label_y=middle0 + 0.104 * (middle1 - middle0),
            )
        )
    nodes = [*sources.values(), *targets.values()]
    # A node sits in the middle of its slot: the slot ends as far below it as it starts above.
    lowest = max(
        [node.y + node.height + max(0.0, FLOW_MIN_SLOT - node.height) / 2 for node in nodes]
        or [float(top)]
    )
    return FlowChart(
        width=width,
        height=int(lowest) + bottom,
        top=top,
        left_x=left_x,
        right_x=right_x,
        node_width=node_width,
        sources=list(sources.values()),
        targets=list(targets.values()),
        bands=bands,
        title=title,
        left_heading=left_heading,
        right_heading=right_heading,
        total=total,
    )
