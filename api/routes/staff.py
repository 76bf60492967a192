from __future__ import annotations

from uuid import UUID

from api.blueprint import Blueprint
from api.idempotency import idempotent
from auth.roles import current_account, roles_required
from schemas.accounts import StaffCreatedOut, StaffIn, StaffOut
from services.accounts import staff as accounts
from storage.vocabulary import Role

blp = Blueprint("staff", __name__, url_prefix="/v1/admin/staff", description="Staff accounts")


@blp.route("", methods=["POST"])
@roles_required(Role.ADMIN)
@idempotent(secret_fields=("password", "totp_secret", "totp_uri"))
@blp.arguments(StaffIn)
@blp.response(201, StaffCreatedOut)
def create_staff(body):
    """Create a staff account.

    The password and TOTP secret are shown once, in this answer.
    """
    return accounts.create_staff(**body, actor=current_account())


@blp.route("", methods=["GET"])
@roles_required(Role.ADMIN)
@blp.paginated(StaffOut)
def list_staff(cursor, limit):
    """Staff accounts.

    Every staff account, oldest first.
    """
    return accounts.list_staff(cursor=cursor, limit=limit)


@blp.route("/<uuid:account_id>/disable", methods=["POST"])
@roles_required(Role.ADMIN)
@blp.response(200, StaffOut)
def disable_staff(account_id: UUID):
    """Disable a staff account.

    Its tokens answer 401 `token_revoked` at once, its logins 403 `account_disabled`.
    """
    return accounts.disable_staff(account_id=account_id, actor=current_account())
