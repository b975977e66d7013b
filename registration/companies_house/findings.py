"""What a company's profile and officers say: its current directors, its status,
whether it is a going concern, and the result those findings give a check.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

Severity = Literal["fail", "needs_review"]
# The same values as ApplicationCheck.Result, so a result can be stored as it is.
Result = Literal["pass", "needs_review", "fail"]
ACTIVE_STATUSES = frozenset({"active", "open", "registered"})


# --- What the data says -------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str


@dataclass(frozen=True)
class Director:
    name: str  # as Companies House holds it: "SURNAME, Forenames"
    appointment: str  # the appointment's links.self, which identifies it
    appointed_on: date | None
    officer_role: str


def _parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def govuk_date(value: Any) -> str:
    """A date (or ISO date) as GOV.UK writes dates, "5 March 2025"; other values
    as they are."""
    parsed = _parse_date(value)
    return f"{parsed.day} {parsed:%B %Y}" if parsed else str(value or "")


def current_directors(officers_json: dict[str, Any]) -> list[Director]:
    """Officers who can sign the LRS agreement: role "director" and not resigned.

    Corporate directors and secretaries are excluded (domain.md 4.4, PQ-2020)."""
    items = officers_json.get("items")
    directors = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or item.get("officer_role") != "director":
            continue
        if item.get("resigned_on") or not item.get("name"):
            continue
        links = item.get("links")
        directors.append(
            Director(
                name=str(item["name"]),
                appointment=str((links or {}).get("self", "")),
                appointed_on=_parse_date(item.get("appointed_on")),
                officer_role="director",
            )
        )
    return directors


_STATUS_MESSAGES = {
    "dissolved": "Companies House lists the company as dissolved. A dissolved "
    "company cannot hold LRS access.",
    "liquidation": "Companies House lists the company as in liquidation. A company "
    "being wound up cannot hold LRS access.",
    "receivership": "Companies House lists the company as in receivership (Receiver "
    "Action). A company under a receiver cannot hold LRS access.",
    "administration": "Companies House lists the company as in administration. A "
    "company run by an administrator cannot hold LRS access.",
    "voluntary-arrangement": "Companies House lists the company as in a voluntary "
    "arrangement with its creditors. Only a company that is registered and active "
    "can hold LRS access.",
    "insolvency-proceedings": "Companies House lists the company as in insolvency "
    "proceedings. Only a company that is registered and active can hold LRS access.",
    "converted-closed": "Companies House lists the company as converted or closed. "
    "Ask which company replaced it: only that one can apply.",
    "closed": "Companies House lists the company as closed. Only a company that is "
    "registered and active can hold LRS access.",
    "removed": "Companies House lists the company as removed from the register. "
    "Only a company that is registered and active can hold LRS access.",
}


def status_finding(profile: dict[str, Any]) -> Finding | None:
    """A fail unless Companies House lists the company as active, open or registered."""
    status = str(profile.get("company_status") or "")
    if status in ACTIVE_STATUSES:
        return None
    message = _STATUS_MESSAGES.get(status) or (
        f"Companies House lists the company's status as “{status or 'not given'}”. "
        "Only a company that is registered and active can hold LRS access."
    )
    return Finding(code="status", severity="fail", message=message)


def _overdue(profile: dict[str, Any], key: str) -> tuple[bool, str]:
    section = profile.get(key)
    if not isinstance(section, dict):
        return False, ""
    return section.get("overdue") is True, govuk_date(section.get("next_due"))


def going_concern_findings(profile: dict[str, Any]) -> list[Finding]:
    """Red flags that the company may not be a going concern (domain.md 4.3)."""
    status = status_finding(profile)
    findings = [status] if status else []
    if profile.get("company_status_detail") == "active-proposal-to-strike-off":
        # Needs review, not fail: most proposals come from late filings and are
        # withdrawn once the company files, and the company is still active in law.
        # A caseworker must find out why, and not approve while it stands.
        findings.append(
            Finding(
                "proposal_to_strike_off",
                "needs_review",
                "Companies House has published a proposal to strike the company off "
                "the register: it may be dissolved within about 2 months. Find out "
                "why (late filings, or the directors closing it) and do not approve "
                "while the proposal stands.",
            )
        )
    if profile.get("has_been_liquidated") is True:
        findings.append(
            Finding(
                "has_been_liquidated",
                "needs_review",
                "Companies House records that the company has been liquidated. Check "
                "that it has since been restored and is trading.",
            )
        )
    if profile.get("has_insolvency_history") is True:
        findings.append(
            Finding(
                "insolvency_history",
                "needs_review",
                "Companies House records insolvency history for the company. Check "
                "the insolvency case and ask for the latest accounts.",
            )
        )
    findings.extend(_filing_findings(profile))
    return findings


def _filing_findings(profile: dict[str, Any]) -> Iterable[Finding]:
    overdue, due = _overdue(profile, "accounts")
    if overdue:
        yield Finding(
            "accounts_overdue",
            "needs_review",
            f"The company's accounts are overdue at Companies House (due {due}). "
            "Late accounts can be a sign of financial difficulty: ask for the "
            "latest accounts.",
        )
    overdue, due = _overdue(profile, "confirmation_statement")
    if overdue:
        yield Finding(
            "confirmation_statement_overdue",
            "needs_review",
            f"The company's confirmation statement is overdue at Companies House "
            f"(due {due}). Companies that stop filing are struck off.",
        )


def findings_result(findings: Iterable[Finding]) -> Result:
    """fail if any finding fails, needs_review if any needs review, else pass."""
    severities = {finding.severity for finding in findings}
    if "fail" in severities:
        return "fail"
    return "needs_review" if "needs_review" in severities else "pass"
