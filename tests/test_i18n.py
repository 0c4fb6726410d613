"""Item 12: Vietnamese by default, English available, every string translatable and translated."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "ebhxh" / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_every_english_entry_is_translated_and_not_fuzzy():
    catalogue = polib.pofile(str(PO))
    untranslated = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not untranslated, f"untranslated: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"


def test_the_compiled_catalogue_matches_the_source():
    source = {(e.msgctxt, e.msgid): e.msgstr for e in polib.pofile(str(PO)).translated_entries()}
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(MO)) if e.msgid}
    assert compiled == source, "run `make messages` to recompile django.mo"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT / "ebhxh", copy / "ebhxh", ignore=shutil.ignore_patterns("__pycache__", "*.mo")
    )
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-location"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path / "var"), "PYTHONPATH": str(copy)},
    )
    assert result.returncode == 0, result.stderr
    extracted = {
        e.msgid
        for e in polib.pofile(str(copy / "ebhxh/locale/en/LC_MESSAGES/django.po"))
        if not e.obsolete
    }
    known = {e.msgid for e in polib.pofile(str(PO)) if not e.obsolete}
    missing = extracted - known
    assert not missing, f"run `make messages` and translate: {sorted(missing)[:10]}"
