"""The department's admin for data share requests: triage, assessment, the panel,
the SIRO, releases and destruction certificates.

Request pages are read-only; every change is a workflow page (get_urls) that
re-checks permission and calls approvals.services. Assessors and panel members
hold no model permissions: they see only the requests their object permissions
(approvals.permissions) give them.
"""

# Importing the modules registers their ModelAdmins.
from approvals.admin import meetings, organisations, requests

__all__ = ["meetings", "organisations", "requests"]
