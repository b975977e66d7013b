"""A URLconf of one address, for tests/lrs_portal/test_fixed_urls.py."""

from django.http import HttpResponse
from django.urls import path

urlpatterns = [
    path("somewhere-else/", lambda request: HttpResponse(), name="elsewhere"),
]
