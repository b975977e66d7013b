"""The agreement's versions: the one directors must sign now, and the
organisations that must sign each new one."""

from django.db.models import QuerySet

from registration.models import AgreementVersion, Organisation


def agreement_current_version() -> AgreementVersion | None:
    """The latest published agreement version, the one directors must sign."""
    return (
        AgreementVersion.objects.filter(published_at__isnull=False)
        .order_by("-number")
        .first()
    )


# Organisations that hold (or are suspended from) LRS access must sign each new
# version. Revoked and deregistered ones sign again through re-registration.
MUST_SIGN = (Organisation.Status.REGISTERED, Organisation.Status.SUSPENDED)


def agreement_must_sign(organisation: Organisation) -> bool:
    """Whether the organisation must sign the current version, whatever its state
    on the register (a suspended one included)."""
    return organisation.status in MUST_SIGN


def agreement_signers() -> QuerySet[Organisation]:
    """Every organisation that must sign a new version."""
    return Organisation.objects.filter(status__in=MUST_SIGN)


def agreement_publish_recipients() -> QuerySet[Organisation]:
    """Organisations whose director is emailed when a new version is published."""
    return agreement_signers().exclude(signing_director_email="")
