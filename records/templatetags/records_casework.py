"""The admin home's subject access line: requests overdue and due this week."""

from typing import Any

from django import template

from records.subject_access import sars_due_soon, sars_overdue

register = template.Library()


@register.inclusion_tag("admin/records/subject_access_summary.html")
def subject_access_summary() -> dict[str, Any]:
    return {"overdue": sars_overdue().count(), "soon": sars_due_soon().count()}
