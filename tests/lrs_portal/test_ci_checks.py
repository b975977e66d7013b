"""What .ci/pip_audit.py makes of pip-audit's report (docs/decisions/0018)."""

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / ".ci" / "pip_audit.py"
_SPEC = importlib.util.spec_from_file_location("pip_audit_ci", _PATH)
assert _SPEC
assert _SPEC.loader
pip_audit_ci = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(pip_audit_ci)

CLEAN = {"name": "django", "version": "5.2.20", "vulns": []}
SKIPPED = {"name": "amqp", "version": "5.4.2", "skip_reason": "not found on PyPI"}
VULNERABLE = {
    "name": "requests",
    "version": "2.0.0",
    "vulns": [{"id": "PYSEC-2014-13", "fix_versions": ["2.3.0"]}],
}


@pytest.mark.parametrize(
    ("packages", "code", "says"),
    [
        ([CLEAN], 0, "no known vulnerabilities"),
        ([CLEAN, VULNERABLE], 1, "PYSEC-2014-13 (fixed in 2.3.0)"),
        ([CLEAN, SKIPPED], 1, "not audited: amqp"),
        ([SKIPPED, SKIPPED], 0, "pip-audit NOT RUN"),
        ([SKIPPED, VULNERABLE], 1, "PYSEC-2014-13"),
    ],
    ids=["clean", "vulnerable", "partial", "unreachable", "vulnerable and partial"],
)
def test_the_audit_fails_on_a_vulnerability_or_a_partial_audit(packages, code, says):
    got, lines = pip_audit_ci.verdict({"dependencies": packages})

    assert got == code
    assert says in "\n".join(lines)
