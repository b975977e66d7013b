"""docs/api.md's examples, every one, run as written and in order against a
running portal (live_server) and a real Celery worker on Redis, as a provider's
system would run them: it holds only the client ID and secret a real API client
was issued, gets its token with the token example, and uses that token for the
rest. The page's JSON answers are checked against the real ones, and the CSV
it shows is the file the batch examples send."""

import ast
import json
import os
import re
import subprocess
import sys
from collections import Counter
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from lrs_portal.models import system_user
from records.audit import usage_days_write
from records.models import BatchRow, LearnerView
from registration.models import Suspension
from registration.services import suspension_open
from tests.factories import issue_api_client
from tests.records.api.conftest import make_learner
from tests.records.factories import AchievementFactory

DOCS = Path(__file__).resolve().parents[3] / "docs" / "api.md"
_BLOCK = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
RUN = {"shell": "shell", "python": "python"}
TOKEN = re.compile(r"^[A-Za-z0-9]{20,}$")


def blocks() -> list[tuple[str, str]]:
    return _BLOCK.findall(DOCS.read_text())


def test_every_block_is_one_the_test_knows_how_to_check():
    """A block in another language (or none) would be skipped silently."""
    languages = Counter(language for language, _ in blocks())

    assert set(languages) <= {"shell", "python", "json", "csv"}, languages
    assert languages["shell"] >= 4
    assert languages["python"] >= 3
    assert languages["csv"] == 1


def _call(
    language: str, code: str, environment: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    command = ["bash", "-euo", "pipefail", "-c", code]
    if language == "python":
        command = [sys.executable, "-c", code]
    return subprocess.run(
        command, env=environment, cwd=cwd, capture_output=True, text=True, timeout=180
    )


def _run(language: str, code: str, environment: dict[str, str], cwd: Path) -> str:
    done = _call(language, code, environment, cwd)
    assert done.returncode == 0, f"{code}\n{done.stderr}{done.stdout}"
    return done.stdout


def _shape(value: Any) -> Any:
    """The keys of a JSON value, all the way down, without their values."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(item) for item in value[:1]]
    return type(value).__name__


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("log_truncate_allowed")
def test_every_example_runs_against_the_service(
    live_server, worker, settings, member, tmp_path
):
    queue, _ = worker
    settings.BATCH_QUEUE = queue  # the worker consumes only its private queue
    amelia = make_learner()
    AchievementFactory.create(learner=amelia)
    issued = issue_api_client(member)
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "LRS_API": live_server.url,
        "LRS_CLIENT_ID": issued.client_id,
        "LRS_CLIENT_SECRET": issued.client_secret,
    }
    examples = blocks()
    (csv,) = [code for language, code in examples if language == "csv"]
    (tmp_path / "enrolments.csv").write_text(csv)

    outputs: list[tuple[str, str, str]] = []
    for language, code in examples:
        if language in RUN:
            if "/api/v1/token" not in code:
                assert "LRS_TOKEN" in environment, "an example before the token's"
            out = _run(language, code, environment, tmp_path)
            outputs.append((language, code, out))
            if "/api/v1/token" in code and language == "python":
                assert TOKEN.match(out.strip()), out
                environment["LRS_TOKEN"] = out.strip()
            continue
        if language == "json":
            _check_json(json.loads(code), environment)

    checked = [_check_output(*output, member=member) for output in outputs]
    assert sorted(checked) == sorted(
        ["token", "token", "me", "uln", "events", "batch", "batch_results"]
    )
    # Every search the examples made is one log row, as the member, through the
    # client: the three API calls and each batch's two searchable rows.
    rows = LearnerView.objects.all()
    assert Counter(rows.values_list("channel", flat=True)) == {
        LearnerView.Channel.API: 3,
        LearnerView.Channel.BATCH: 4,
    }
    assert set(rows.values_list("user", "api_client")) == {
        (member.pk, issued.api_client.pk)
    }
    # The impossible date of birth is each batch's row error, not a search.
    unsearched = BatchRow.objects.filter(outcome="")
    assert list(unsearched.values_list("line", flat=True)) == [4, 4]
    assert {row.error for row in unsearched} == {"Date of birth must be a real date"}

    # Issue 12's "done when": every row is in the night's audit, and suspending
    # the provider stops its very next call.
    (counts,) = usage_days_write(timezone.now().date()).counted
    assert (counts.user_id, counts.searches, counts.views) == (member.pk, 6, 1)
    suspension_open(
        subject_type=Suspension.Subject.ORGANISATION,
        organisation=member.membership.organisation,
        source=Suspension.Source.CASEWORKER,
        cause="docs-examples",
        day=timezone.now().date(),
        reason="Misuse",
        acting_user=system_user(),
    )
    me = next(code for language, code in examples if "/api/v1/me" in code)
    refused = _call("shell", me, environment, tmp_path)
    assert refused.returncode != 0  # curl --fail-with-body: the 403 fails
    assert json.loads(refused.stdout)["code"] == "organisation_suspended"


def _check_output(language: str, code: str, out: str, *, member: Any) -> str:
    """What one example printed; the name of the example it was."""
    if "/api/v1/token" in code:
        if language == "shell":
            answer = json.loads(out)
            assert answer["token_type"] == "Bearer"
            assert answer["expires_in"] == 3600
            assert "refresh_token" not in answer
        return "token"
    if "/api/v1/me" in code:
        answer = json.loads(out)
        assert answer["member"] == {"email": member.email}
        assert answer["organisation"]["ukprn"] == member.membership.organisation.ukprn
        return "me"
    if "/api/v1/batches" in code and language == "shell":
        answer = json.loads(out)
        assert answer["status"] in ("queued", "running", "complete")
        assert answer["rows"] == 3
        return "batch"
    if "/api/v1/batches" in code:
        lines = [line.split(" ", 3) for line in out.splitlines()]
        printed = [(n, ref, what, ast.literal_eval(u)) for n, ref, what, u in lines]
        assert printed == [
            ("2", "STU-0001", "exact_match", ["9276308686"]),
            ("3", "STU-0002", "no_match", []),
            ("4", "STU-0003", "None", []),
        ]
        return "batch_results"
    if "/api/v1/learning-events" in code:
        assert out.splitlines() == [
            "exact_match WSRC0004",
            "WSRC0004 1 learning events",
        ]
        return "events"
    if "/api/v1/learner-searches" in code:
        answer = json.loads(out)
        assert answer["outcome"] == "exact_match"
        assert answer["code"] == "WSRC0004"
        assert [learner["uln"] for learner in answer["learners"]] == ["9276308686"]
        return "uln"
    raise AssertionError(f"an example the test does not know: {code}")


def _check_json(shown: dict[str, Any], environment: dict[str, str]) -> None:
    """A JSON answer the page shows has the real answer's shape (and, for a
    refusal, its very words)."""
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {environment['LRS_TOKEN']}")
    if "allowance" in shown:
        real = http.get("/api/v1/me")
        assert real.status_code == HTTPStatus.OK
        assert _shape(shown) == _shape(real.json())
    elif shown.get("status") == HTTPStatus.BAD_REQUEST:
        real = http.post(
            "/api/v1/learner-searches", {"uln": "9276308687"}, format="json"
        )
        assert real.status_code == HTTPStatus.BAD_REQUEST
        assert shown == real.json()
    else:
        raise AssertionError(f"an answer the test does not know: {shown}")
