from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy
from oauth2_provider.views import TokenView
from two_factor import urls as two_factor_urls

from lrs_portal import views
from lrs_portal.forms import NewPasswordForm

portal_urls = [
    path("", views.start, name="start"),
    path("account/", views.account, name="account"),
    path("account/sign-out/", views.sign_out, name="sign-out"),
    path("account/signed-out/", views.signed_out, name="signed-out"),
    path("healthz", views.healthz, name="healthz"),
    path("notify/delivery-receipts", views.notify_receipt, name="notify-receipt"),
    # The pages every GOV.UK service has, linked from every page's footer.
    path(
        "accessibility-statement",
        views.accessibility_statement,
        name="accessibility-statement",
    ),
    path("privacy", views.privacy, name="privacy"),
    path("cookies", views.cookies, name="cookies"),
    path("contact", views.contact, name="contact"),
    # The session timeout warning's "Stay signed in", and where it ends.
    path("account/stay-signed-in/", views.stay_signed_in, name="stay-signed-in"),
    path("account/timed-out/", views.timed_out, name="timed-out"),
    path(
        "account/password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset_form.html",
            email_template_name="accounts/emails/password_reset.txt",
            subject_template_name="accounts/emails/password_reset_subject.txt",
            success_url=reverse_lazy("lrs_portal:password-reset-done"),
        ),
        name="password-reset",
    ),
    path(
        "account/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="accounts/password_reset_done.html"
        ),
        name="password-reset-done",
    ),
    path(
        "account/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html",
            form_class=NewPasswordForm,
            success_url=reverse_lazy("lrs_portal:password-reset-complete"),
        ),
        name="password-reset-confirm",
    ),
    path(
        "account/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password-reset-complete",
    ),
]

# two_factor's own URLs (same paths and names), with our sign-in and QR views.
_ours = {
    "login": views.SignInView.as_view(),
    "qr": views.QRCodeView.as_view(),
    "setup": views.SetupView.as_view(),
}
mfa_urls = [
    path(str(p.pattern), _ours[p.name], name=p.name) if p.name in _ours else p
    for p in two_factor_urls.core + two_factor_urls.profile
]

urlpatterns = [
    path("", include((portal_urls, "lrs_portal"))),
    path("", include((mfa_urls, "two_factor"))),
    path("", include("registration.urls")),
    path("", include("records.urls")),
    path("", include("approvals.urls")),
    # OAuth 2.0 client credentials for API clients: DOT's token view alone (none
    # of its application pages), at the path the issue names (decision 0020).
    path("api/v1/token", TokenView.as_view(), name="api-token"),
    path("admin/", admin.site.urls),
    path("api/", include("records.api.urls")),
    # Keep last: any other /api/ address answers a 404 problem document.
    path("api/", include("records.api.unmatched")),
]
