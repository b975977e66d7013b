import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "AXES_FAILURE_LIMIT"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_start_up_refuses_a_missing_secret_key_when_debug_is_off():
    result = _check(DEBUG="false")

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "Configuration error: SECRET_KEY is missing. See docs/configuration.md."
    ]


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("DEBUG", "maybe", "DEBUG must be true or false, not 'maybe'"),
        ("AXES_FAILURE_LIMIT", "five", "AXES_FAILURE_LIMIT must be a whole number"),
        ("AXES_FAILURE_LIMIT", "0", "AXES_FAILURE_LIMIT must be at least 1"),
        ("DATABASE_URL", "mysql://db/lrs", "DATABASE_URL must be a sqlite:///"),
    ],
)
def test_start_up_names_a_malformed_variable_in_one_line(name, value, problem):
    env = {"DEBUG": "true", name: value}

    result = _check(**env)

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert problem in lines[0]


def test_debug_mode_starts_without_a_secret_key():
    result = _check(DEBUG="true")

    assert result.returncode == 0, result.stderr
