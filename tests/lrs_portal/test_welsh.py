"""Welsh (issue 17, decision 0033): every user-visible string of a translated
template is marked, every marked string has Welsh, and the toggle renders Welsh.

TRANSLATED lists the templates done; NOT_YET_TRANSLATED the ones still in
English only (the accessibility statement says so). A new template must go in
one of them, so none is forgotten; move it to TRANSLATED once it is marked and
its strings are in locale/cy/LC_MESSAGES/django.po.
"""

import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType
from django.utils.translation import trim_whitespace

TEMPLATES = Path(settings.BASE_DIR) / "templates"
CATALOGUE = Path(settings.BASE_DIR) / "locale" / "cy" / "LC_MESSAGES"

TRANSLATED = [
    "base.html",
    "includes/footer_meta.html",
    "lrs_portal/start.html",
    "lrs_portal/signed_out.html",
    "lrs_portal/timed_out.html",
]

NOT_YET_TRANSLATED = [
    "400.html",
    "403.html",
    "403_csrf.html",
    "404.html",
    "405.html",
    "405/approvals/remove-dataset.html",
    "405/approvals/remove-researcher.html",
    "405/approvals/start-request.html",
    "405/lrs_portal/notify-receipt.html",
    "405/lrs_portal/sign-out.html",
    "405/records/find-by-details.html",
    "405/records/find-by-uln.html",
    "405/records/view-record.html",
    "405/registration/explain-suspension.html",
    "405/registration/remove-accreditation.html",
    "405/registration/resend-signing-link.html",
    "405/registration/recertification-confirm.html",
    "500.html",
    "503.html",
    "accounts/locked_out.html",
    "accounts/password_reset_complete.html",
    "accounts/password_reset_confirm.html",
    "accounts/password_reset_done.html",
    "accounts/password_reset_form.html",
    "approvals/_answers.html",
    "approvals/_back.html",
    "approvals/_date_input.html",
    "approvals/_fields.html",
    "approvals/_row.html",
    "approvals/certificate.html",
    "approvals/change.html",
    "approvals/check_answers.html",
    "approvals/datasets.html",
    "approvals/published.html",
    "approvals/request_list.html",
    "approvals/researchers.html",
    "approvals/section.html",
    "approvals/status.html",
    "approvals/task_list.html",
    "approvals/withdraw.html",
    "gds/layout/error_summary.html",
    "includes/error_summary.html",
    "includes/form_fields.html",
    "includes/govuk_crown.svg.html",
    "includes/govuk_logo.svg.html",
    "includes/pagination.html",
    "includes/standalone_error_page.html",
    "lrs_portal/accessibility_statement.html",
    "lrs_portal/account.html",
    "lrs_portal/contact.html",
    "lrs_portal/cookies.html",
    "lrs_portal/privacy.html",
    "records/_batch_status_tag.html",
    "records/_confirmations.html",
    "records/_date_input.html",
    "records/_record_row.html",
    "records/_search_again.html",
    "records/_usage_chart.html",
    "records/_view_record_button.html",
    "records/access_register.html",
    "records/api/docs.html",
    "records/batch.html",
    "records/batch_list.html",
    "records/batch_new.html",
    "records/find.html",
    "records/find_by_details.html",
    "records/find_by_uln.html",
    "records/linked_match.html",
    "records/match.html",
    "records/no_match.html",
    "records/possible_matches.html",
    "records/record.html",
    "records/refused.html",
    "records/too_many_matches.html",
    "records/usage.html",
    "records/usage_refused.html",
    "records/your_record.html",
    "registration/apply_accreditation.html",
    "registration/apply_back_to_tasks.html",
    "registration/apply_check_answers.html",
    "registration/apply_company.html",
    "registration/apply_create_account.html",
    "registration/apply_going_concern.html",
    "registration/apply_learners_served.html",
    "registration/apply_organisation_details.html",
    "registration/apply_purpose.html",
    "registration/apply_row.html",
    "registration/apply_signing_director.html",
    "registration/apply_status.html",
    "registration/apply_submitted.html",
    "registration/apply_task.html",
    "registration/apply_task_list.html",
    "registration/org_accept_invitation.html",
    "registration/org_api_client_create.html",
    "registration/org_api_client_revoke.html",
    "registration/org_api_client_rotate.html",
    "registration/org_api_client_secret.html",
    "registration/org_api_clients.html",
    "registration/org_details.html",
    "registration/org_invite_user.html",
    "registration/org_remove_user.html",
    "registration/org_reregister.html",
    "registration/org_signing_director.html",
    "registration/org_super_user_only.html",
    "registration/org_suspensions.html",
    "registration/org_terms.html",
    "registration/org_users.html",
    "registration/recertification.html",
    "registration/recertification_remove.html",
    "registration/sign_agreement.html",
    "registration/sign_done.html",
    "registration/sign_link_expired.html",
    "registration/sign_refused.html",
    "two_factor/_base.html",
    "two_factor/_base_focus.html",
    "two_factor/_wizard_actions.html",
    "two_factor/_wizard_forms.html",
    "two_factor/core/backup_tokens.html",
    "two_factor/core/login.html",
    "two_factor/core/otp_required.html",
    "two_factor/core/setup.html",
    "two_factor/core/setup_complete.html",
    "two_factor/profile/disable.html",
    "two_factor/profile/profile.html",
]

# Text that is not English words to translate: the language names in the
# toggle carry their own lang attribute and are skipped by that rule.
VISIBLE_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
HIDDEN_ELEMENTS = {"script", "style", "svg"}
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


def _unmarked_html(source: str) -> tuple[str, list[tuple[str, bool]]]:
    """The template with its tags and marked text removed, and the msgids it marks."""
    out: list[str] = []
    msgids: list[tuple[str, bool]] = []
    block: list[str] | None = None
    trimmed = False
    skip_until: str | None = None
    for token in Lexer(source).tokenize():
        content = token.contents
        if skip_until:
            if token.token_type == TokenType.BLOCK and content == skip_until:
                skip_until = None
            continue
        if token.token_type == TokenType.BLOCK:
            name = content.split()[0]
            if name in ("comment", "verbatim"):
                skip_until = "end" + name
            elif name in ("blocktranslate", "blocktrans"):
                block, trimmed = [], " trimmed" in f" {content}"
            elif name in ("endblocktranslate", "endblocktrans") and block is not None:
                text = "".join(block)
                msgids.append((trim_whitespace(text) if trimmed else text, True))
                block = None
            elif name in ("translate", "trans"):
                match = re.match(r"""\S+\s+(["'])(.*?)\1""", content)
                if match:
                    msgids.append((match.group(2), False))
        elif block is not None:
            if token.token_type == TokenType.TEXT:
                block.append(content.replace("%", "%%"))
            elif token.token_type == TokenType.VAR:
                block.append("%(" + content.split("|")[0].strip() + ")s")
        elif token.token_type == TokenType.TEXT:
            out.append(content)
    return "".join(out), msgids


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def _skipped(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        skip = tag in HIDDEN_ELEMENTS or "lang" in attributes
        if not skip and not self._skipped():
            for name in VISIBLE_ATTRIBUTES:
                if re.search("[A-Za-z]", attributes.get(name) or ""):
                    self.found.append(f"{name}={attributes[name]}")
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not self._skipped() and re.search("[A-Za-z]", data):
            self.found.append(data.strip())


def _catalogue() -> dict[str, tuple[str, bool]]:
    """msgid -> (msgstr, fuzzy) read from the .po file."""
    entries: dict[str, tuple[str, bool]] = {}
    text = (CATALOGUE / "django.po").read_text(encoding="utf-8")
    for chunk in text.split("\n\n"):
        fuzzy = any(
            line.startswith("#,") and "fuzzy" in line for line in chunk.splitlines()
        )
        fields: dict[str, str] = {}
        current = None
        for line in chunk.splitlines():
            match = re.match(r'^(msgid|msgstr) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if "msgid" in fields:
            unescape = lambda s: s.replace('\\"', '"').replace("\\n", "\n")  # noqa: E731
            entries[unescape(fields["msgid"])] = (
                unescape(fields.get("msgstr", "")),
                fuzzy,
            )
    return entries


def test_every_template_is_listed_as_translated_or_not_yet():
    on_disk = {
        str(p.relative_to(TEMPLATES))
        for p in TEMPLATES.rglob("*.html")
        if p.relative_to(TEMPLATES).parts[0] != "admin"
    }
    listed = set(TRANSLATED) | set(NOT_YET_TRANSLATED)
    assert on_disk - listed == set(), "add the new template to TRANSLATED (marked)"
    assert listed - on_disk == set()
    assert not set(TRANSLATED) & set(NOT_YET_TRANSLATED)


@pytest.mark.parametrize("name", TRANSLATED)
def test_translated_template_has_no_unmarked_string(name):
    html, _ = _unmarked_html((TEMPLATES / name).read_text(encoding="utf-8"))
    parser = _Text()
    parser.feed(html)
    assert parser.found == [], f"{name}: mark these for translation"


def test_the_unmarked_string_check_finds_one():
    html, _ = _unmarked_html(
        '{% load i18n %}<p>{% translate "Fine" %}</p><p>Not marked</p>'
        '<a aria-label="Also not">x{{ y }}</a>'
    )
    parser = _Text()
    parser.feed(html)
    assert parser.found == ["Not marked", "aria-label=Also not", "x"]


@pytest.mark.parametrize("name", TRANSLATED)
def test_every_marked_string_has_welsh(name):
    _, msgids = _unmarked_html((TEMPLATES / name).read_text(encoding="utf-8"))
    catalogue = _catalogue()
    missing = [
        msgid
        for msgid, _ in msgids
        if msgid not in catalogue or not catalogue[msgid][0] or catalogue[msgid][1]
    ]
    assert missing == [], f"{name}: no Welsh (or fuzzy) in django.po"


def test_no_entry_of_the_catalogue_is_empty_or_fuzzy():
    bad = [
        msgid
        for msgid, (msgstr, fuzzy) in _catalogue().items()
        if msgid and (not msgstr or fuzzy)
    ]
    assert bad == []


def test_the_compiled_catalogue_matches_the_po_file():
    """The .mo is committed (decision 0033): it must be compiled from this .po."""
    with open(CATALOGUE / "django.mo", "rb") as f:
        compiled = gettext.GNUTranslations(f)
    for msgid, (msgstr, _) in _catalogue().items():
        if msgid:
            assert compiled.gettext(msgid) == msgstr, "run: make messages"


@pytest.mark.django_db
def test_toggling_to_welsh_renders_the_start_page_in_welsh(client):
    page = client.get("/")
    assert '<html lang="en"' in page.content.decode()

    response = client.post(
        "/i18n/setlang/", {"language": "cy", "next": "/"}, follow=True
    )
    html = response.content.decode()
    assert '<html lang="cy"' in html
    assert "Mynediad i\u2019r Gwasanaeth Cofnodion Dysgu" in html
    assert "Access the Learning Records Service" not in html
    assert "Newid yr iaith i\u2019r " not in html  # the toggle now offers English

    response = client.post(
        "/i18n/setlang/", {"language": "en-gb", "next": "/"}, follow=True
    )
    assert '<html lang="en"' in response.content.decode()


@pytest.mark.django_db
def test_the_toggle_will_not_redirect_off_the_site(client):
    response = client.post(
        "/i18n/setlang/", {"language": "cy", "next": "https://example.com/"}
    )
    assert response.status_code == 302
    assert not response["Location"].startswith("https://example.com")
