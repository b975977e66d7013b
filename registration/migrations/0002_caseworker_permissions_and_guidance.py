from django.db import migrations

from lrs_portal import roles

# Frozen copy of the permissions this migration granted (roles.PERMISSIONS may grow).
CASEWORKER_PERMISSIONS = tuple(
    f"registration.{codename}"
    for codename in (
        "view_registrationapplication",
        "change_registrationapplication",
        "vet_registrationapplication",
        "decide_registrationapplication",
        "view_applicationcheck",
        "change_applicationcheck",
        "view_awardingorganisationaccreditation",
        "view_followupdiscussion",
        "add_followupdiscussion",
        "view_organisation",
        "change_organisation",
        "view_membership",
        "view_invitation",
        "view_signingrequest",
        "view_agreementsignature",
        "view_agreementversion",
        "add_agreementversion",
        "change_agreementversion",
        "view_reverificationcase",
        "change_reverificationcase",
        "view_checkguidance",
        "change_checkguidance",
        "view_companieshousesnapshot",
        "view_icoregistration",
    )
)

GUIDANCE = {
    "companies_house": (
        "The company must be on the Companies House register and active. Compare "
        "the registered name with the name on the application: a different name "
        "needs an explanation (a recent change of name is how the 2020 misuse went "
        "unnoticed)."
    ),
    "going_concern": (
        "Look for a proposal to strike off, insolvency history, liquidation, and "
        "overdue accounts or confirmation statement. If the provider uploaded "
        "accounts, check they are the latest and show the business trading."
    ),
    "ico": (
        "The ICO registration must exist, must not have expired, and must be in the "
        "organisation's name (or a trading name it has told us about)."
    ),
    "ukprn": (
        "Confirm on the UKRLP that the UKPRN is active and belongs to this "
        "organisation. The portal checks only its format and that no other "
        "registered organisation uses it."
    ),
    "awarding_organisations": (
        "Confirm with each awarding organisation (or the ESFA record) that the "
        "provider is accredited, and that the learner estimate is plausible for it."
    ),
    "signing_director": (
        "The signer must be a current director at Companies House (not a secretary "
        "or a resigned director), and must have signed the current agreement "
        "version through their own link."
    ),
    "purpose": (
        "Enrolling their own students is the normal purpose. Any other purpose is "
        "an exception: hold and record a follow-up discussion before approving, and "
        "refuse any purpose that passes access or results on to others."
    ),
}


def forwards(apps, schema_editor):
    roles.grant(apps, {roles.CASEWORKER: CASEWORKER_PERMISSIONS})
    guidance = apps.get_model("registration", "CheckGuidance")
    for kind, text in GUIDANCE.items():
        guidance.objects.get_or_create(kind=kind, defaults={"text": text})


def backwards(apps, schema_editor):
    apps.get_model("registration", "CheckGuidance").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("registration", "0001_initial"),
        ("lrs_portal", "0002_roles_and_system_user"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
