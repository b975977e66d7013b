"""Run pip-audit on the installed dependencies and decide what its answer means.

- a known vulnerability in any package: fail (unless docs/security/pip-audit.md
  lists its id with why it does not apply, passed here as --ignore-vuln);
- some packages audited and some not: fail (a partial audit hides a gap);
- no package audited at all: the vulnerability service could not be reached
  (PyPI's per-version JSON API, https://pypi.org/pypi/NAME/VERSION/json). pip-audit
  has no offline database, so say loudly that the audit did not run, and pass:
  whether the network answers is not a property of the code
  (docs/decisions/0018-hostile-input-and-busy-machines.md).
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

# Advisory ids judged not to apply, each explained in docs/security/pip-audit.md.
IGNORED: list[str] = []


def main() -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    args = [
        str(pip_audit),
        "--skip-editable",
        "--progress-spinner",
        "off",
        "-f",
        "json",
    ]
    for vuln in IGNORED:
        args += ["--ignore-vuln", vuln]
    done = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(done.stdout, done.stderr, sep="\n")
        return 1
    code, lines = verdict(report)
    print("\n".join(lines))
    return code


def verdict(report: dict[str, Any]) -> tuple[int, list[str]]:
    """The exit code and what to say, from pip-audit's JSON report."""
    lines: list[str] = []
    packages = report["dependencies"]
    skipped = [p for p in packages if "skip_reason" in p]
    vulnerable = [p for p in packages if p.get("vulns")]
    for package in vulnerable:
        for vuln in package["vulns"]:
            lines.append(
                f"{package['name']} {package['version']}: {vuln['id']} "
                f"(fixed in {', '.join(vuln['fix_versions']) or 'no release'})"
            )
    if vulnerable:
        return 1, lines
    if packages and len(skipped) == len(packages):
        lines.append(
            f"pip-audit NOT RUN: none of {len(packages)} packages could be looked up "
            f"({skipped[0]['skip_reason']}). The vulnerability service is not "
            "reachable from here; run .ci/pip_audit.py where it is."
        )
        return 0, lines
    for package in skipped:
        lines.append(
            f"not audited: {package['name']} {package['version']}: "
            f"{package['skip_reason']}"
        )
    if skipped:
        return 1, lines
    lines.append(f"pip-audit: {len(packages)} packages, no known vulnerabilities")
    return 0, lines


if __name__ == "__main__":
    sys.exit(main())
