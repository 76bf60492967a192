"""Texts sent to relatives, in their language."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from services.core import runtime, unit_of_work
from services.core.unit_of_work import OutgoingMessage
from storage.translations import Translations, pick_language, translate
from storage.vocabulary import Language

EN, RU, UK = Language.EN, Language.RU, Language.UK

TEMPLATES: Translations[str] = {
    "verification_code": {
        EN: "Your KinPass verification code is {code}. It is valid for 15 minutes. "
            "Do not share it with anyone.",
        RU: "Ваш код подтверждения KinPass: {code}. Он действует 15 минут. "
            "Никому его не сообщайте.",
        UK: "Ваш код підтвердження KinPass: {code}. Він дійсний 15 хвилин. "
            "Нікому його не повідомляйте.",
    },
    "verification_code_contested": {
        EN: "Your KinPass verification code is {code}. It is valid for 15 minutes. "
            "Do not share it with anyone. Note: another registration with this contact is "
            "also waiting. If you did not start it, enter this code only in the app where "
            "you registered.",
        RU: "Ваш код подтверждения KinPass: {code}. Он действует 15 минут. "
            "Никому его не сообщайте. Внимание: с этим контактом ожидает подтверждения ещё "
            "одна регистрация. Если её начали не вы, вводите этот код только в приложении, "
            "в котором регистрировались.",
        UK: "Ваш код підтвердження KinPass: {code}. Він дійсний 15 хвилин. "
            "Нікому його не повідомляйте. Увага: з цим контактом очікує підтвердження ще "
            "одна реєстрація. Якщо її почали не ви, вводьте цей код лише в застосунку, "
            "у якому реєструвалися.",
    },
    "unlock_code": {
        EN: "Someone has tried many wrong passwords for your KinPass account, so sign-in "
            "is paused. To sign in now, use the code {code} (valid for 15 minutes) with "
            "your password. Do not share it with anyone.",
        RU: "Кто-то много раз ввёл неверный пароль от вашей учётной записи KinPass, поэтому "
            "вход приостановлен. Чтобы войти сейчас, введите код {code} (действует "
            "15 минут) вместе с паролем. Никому его не сообщайте.",
        UK: "Хтось багато разів увів неправильний пароль до вашого облікового запису "
            "KinPass, тому вхід призупинено. Щоб увійти зараз, введіть код {code} (дійсний "
            "15 хвилин) разом із паролем. Нікому його не повідомляйте.",
    },
    "password_reset_code": {
        EN: "Your KinPass password reset code is {code}. It is valid for 15 minutes. "
            "If you did not ask to reset your password, ignore this message.",
        RU: "Ваш код для сброса пароля KinPass: {code}. Он действует 15 минут. "
            "Если вы не просили сбросить пароль, не обращайте внимания на это сообщение.",
        UK: "Ваш код для скидання пароля KinPass: {code}. Він дійсний 15 хвилин. "
            "Якщо ви не просили скинути пароль, не зважайте на це повідомлення.",
    },
    "password_changed": {
        EN: "The password of your KinPass account has been changed and your other "
            "sessions signed out. If you did not do this, reset your password at once.",
        RU: "Пароль вашей учётной записи KinPass изменён, другие сеансы завершены. Если "
            "это сделали не вы, немедленно сбросьте пароль.",
        UK: "Пароль вашого облікового запису KinPass змінено, інші сеанси завершено. Якщо "
            "це зробили не ви, негайно скиньте пароль.",
    },
    "account_erased": {
        EN: "Your KinPass account has been erased: your requests were withdrawn and their "
            "documents destroyed. You will receive no more messages from KinPass.",
        RU: "Ваша учётная запись KinPass удалена: заявки отозваны, их документы "
            "уничтожены. Больше сообщений от KinPass вы не получите.",
        UK: "Ваш обліковий запис KinPass видалено: заявки відкликано, їхні документи "
            "знищено. Більше повідомлень від KinPass ви не отримуватимете.",
    },
    "already_registered": {
        EN: "Someone tried to register with this contact on KinPass, but an account "
            "already exists. If it was you, sign in instead. If not, you can ignore this.",
        RU: "Кто-то попытался зарегистрироваться в KinPass с этим контактом, но учётная "
            "запись уже существует. Если это были вы, просто войдите. Если нет, "
            "не обращайте внимания на это сообщение.",
        UK: "Хтось спробував зареєструватися в KinPass з цим контактом, але обліковий "
            "запис уже існує. Якщо це були ви, просто увійдіть. Якщо ні, "
            "не зважайте на це повідомлення.",
    },
    "case_submitted": {
        EN: "Your KinPass request {ref} has been received. We are checking your documents "
            "and will let you know when an officer starts reviewing it.",
        RU: "Ваша заявка KinPass {ref} получена. Мы проверяем документы и сообщим вам, "
            "когда её начнёт рассматривать сотрудник.",
        UK: "Вашу заявку KinPass {ref} отримано. Ми перевіряємо документи й повідомимо "
            "вас, коли її почне розглядати співробітник.",
    },
    "case_in_review": {
        EN: "An officer is now reviewing your KinPass request {ref}. You do not need to do "
            "anything for now.",
        RU: "Вашу заявку KinPass {ref} рассматривает сотрудник. Пока от вас ничего "
            "не требуется.",
        UK: "Вашу заявку KinPass {ref} розглядає співробітник. Поки що від вас нічого "
            "не потрібно.",
    },
    "case_info_requested": {
        EN: "Your KinPass request {ref} needs more information. The officer writes: "
            "“{reason}”{documents} Open the KinPass app, make the changes and send "
            "the request again.",
        RU: "По вашей заявке KinPass {ref} нужны дополнительные сведения. Сотрудник пишет: "
            "«{reason}»{documents} Откройте приложение KinPass, внесите изменения "
            "и отправьте заявку снова.",
        UK: "Для вашої заявки KinPass {ref} потрібні додаткові відомості. Співробітник "
            "пише: «{reason}»{documents} Відкрийте застосунок KinPass, внесіть зміни "
            "й надішліть заявку знову.",
    },
    "case_approval_pending": {
        EN: "Your KinPass request {ref} has passed the officer's review and is waiting for "
            "a supervisor's final approval.",
        RU: "Ваша заявка KinPass {ref} прошла проверку сотрудника и ожидает окончательного "
            "утверждения руководителем.",
        UK: "Ваша заявка KinPass {ref} пройшла перевірку співробітника й очікує "
            "остаточного затвердження керівником.",
    },
    "case_approved": {
        EN: "Your KinPass request {ref} has been approved. We will send your travel "
            "authorisation and the details of the handover appointment in the app.",
        RU: "Ваша заявка KinPass {ref} одобрена. Разрешение на поездку и сведения о встрече "
            "для передачи мы пришлём в приложении.",
        UK: "Вашу заявку KinPass {ref} схвалено. Дозвіл на поїздку та відомості про зустріч "
            "для передачі ми надішлемо в застосунку.",
    },
    "case_rejected": {
        EN: "We are sorry: your KinPass request {ref} has been rejected. If you have new "
            "documents, you can open a new request in the app.",
        RU: "К сожалению, ваша заявка KinPass {ref} отклонена. Если у вас появятся новые "
            "документы, вы можете подать новую заявку в приложении.",
        UK: "На жаль, вашу заявку KinPass {ref} відхилено. Якщо у вас з’являться нові "
            "документи, ви можете подати нову заявку в застосунку.",
    },
    "case_completed": {
        EN: "The handover under your KinPass request {ref} has taken place. We wish you and "
            "your family all the best.",
        RU: "Передача по вашей заявке KinPass {ref} состоялась. Желаем вам и вашей семье "
            "всего доброго.",
        UK: "Передачу за вашою заявкою KinPass {ref} здійснено. Бажаємо вам і вашій родині "
            "всього найкращого.",
    },
    "case_withdrawn": {
        EN: "Your KinPass request {ref} has been withdrawn and its documents destroyed. "
            "If you did not do this, change your password at once.",
        RU: "Ваша заявка KinPass {ref} отозвана, её документы уничтожены. Если вы этого "
            "не делали, немедленно смените пароль.",
        UK: "Вашу заявку KinPass {ref} відкликано, її документи знищено. Якщо ви цього "
            "не робили, негайно змініть пароль.",
    },
    "authorization_issued_travel": {
        EN: "Your travel authorization for the journey to Kyiv (request {ref}) has been "
            "issued. Open the KinPass app to see its dates and show its QR code at the "
            "checkpoints.",
        RU: "Вам выдано разрешение на поездку в Киев (заявка {ref}). Откройте приложение "
            "KinPass, чтобы увидеть сроки его действия и показать QR-код на пунктах "
            "пропуска.",
        UK: "Вам видано дозвіл на поїздку до Києва (заявка {ref}). Відкрийте застосунок "
            "KinPass, щоб побачити строки його дії та показати QR-код на пунктах пропуску.",
    },
    "authorization_issued_pickup": {
        EN: "Your authorization to collect your relative (request {ref}) has been issued. "
            "Open the KinPass app to see the place and time of the handover and show its "
            "QR code there.",
        RU: "Вам выдано разрешение на встречу и передачу вашего родственника (заявка "
            "{ref}). Откройте приложение KinPass, чтобы узнать место и время передачи, и "
            "покажите там QR-код.",
        UK: "Вам видано дозвіл на зустріч і передачу вашого родича (заявка {ref}). "
            "Відкрийте застосунок KinPass, щоб дізнатися місце й час передачі, і покажіть "
            "там QR-код.",
    },
    "authorization_revoked": {
        EN: "One of your KinPass authorizations for request {ref} has been revoked, and its "
            "QR code is no longer valid. Open the app to see your current authorizations.",
        RU: "Одно из ваших разрешений KinPass по заявке {ref} отозвано, его QR-код больше "
            "не действует. Откройте приложение, чтобы увидеть действующие разрешения.",
        UK: "Один із ваших дозволів KinPass за заявкою {ref} відкликано, його QR-код більше "
            "не дійсний. Відкрийте застосунок, щоб побачити чинні дозволи.",
    },
}


def notify(to: str, template: str, language: str | None, code: str | None = None,
           **params: Any) -> None:
    """Send after the commit, so a message never announces something that was rolled back."""
    lang = pick_language(language)
    text = translate(TEMPLATES, template, lang).format(code=code, **params)
    unit_of_work.queue_message(OutgoingMessage(to=to, template=template, language=lang,
                                               text=text, code=code))


def send_messages(messages: Sequence[OutgoingMessage]) -> None:
    """The unit of work's courier: hand each committed message to the notifier."""
    notifier = runtime.get().notifier
    for message in messages:
        notifier.send({key: value for key, value in asdict(message).items()
                       if value is not None})
