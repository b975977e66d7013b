"""Caseworkers' admin for registration: the vetting queue, organisations, agreements.

Nothing here changes a status or records an outcome itself: the forms are read-only
and every change goes through a workflow page (get_urls) or the check inline, which
re-check permission and call registration.services.
"""

# Importing the modules registers their ModelAdmins.
from registration.admin import (
    agreements,
    api_clients,
    applications,
    organisations,
    recertification,
    reference,
    signing,
    yearly_confirmation,
)

__all__ = [
    "agreements",
    "api_clients",
    "applications",
    "organisations",
    "recertification",
    "reference",
    "signing",
    "yearly_confirmation",
]
