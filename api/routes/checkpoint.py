"""Checkpoints: verify an authorization token, redeem a pickup once."""
from __future__ import annotations

from api.blueprint import Blueprint
from api.idempotency import idempotent
from auth.roles import current_account, roles_required
from schemas.checkpoint import RedeemOut, TokenIn, VerifyOut
from services.authorizations import checkpoint as checkpoint_tokens
from storage.vocabulary import Role

blp = Blueprint("checkpoint", __name__, url_prefix="/v1/checkpoint",
                description="Checkpoints")


@blp.route("/verify", methods=["POST"])
@roles_required(Role.CHECKPOINT)
@blp.arguments(TokenIn)
@blp.response(200, VerifyOut)
def verify(body):
    """Verify an authorization token.

    The result and what the token carries; garbage gives `invalid`, never an error.
    """
    verdict = checkpoint_tokens.verify_authorization(body["token"], current_account())
    return {"result": verdict.result, "authorization": verdict.summary()}


@blp.route("/redeem", methods=["POST"])
@roles_required(Role.CHECKPOINT)
@idempotent
@blp.arguments(TokenIn)
@blp.response(200, RedeemOut)
def redeem(body):
    """Redeem a pickup authorization, once.

    Completes the case and releases the prisoner. A travel token is 422
    `not_redeemable`; a second redemption 409 `already_redeemed`; a revoked, expired or
    early one 409 `revoked`, `expired` or `not_yet_valid`.
    """
    return checkpoint_tokens.redeem_authorization(body["token"], current_account())
