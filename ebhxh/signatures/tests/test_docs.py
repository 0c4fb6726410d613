"""docs/signatures.md lists every stable error code, so vendors can rely on the table."""

from pathlib import Path

from ebhxh.signatures.errors import PROBLEMS

DOC = (Path(__file__).resolve().parents[3] / "docs" / "signatures.md").read_text(encoding="utf-8")


def test_every_error_code_is_documented():
    missing = [code for code in PROBLEMS if f"| `{code}` |" not in DOC]
    assert not missing, f"add to docs/signatures.md: {missing}"
