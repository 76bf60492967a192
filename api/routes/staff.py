from __future__ import annotations

from uuid import UUID

from api.blueprint import Blueprint
from api.idempotency import idempotent
from auth.roles import current_account, roles_required
from schemas.accounts import StaffCreatedOut, StaffIn, StaffListArgs, StaffOut, StaffPageOut
from services.accounts import operations as accounts
from storage.models.accounts import Account
from storage.paging import paginate
from storage.vocabulary import Role

blp = Blueprint("staff", __name__, url_prefix="/v1/admin/staff", description="Staff accounts")


@blp.route("", methods=["POST"])
@roles_required(Role.ADMIN)
@idempotent
@blp.arguments(StaffIn)
@blp.response(201, StaffCreatedOut)
def create_staff(body):
    return accounts.create_staff(**body, actor=current_account())


@blp.route("", methods=["GET"])
@roles_required(Role.ADMIN)
@blp.arguments(StaffListArgs, location="query")
@blp.response(200, StaffPageOut)
def list_staff(args):
    items, cursor = paginate(accounts.list_staff_query(),
                             [Account.created_at, Account.id], args["cursor"], args["limit"])
    return {"items": items, "next_cursor": cursor}


@blp.route("/<uuid:account_id>/disable", methods=["POST"])
@roles_required(Role.ADMIN)
@blp.response(200, StaffOut)
def disable_staff(account_id: UUID):
    return accounts.disable_staff(account_id=account_id, actor=current_account())
