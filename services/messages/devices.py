"""The devices a relative registered for push messages."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from storage.db import session as db
from storage.domain_errors import NotFound
from storage.models.accounts import Account
from storage.models.messages import Device
from storage.paging import Page, paginate
from storage.vocabulary import DevicePlatform


def register_device(*, platform: DevicePlatform, token: str, actor: Account) -> Device:
    """A token she registered already is the same device."""
    existing = db().scalar(select(Device).where(Device.account_id == actor.id,
                                                Device.platform == platform,
                                                Device.token == token))
    if existing is not None:
        return existing
    device = Device(account_id=actor.id, platform=platform, token=token)
    db().add(device)
    db().flush()
    return device


def list_devices(*, actor: Account, cursor: str | None, limit: int) -> Page[Device]:
    return paginate(select(Device).where(Device.account_id == actor.id),
                    [Device.created_at, Device.id], cursor, limit)


def delete_device(*, device_id: uuid.UUID, actor: Account) -> None:
    """Another account's device answers 404, exactly as one that does not exist."""
    device = db().get(Device, device_id)
    if device is None or device.account_id != actor.id:
        raise NotFound()
    db().delete(device)
    db().flush()
