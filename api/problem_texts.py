"""Titles and details of every problem code, in every language of the service."""
from __future__ import annotations

from typing import NamedTuple

from storage.translations import Translations, translate
from storage.vocabulary import Language

EN, RU, UK = Language.EN, Language.RU, Language.UK


class ProblemText(NamedTuple):
    title: str
    detail: str


TEXTS: Translations[ProblemText] = {
    "validation_error": {
        EN: ProblemText("Invalid request", "Some fields are missing or invalid; see errors."),
        RU: ProblemText("Неверный запрос",
                        "Некоторые поля отсутствуют или заполнены неверно; см. errors."),
        UK: ProblemText("Неправильний запит",
                        "Деякі поля відсутні або заповнені неправильно; див. errors."),
    },
    "malformed_json": {
        EN: ProblemText("Malformed JSON", "The request body is not valid UTF-8 JSON."),
        RU: ProblemText("Некорректный JSON", "Тело запроса не является корректным JSON в UTF-8."),
        UK: ProblemText("Некоректний JSON", "Тіло запиту не є коректним JSON у UTF-8."),
    },
    "access_reason_required": {
        EN: ProblemText("Access reason required",
                        "Give the reason for this access in X-Access-Reason (at least 10 "
                        "characters)."),
        RU: ProblemText("Требуется причина доступа",
                        "Укажите причину доступа в X-Access-Reason (не менее 10 символов)."),
        UK: ProblemText("Потрібна причина доступу",
                        "Вкажіть причину доступу в X-Access-Reason (щонайменше 10 символів)."),
    },
    "invalid_code": {
        EN: ProblemText("Invalid code", "The code is wrong, expired or no longer valid."),
        RU: ProblemText("Неверный код", "Код неверный, истёк или больше не действует."),
        UK: ProblemText("Неправильний код",
                        "Код неправильний, прострочений або більше не дійсний."),
    },
    "unauthorized": {
        EN: ProblemText("Unauthorized", "A valid access token is required."),
        RU: ProblemText("Требуется вход", "Нужен действительный токен доступа."),
        UK: ProblemText("Потрібен вхід", "Потрібен дійсний токен доступу."),
    },
    "invalid_credentials": {
        EN: ProblemText("Invalid credentials", "The login or password is wrong."),
        RU: ProblemText("Неверные данные", "Неверный логин или пароль."),
        UK: ProblemText("Неправильні дані", "Неправильний логін або пароль."),
    },
    "otp_required": {
        EN: ProblemText("One-time code required",
                        "Staff accounts sign in with a one-time code (otp)."),
        RU: ProblemText("Нужен одноразовый код", "Сотрудники входят с одноразовым кодом (otp)."),
        UK: ProblemText("Потрібен одноразовий код",
                        "Співробітники входять з одноразовим кодом (otp)."),
    },
    "invalid_otp": {
        EN: ProblemText("Invalid one-time code", "The one-time code is wrong or was already used."),
        RU: ProblemText("Неверный одноразовый код",
                        "Одноразовый код неверный или уже использован."),
        UK: ProblemText("Неправильний одноразовий код",
                        "Одноразовий код неправильний або вже використаний."),
    },
    "token_expired": {
        EN: ProblemText("Token expired", "The token has expired; refresh it or sign in again."),
        RU: ProblemText("Срок действия токена истёк", "Обновите токен или войдите снова."),
        UK: ProblemText("Термін дії токена минув", "Оновіть токен або увійдіть знову."),
    },
    "token_revoked": {
        EN: ProblemText("Token revoked", "This session has ended; sign in again."),
        RU: ProblemText("Токен отозван", "Этот сеанс завершён; войдите снова."),
        UK: ProblemText("Токен відкликано", "Цей сеанс завершено; увійдіть знову."),
    },
    "forbidden": {
        EN: ProblemText("Forbidden", "Your role does not allow this action."),
        RU: ProblemText("Доступ запрещён", "Ваша роль не позволяет это действие."),
        UK: ProblemText("Доступ заборонено", "Ваша роль не дозволяє цю дію."),
    },
    "account_not_verified": {
        EN: ProblemText("Account not verified",
                        "Confirm your contact with the code we sent first."),
        RU: ProblemText("Учётная запись не подтверждена",
                        "Сначала подтвердите контакт отправленным кодом."),
        UK: ProblemText("Обліковий запис не підтверджено",
                        "Спершу підтвердіть контакт надісланим кодом."),
    },
    "account_disabled": {
        EN: ProblemText("Account disabled", "This account has been disabled."),
        RU: ProblemText("Учётная запись отключена", "Эта учётная запись отключена."),
        UK: ProblemText("Обліковий запис вимкнено", "Цей обліковий запис вимкнено."),
    },
    "not_found": {
        EN: ProblemText("Not found", "There is nothing here."),
        RU: ProblemText("Не найдено", "Здесь ничего нет."),
        UK: ProblemText("Не знайдено", "Тут нічого немає."),
    },
    "method_not_allowed": {
        EN: ProblemText("Method not allowed", "This method is not allowed on this resource."),
        RU: ProblemText("Метод не разрешён", "Этот метод не разрешён для данного ресурса."),
        UK: ProblemText("Метод не дозволено", "Цей метод не дозволено для цього ресурсу."),
    },
    "conflict": {
        EN: ProblemText("Conflict", "This conflicts with an existing record."),
        RU: ProblemText("Конфликт", "Это противоречит существующей записи."),
        UK: ProblemText("Конфлікт", "Це суперечить наявному запису."),
    },
    "invalid_state": {
        EN: ProblemText("Not allowed now",
                        "This action is not allowed in the resource's current status."),
        RU: ProblemText("Сейчас недоступно", "Это действие недоступно в текущем статусе."),
        UK: ProblemText("Зараз недоступно", "Ця дія недоступна в поточному статусі."),
    },
    "documents_missing": {
        EN: ProblemText("Documents missing",
                        "Upload the documents listed in missing before submitting."),
        RU: ProblemText("Не хватает документов",
                        "Загрузите документы из списка missing перед отправкой."),
        UK: ProblemText("Бракує документів",
                        "Завантажте документи зі списку missing перед поданням."),
    },
    "four_eyes_required": {
        EN: ProblemText("Second approval required",
                        "A different supervisor must give the second approval."),
        RU: ProblemText("Нужно второе одобрение",
                        "Второе одобрение должен дать другой руководитель."),
        UK: ProblemText("Потрібне друге схвалення", "Друге схвалення має дати інший керівник."),
    },
    "already_redeemed": {
        EN: ProblemText("Already redeemed", "This authorization has already been used."),
        RU: ProblemText("Уже использовано", "Это разрешение уже использовано."),
        UK: ProblemText("Вже використано", "Цей дозвіл уже використано."),
    },
    "not_in_custody": {
        EN: ProblemText("Not in custody", "The prisoner of this authorization is no longer "
                        "held, so he cannot be handed over."),
        RU: ProblemText("Не под стражей", "Пленный по этому разрешению больше не "
                        "содержится, поэтому передача невозможна."),
        UK: ProblemText("Не під вартою", "Полонений за цим дозволом більше не "
                        "утримується, тому передача неможлива."),
    },
    "revoked": {
        EN: ProblemText("Revoked", "This authorization has been revoked."),
        RU: ProblemText("Отозвано", "Это разрешение отозвано."),
        UK: ProblemText("Відкликано", "Цей дозвіл відкликано."),
    },
    "expired": {
        EN: ProblemText("Expired", "This authorization has expired."),
        RU: ProblemText("Истёк срок", "Срок действия этого разрешения истёк."),
        UK: ProblemText("Термін минув", "Термін дії цього дозволу минув."),
    },
    "not_yet_valid": {
        EN: ProblemText("Not yet valid", "This authorization is not valid yet."),
        RU: ProblemText("Ещё не действует", "Это разрешение ещё не действует."),
        UK: ProblemText("Ще не діє", "Цей дозвіл ще не діє."),
    },
    "offset_mismatch": {
        EN: ProblemText("Offset mismatch",
                        "Upload-Offset is not the upload's offset; ask with HEAD and resume "
                        "from there."),
        RU: ProblemText("Смещение не совпадает",
                        "Upload-Offset не совпадает со смещением загрузки; узнайте его "
                        "запросом HEAD и продолжите с него."),
        UK: ProblemText("Зсув не збігається",
                        "Upload-Offset не збігається зі зсувом завантаження; дізнайтеся його "
                        "запитом HEAD і продовжте з нього."),
    },
    "gone": {
        EN: ProblemText("Gone", "This content has been destroyed or its time has run out."),
        RU: ProblemText("Удалено", "Это содержимое уничтожено или его срок истёк."),
        UK: ProblemText("Видалено", "Цей вміст знищено або його термін минув."),
    },
    "unsupported_version": {
        EN: ProblemText("Unsupported protocol version",
                        "Send Tus-Resumable: 1.0.0 with every tus request."),
        RU: ProblemText("Неподдерживаемая версия протокола",
                        "Передавайте Tus-Resumable: 1.0.0 в каждом запросе tus."),
        UK: ProblemText("Непідтримувана версія протоколу",
                        "Передавайте Tus-Resumable: 1.0.0 у кожному запиті tus."),
    },
    "payload_too_large": {
        EN: ProblemText("Payload too large", "The request body is larger than allowed."),
        RU: ProblemText("Слишком большой объём", "Тело запроса больше допустимого."),
        UK: ProblemText("Завеликий обсяг", "Тіло запиту більше за дозволене."),
    },
    "unsupported_media_type": {
        EN: ProblemText("Unsupported media type", "The content type is not accepted here."),
        RU: ProblemText("Неподдерживаемый тип", "Этот тип содержимого здесь не принимается."),
        UK: ProblemText("Непідтримуваний тип", "Цей тип вмісту тут не приймається."),
    },
    "checksum_mismatch": {
        EN: ProblemText("Checksum mismatch", "The content does not match the declared SHA-256."),
        RU: ProblemText("Контрольная сумма не совпадает",
                        "Содержимое не совпадает с заявленным SHA-256."),
        UK: ProblemText("Контрольна сума не збігається",
                        "Вміст не збігається із заявленим SHA-256."),
    },
    "size_mismatch": {
        EN: ProblemText("Size mismatch", "The content is not the declared size."),
        RU: ProblemText("Размер не совпадает", "Размер содержимого не совпадает с заявленным."),
        UK: ProblemText("Розмір не збігається", "Розмір вмісту не збігається із заявленим."),
    },
    "not_redeemable": {
        EN: ProblemText("Not redeemable", "Only pickup authorizations are redeemed."),
        RU: ProblemText("Нельзя погасить", "Погашаются только разрешения на передачу."),
        UK: ProblemText("Не можна погасити", "Погашаються лише дозволи на передачу."),
    },
    "invalid_token": {
        EN: ProblemText("Invalid token", "This is not a valid authorization."),
        RU: ProblemText("Недействительный токен", "Это не действительное разрешение."),
        UK: ProblemText("Недійсний токен", "Це не дійсний дозвіл."),
    },
    "idempotency_key_reused": {
        EN: ProblemText("Idempotency key reused",
                        "This Idempotency-Key was used with a different request."),
        RU: ProblemText("Ключ идемпотентности занят",
                        "Этот Idempotency-Key использован с другим запросом."),
        UK: ProblemText("Ключ ідемпотентності зайнятий",
                        "Цей Idempotency-Key використано з іншим запитом."),
    },
    "invalid_ciphertext": {
        EN: ProblemText("Invalid ciphertext",
                        "The encrypted container is damaged or does not belong here."),
        RU: ProblemText("Повреждённый шифротекст", "Зашифрованный контейнер повреждён или чужой."),
        UK: ProblemText("Пошкоджений шифротекст", "Зашифрований контейнер пошкоджений або чужий."),
    },
    "rate_limited": {
        EN: ProblemText("Too many attempts", "Wait for the time in Retry-After, then try again."),
        RU: ProblemText("Слишком много попыток",
                        "Подождите время из Retry-After и попробуйте снова."),
        UK: ProblemText("Забагато спроб", "Зачекайте час із Retry-After і спробуйте знову."),
    },
    "storage_unavailable": {
        EN: ProblemText("Storage unavailable", "Document storage is unavailable; try again later."),
        RU: ProblemText("Хранилище недоступно",
                        "Хранилище документов недоступно; повторите позже."),
        UK: ProblemText("Сховище недоступне", "Сховище документів недоступне; спробуйте пізніше."),
    },
    "database_unavailable": {
        EN: ProblemText("Database unavailable", "The database is unavailable; try again later."),
        RU: ProblemText("База данных недоступна", "База данных недоступна; повторите позже."),
        UK: ProblemText("База даних недоступна", "База даних недоступна; спробуйте пізніше."),
    },
    "service_unavailable": {
        EN: ProblemText("Service unavailable", "The service is unavailable; try again later."),
        RU: ProblemText("Сервис недоступен", "Сервис недоступен; повторите позже."),
        UK: ProblemText("Сервіс недоступний", "Сервіс недоступний; спробуйте пізніше."),
    },
    "internal_error": {
        EN: ProblemText("Internal error", "Something went wrong on our side."),
        RU: ProblemText("Внутренняя ошибка", "Что-то пошло не так на нашей стороне."),
        UK: ProblemText("Внутрішня помилка", "Щось пішло не так на нашому боці."),
    },
}


def texts(code: str, language: str | None) -> ProblemText:
    """The title and detail of ``code`` (an unknown one reads as an internal error)."""
    return translate(TEXTS, code if code in TEXTS else "internal_error", language)
