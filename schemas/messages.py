"""Devices for push messages, and the delivery state officers see."""
from __future__ import annotations

from marshmallow import fields, validate

from schemas.base import EnumValue, In, Out, Pattern, UtcDateTime
from storage.vocabulary import DevicePlatform, MessageChannel, MessageStatus

DEVICE_TOKEN_MAX = 512


class DeviceIn(In):
    platform = EnumValue(DevicePlatform, required=True)
    token = fields.String(required=True,
                          validate=[validate.Length(min=1, max=DEVICE_TOKEN_MAX),
                                    Pattern(r"^[\x21-\x7e]+$", error="Not a device token.")])

    EXAMPLE = {"platform": "fcm",
               "token": "dQw4w9WgXcQ:APA91bH-example-registration-token"}  # nosec B105 (an example)


class DeviceOut(Out):
    id = fields.UUID()
    platform = EnumValue(DevicePlatform)
    created_at = UtcDateTime()


class MessageStateOut(Out):
    id = fields.UUID()
    channel = EnumValue(MessageChannel)
    template = fields.String()
    status = EnumValue(MessageStatus)
    attempts = fields.Integer()
    created_at = UtcDateTime()
    sent_at = UtcDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)


class MessageStateListOut(Out):
    items = fields.List(fields.Nested(MessageStateOut))
