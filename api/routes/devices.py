"""A relative's devices, for push messages about her cases."""
from __future__ import annotations

from uuid import UUID

from api.blueprint import Blueprint, reads_only
from api.idempotency import idempotent
from auth.roles import current_account, roles_required
from schemas.messages import DeviceIn, DeviceOut
from services.messages import devices
from storage.vocabulary import Role

blp = Blueprint("devices", __name__, url_prefix="/v1/me/devices",
                description="Devices for push messages")


@blp.route("", methods=["POST"])
@roles_required(Role.RELATIVE)
@idempotent
@blp.arguments(DeviceIn)
@blp.response(201, DeviceOut)
def register_device(body):
    """Register a device token.

    Push messages about her cases go to it (`fcm` or `apns`).
    """
    return devices.register_device(**body, actor=current_account())


@blp.route("", methods=["GET"])
@reads_only
@roles_required(Role.RELATIVE)
@blp.paginated(DeviceOut)
def list_devices(cursor, limit):
    """One's registered devices.

    The push tokens her cases' messages go to.
    """
    return devices.list_devices(actor=current_account(), cursor=cursor, limit=limit)


@blp.route("/<uuid:device_id>", methods=["DELETE"])
@roles_required(Role.RELATIVE)
@blp.response(204)
def delete_device(device_id: UUID):
    """Remove a device.

    Push messages no longer go to it; another account's device is 404.
    """
    devices.delete_device(device_id=device_id, actor=current_account())
