"""The console's catalogues: every text the console shows has its Ukrainian translation, and
the compiled catalogue the server reads is the one a translator edits."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

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
    translated = {m.id: m.string for m in catalogue if m.id}
    texts = _texts()
    assert len(texts) > 50
    missing = sorted(t for t in texts if not translated.get(t))
    assert missing == [], missing


def test_the_compiled_catalogue_is_the_edited_one():
    with (UK / "messages.po").open("rb") as f:
        edited = {m.id: m.string for m in read_po(f) if m.id}
    with (UK / "messages.mo").open("rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    assert compiled == edited, "run `make translations` and commit the .mo file"
