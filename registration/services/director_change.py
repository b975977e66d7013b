"""A change of signing director after registration (issue 19).

The super user nominates a current director from Companies House; the nominee signs
through their own link and letter code; until then the old director stays on record
and their pending links stop working. A caseworker is told at both steps.

The nomination is here, above the agreement's links it sends; the nominee still
to sign, and the email once they have, are in
registration.services.agreements.nominee, which the links and signatures read.
"""

from django.utils.translation import gettext as _

from lrs_portal import roles
from lrs_portal.models import User
from lrs_portal.services import notification_send_to_role
from registration import permissions
from registration.models import Organisation, SigningRequest
from registration.services.agreements import SigningRefused, signing_request_send
from registration.services.agreements.nominee import (
    director_nomination_pending as director_nomination_pending,  # the page reads it
)
from registration.services.agreements.nominee import organisation_admin_link


def organisation_nominate_director(
    *, organisation: Organisation, appointment: str, email: str, acting_user: User
) -> SigningRequest:
    """The super user names a new signing director from Companies House's current
    directors: they get a link and a letter code, earlier links stop working, and
    caseworkers are told."""
    if not permissions.can_manage_users(acting_user, organisation):
        raise PermissionError("Only the organisation's super user names its director")
    if organisation.status != Organisation.Status.REGISTERED:
        raise SigningRefused(
            _("Only a registered organisation can change its signing director")
        )
    request = signing_request_send(
        acting_user=acting_user,
        organisation=organisation,
        appointment=appointment,
        email=email,
    )
    notification_send_to_role(
        role=roles.CASEWORKER,
        subject=f"New signing director nominated: {organisation.legal_name}",
        body=(
            f"{acting_user.full_name} ({acting_user.email}) nominated "
            f"{request.director_name} as the director who signs the LRS agreement "
            f"for {organisation}, in place of "
            f"{organisation.signing_director_name or 'nobody'}.\n\n"
            "Companies House lists them as a current director. They have been "
            "emailed a link and posted a code to their correspondence address; "
            "the change takes effect when they sign.\n\n"
            f"The organisation: {organisation_admin_link(organisation)}"
        ),
        reference="agreement.director_nominated",
    )
    return request
