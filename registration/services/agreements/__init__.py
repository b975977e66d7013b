"""The LRS agreement: published versions, signing links, signatures.

One module per part: versions (the current version, who must sign), links
(sending a signing link, its expiry, finding it), signatures (signing through the
link and the letter's code), publishing (a new version and its links) and nominee
(a newly nominated director still to sign). Every name is importable from here
as before.
"""

from registration.services.agreements.links import (
    SIGNING_LINK_LIFETIME,
    signing_link_expiry,
    signing_request_find,
    signing_request_send,
)
from registration.services.agreements.publishing import agreement_version_publish
from registration.services.agreements.signatures import agreement_sign
from registration.services.agreements.versions import (
    MUST_SIGN,
    agreement_current_version,
    agreement_must_sign,
    agreement_publish_recipients,
    agreement_signers,
)
from registration.services.signing import (
    SigningRefused as SigningRefused,  # callers catch it from here
)

__all__ = [
    "MUST_SIGN",
    "SIGNING_LINK_LIFETIME",
    "SigningRefused",
    "agreement_current_version",
    "agreement_must_sign",
    "agreement_publish_recipients",
    "agreement_sign",
    "agreement_signers",
    "agreement_version_publish",
    "signing_link_expiry",
    "signing_request_find",
    "signing_request_send",
]
