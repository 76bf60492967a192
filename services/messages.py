"""Texts sent to relatives, in their language."""
from __future__ import annotations

from typing import Any

from services import runtime
from storage.db import session as db

LANGUAGES = ("en", "ru", "uk")

TEMPLATES: dict[str, dict[str, str]] = {
    "verification_code": {
        "en": "Your KinPass verification code is {code}. It is valid for 15 minutes. "
              "Do not share it with anyone.",
        "ru": "Ваш код подтверждения KinPass: {code}. Он действует 15 минут. "
              "Никому его не сообщайте.",
        "uk": "Ваш код підтвердження KinPass: {code}. Він дійсний 15 хвилин. "
              "Нікому його не повідомляйте.",
    },
    "already_registered": {
        "en": "Someone tried to register with this contact on KinPass, but an account "
              "already exists. If it was you, sign in instead. If not, you can ignore this.",
        "ru": "Кто-то попытался зарегистрироваться в KinPass с этим контактом, но учётная "
              "запись уже существует. Если это были вы, просто войдите. Если нет, "
              "не обращайте внимания на это сообщение.",
        "uk": "Хтось спробував зареєструватися в KinPass з цим контактом, але обліковий "
              "запис уже існує. Якщо це були ви, просто увійдіть. Якщо ні, "
              "не зважайте на це повідомлення.",
    },
}


def pick_language(language: str | None) -> str:
    return language if language in LANGUAGES else "en"


def notify(to: str, template: str, language: str | None, code: str | None = None,
           **params: Any) -> None:
    """Send after the commit, so a message never announces something that was rolled back."""
    lang = pick_language(language)
    text = TEMPLATES[template][lang].format(code=code, **params)
    message = {"to": to, "template": template, "language": lang, "text": text}
    if code is not None:
        message["code"] = code
    db().info.setdefault("outbox", []).append(message)


def flush_outbox(messages: list[dict[str, Any]]) -> None:
    notifier = runtime.get().notifier
    for message in messages:
        notifier.send(message)
