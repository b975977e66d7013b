"""The DSAP dashboard and exports in the admin (decision 17): the quarter's
figures as server-drawn SVG bar charts, each with its data table; the ageing
queue; the case list, decisions and register as CSV and XLSX. Caseworkers and
the SIRO only: anyone else gets a 404."""

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from approvals import permissions
from approvals.reporting import AGE_BANDS, Quarter, ageing, export_response, quarters
from registration.admin.base import _user

CHART_WIDTH = 640
CHART_HEIGHT = 220
_LEFT, _BOTTOM, _TOP = 40, 30, 10
# GOV.UK blue, orange and green: distinct in greyscale and for colour blindness
# with the legend and table beside them.
COLOURS = ("#1d70b8", "#f47738", "#00703c")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    colour: str
    name: str


@dataclass(frozen=True)
class Chart:
    """A grouped bar chart: one group per quarter, one bar per series."""

    title: str
    series: list[tuple[str, str]]
    labels: list[tuple[float, str]]
    bars: list[Bar]
    ticks: list[tuple[float, int]]
    unit: str


def bar_chart(
    title: str, series: list[str], groups: list[tuple[str, list[int]]], unit: str = ""
) -> Chart:
    """The geometry of a grouped bar chart, so the template only draws it."""
    top = max([v for _, values in groups for v in values] + [1])
    if unit == "%":
        top = 100
    plot_w = CHART_WIDTH - _LEFT - 10
    plot_h = CHART_HEIGHT - _BOTTOM - _TOP
    group_w = plot_w / max(len(groups), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    bars, labels = [], []
    for i, (label, values) in enumerate(groups):
        x0 = _LEFT + i * group_w + group_w * 0.1
        labels.append((x0 + group_w * 0.4, label))
        for j, value in enumerate(values):
            height = plot_h * value / top
            bars.append(
                Bar(
                    x=round(x0 + j * bar_w, 1),
                    y=round(_TOP + plot_h - height, 1),
                    width=round(bar_w - 2, 1),
                    height=round(height, 1),
                    value=value,
                    colour=COLOURS[j % len(COLOURS)],
                    name=series[j],
                )
            )
    ticks = [
        (round(_TOP + plot_h - plot_h * f, 1), round(top * f)) for f in (0, 0.5, 1)
    ]
    legend = [(name, COLOURS[j % len(COLOURS)]) for j, name in enumerate(series)]
    return Chart(title, legend, labels, bars, ticks, unit)


def _charts(figures: list[Quarter]) -> list[Chart]:
    return [
        bar_chart(
            "Requests received and decided, by quarter",
            ["Received", "Decided (approved or rejected)", "Released"],
            [(q.label, [q.received, q.decided, q.released]) for q in figures],
        ),
        bar_chart(
            "Approval and rejection rates, by quarter",
            ["Approval rate", "Rejection rate"],
            [(q.label, [q.approval_rate or 0, q.rejection_rate or 0]) for q in figures],
            unit="%",
        ),
    ]


class DashboardAdminMixin:
    """The dashboard and export URLs on the request admin."""

    def dashboard_urls(self) -> list[URLPattern]:
        site = self.admin_site  # type: ignore[attr-defined]
        return [
            path(
                "dashboard/",
                site.admin_view(self.dashboard_view),
                name="approvals_datasharerequest_dashboard",
            ),
            path(
                "export/<slug:what>.<slug:fmt>",
                site.admin_view(self.export_view),
                name="approvals_datasharerequest_export",
            ),
        ]

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        if not permissions.can_see_dashboard(_user(request)):
            raise Http404
        figures = quarters()
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": "DSAP dashboard",
            "opts": self.model._meta,  # type: ignore[attr-defined]
            "quarters": figures,
            "this_quarter": figures[-1],
            "charts": _charts(figures),
            "chart_width": CHART_WIDTH,
            "chart_height": CHART_HEIGHT,
            "ageing": ageing(),
            "age_bands": [
                f"{low}-{high} days" if high else f"over {low - 1} days"
                for low, high in AGE_BANDS
            ],
            "exports": (
                ("cases", "Case list"),
                ("decisions", "Decisions"),
                ("register", "Public register"),
            ),
        }
        request.current_app = self.admin_site.name  # type: ignore[attr-defined]
        return TemplateResponse(
            request, "admin/approvals/datasharerequest/dashboard.html", context
        )

    def export_view(self, request: HttpRequest, what: str, fmt: str) -> HttpResponse:
        if not permissions.can_see_dashboard(_user(request)):
            raise Http404
        response = export_response(what, fmt)
        if response is None:
            raise Http404
        return response
