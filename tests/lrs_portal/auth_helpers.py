"""Drive two_factor's sign-in wizard the way a browser does."""

from django.test import Client
from django.urls import reverse

LOGIN_URL = reverse("two_factor:login")


def post_credentials(client: Client, email: str, password: str, ip: str = "192.0.2.10"):
    return client.post(
        LOGIN_URL,
        {
            "sign_in-current_step": "auth",
            "auth-username": email,
            "auth-password": password,
        },
        REMOTE_ADDR=ip,
    )


def post_backup_code(client: Client, code: str, ip: str = "192.0.2.10"):
    client.post(
        LOGIN_URL,
        {"sign_in-current_step": "token", "wizard_goto_step": "backup"},
        REMOTE_ADDR=ip,
    )
    return client.post(
        LOGIN_URL,
        {"sign_in-current_step": "backup", "backup-otp_token": code},
        REMOTE_ADDR=ip,
    )
