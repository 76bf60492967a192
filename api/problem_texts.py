"""Titles and details of every problem code, in English, Russian and Ukrainian."""
from __future__ import annotations

# code: (en title, en detail, ru title, ru detail, uk title, uk detail)
TEXTS: dict[str, tuple[str, str, str, str, str, str]] = {
    "validation_error": (
        "Invalid request", "Some fields are missing or invalid; see errors.",
        "Неверный запрос", "Некоторые поля отсутствуют или заполнены неверно; см. errors.",
        "Неправильний запит", "Деякі поля відсутні або заповнені неправильно; див. errors."),
    "malformed_json": (
        "Malformed JSON", "The request body is not valid UTF-8 JSON.",
        "Некорректный JSON", "Тело запроса не является корректным JSON в UTF-8.",
        "Некоректний JSON", "Тіло запиту не є коректним JSON у UTF-8."),
    "access_reason_required": (
        "Access reason required", "Give the reason for this access in X-Access-Reason "
        "(at least 10 characters).",
        "Требуется причина доступа", "Укажите причину доступа в X-Access-Reason "
        "(не менее 10 символов).",
        "Потрібна причина доступу", "Вкажіть причину доступу в X-Access-Reason "
        "(щонайменше 10 символів)."),
    "invalid_code": (
        "Invalid code", "The code is wrong, expired or no longer valid.",
        "Неверный код", "Код неверный, истёк или больше не действует.",
        "Неправильний код", "Код неправильний, прострочений або більше не дійсний."),
    "unauthorized": (
        "Unauthorized", "A valid access token is required.",
        "Требуется вход", "Нужен действительный токен доступа.",
        "Потрібен вхід", "Потрібен дійсний токен доступу."),
    "invalid_credentials": (
        "Invalid credentials", "The login or password is wrong.",
        "Неверные данные", "Неверный логин или пароль.",
        "Неправильні дані", "Неправильний логін або пароль."),
    "otp_required": (
        "One-time code required", "Staff accounts sign in with a one-time code (otp).",
        "Нужен одноразовый код", "Сотрудники входят с одноразовым кодом (otp).",
        "Потрібен одноразовий код", "Співробітники входять з одноразовим кодом (otp)."),
    "invalid_otp": (
        "Invalid one-time code", "The one-time code is wrong or was already used.",
        "Неверный одноразовый код", "Одноразовый код неверный или уже использован.",
        "Неправильний одноразовий код", "Одноразовий код неправильний або вже використаний."),
    "token_expired": (
        "Token expired", "The token has expired; refresh it or sign in again.",
        "Срок действия токена истёк", "Обновите токен или войдите снова.",
        "Термін дії токена минув", "Оновіть токен або увійдіть знову."),
    "token_revoked": (
        "Token revoked", "This session has ended; sign in again.",
        "Токен отозван", "Этот сеанс завершён; войдите снова.",
        "Токен відкликано", "Цей сеанс завершено; увійдіть знову."),
    "forbidden": (
        "Forbidden", "Your role does not allow this action.",
        "Доступ запрещён", "Ваша роль не позволяет это действие.",
        "Доступ заборонено", "Ваша роль не дозволяє цю дію."),
    "account_not_verified": (
        "Account not verified", "Confirm your contact with the code we sent first.",
        "Учётная запись не подтверждена", "Сначала подтвердите контакт отправленным кодом.",
        "Обліковий запис не підтверджено", "Спершу підтвердіть контакт надісланим кодом."),
    "account_disabled": (
        "Account disabled", "This account has been disabled.",
        "Учётная запись отключена", "Эта учётная запись отключена.",
        "Обліковий запис вимкнено", "Цей обліковий запис вимкнено."),
    "not_found": (
        "Not found", "There is nothing here.",
        "Не найдено", "Здесь ничего нет.",
        "Не знайдено", "Тут нічого немає."),
    "method_not_allowed": (
        "Method not allowed", "This method is not allowed on this resource.",
        "Метод не разрешён", "Этот метод не разрешён для данного ресурса.",
        "Метод не дозволено", "Цей метод не дозволено для цього ресурсу."),
    "conflict": (
        "Conflict", "This conflicts with an existing record.",
        "Конфликт", "Это противоречит существующей записи.",
        "Конфлікт", "Це суперечить наявному запису."),
    "invalid_state": (
        "Not allowed now", "This action is not allowed in the resource's current status.",
        "Сейчас недоступно", "Это действие недоступно в текущем статусе.",
        "Зараз недоступно", "Ця дія недоступна в поточному статусі."),
    "documents_missing": (
        "Documents missing", "Upload the documents listed in missing before submitting.",
        "Не хватает документов", "Загрузите документы из списка missing перед отправкой.",
        "Бракує документів", "Завантажте документи зі списку missing перед поданням."),
    "four_eyes_required": (
        "Second approval required", "A different supervisor must give the second approval.",
        "Нужно второе одобрение", "Второе одобрение должен дать другой руководитель.",
        "Потрібне друге схвалення", "Друге схвалення має дати інший керівник."),
    "already_redeemed": (
        "Already redeemed", "This authorization has already been used.",
        "Уже использовано", "Это разрешение уже использовано.",
        "Вже використано", "Цей дозвіл уже використано."),
    "revoked": (
        "Revoked", "This authorization has been revoked.",
        "Отозвано", "Это разрешение отозвано.",
        "Відкликано", "Цей дозвіл відкликано."),
    "expired": (
        "Expired", "This authorization has expired.",
        "Истёк срок", "Срок действия этого разрешения истёк.",
        "Термін минув", "Термін дії цього дозволу минув."),
    "not_yet_valid": (
        "Not yet valid", "This authorization is not valid yet.",
        "Ещё не действует", "Это разрешение ещё не действует.",
        "Ще не діє", "Цей дозвіл ще не діє."),
    "gone": (
        "Gone", "This content has been destroyed.",
        "Удалено", "Это содержимое уничтожено.",
        "Видалено", "Цей вміст знищено."),
    "payload_too_large": (
        "Payload too large", "The request body is larger than allowed.",
        "Слишком большой объём", "Тело запроса больше допустимого.",
        "Завеликий обсяг", "Тіло запиту більше за дозволене."),
    "unsupported_media_type": (
        "Unsupported media type", "The content type is not accepted here.",
        "Неподдерживаемый тип", "Этот тип содержимого здесь не принимается.",
        "Непідтримуваний тип", "Цей тип вмісту тут не приймається."),
    "checksum_mismatch": (
        "Checksum mismatch", "The content does not match the declared SHA-256.",
        "Контрольная сумма не совпадает", "Содержимое не совпадает с заявленным SHA-256.",
        "Контрольна сума не збігається", "Вміст не збігається із заявленим SHA-256."),
    "size_mismatch": (
        "Size mismatch", "The content is not the declared size.",
        "Размер не совпадает", "Размер содержимого не совпадает с заявленным.",
        "Розмір не збігається", "Розмір вмісту не збігається із заявленим."),
    "not_redeemable": (
        "Not redeemable", "Only pickup authorizations are redeemed.",
        "Нельзя погасить", "Погашаются только разрешения на передачу.",
        "Не можна погасити", "Погашаються лише дозволи на передачу."),
    "invalid_token": (
        "Invalid token", "This is not a valid authorization.",
        "Недействительный токен", "Это не действительное разрешение.",
        "Недійсний токен", "Це не дійсний дозвіл."),
    "idempotency_key_reused": (
        "Idempotency key reused", "This Idempotency-Key was used with a different request.",
        "Ключ идемпотентности занят", "Этот Idempotency-Key использован с другим запросом.",
        "Ключ ідемпотентності зайнятий", "Цей Idempotency-Key використано з іншим запитом."),
    "invalid_ciphertext": (
        "Invalid ciphertext", "The encrypted container is damaged or does not belong here.",
        "Повреждённый шифротекст", "Зашифрованный контейнер повреждён или чужой.",
        "Пошкоджений шифротекст", "Зашифрований контейнер пошкоджений або чужий."),
    "rate_limited": (
        "Too many attempts", "Wait for the time in Retry-After, then try again.",
        "Слишком много попыток", "Подождите время из Retry-After и попробуйте снова.",
        "Забагато спроб", "Зачекайте час із Retry-After і спробуйте знову."),
    "storage_unavailable": (
        "Storage unavailable", "Document storage is unavailable; try again later.",
        "Хранилище недоступно", "Хранилище документов недоступно; повторите позже.",
        "Сховище недоступне", "Сховище документів недоступне; спробуйте пізніше."),
    "database_unavailable": (
        "Database unavailable", "The database is unavailable; try again later.",
        "База данных недоступна", "База данных недоступна; повторите позже.",
        "База даних недоступна", "База даних недоступна; спробуйте пізніше."),
    "service_unavailable": (
        "Service unavailable", "The service is unavailable; try again later.",
        "Сервис недоступен", "Сервис недоступен; повторите позже.",
        "Сервіс недоступний", "Сервіс недоступний; спробуйте пізніше."),
    "internal_error": (
        "Internal error", "Something went wrong on our side.",
        "Внутренняя ошибка", "Что-то пошло не так на нашей стороне.",
        "Внутрішня помилка", "Щось пішло не так на нашому боці."),
}

_INDEX = {"en": 0, "ru": 2, "uk": 4}


def texts(code: str, language: str) -> tuple[str, str]:
    entry = TEXTS.get(code, TEXTS["internal_error"])
    i = _INDEX.get(language, 0)
    return entry[i], entry[i + 1]
