import io
import json
import logging
from collections.abc import Iterator

import pytest
from django.urls import reverse

from lrs_portal.logs import drop_personal_data
from tests.factories import PASSWORD
from tests.lrs_portal.auth_helpers import post_credentials

pytestmark = pytest.mark.django_db


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the configured console handler writes, captured in memory."""
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def test_request_logs_are_json_with_a_request_id(client, log_output):
    response = client.get(reverse("lrs_portal:start"))

    events = _json_lines(log_output.getvalue())
    finished = [e for e in events if e["event"] == "request_finished"]
    assert finished
    assert finished[-1]["request_id"] == response["X-Request-ID"]
    assert finished[-1]["code"] == 200


def test_a_request_is_one_log_line_with_its_user_agent(client, log_output):
    """One request_finished line a request, holding the user agent the
    request_started line used to carry (issue 21)."""
    client.get(reverse("lrs_portal:start"), HTTP_USER_AGENT="Bench/1.0")

    events = _json_lines(log_output.getvalue())
    requests = [e for e in events if str(e["event"]).startswith("request_")]
    assert [e["event"] for e in requests] == ["request_finished"]
    assert requests[0]["user_agent"] == "Bench/1.0"
    assert requests[0]["request"] == "GET /"


def test_sign_in_logs_hold_no_email_address_or_ip(client, log_output, provider_user):
    for _ in range(6):  # failures, then a lockout: axes logs both
        post_credentials(client, provider_user.email, "wrong", ip="203.0.113.77")
    post_credentials(client, provider_user.email, PASSWORD, ip="198.51.100.5")

    err = log_output.getvalue()
    assert _json_lines(err)
    assert provider_user.email not in err
    assert provider_user.email.split("@")[0] not in err
    assert "203.0.113.77" not in err


def test_the_log_processor_removes_personal_keys():
    event = {"event": "x", "email": "a@b.example", "uln": "9276308686", "count": 3}

    cleaned = drop_personal_data(None, "info", event)

    assert cleaned == {
        "event": "x",
        "email": "[removed]",
        "uln": "[removed]",
        "count": 3,
    }


def test_keys_named_after_personal_ones_are_removed_too():
    event = {
        "event": "x",
        "learner_uln": "9276308686",
        "director_email": "d@example.com",
        "client_ip": "203.0.113.7",
        "logger_name": "records",
        "task_name": "audit_usage",
    }

    cleaned = drop_personal_data(None, "info", event)

    assert cleaned == {
        "event": "x",
        "learner_uln": "[removed]",
        "director_email": "[removed]",
        "client_ip": "[removed]",
        "logger_name": "records",
        "task_name": "audit_usage",
    }


def test_password_reset_links_never_reach_the_logs(client, log_output):
    client.get("/account/reset/MQ/abc-123secret/?next=/x")

    err = log_output.getvalue()
    assert "abc-123secret" not in err
    assert "/account/reset/[redacted]/" in err


def test_log_extras_reach_the_json(log_output):
    logging.getLogger("lrs_portal.services").warning(
        "notification_enqueue_failed", extra={"notification_id": 42}
    )

    event = _json_lines(log_output.getvalue())[-1]
    assert event["event"] == "notification_enqueue_failed"
    assert event["notification_id"] == 42
