"""Domain errors. Each carries the HTTP meaning (status, stable code); one handler renders them."""
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


def _error(name: str, status: int, code: str) -> type[KinPassError]:
    return type(name, (KinPassError,), {"status": status, "code": code})


ValidationFailed = _error("ValidationFailed", 400, "validation_error")
MalformedJson = _error("MalformedJson", 400, "malformed_json")
AccessReasonRequired = _error("AccessReasonRequired", 400, "access_reason_required")
InvalidCode = _error("InvalidCode", 400, "invalid_code")
Unauthorized = _error("Unauthorized", 401, "unauthorized")
InvalidCredentials = _error("InvalidCredentials", 401, "invalid_credentials")
OtpRequired = _error("OtpRequired", 401, "otp_required")
InvalidOtp = _error("InvalidOtp", 401, "invalid_otp")
TokenExpired = _error("TokenExpired", 401, "token_expired")
TokenRevoked = _error("TokenRevoked", 401, "token_revoked")
Forbidden = _error("Forbidden", 403, "forbidden")
AccountNotVerified = _error("AccountNotVerified", 403, "account_not_verified")
AccountDisabled = _error("AccountDisabled", 403, "account_disabled")
NotFound = _error("NotFound", 404, "not_found")
MethodNotAllowed = _error("MethodNotAllowed", 405, "method_not_allowed")
Conflict = _error("Conflict", 409, "conflict")
InvalidState = _error("InvalidState", 409, "invalid_state")
DocumentsMissing = _error("DocumentsMissing", 409, "documents_missing")
FourEyesRequired = _error("FourEyesRequired", 409, "four_eyes_required")
AlreadyRedeemed = _error("AlreadyRedeemed", 409, "already_redeemed")
Revoked = _error("Revoked", 409, "revoked")
Expired = _error("Expired", 409, "expired")
NotYetValid = _error("NotYetValid", 409, "not_yet_valid")
Gone = _error("Gone", 410, "gone")
PayloadTooLarge = _error("PayloadTooLarge", 413, "payload_too_large")
UnsupportedMediaType = _error("UnsupportedMediaType", 415, "unsupported_media_type")
ChecksumMismatch = _error("ChecksumMismatch", 422, "checksum_mismatch")
SizeMismatch = _error("SizeMismatch", 422, "size_mismatch")
NotRedeemable = _error("NotRedeemable", 422, "not_redeemable")
InvalidToken = _error("InvalidToken", 422, "invalid_token")
IdempotencyKeyReused = _error("IdempotencyKeyReused", 422, "idempotency_key_reused")
InvalidCiphertext = _error("InvalidCiphertext", 422, "invalid_ciphertext")
RateLimited = _error("RateLimited", 429, "rate_limited")
StorageUnavailable = _error("StorageUnavailable", 503, "storage_unavailable")
DatabaseUnavailable = _error("DatabaseUnavailable", 503, "database_unavailable")
ServiceUnavailable = _error("ServiceUnavailable", 503, "service_unavailable")
