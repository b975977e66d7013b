"""The usage page's chart: the geometry of an SVG bar chart of searches a day
against the daily limit (records/_usage_chart.html draws it)."""

from dataclasses import dataclass
from datetime import date
from math import floor, log10
from typing import ClassVar

from django.utils.formats import date_format

from records.usage_days import UsageDay


@dataclass(frozen=True)
class Bar:
    day: date
    searches: int
    x: float
    y: float
    width: float
    height: float
    reached: bool


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    """An SVG bar chart's geometry, in viewBox units (records/_usage_chart.html)."""

    cap: int
    cap_y: float
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    width: ClassVar[int] = 720
    height: ClassVar[int] = 300
    left: ClassVar[int] = 56  # the plot area, inside the axis labels
    right: ClassVar[int] = 696
    top: ClassVar[int] = 24
    bottom: ClassVar[int] = 244
    middle_x: ClassVar[float] = (left + right) / 2
    middle_y: ClassVar[float] = (top + bottom) / 2


def _nice_step(value: float) -> int:
    """A round step (1, 2 or 5 times a power of ten) about a quarter of ``value``."""
    rough = max(value / 4, 1)
    power = 10 ** floor(log10(rough))
    return int(next(m * power for m in (1, 2, 5, 10) if m * power >= rough))


def usage_chart(days: list[UsageDay], cap: int) -> Chart:
    left, bottom = Chart.left, Chart.bottom
    peak = max([cap, *(d.searches for d in days)])
    step = _nice_step(peak)
    scale_top = step * (floor(peak / step) + 1)

    def y(value: float) -> float:
        return round(bottom - value / scale_top * (bottom - Chart.top), 1)

    slot = (Chart.right - left) / len(days)
    bars = [
        Bar(
            day=d.day,
            searches=d.searches,
            x=round(left + i * slot + slot * 0.15, 1),
            y=y(d.searches),
            width=round(slot * 0.7, 1),
            height=round(bottom - y(d.searches), 1),
            reached=d.searches >= cap,
        )
        for i, d in enumerate(days)
    ]
    labelled = sorted(range(len(days) - 1, -1, -7))  # always today, a week apart
    return Chart(
        cap=cap,
        cap_y=y(cap),
        bars=bars,
        y_ticks=[Tick(y(v), str(v)) for v in range(0, scale_top + 1, step)],
        x_ticks=[
            Tick(round(left + (i + 0.5) * slot, 1), date_format(days[i].day, "j M"))
            for i in labelled
        ],
    )
