"""Forms for the provider's pages: applying, signing, and the organisation's users.

Every message follows the GOV.UK pattern (say what is wrong and how to put it
right). Forms only validate; the views save through registration.services.

One module a concern (issue 18): fields (the GOV.UK fields they are made of),
application, purpose (and the learners served), signing, organisation (users,
identity, suspensions) and yearly_confirmation. The names are imported here so
that ``from registration.forms import X`` reads the same wherever X lives.
"""

from registration.forms.application import (
    AccountsUploadForm,
    AccreditationForm,
    CreateAccountForm,
    DeclarationForm,
    OrganisationDetailsForm,
)
from registration.forms.fields import (
    ACCOUNTS_MAX_BYTES,
    HINT_FOR_PASSWORDS,
    LEARNERS_MAX,
    PASSWORD_MAX_LENGTH,
    PURPOSE_MAX_LENGTH,
    WholeNumberField,
)
from registration.forms.organisation import (
    AcceptInvitationForm,
    InviteUserForm,
    OrganisationIdentityForm,
    SuspensionExplanationForm,
)
from registration.forms.purpose import LearnersServedForm, PurposeForm
from registration.forms.signing import (
    SignAgreementForm,
    SigningDirectorForm,
    director_label,
)
from registration.forms.yearly_confirmation import (
    CHANGE_MAX_LENGTH,
    YES_NO,
    YearlyConfirmationForm,
)

__all__ = [
    "ACCOUNTS_MAX_BYTES",
    "CHANGE_MAX_LENGTH",
    "HINT_FOR_PASSWORDS",
    "LEARNERS_MAX",
    "PASSWORD_MAX_LENGTH",
    "PURPOSE_MAX_LENGTH",
    "YES_NO",
    "AcceptInvitationForm",
    "AccountsUploadForm",
    "AccreditationForm",
    "CreateAccountForm",
    "DeclarationForm",
    "InviteUserForm",
    "LearnersServedForm",
    "OrganisationDetailsForm",
    "OrganisationIdentityForm",
    "PurposeForm",
    "SignAgreementForm",
    "SigningDirectorForm",
    "SuspensionExplanationForm",
    "WholeNumberField",
    "YearlyConfirmationForm",
    "director_label",
]
