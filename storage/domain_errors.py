"""Domain errors, one class per stable code, each carrying its HTTP status; one handler renders
them (api.errors) and api.problem_texts words every code in every language."""
from __future__ import annotations

from typing import Any


class KinPassError(Exception):
    status = 400
    code = "validation_error"

    def __init__(self, detail: str | None = None, *, errors: dict[str, Any] | None = None,
                 extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        self.errors = errors
        self.extra = extra or {}
        self.headers = headers or {}


class ValidationFailed(KinPassError):
    status = 400
    code = "validation_error"


class MalformedJson(KinPassError):
    status = 400
    code = "malformed_json"


class AccessReasonRequired(KinPassError):
    status = 400
    code = "access_reason_required"


class InvalidCode(KinPassError):
    status = 400
    code = "invalid_code"


class Unauthorized(KinPassError):
    status = 401
    code = "unauthorized"


class InvalidCredentials(KinPassError):
    status = 401
    code = "invalid_credentials"


class OtpRequired(KinPassError):
    status = 401
    code = "otp_required"


class InvalidOtp(KinPassError):
    status = 401
    code = "invalid_otp"


class TokenExpired(KinPassError):
    status = 401
    code = "token_expired"


class TokenRevoked(KinPassError):
    status = 401
    code = "token_revoked"


class Forbidden(KinPassError):
    status = 403
    code = "forbidden"


class AccountNotVerified(KinPassError):
    status = 403
    code = "account_not_verified"


class AccountDisabled(KinPassError):
    status = 403
    code = "account_disabled"


class NotFound(KinPassError):
    status = 404
    code = "not_found"


class MethodNotAllowed(KinPassError):
    status = 405
    code = "method_not_allowed"


class Conflict(KinPassError):
    status = 409
    code = "conflict"


class InvalidState(KinPassError):
    status = 409
    code = "invalid_state"


class DocumentsMissing(KinPassError):
    status = 409
    code = "documents_missing"


class FourEyesRequired(KinPassError):
    status = 409
    code = "four_eyes_required"


class AlreadyRedeemed(KinPassError):
    status = 409
    code = "already_redeemed"


class NotInCustody(KinPassError):
    status = 409
    code = "not_in_custody"


class Revoked(KinPassError):
    status = 409
    code = "revoked"


class Expired(KinPassError):
    status = 409
    code = "expired"


class NotYetValid(KinPassError):
    status = 409
    code = "not_yet_valid"


class OffsetMismatch(KinPassError):
    status = 409
    code = "offset_mismatch"


class Gone(KinPassError):
    status = 410
    code = "gone"


class UnsupportedVersion(KinPassError):
    status = 412
    code = "unsupported_version"


class PayloadTooLarge(KinPassError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(KinPassError):
    status = 415
    code = "unsupported_media_type"


class ChecksumMismatch(KinPassError):
    status = 422
    code = "checksum_mismatch"


class SizeMismatch(KinPassError):
    status = 422
    code = "size_mismatch"


class ChunkChecksumMismatch(KinPassError):
    """A tus chunk whose Upload-Checksum does not match (the checksum extension's 460)."""

    status = 460
    code = "checksum_mismatch"


class NotRedeemable(KinPassError):
    status = 422
    code = "not_redeemable"


class InvalidToken(KinPassError):
    status = 422
    code = "invalid_token"


class IdempotencyKeyReused(KinPassError):
    status = 422
    code = "idempotency_key_reused"


class InvalidCiphertext(KinPassError):
    """``reason`` tells a client what to do (storage.vocabulary.CiphertextFault)."""

    status = 422
    code = "invalid_ciphertext"

    def __init__(self, detail: str | None = None, *, reason: str | None = None) -> None:
        super().__init__(detail, extra={"reason": reason} if reason else None)
        self.reason = reason


class RateLimited(KinPassError):
    status = 429
    code = "rate_limited"


class StorageUnavailable(KinPassError):
    status = 503
    code = "storage_unavailable"


class DatabaseUnavailable(KinPassError):
    status = 503
    code = "database_unavailable"


class ServiceUnavailable(KinPassError):
    status = 503
    code = "service_unavailable"


INTERNAL_ERROR = "internal_error"  # the one code of a 500, which says nothing more


def problem_codes() -> dict[str, tuple[int, ...]]:
    """Every code a problem can carry, with the statuses it is answered with."""
    found: dict[str, set[int]] = {INTERNAL_ERROR: {500}}
    pending = [KinPassError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.code, set()).add(cls.status)
        pending.extend(cls.__subclasses__())
    return {code: tuple(sorted(statuses)) for code, statuses in sorted(found.items())}
