#!/usr/bin/env bash
# The whole programme once, from the command line: a mother registers and applies, an officer
# and a supervisor approve (four eyes), authorizations are issued, a checkpoint verifies and
# redeems the pickup, an auditor checks the log. Run from the repository, with the server up:
#   KINPASS_NOTIFIER=file:/tmp/kinpass-outbox.jsonl make run      # one terminal
#   bash docs/walkthrough.sh                                      # another
# Every step checks its answer and stops with a message if it is not the expected one.
set -euo pipefail

API=${API:-http://127.0.0.1:8000}
OUTBOX=${OUTBOX:-/tmp/kinpass-outbox.jsonl}
KINPASS=${KINPASS:-.venv/bin/kinpass}
PY=${PY:-.venv/bin/python}
ISSUER=${ISSUER:-https://kinpass.example}   # the server's KINPASS_ISSUER
RUN=$($PY -c 'import secrets; print(secrets.token_hex(3))')   # a fresh run needs fresh emails

get() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }           # … | get '["id"]'
expect() { [ "$1" = "$2" ] || { echo "walkthrough: expected $2, got $1" >&2; exit 1; }; }
at() { $PY -c "import datetime as d,sys; print((d.datetime.now(d.UTC)+d.timedelta(hours=float(sys.argv[1]))).strftime('%Y-%m-%dT%H:%M:%SZ'))" "$1"; }
code_for() { grep "\"to\": \"$1\"" "$OUTBOX" | tail -1 | get '["code"]'; }
totp() { $PY -c 'import pyotp,sys; print(pyotp.TOTP(sys.argv[1]).now())' "$1"; }
rows() { $PY -c "import json,sys; [print('  '+' '.join(str(i[k]) for k in sys.argv[2:])) for i in json.load(sys.stdin)[sys.argv[1]]]" "$@"; }
json() { curl -sS -H 'Content-Type: application/json' "$@"; }

# --- a relative registers --------------------------------------------------------------------
MARIA="maria-$RUN@example.org"
REGISTRATION=$(json -XPOST $API/v1/auth/register \
  -d "{\"email\": \"$MARIA\", \"password\": \"Kyiv-Reunion-2026\", \"full_name\": \"Мария Иванова\", \"language\": \"ru\"}" \
  | get '["registration"]')
expect "$(json -XPOST $API/v1/auth/verify \
  -d "{\"login\": \"$MARIA\", \"code\": \"$(code_for "$MARIA")\", \"registration\": \"$REGISTRATION\"}" | get '["status"]')" active
ACCESS=$(json -XPOST $API/v1/auth/login -d "{\"login\": \"$MARIA\", \"password\": \"Kyiv-Reunion-2026\"}" \
  | get '["access_token"]')
expect "$(curl -sS $API/v1/me -H "Authorization: Bearer $ACCESS" | get '["email"]')" "$MARIA"

# --- staff: created on the command line, signed in with password and a one-time code --------
staff_token() {  # staff_token ROLE → an access token of a new staff account with that role
  local created email
  email="$1-$RUN@example.gov.ua"
  created=$($KINPASS staff create --email "$email" --role "$1" --full-name "Duty $1")
  json -XPOST $API/v1/auth/login -d "{\"login\": \"$email\",
    \"password\": \"$(echo "$created" | get '["password"]')\",
    \"otp\": \"$(totp "$(echo "$created" | get '["totp_secret"]')")\"}" | get '["access_token"]'
}
OFFICER=$(staff_token officer)
SUPERVISOR=$(staff_token supervisor)
CHECKPOINT=$(staff_token checkpoint)
AUDITOR=$(staff_token auditor)

# --- the registry holds the soldier ----------------------------------------------------------
PRISONER=$(json -XPOST $API/v1/admin/prisoners -H "Authorization: Bearer $OFFICER" \
  -d "{\"registry_number\": \"UA-2026-$RUN\", \"surname\": \"Иванов\", \"given_name\": \"Алексей\",
       \"patronymic\": \"Сергеевич\", \"birth_date\": \"2001-09-14\", \"birth_place\": \"Курск\",
       \"mother_name\": \"Иванова Мария Петровна\"}" | get '["id"]')

# --- the relative opens a case and uploads her documents -------------------------------------
CASE=$(json -XPOST $API/v1/cases -H "Authorization: Bearer $ACCESS" -H "Idempotency-Key: case-$RUN" \
  -d '{"relationship": "mother",
       "applicant": {"surname": "Иванова", "given_name": "Мария", "patronymic": "Петровна",
                     "birth_date": "1971-04-02", "citizenship": "RUS"},
       "soldier": {"surname": "Иванов", "given_name": "Алексей", "patronymic": "Сергеевич",
                   "birth_date": "2001-09-14", "birth_place": "Курск"}}' | get '["id"]')

upload() {  # upload FILE CONTENT-TYPE DECLARATION-EXTRA → prints the stored document's id
  local size sha doc
  size=$(wc -c < "$1" | tr -d ' '); sha=$($PY -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1")
  doc=$(json -XPOST $API/v1/cases/$CASE/documents -H "Authorization: Bearer $ACCESS" \
    -d "{\"content_type\": \"$2\", \"size\": $size, \"sha256\": \"$sha\", \"encryption\": \"server\", $3}")
  expect "$(curl -sS -XPUT "$(echo "$doc" | get '["upload"]["url"]')" -H "Authorization: Bearer $ACCESS" \
    -H "Content-Type: $2" --data-binary @"$1" | get '["status"]')" stored
  echo "$doc" | get '["id"]'
}
PASSPORT=$(upload docs/samples/passport.jpg image/jpeg \
  '"kind": "passport", "mrz": "P<RUSIVANOVA<<MARIIA<<<<<<<<<<<<<<<<<<<<<<<<\n7512345672RUS7104022F3405204<<<<<<<<<<<<<<<4"')
upload docs/samples/birth.pdf application/pdf \
  '"kind": "birth_certificate", "fields": {"child_surname": "Иванов", "child_given_name": "Алексей",
   "child_patronymic": "Сергеевич", "child_birth_date": "2001-09-14",
   "mother_name": "Иванова Мария Петровна"}' > /dev/null
curl -sS -XPOST $API/v1/cases/$CASE/submit -H "Authorization: Bearer $ACCESS" > /dev/null
for _ in $(seq 1 30); do   # with Redis a worker runs the checks; without, the submit did
  STATUS=$(curl -sS $API/v1/cases/$CASE -H "Authorization: Bearer $ACCESS" | get '["status"]')
  [ "$STATUS" = in_review ] && break; sleep 1
done
expect "$STATUS" in_review

# --- officers review, link the registry record, and approve twice (four eyes) ----------------
curl -sS $API/v1/admin/cases/$CASE -H "Authorization: Bearer $OFFICER" | rows checks name result
json -XPOST $API/v1/admin/cases/$CASE/link -H "Authorization: Bearer $OFFICER" -d "{\"prisoner_id\": \"$PRISONER\"}" > /dev/null
expect "$(json -XPOST $API/v1/admin/cases/$CASE/decisions -H "Authorization: Bearer $OFFICER" -H "Idempotency-Key: approve-1-$RUN" \
  -d '{"decision": "approve", "reason": "Documents and registry record agree."}' | get '["status"]')" approval_pending
expect "$(json -XPOST $API/v1/admin/cases/$CASE/decisions -H "Authorization: Bearer $SUPERVISOR" -H "Idempotency-Key: approve-2-$RUN" \
  -d '{"decision": "approve", "reason": "Second approval: file checked."}' | get '["status"]')" approved

# --- authorizations: a handover now, travel for two days, the pickup -------------------------
HANDOVER=$(json -XPOST $API/v1/admin/handovers -H "Authorization: Bearer $OFFICER" \
  -d "{\"location\": \"Kyiv, handover point 3\", \"starts_at\": \"$(at -1)\", \"ends_at\": \"$(at 4)\"}" | get '["id"]')
TRAVEL=$(json -XPOST $API/v1/admin/cases/$CASE/authorizations -H "Authorization: Bearer $OFFICER" \
  -d "{\"kind\": \"travel\", \"valid_from\": \"$(at -1)\", \"valid_until\": \"$(at 48)\", \"entry_point\": \"Krakovets\"}")
PICKUP=$(json -XPOST $API/v1/admin/cases/$CASE/authorizations -H "Authorization: Bearer $OFFICER" \
  -d "{\"kind\": \"pickup\", \"handover_id\": \"$HANDOVER\"}")
curl -sS -o /tmp/kinpass-travel-$RUN.png "$API/v1/authorizations/$(echo "$TRAVEL" | get '["id"]')/qr.png" -H "Authorization: Bearer $ACCESS"
expect "$(head -c 4 /tmp/kinpass-travel-$RUN.png | tail -c 3)" PNG

# --- the checkpoint verifies online and offline, then redeems the pickup once ----------------
TOKEN=$(echo "$TRAVEL" | get '["token"]')
expect "$(json -XPOST $API/v1/checkpoint/verify -H "Authorization: Bearer $CHECKPOINT" -d "{\"token\": \"$TOKEN\"}" | get '["result"]')" valid
curl -sS $API/.well-known/jwks.json > /tmp/kinpass-jwks-$RUN.json
curl -sS $API/v1/authorizations/revocations > /tmp/kinpass-revocations-$RUN.json
expect "$($KINPASS checkpoint verify-offline --jwks /tmp/kinpass-jwks-$RUN.json \
  --revocations /tmp/kinpass-revocations-$RUN.json --issuer "$ISSUER" "$TOKEN" | get '["result"]')" valid
REDEEM="{\"token\": \"$(echo "$PICKUP" | get '["token"]')\"}"
expect "$(json -XPOST $API/v1/checkpoint/redeem -H "Authorization: Bearer $CHECKPOINT" -H "Idempotency-Key: redeem-$RUN" \
  -d "$REDEEM" | get '["result"]')" redeemed
expect "$(json -XPOST $API/v1/checkpoint/redeem -H "Authorization: Bearer $CHECKPOINT" -d "$REDEEM" | get '["code"]')" already_redeemed
expect "$(curl -sS $API/v1/cases/$CASE -H "Authorization: Bearer $ACCESS" | get '["status"]')" completed

# --- the auditor: who touched the passport, and is the log whole? ----------------------------
curl -sS -G $API/v1/audit/events -H "Authorization: Bearer $AUDITOR" --data-urlencode "subject_id=$PASSPORT" \
  | rows items seq action actor_role
expect "$(curl -sS $API/v1/audit/verify -H "Authorization: Bearer $AUDITOR" | get '["ok"]')" True
echo "walkthrough: case $CASE completed"
