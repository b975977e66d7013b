from django.contrib import admin
from two_factor.admin import AdminSiteOTPRequiredMixin


class LrsAdminSite(AdminSiteOTPRequiredMixin, admin.AdminSite):  # type: ignore[misc]
    """Django admin for the department: staff only, and only after MFA."""

    site_header = "LRS Portal administration"
    site_title = "LRS Portal admin"
    index_title = "Department for Education casework"
    enable_nav_sidebar = True
