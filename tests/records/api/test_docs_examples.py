"""docs/api.md's curl and Python examples, run as written against a running
portal (live_server), with a member's token in LRS_TOKEN."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from records.models import LearnerView
from tests.records.api.conftest import bearer_token, make_learner
from tests.records.factories import AchievementFactory

pytestmark = pytest.mark.django_db(transaction=True)
DOCS = Path(__file__).resolve().parents[3] / "docs" / "api.md"
_BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def examples() -> list[tuple[str, str]]:
    return _BLOCK.findall(DOCS.read_text())


def test_the_page_has_curl_and_python_examples():
    languages = [language for language, _ in examples()]

    assert languages.count("bash") >= 2
    assert "python" in languages


@pytest.fixture
def environment(live_server, log_truncate_allowed, bearer, member):
    AchievementFactory.create(learner=make_learner())
    return {
        "PATH": os.environ["PATH"],
        "LRS_API": live_server.url,
        "LRS_TOKEN": bearer_token(member),
    }


def _run(language: str, code: str, environment: dict[str, str]) -> str:
    command = ["bash", "-euo", "pipefail", "-c", code]
    if language == "python":
        command = [sys.executable, "-c", code]
    done = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def test_every_example_runs_against_the_service(environment, member):
    ran = [
        (language, _run(language, code, environment)) for language, code in examples()
    ]

    me, by_uln, *_ = (out for language, out in ran if language == "bash")
    assert json.loads(me)["member"]["email"] == member.email
    assert json.loads(by_uln)["code"] == "WSRC0004"
    python = next(out for language, out in ran if language == "python")
    assert python.splitlines() == ["exact_match WSRC0004", "WSRC0004 1 learning events"]
    assert set(LearnerView.objects.values_list("channel", flat=True)) == {"api"}
