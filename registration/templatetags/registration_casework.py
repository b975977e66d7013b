"""What the admin home tells caseworkers about registration: the re-verification
cases the nightly run opened, and how many are open in all."""

from datetime import timedelta
from typing import Any

from django import template
from django.utils import timezone

from registration.models import ReverificationCase
from registration.services.reverification import SOURCE

register = template.Library()


@register.inclusion_tag("admin/registration/reverification_summary.html")
def reverification_summary() -> dict[str, Any]:
    open_cases = ReverificationCase.objects.filter(
        status=ReverificationCase.Status.OPEN
    )
    since = timezone.now() - timedelta(days=1)
    return {
        "open_count": open_cases.count(),
        "opened_overnight": open_cases.filter(
            source=SOURCE, opened_at__gte=since
        ).count(),
    }
