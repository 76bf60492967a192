"""Officers and supervisors: handover appointments."""
from __future__ import annotations

from api.blueprint import Blueprint
from api.idempotency import idempotent
from auth.roles import current_account, roles_required
from schemas.handovers import HandoverIn, HandoverOut
from services.authorizations import handovers
from storage.vocabulary import CASE_STAFF

blp = Blueprint("handovers", __name__, url_prefix="/v1/admin/handovers",
                description="Handover appointments")


@blp.route("", methods=["POST"])
@roles_required(*CASE_STAFF)
@idempotent
@blp.arguments(HandoverIn)
@blp.response(201, HandoverOut)
def create_handover(body):
    """Schedule a handover appointment.

    The window must end after it starts and not have ended already.
    """
    return handovers.create_handover(**body, actor=current_account())


@blp.route("", methods=["GET"])
@roles_required(*CASE_STAFF)
@blp.paginated(HandoverOut)
def list_handovers(cursor, limit):
    """Handover appointments.

    Every appointment, oldest first.
    """
    return handovers.list_handovers(cursor=cursor, limit=limit)
