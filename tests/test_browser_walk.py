"""Every kind of user walks their journeys to their end on the demo data (issue 17),
in Debian's chromium, signing in with the demo sign-ins `make run` prints (staff
with a backup code for their second factor), with axe on every page reached:
no violation of any impact on the public and provider pages, none serious or
critical in the admin. Last, the public pages and a provider super user's pages
again in Welsh, chosen with the header's switcher.

The demo is loaded once (seed_demo, as `make run` does) and the journeys run in
the order the demo's story needs: the director signs before the caseworker can
approve, the suspended provider explains before the caseworker reinstates, the
caseworker triages before the assessor assesses. Each page's axe findings are
collected and asserted together at the end, so one run names them all; what a
journey must show is asserted at once, with Playwright's waiting expect().
"""

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from lrs_portal.demo import DEMO_BACKUP_CODES, DEMO_PASSWORD
from lrs_portal.models import Notification, User
from tests.browser import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("log_truncate_allowed"),  # the demo writes the log
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]

CASEWORKER = "caseworker@education.example.com"
ASSESSOR = "assessor@education.example.com"
CHAIR = "panel@education.example.com"
MEMBERS = ("panel.two@education.example.com", "panel.three@education.example.com")
SUPER_USER = "priya.shah@northfield-college.example.com"
PROVIDER_USER = "tom.reed@northfield-college.example.com"
SUSPENDED = "alex.morgan@swiftcheck-screening.example.com"
REQUESTER = "rhea.jones@research-institute.example.com"
SERIOUS = {"serious", "critical"}
expect.set_options(timeout=10_000)  # a step that has not happened by then will not


@dataclass
class Walk:
    """The live server, the browser, and what axe found on each page."""

    base: str
    browser: Browser
    found: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)
    codes_used: dict[str, int] = field(default_factory=dict)

    def check(self, page: Page, *, admin: bool = False) -> None:
        """axe on the page as it is now: every violation counts on the public and
        provider pages, only serious and critical ones in the admin."""
        violations = Axe().run(page).response["violations"]
        where = page.url.removeprefix(self.base)
        self.pages.append(where)
        for v in violations:
            if admin and v["impact"] not in SERIOUS:
                continue
            if _known(v):
                continue
            targets = "; ".join(str(n["target"][0]) for n in v["nodes"][:3])
            self.found.append(f"{where}: {v['id']} ({v['impact']}): {targets}")

    def new_page(self) -> Page:
        page = self.browser.new_context().new_page()
        page.set_default_timeout(10_000)
        return page

    def go(
        self, page: Page, path: str, *, admin: bool = False, status: int = 200
    ) -> None:
        response = page.goto(self.base + path)
        assert response is not None
        assert response.status == status, f"{path}: {response.status}"
        self.check(page, admin=admin)

    def sign_in(self, email: str, *, staff: bool = False) -> Page:
        """As a person would: the start page, Sign in, the password, and for
        department staff a backup code (the demo's second factor)."""
        page = self.new_page()
        page.goto(self.base + "/")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_label("Email address")).to_be_visible()
        first = not self.codes_used and email == PROVIDER_USER
        if first or (staff and email not in self.codes_used and not self.codes_used):
            self.check(page)  # the sign-in page, once
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Continue").click()
        if staff:
            page.get_by_role("button", name="Use a backup code").click()
            if not self.codes_used:
                expect(page.get_by_label("backup code")).to_be_visible()
                self.check(page)  # the backup code page, once
            code = self.codes_used.get(email, 0)
            self.codes_used[email] = code + 1
            page.get_by_label("backup code").fill(DEMO_BACKUP_CODES[code])
            page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/account/")
        expect(page.get_by_role("heading", name="Your account")).to_be_visible()
        return page


def _known(violation: dict[str, Any]) -> bool:
    """The one violation the accessibility statement lists as known: GOV.UK
    Frontend's conditional reveal sets aria-expanded on a radio button, which
    ARIA does not allow there (the statement's "Non-accessible content")."""
    return violation["id"] == "aria-allowed-attr" and all(
        "govuk-radios__input" in node["html"] and "aria-expanded" in node["html"]
        for node in violation["nodes"]
    )


@pytest.fixture
def demo(settings: Any, tmp_path: Any) -> None:
    settings.DEBUG = True  # seed_demo refuses to run otherwise
    settings.COMPANIES_HOUSE_API_KEY = ""  # its recorded responses
    call_command("seed_demo", outbox=str(tmp_path / "outbox.txt"), verbosity=0)
    settings.DEBUG = False
    # What the worker does once the demo's application is submitted (`make run`
    # runs its tasks in-process; here they wait on the test broker).
    from registration.models import RegistrationApplication
    from registration.services import application_run_checks

    application = RegistrationApplication.objects.get(reference="LRS-DEMO01")
    application_run_checks(application=application, acting_user=application.applicant)


@pytest.fixture
def walk(live_server: Any, browser: Browser, demo: None) -> Walk:
    return Walk(live_server.url, browser)


# --- a member of the public ------------------------------------------------------


def _public(walk: Walk) -> None:
    page = walk.new_page()
    walk.go(page, "/")
    for link, heading in (
        ("Accessibility statement", "Accessibility statement"),
        ("Privacy", "Privacy notice"),
        ("Cookies", "Cookies"),
        ("Contact", "Contact"),
    ):
        page.get_by_role("contentinfo").get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        walk.check(page)
    # The known issue the walk lets pass is listed (the page was the first).
    page.get_by_role("contentinfo").get_by_role(
        "link", name="Accessibility statement"
    ).click()
    expect(page.locator("main")).to_contain_text("aria-expanded attribute")
    response = page.goto(walk.base + "/no-such-page/")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    walk.check(page)
    # What a learner can read about their own record, and the registers.
    walk.go(page, "/who-looked-at-your-record")
    walk.go(page, "/access-register")
    walk.go(page, "/data-sharing/published/")
    # A page that only takes a form post, opened from a bookmark.
    response = page.goto(walk.base + "/learners/record/")
    assert response is not None
    assert response.status == 405
    walk.check(page)
    expect(page.locator("main a").first).to_be_visible()  # a way on


# --- an applicant, from creating an account to submitting ----------------------------

APPLICANT = "ewan.ross@highland-skills.example.com"
HIGHLAND = "HIGHLAND SKILLS LIMITED"


def _save(walk: Walk, page: Page) -> None:
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/apply/")
    walk.check(page)


def _task(walk: Walk, page: Page, name: str) -> None:
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    walk.check(page)


def _applicant(walk: Walk) -> None:
    page = walk.new_page()
    page.goto(walk.base + "/")
    page.get_by_role("link", name="Apply to register your organisation").click()
    page.wait_for_url("**/apply/create-account/")
    walk.check(page)
    # A personal address is refused on the first page that asks for one.
    page.get_by_label("Full name").fill("Ewan Ross")
    page.get_by_label("Work email address").fill("ewan.ross@gmail.com")
    page.get_by_label("Create a password").fill("heather-loch-bothy-82")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    walk.check(page)
    page.get_by_label("Work email address").fill(APPLICANT)
    page.get_by_label("Create a password").fill("heather-loch-bothy-82")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/apply/")
    expect(page.get_by_text("You have completed 0 of 6 sections")).to_be_visible()
    walk.check(page)

    _task(walk, page, "Organisation details")
    page.get_by_label("Legal name", exact=True).fill(HIGHLAND)
    page.get_by_label("UK Provider Reference Number (UKPRN)").fill("10056789")
    page.get_by_label("Companies House number").fill("SC612345")
    page.get_by_label("ICO registration number").fill("ZB877370")
    page.get_by_label("Registered address").fill(
        "12 Harbour Street\nInverness\nIV1 1AA"
    )
    page.get_by_label("Website").fill("https://highland-skills.example.com")
    page.get_by_label("I will be my organisation's LRS super user").check()
    _save(walk, page)

    _task(walk, page, "Accreditation and learners")
    page.get_by_label("Awarding organisation", exact=True).fill("SQA")
    page.get_by_label("Your centre number or reference with them").fill("SQA-5521")
    page.get_by_role("button", name="Add awarding organisation").click()
    expect(page.get_by_text("You added SQA")).to_be_visible()
    walk.check(page)
    page.get_by_label("How many learners do you expect to enrol each year?").fill("600")
    _save(walk, page)

    _task(walk, page, "Going concern")
    expect(page.locator(".govuk-summary-list").first).to_contain_text(HIGHLAND)
    _save(walk, page)

    _task(walk, page, "Purpose")
    page.get_by_label("Enrol our own students").check()
    page.get_by_label("Describe in detail how you will use the LRS").fill(
        "We are a training provider in Inverness. When a learner enrols with us we "
        "look up their ULN and prior achievements, after giving them the LRS privacy "
        "notice, so that we can place them on the right course."
    )
    _save(walk, page)

    _task(walk, page, "Learners you serve")
    page.get_by_label("17 to 19").check()
    page.get_by_label("Mostly within a distance of our registered address").check()
    page.get_by_label("Distance in kilometres").fill("80")
    _save(walk, page)

    _task(walk, page, "Signing director")
    page.get_by_label("MACLEOD, Fiona Isla").check()
    page.get_by_label("The director's work email address").fill(
        "fiona.macleod@highland-skills.example.com"
    )
    _save(walk, page)

    expect(page.get_by_text("You have completed 6 of 6 sections")).to_be_visible()
    page.get_by_role("link", name="Check answers and submit").click()
    page.wait_for_url("**/apply/check-answers/")
    expect(page.locator("main")).to_contain_text("SQA (SQA-5521)")
    walk.check(page)
    page.get_by_label("I confirm the declaration").check()
    page.get_by_role("button", name="Submit application").click()
    page.wait_for_url("**/submitted/")
    expect(page.get_by_role("heading", name="Application submitted")).to_be_visible()
    walk.check(page)
    page.get_by_role("link", name=re.compile("application")).first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    walk.check(page)


# --- the director of LRS-DEMO01 signs from the emailed link -------------------------

DIRECTOR = "daniel.hughes@riverside-training.example.com"


def _director(walk: Walk) -> None:
    email = Notification.objects.filter(
        reference="agreement.signing_link", to=DIRECTOR
    ).latest("pk")
    link = re.search(r"/agreement/sign/[^/\s]+/", email.body)
    assert link is not None, email.body
    letter = Notification.objects.filter(
        reference="agreement.signing_code",
        personalisation__organisation_name="RIVERSIDE TRAINING LTD",
    ).latest("pk")
    page = walk.new_page()
    walk.go(page, link.group(0))
    expect(
        page.get_by_role("heading", name="Sign the Learning Records Service agreement")
    ).to_be_visible()
    page.get_by_role("button", name="Sign the agreement").click()  # empty first
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    walk.check(page)
    page.get_by_label("Your full name").fill("Daniel Hughes")
    page.get_by_label("The code from your letter").fill(
        str(letter.personalisation["code"])
    )
    page.get_by_label("I have read the agreement and I agree to it").check()
    page.get_by_role("button", name="Sign the agreement").click()
    expect(
        page.get_by_role("heading", name="You have signed the agreement")
    ).to_be_visible()
    walk.check(page)


# --- a provider user looks up learners ----------------------------------------------


def _confirm(page: Page) -> None:
    page.get_by_label("I have given this learner the LRS privacy notice").check()
    page.get_by_label(
        "I am looking up this learner to enrol them as our own student"
    ).check()


def _by_uln(walk: Walk, page: Page, uln: str) -> None:
    page.goto(walk.base + "/learners/find-by-uln/")
    page.get_by_label("Unique learner number (ULN)").fill(uln)
    _confirm(page)
    page.get_by_role("button", name="Search").click()


def _by_details(
    walk: Walk, page: Page, given: str, family: str, born: str, sex: str, postcode: str
) -> None:
    page.goto(walk.base + "/learners/find-by-details/")
    day, month, year = born.split()
    page.get_by_label("Given name", exact=True).fill(given)
    page.get_by_label("Family name", exact=True).fill(family)
    page.get_by_label("Day", exact=True).fill(day)
    page.get_by_label("Month", exact=True).fill(month)
    page.get_by_label("Year", exact=True).fill(year)
    page.get_by_label(sex, exact=True).check()
    page.get_by_label("Postcode", exact=True).fill(postcode)
    _confirm(page)
    page.get_by_role("button", name="Search").click()


def _heading(page: Page, name: str) -> None:
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()


def _provider_user(walk: Walk) -> None:
    page = walk.sign_in(PROVIDER_USER)
    walk.check(page)
    page.get_by_role("link", name="Find a learner").click()
    page.wait_for_url("**/learners/")
    walk.check(page)
    page.get_by_role("link", name="Find a learner by ULN").click()
    page.wait_for_url("**/learners/find-by-uln/")
    walk.check(page)
    # A match by ULN, and the record.
    page.get_by_label("Unique learner number (ULN)").fill("9276308686")
    _confirm(page)
    page.get_by_role("button", name="Search").click()
    _heading(page, "Learner found")
    expect(page.locator(".govuk-summary-list")).to_contain_text("14 May 2007")
    walk.check(page)
    page.get_by_role("button", name="View record").click()
    _heading(page, "Amelia Hughes")
    expect(page.get_by_role("heading", name="Achievements")).to_be_visible()
    walk.check(page)
    # A mistyped ULN is refused with its reason.
    _by_uln(walk, page, "9276308687")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    walk.check(page)
    # A record merged into another answers the one it was merged into.
    _by_uln(walk, page, "5550001151")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    walk.check(page)
    # A learner who has not agreed to share: the record shows no achievements.
    _by_uln(walk, page, "5550001143")
    _heading(page, "Learner found")
    page.get_by_role("button", name="View record").click()
    _heading(page, "Harry Evans")
    walk.check(page)
    # By details: a match (the month as a word), possible matches, too many
    # and none.
    _by_details(walk, page, "Amelia", "Hughes", "14 May 2007", "Female", "LS2 9JT")
    _heading(page, "Learner found")
    walk.check(page)
    _by_details(walk, page, "Oliver", "Bennett", "2 3 2005", "Male", "LS1 1AA")
    _heading(page, "2 possible matches")
    walk.check(page)
    _by_details(walk, page, "Jack", "Smith", "1 9 2006", "Male", "LS1 1AA")
    _heading(page, "Too many learners match")
    walk.check(page)
    _by_details(walk, page, "Zofia", "Nowak", "30 1 2001", "Female", "LS1 1AA")
    _heading(page, "No learner found")
    walk.check(page)
    # Only the super user sees the usage: a page that says so.
    walk.go(page, "/organisation/usage/", status=403)
    _heading(page, "Only your organisation's super user can see its usage")


# --- a provider super user manages the organisation ---------------------------------

INVITED = "jo.bloggs@northfield-college.example.com"


def _super_user(walk: Walk) -> None:
    page = walk.sign_in(SUPER_USER)
    walk.check(page)
    page.get_by_role("link", name="Users", exact=True).click()
    _heading(page, "Your organisation's users")
    walk.check(page)
    page.goto(walk.base + "/account/")
    page.get_by_role("link", name="Invite a user").click()
    _heading(page, "Invite a user")
    walk.check(page)
    page.get_by_role("button", name="Send invitation").click()  # empty first
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    walk.check(page)
    page.get_by_label("Full name").fill("Jo Bloggs")
    page.get_by_label("Work email address").fill(INVITED)
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(INVITED).first).to_be_visible()
    walk.check(page)

    # Jo accepts from the emailed link.
    email = Notification.objects.filter(to=INVITED).latest("pk")
    link = re.search(r"/invitation/[^/\s]+/", email.body)
    assert link is not None, email.body
    invited = walk.new_page()
    walk.go(invited, link.group(0))
    invited.get_by_label("Create a password").fill("marble-otter-quince-19")
    invited.get_by_role("button", name="Create account").click()
    expect(invited.get_by_role("heading", level=1)).to_be_visible()
    walk.check(invited)

    # Priya removes Jo again.
    page.goto(walk.base + "/organisation/users/")
    page.get_by_role("row").filter(has_text=INVITED).get_by_role(
        "link", name="Remove"
    ).click()
    _heading(page, "Are you sure you want to remove Jo Bloggs?")
    walk.check(page)
    page.get_by_role("button", name="Remove user").click()
    _heading(page, "Your organisation's users")
    expect(page.get_by_role("row").filter(has_text=INVITED)).to_have_count(0)
    walk.check(page)

    for link_name, heading in (
        ("Confirm your users", None),
        ("Confirm your organisation's registration", None),
        ("Organisation details", "Your organisation's details"),
        ("Director who signs the LRS agreement", None),
        ("Usage and log of searches", None),
        ("Suspensions", "Suspensions"),
        ("LRS user terms", None),
    ):
        page.goto(walk.base + "/account/")
        page.get_by_role("link", name=link_name, exact=True).click()
        if heading:
            _heading(page, heading)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        walk.check(page)

    # An API client, created and its secret shown once.
    page.goto(walk.base + "/account/")
    page.get_by_role("link", name="API clients", exact=True).click()
    _heading(page, "Your organisation's API clients")
    walk.check(page)
    walk.go(page, "/organisation/api-clients/create/")
    page.get_by_role("button", name="Create API client").click()  # empty first
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    walk.check(page)
    page.get_by_label("Name", exact=True).fill("Student records system")
    tom = page.locator("#id_member option", has_text="Tom Reed").get_attribute("value")
    page.get_by_label("Member responsible").select_option(tom)
    page.locator("input[name='expires_in']").first.check()
    page.get_by_role("button", name="Create API client").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text("Student records system")
    walk.check(page)


# --- a suspended provider -----------------------------------------------------------


def _suspended(walk: Walk) -> None:
    page = walk.sign_in(SUSPENDED)
    expect(page.locator(".govuk-notification-banner")).to_contain_text("suspended")
    walk.check(page)
    # The lookup refuses, and links to the suspension.
    page.get_by_role("link", name="Find a learner").click()
    _heading(page, "You cannot look up learners")
    walk.check(page)
    walk.go(page, "/learners/find-by-uln/", status=403)
    page.get_by_role("link", name="See why, and explain the suspension").click()
    _heading(page, "Suspensions")
    walk.check(page)
    page.get_by_role("button", name="Send explanation").click()  # empty first
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    walk.check(page)
    page.get_by_label("Explain this suspension").fill(
        "Two days ago we checked the prior achievements of a whole intake at once, "
        "before enrolment; it will not happen again."
    )
    page.get_by_role("button", name="Send explanation").click()
    expect(
        page.get_by_text("A caseworker will review your explanation")
    ).to_be_visible()
    walk.check(page)
    # The usage that caused it stays readable.
    walk.go(page, "/organisation/usage/")


# --- a caseworker in the admin ------------------------------------------------------


def _admin_step(
    walk: Walk, page: Page, change_url: str, link: str, button: str, fill: Any = None
) -> None:
    page.goto(change_url)
    page.get_by_role("link", name=link, exact=True).click()
    expect(page.get_by_role("button", name=button)).to_be_visible()
    walk.check(page, admin=True)
    if fill:
        fill(page)
    page.get_by_role("button", name=button).click()
    page.wait_for_url(change_url)
    expect(page.locator(".messagelist .error")).to_have_count(0)
    walk.check(page, admin=True)


def _caseworker(walk: Walk) -> Page:
    from approvals.models import DataShareRequest
    from registration.models import CheckKind, RegistrationApplication, Suspension

    page = walk.sign_in(CASEWORKER, staff=True)
    page.get_by_role("link", name="Go to casework admin").click()
    expect(page.get_by_text("LRS Portal administration").first).to_be_visible()
    walk.check(page, admin=True)

    # The applications queue, and LRS-DEMO01 vetted to approval.
    application = RegistrationApplication.objects.get(reference="LRS-DEMO01")
    walk.go(page, "/admin/registration/registrationapplication/", admin=True)
    change_url = (
        f"{walk.base}/admin/registration/registrationapplication/"
        f"{application.pk}/change/"
    )
    page.goto(change_url)
    walk.check(page, admin=True)
    outcomes = page.get_by_label("Outcome")
    notes = page.get_by_label("Notes")
    expect(outcomes).to_have_count(len(CheckKind))
    for i in range(len(CheckKind)):
        outcomes.nth(i).select_option(label="Pass")
        notes.nth(i).fill("Checked against the source by Cara Caseworker.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/admin/registration/registrationapplication/")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    walk.check(page, admin=True)
    # An exception purpose: the follow-up discussion found it acceptable.
    _admin_step(
        walk,
        page,
        change_url,
        "Record follow-up discussion",
        "Record the discussion",
        lambda p: (
            p.get_by_label("Held on").fill(f"{timezone.localdate():%Y-%m-%d}"),
            p.get_by_label("Attendees").fill("Sam Patel, Cara Caseworker"),
            p.get_by_label("Summary of the discussion").fill(
                "Employer staff are checked only with their written consent."
            ),
            p.locator("input[name='purpose_acceptable'][value='yes']").check(),
        ),
    )
    expect(page.locator("#approval-blockers")).to_contain_text(
        "Nothing blocks approval"
    )
    page.get_by_role("link", name="Approve", exact=True).click()
    page.wait_for_url("**/approve/")
    walk.check(page, admin=True)
    page.get_by_role("button", name="Approve the application").click()
    page.wait_for_url(change_url)
    expect(page.locator(".messagelist")).to_contain_text("Approved")
    walk.check(page, admin=True)

    # SwiftCheck's suspension, explained by the provider, reinstated.
    suspension = Suspension.objects.get(organisation__ukprn="10098765")
    assert suspension.explained_at is not None
    walk.go(page, "/admin/registration/suspension/", admin=True)
    suspension_url = (
        f"{walk.base}/admin/registration/suspension/{suspension.pk}/change/"
    )
    _admin_step(
        walk,
        page,
        suspension_url,
        "Reinstate (false positive)",
        "Reinstate",
        lambda p: p.get_by_label("Reason (the provider is told)").fill(
            "A whole intake checked at once before enrolment: a false positive."
        ),
    )
    suspension.refresh_from_db()
    assert suspension.status == Suspension.Status.REINSTATED

    # The dashboards and the lists a caseworker reads.
    for path in (
        "/admin/registration/suspension/dashboard/",
        "/admin/approvals/datasharerequest/dashboard/",
        "/admin/records/learner/",
        "/admin/records/usagealert/",
        "/admin/records/auditrule/",
        "/admin/approvals/datasharerequest/",
    ):
        walk.go(page, path, admin=True)

    # DS00101 triaged and given to the assessor.
    share = DataShareRequest.objects.get(reference="DS00101")
    share_url = f"{walk.base}/admin/approvals/datasharerequest/{share.pk}/change/"
    _admin_step(
        walk,
        page,
        share_url,
        "Triage complete: send to assessment",
        "Send to assessment",
    )
    assessor = User.objects.get(email=ASSESSOR)
    _admin_step(
        walk,
        page,
        share_url,
        "Assign an assessor",
        "Assign",
        lambda p: (
            p.locator("select[name='assessor']").select_option(str(assessor.pk)),
            p.locator("input[name='no_conflict_declared']").check(),
        ),
    )
    return page


# --- DSAP: the assessor, the panel, the requester ----------------------------------


def _radio(page: Page, name: str, value: str) -> None:
    page.locator(f"input[name='{name}'][value='{value}']").check()


def _assessment(page: Page) -> None:
    from approvals.models import FIVE_SAFES

    for key, label in FIVE_SAFES:
        _radio(page, key, "low")
        page.locator(f"textarea[name='{key}_reason']").fill(f"{label}: fine.")
    page.locator("select[name='recommendation']").select_option("approve")
    page.locator("input[name='no_conflict']").check()


def _decision(page: Page) -> None:
    _radio(page, "outcome", "approved")
    page.locator("textarea[name='reasons']").fill("Clear public benefit.")
    page.locator("textarea[name='supports_aims']").fill("Post-16 research.")


def _dsap(walk: Walk) -> None:
    from approvals.models import DataShareRequest

    first = DataShareRequest.objects.get(reference="DS00101")
    page = walk.sign_in(ASSESSOR, staff=True)
    _admin_step(
        walk,
        page,
        f"{walk.base}/admin/approvals/datasharerequest/{first.pk}/change/",
        "Record the assessment",
        "Record the assessment",
        _assessment,
    )
    first.refresh_from_db()
    assert first.status == DataShareRequest.Status.PANEL

    # DS00102: three votes make the quorum, then the chair decides.
    second = DataShareRequest.objects.get(reference="DS00102")
    second_url = f"{walk.base}/admin/approvals/datasharerequest/{second.pk}/change/"
    chair = walk.sign_in(CHAIR, staff=True)
    for member in (chair, *(walk.sign_in(m, staff=True) for m in MEMBERS)):
        _admin_step(
            walk,
            member,
            second_url,
            "Vote",
            "Record my vote",
            lambda p: _radio(p, "vote", "approve"),
        )
    _admin_step(
        walk,
        chair,
        second_url,
        "Record the decision",
        "Record the decision",
        _decision,
    )
    second.refresh_from_db()
    assert second.status == DataShareRequest.Status.APPROVED

    # The requester follows the requests and starts a new one.
    page = walk.sign_in(REQUESTER)
    page.get_by_role("link", name="Data share requests").click()
    _heading(page, "Data share requests")
    walk.check(page)
    page.get_by_role("link", name=re.compile("DS00102|Pupil mobility")).first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    walk.check(page)
    page.goto(walk.base + "/data-sharing/")
    page.get_by_role("button", name="Start a new request").click()
    page.wait_for_url("**/tasks/")
    walk.check(page)
    page.get_by_role("link", name="The project and its public benefit").click()
    page.get_by_role("button", name="Save and continue").click()  # empty first
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    walk.check(page)
    page.get_by_label("Project title").fill("Apprenticeship starts after the pandemic")
    page.get_by_label("Summary and public benefit").fill("Evidence for providers.")
    page.get_by_label("How the project supports").fill("Post-16 pathways.")
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/tasks/")
    expect(page.get_by_text("You have completed 1 of 7 sections")).to_be_visible()
    walk.check(page)


# --- runs the journeys ---------------------------------------------------------------


# --- the public and provider pages again, in Welsh ------------------------------

# The switcher's name for a screen reader (its apostrophe is U+2019).
TO_WELSH = "Newid yr iaith i\u2019r Gymraeg"
WELSH_PUBLIC = (
    ("/", 200),
    ("/accessibility-statement", 200),
    ("/privacy", 200),
    ("/cookies", 200),
    ("/contact", 200),
    ("/no-such-page/", 404),
    ("/who-looked-at-your-record", 200),
    ("/access-register", 200),
    ("/data-sharing/published/", 200),
    ("/learners/record/", 405),
    ("/apply/create-account/", 200),
)
WELSH_PROVIDER = (
    "/account/",
    "/learners/",
    "/learners/find-by-uln/",
    "/learners/find-by-details/",
    "/learners/batches/",
    "/learners/batches/new/",
    "/organisation/usage/",
    "/organisation/users/",
    "/organisation/users/invite/",
    "/organisation/api-clients/",
    "/organisation/api-clients/create/",
)


def _welsh(walk: Walk) -> None:
    """Chosen with the header's switcher, as a Welsh reader would: every public
    page and the super user's provider pages with lang="cy", under the same axe
    rule as in English, and a form's errors in Welsh."""
    page = walk.new_page()
    page.goto(walk.base + "/")
    page.get_by_role("button", name=TO_WELSH).click()
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    for path, status in WELSH_PUBLIC:
        walk.go(page, path, status=status)
        expect(page.locator("html")).to_have_attribute("lang", "cy")
    provider = walk.sign_in(SUPER_USER)
    provider.get_by_role("button", name=TO_WELSH).click()
    expect(
        provider.get_by_role("heading", name="Eich cyfrif", exact=True)
    ).to_be_visible()
    for path in WELSH_PROVIDER:
        walk.go(provider, path)
        expect(provider.locator("html")).to_have_attribute("lang", "cy")
    walk.go(provider, "/learners/find-by-uln/")
    provider.get_by_role(
        "button", name="Chwilio", exact=True
    ).click()  # nothing entered
    summary = provider.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Mae problem wedi codi")
    walk.check(provider)


def test_every_kind_of_user_walks_their_journeys_on_the_demo(walk: Walk) -> None:
    _public(walk)
    _applicant(walk)
    _director(walk)
    _provider_user(walk)
    _super_user(walk)
    _suspended(walk)
    _caseworker(walk)
    _dsap(walk)
    _welsh(walk)
    assert walk.found == [], "\n".join(walk.found)
