"""The risk model's score on a request's admin pages: each factor and its
points as a table (the assessment on the request's page), and in words (the page
that records the assessment)."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from approvals.models import DataShareRequest, RequestedDataset, RiskSettings
from approvals.services.assessment import RISK_FACTORS
from lrs_portal.admin_display import number


def risk_breakdown_table(breakdown: dict[str, int], score: int) -> SafeString:
    """Each factor of the risk model and its points, then the total, as a table."""
    rows = format_html_join(
        "",
        '<tr><th scope="row">{}</th><td>{}</td></tr>',
        (
            (RISK_FACTORS.get(key, key), number(points))
            for key, points in breakdown.items()
        ),
    )
    return format_html(
        '<table class="evidence"><thead><tr><th scope="col">Factor</th>'
        '<th scope="col">Points</th></tr></thead><tbody>{}</tbody>'
        '<tfoot><tr><th scope="row">Risk score</th><td>{}</td></tr></tfoot></table>',
        rows,
        number(score),
    )


def risk_explained(
    request: DataShareRequest, score: int, breakdown: dict[str, int]
) -> str:
    """The risk model's score in words: each factor, what the request says and its
    points (a tier is a dataset's sensitivity, never a number of points)."""
    tiers = list(request.datasets.values_list("tier", flat=True))
    tier = min(tiers) if tiers else 1
    records = request.records_expected or 0
    access = request.get_access_route_display() or "not given"
    rows = (
        ("Most sensitive dataset", RequestedDataset.Tier(tier).label, "tier"),
        ("Records expected", f"{records:,}", "volume"),
        ("Linkage", "linked to other data" if request.linkage else "none", "linkage"),
        ("Access route", access, "access_route"),
        ("Recipient", request.organisation.get_kind_display(), "recipient"),
    )

    def points(n: int) -> str:
        return f"{n} point" if n == 1 else f"{n} points"

    lines = [f"{name}: {what}: {points(breakdown[key])}" for name, what, key in rows]
    appetite = RiskSettings.current().risk_appetite
    return (
        f"The risk model scores this request {points(score)}:\n"
        + "\n".join(lines)
        + f"\nThe risk appetite is {points(appetite)}. It is kept with this "
        "assessment: a later change of appetite does not apply to it. Above the "
        "appetite, the panel can approve only once the senior information risk "
        "owner has accepted the risk."
    )
