"""What the console says when it refuses, per problem code, in the catalogues."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

REFUSALS = {
    "unauthorized": _l("Please sign in."),
    "token_expired": _l("Your session has ended. Please sign in again."),
    "token_revoked": _l("Your session has ended. Please sign in again."),
    "invalid_credentials": _l("The email or password is wrong."),
    "otp_required": _l("Enter the one-time code from your authenticator app."),
    "invalid_otp": _l("The one-time code is wrong or has already been used."),
    "account_disabled": _l("This account is disabled."),
    "account_not_verified": _l("This account is not verified."),
    "forbidden": _l("You may not do this."),
    "not_found": _l("Not found."),
    "rate_limited": _l("Too many attempts. Try again later."),
    "validation_error": _l("Some fields are missing or invalid."),
    "invalid_state": _l("The case is not in a state that allows this."),
    "four_eyes_required": _l("The second approval must come from a different supervisor."),
    "documents_missing": _l("Required documents are missing."),
    "conflict": _l("This conflicts with an existing record."),
    "payload_too_large": _l("The form is too large."),
    "unsupported_media_type": _l("The form could not be read."),
    "gone": _l("This is no longer available."),
    "access_reason_required": _l("Give the reason for this access (at least 10 characters)."),
}
# What a refusal means on the pages of one blueprint, where the general text would mislead.
IN_CONTEXT = {
    "console.documents": {
        "payload_too_large": _l("This file is too large to be shown safely. Download the "
                                "original if you need it."),
        "unsupported_media_type": _l("This file cannot be shown: it does not read as an "
                                     "image or a PDF. Download the original if you need it."),
        "invalid_ciphertext": _l("This document's stored content failed its integrity check "
                                 "and is not shown."),
    },
}
FALLBACK = _l("The request could not be completed.")


def refusal_text(code: str, blueprint: str | None = None) -> str:
    text = IN_CONTEXT.get(blueprint or "", {}).get(code) or REFUSALS.get(code, FALLBACK)
    return str(text)
