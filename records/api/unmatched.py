"""Included last under /api/: an address no operation has is a 404 problem
document, not the portal's HTML page."""

from django.urls import re_path

from records.api.problems import not_found

app_name = "api-unmatched"

urlpatterns = [re_path(r"^.*$", not_found, name="not-found")]
