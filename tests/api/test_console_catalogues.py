"""The console's catalogues: every text the console shows has its Ukrainian translation, and
the compiled catalogue the server reads is the one a translator edits."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from setuptools.config.setupcfg import read_configuration

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "api" / "web"
UK = WEB / "translations" / "uk" / "LC_MESSAGES"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]


def _texts() -> set[str]:
    found = extract_from_dir(str(WEB), METHODS, keywords={"_": None, "gettext": None,
                                                            "_l": None, "lazy_gettext": None})
    return {message for _file, _line, message, _comments, _context in found}


def test_every_console_text_has_a_ukrainian_translation():
    with (UK / "messages.po").open("rb") as f:
        catalogue = read_po(f)
    translated = {_plain(m.id): _plain(m.string) for m in catalogue if m.id}
    texts = {_plain(text) for text in _texts()}
    assert len(texts) > 50
    missing = sorted(map(str, (t for t in texts if not translated.get(t)
                               or not all(_plain(translated[t])))))
    assert missing == [], missing


def _plain(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_the_compiled_catalogue_is_the_edited_one():
    with (UK / "messages.po").open("rb") as f:
        edited = {_plain(m.id): _plain(m.string) for m in read_po(f) if m.id}
    with (UK / "messages.mo").open("rb") as f:
        compiled = {_plain(m.id): _plain(m.string) for m in read_mo(f) if m.id}
    assert compiled == edited, "run `make translations` and commit the .mo file"


def test_the_console_files_ship_in_the_package():
    """A non-editable install (the Docker image) carries every template, asset and
    catalogue: each is matched by a package_data pattern of `api`."""
    patterns = read_configuration(str(ROOT / "setup.cfg"))["options"]["package_data"]["api"]
    api = ROOT / "api"
    shipped = {path for pattern in patterns for path in api.glob(pattern)}
    files = [path for folder in ("templates", "static", "translations")
             for path in (WEB / folder).rglob("*") if path.is_file()]
    assert len(files) > 15
    assert [str(p.relative_to(ROOT)) for p in files if p not in shipped] == []
