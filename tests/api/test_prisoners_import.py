"""POST /v1/admin/prisoners/import: CSV in batches, per-row errors, whole-file refusals."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from api.cli import main
from services.registry import prisoner_import
from storage.db import session as db
from storage.models import AuditEvent, Prisoner, PrisonerBlockingKey
from tests.support.http import bearer

URL = "/v1/admin/prisoners/import"
HEADER = "registry_number,surname,given_name,patronymic,birth_date,birth_place,status\n"
GOOD = (HEADER
        + "R1,Щербаков,Юрий,Иванович,1990-03-05,г. Тула,held\n"
        + "R2,Иванов,Сергей,,1985-12-01,,released\n"
        + "R3,Smith,John,,1979-07-07,London,\n")


@pytest.fixture
def officer(make_staff):
    return bearer(make_staff("officer")["access_token"])


@pytest.fixture
def upload(client, officer):
    def post(body: str | bytes, dry_run: bool = False, content_type: str = "text/csv"):
        data = body.encode() if isinstance(body, str) else body
        return client.post(URL + ("?dry_run=true" if dry_run else ""), data=data,
                           headers={**officer, "Content-Type": content_type})
    return post


def _count() -> int:
    return db().execute(select(func.count()).select_from(Prisoner)).scalar_one()


def _by_number(number: str) -> Prisoner:
    db().expire_all()
    return db().execute(select(Prisoner).where(Prisoner.registry_number == number)).scalar_one()


def test_import_creates_then_reimport_is_unchanged(upload):
    r = upload(GOOD)
    assert r.status_code == 200, r.get_json()
    assert r.get_json() | {"errors": []} == {
        "created": 3, "updated": 0, "unchanged": 0, "skipped": 0, "dry_run": False,
        "errors": [], "errors_truncated": False}
    yuri = _by_number("R1")
    assert (yuri.surname_latin, yuri.given_name_latin, yuri.patronymic_latin) == (
        "SHCHERBAKOV", "IURII", "IVANOVICH")
    assert _by_number("R3").status == "held" and _by_number("R2").patronymic is None
    keys = db().execute(select(func.count()).select_from(PrisonerBlockingKey)).scalar_one()
    assert keys > 3 * 5
    again = upload(GOOD).get_json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert _count() == 3
    events = db().execute(select(AuditEvent).where(AuditEvent.action == "prisoner.import")
                          ).scalars().all()
    assert len(events) == 2 and "created 3" in events[0].reason
    assert "Щербаков" not in events[0].reason


def test_imported_records_are_matched_through_their_keys(client, officer, upload):
    upload(GOOD)
    r = client.post("/v1/admin/prisoners/match",
                    json={"surname": "Shcherbakov", "given_name": "Yuriy"}, headers=officer)
    assert r.status_code == 200
    assert r.get_json()["candidates"][0]["prisoner"]["registry_number"] == "R1"


def test_bom_and_crlf_are_accepted(upload):
    r = upload(("\ufeff" + GOOD).replace("\n", "\r\n").encode())
    assert r.status_code == 200 and r.get_json()["created"] == 3


def test_update_and_clearing_by_empty_cells(upload):
    upload(GOOD)
    changed = (HEADER + "R1,Щербаков,Юрий,,1990-05-03,,deceased\n"
               + "R2,Иванов,Сергей,,1985-12-01,,released\n")
    r = upload(changed).get_json()
    assert (r["created"], r["updated"], r["unchanged"]) == (0, 1, 1)
    yuri = _by_number("R1")
    assert yuri.patronymic is None and yuri.patronymic_latin is None
    assert yuri.birth_place is None and yuri.status == "deceased"
    keys = set(db().execute(select(PrisonerBlockingKey.key)
                            .where(PrisonerBlockingKey.prisoner_id == yuri.id)).scalars())
    assert "sy:wERBAKOV:1990" in keys and "gm:URI:199005" in keys


def test_absent_optional_columns_are_left_alone(upload):
    upload(GOOD)
    r = upload("registry_number,surname,given_name,birth_date\nR1,Щербаков,Юрий,1990-03-05\n")
    assert r.get_json()["unchanged"] == 1
    yuri = _by_number("R1")
    assert yuri.patronymic == "Иванович" and yuri.birth_place == "г. Тула"


def test_bad_rows_are_reported_with_lines_and_good_rows_kept(upload):
    body = (HEADER
            + "R1,Щербаков,Юрий,Иванович,1990-03-05,г. Тула,held\n"   # line 2
            + 'R2,"Ива\nнов",Сергей,,1985-12-01,,held\n'               # lines 3-4
            + "R3,,John,,1979-02-30,,lost\n"                           # line 5
            + "R4,Петров\n"                                            # line 6
            + "\n"                                                     # line 7: blank
            + "R1,Щербаков,Юрий,Иванович,1990-03-05,,held\n"           # line 8: repeat
            + f"R5,Петров,{'И' * 101},,2990-01-01,,held\n"             # line 9
            + "R6,Петров,Пётр,,1979-02-28,,held\n")                    # line 10
    r = upload(body)
    assert r.status_code == 200
    out = r.get_json()
    assert (out["created"], out["skipped"]) == (2, 5)
    errors = {(e["line"], e["field"]) for e in out["errors"]}
    assert errors == {(3, "surname"), (5, "surname"), (5, "birth_date"), (5, "status"),
                      (6, None), (8, "registry_number"), (9, "given_name"), (9, "birth_date")}
    assert {p.registry_number for p in db().execute(select(Prisoner)).scalars()} == {"R1", "R6"}
    assert all(isinstance(e["message"], str) and e["message"] for e in out["errors"])


def test_dry_run_counts_and_changes_nothing(upload):
    upload(GOOD)
    body = GOOD.replace("Иванович", "Петрович") + "R4,Петров,Пётр,,1979-02-28,,\nR5,,,,,,\n"
    out = upload(body, dry_run=True).get_json()
    assert (out["created"], out["updated"], out["unchanged"], out["skipped"]) == (1, 1, 2, 1)
    assert out["dry_run"] is True
    assert _count() == 3 and _by_number("R1").patronymic == "Иванович"


@pytest.mark.parametrize(("body", "field"), [
    ("", "header"),
    ("registry_number,surname,given_name\nR1,A,B\n", "header"),
    (HEADER.replace("status", "colour") + "R1,A,B,,1990-01-01,,red\n", "header"),
    (HEADER.replace("status", "surname") + "R1,A,B,,1990-01-01,,C\n", "header"),
    ('{"registry_number": "R1"}', "header"),
    (GOOD + 'R9,"Ива"нов,Сергей,,1985-12-01,,held\n', "file"),
    (GOOD + "R9," + "x" * 10_000_000 + ",Сергей,,1985-12-01,,held\n", "file"),
    (GOOD + 'R9,"unterminated,Сергей,,1985-12-01,,held\n', "file"),
])
def test_whole_file_refusals_import_nothing(upload, body, field):
    r = upload(body)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["code"] == "validation_error" and field in r.get_json()["errors"]
    assert _count() == 0


def test_wrong_encoding_late_in_a_long_file_imports_nothing(upload):
    rows = [f"N{i},Иванов,Иван,,1990-01-{1 + i % 28:02d},,held" for i in range(2500)]
    body = (HEADER + "\n".join(rows) + "\n").encode()
    body += "N9999,Иванов,Иван,,1990-01-01,,held\n".encode("cp1251")
    r = upload(body)
    assert r.status_code == 400
    assert "Line 2502 " in r.get_json()["errors"]["file"][0]
    assert _count() == 0
    assert db().execute(select(func.count()).select_from(PrisonerBlockingKey)).scalar_one() == 0


def test_control_characters_in_a_cell_are_a_row_error(upload):
    out = upload(GOOD + "R9,Ива\x00нов,Сергей,,1985-12-01,,held\n").get_json()
    assert out["created"] == 3
    assert out["errors"] == [{"line": 5, "field": "surname",
                              "message": "Contains control characters."}]


def test_binary_garbage_is_refused(upload):
    r = upload(bytes(range(256)) * 10)
    assert r.status_code == 400 and _count() == 0


def test_rows_across_batches_and_repeats_across_batches(upload):
    rows = [f"N{i},Иванов,Иван,,1990-01-{1 + i % 28:02d},,held" for i in range(2300)]
    rows.append("N5,Иванов,Иван,,1990-01-06,,held")
    out = upload(HEADER + "\n".join(rows) + "\n").get_json()
    assert out["created"] == 2300 and out["skipped"] == 1
    assert out["errors"] == [{"line": 2302, "field": "registry_number",
                              "message": "Repeats line 7 of this file."}]
    assert _count() == 2300


def test_error_list_is_capped_but_counts_are_not(upload):
    rows = [f"N{i},,,,,," for i in range(prisoner_import.MAX_REPORTED_ERRORS + 50)]
    out = upload(HEADER + "\n".join(rows) + "\n").get_json()
    assert out["skipped"] == prisoner_import.MAX_REPORTED_ERRORS + 50
    assert len(out["errors"]) == prisoner_import.MAX_REPORTED_ERRORS
    assert out["errors_truncated"] is True


def test_read_only_columns_are_accepted_and_ignored(upload):
    body = ("id,registry_number,surname,surname_latin,given_name,birth_date,created_at\n"
            "whatever,R1,Щербаков,WRONG,Юрий,1990-03-05,yesterday\n")
    out = upload(body).get_json()
    assert out["created"] == 1 and _by_number("R1").surname_latin == "SHCHERBAKOV"


@pytest.mark.parametrize("content_type", ["application/json", "text/plain",
                                          "text/csv; charset=windows-1251"])
def test_wrong_content_type_is_415(upload, content_type):
    r = upload(GOOD, content_type=content_type)
    assert r.status_code == 415 and r.get_json()["code"] == "unsupported_media_type"
    assert _count() == 0


def test_charset_utf8_parameter_is_fine(upload):
    assert upload(GOOD, content_type="text/csv; charset=UTF-8").status_code == 200


def test_declared_body_over_the_cap_is_413(upload, monkeypatch):
    monkeypatch.setattr(prisoner_import, "IMPORT_MAX_BYTES", len(GOOD.encode()) - 1)
    r = upload(GOOD)
    assert r.status_code == 413 and r.get_json()["code"] == "payload_too_large"
    assert _count() == 0


@pytest.mark.parametrize("query", ["?dry_run=maybe", "?force=1"])
def test_bad_query_is_400(client, officer, query):
    r = client.post(URL + query, data=GOOD.encode(), headers={**officer,
                                                              "Content-Type": "text/csv"})
    assert r.status_code == 400 and _count() == 0


def test_cli_import(app, tmp_path, monkeypatch, base_config):
    for name, value in (("KINPASS_DATA_DIR", base_config["data_dir"]),
                        ("KINPASS_DATABASE_URL", base_config["database_url"]),
                        ("KINPASS_NOTIFIER", base_config["notifier"])):
        monkeypatch.setenv(name, value)
    path = tmp_path / "registry.csv"
    path.write_bytes(("\ufeff" + GOOD).encode())
    result = CliRunner().invoke(main, ["prisoners", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["created"] == 3
    path.write_bytes((GOOD + "R4,,,,,,\n").encode())
    result = CliRunner().invoke(main, ["prisoners", "import", "--dry-run", str(path)])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["unchanged"] == 3 and report["errors"][0]["line"] == 5
    db.remove()
    event = db().execute(select(AuditEvent).where(AuditEvent.action == "prisoner.import")
                         .order_by(AuditEvent.seq)).scalars().first()
    assert event.actor_role == "system" and event.actor_id is None
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"surname\nX\n")
    result = CliRunner().invoke(main, ["prisoners", "import", str(bad)])
    assert result.exit_code == 1 and "validation_error" in result.output
