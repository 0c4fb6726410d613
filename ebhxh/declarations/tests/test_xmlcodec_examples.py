"""The committed examples (docs/examples/) and docs/declarations.md stay true to the code."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
from cryptography import x509

from ebhxh.declarations.codes import CODES
from ebhxh.declarations.envelope import decode_envelope
from ebhxh.declarations.forms import D02TS, FORMS, HouseholdAppendix, HouseholdMember, TK1Adjustment
from ebhxh.declarations.xmlcodec import decode, decode_tree, validate_schema
from ebhxh.signatures import xmldsig
from ebhxh.signatures.profile import Policy

DOCS = Path(__file__).resolve().parents[3] / "docs"
EXAMPLES = DOCS / "examples"
POLICY = Policy(require_signing_time=True)


@pytest.fixture(scope="module")
def generate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("examples_generate", EXAMPLES / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def certificate() -> x509.Certificate:
    return x509.load_pem_x509_certificate(
        (EXAMPLES / "test-signer" / "signer-cert.pem").read_bytes()
    )


def test_generate_reproduces_the_committed_examples(generate):
    built = generate.build_all()
    assert sorted(built) == sorted(p.name for p in EXAMPLES.glob("*.xml"))
    differ = [name for name, content in built.items() if (EXAMPLES / name).read_bytes() != content]
    assert not differ, f"run: .venv/bin/python docs/examples/generate.py ({differ})"


@pytest.mark.parametrize("code", list(FORMS))
def test_unsigned_examples_decode_and_validate(code):
    data = (EXAMPLES / f"{code}.xml").read_bytes()
    form, findings = decode(data, expect=code)
    assert findings == []
    assert validate_schema(data, code) == []
    assert form.header.unit_name


def test_the_walk_through_example_is_an_unsigned_three_row_d02():
    data = (EXAMPLES / "D02-TS.xml").read_bytes()
    form, _ = decode(data)
    assert isinstance(form, D02TS) and len(form.rows) == 3
    assert form.header.unit_code == "DM0001A"
    assert b"Signature" not in data and b"<Cky/>" in data


@pytest.mark.parametrize("code", list(FORMS))
def test_signed_examples_verify_against_the_test_signer(code, generate, certificate):
    data = (EXAMPLES / f"{code}.signed.xml").read_bytes()
    verified = xmldsig.verify(data, policy=POLICY)
    assert verified.certificate == certificate
    assert verified.signing_time == generate.SIGNING_TIME
    unsigned, _ = decode((EXAMPLES / f"{code}.xml").read_bytes())
    assert decode_tree(verified.root) == (unsigned, [])
    assert decode(data) == (unsigned, [])
    assert validate_schema(data, code) == []


def test_the_envelope_carries_signed_d02_and_tk1_and_is_signed(generate, certificate):
    data = (EXAMPLES / "BHXHDienTu.xml").read_bytes()
    verified = xmldsig.verify(data, policy=POLICY)
    assert verified.certificate == certificate
    assert validate_schema(data, "BHXHDienTu") == []
    envelope, findings = decode_envelope(data)
    assert findings == []
    assert (envelope.procedure_code, envelope.unit.code) == ("600", "DM0001A")
    assert [f.form_code for f in envelope.files] == ["D02-TS", "TK1-TS"]
    for file in envelope.files:
        assert file.content == (EXAMPLES / f"{file.form_code}.signed.xml").read_bytes()
        assert xmldsig.verify(file.content, policy=POLICY).certificate == certificate


def test_the_readme_says_the_signatures_use_a_test_ca():
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert "test CA" in readme and "test-signer/" in readme


# --- docs/declarations.md -------------------------------------------------------------------

DOC = (DOCS / "declarations.md").read_text(encoding="utf-8")


def test_every_finding_code_is_documented():
    missing = [code for code in CODES if f"| `{code}` |" not in DOC]
    assert not missing, f"add to docs/declarations.md: {missing}"


def _records() -> list[type]:
    records = []
    for spec in FORMS.values():
        records += [spec.header_class] + ([spec.row_class] if spec.row_class else [])
    return [*records, TK1Adjustment, HouseholdAppendix, HouseholdMember]


@pytest.mark.parametrize("record", _records(), ids=lambda r: r.__name__)
def test_every_element_is_in_the_mapping_tables(record):
    """Each record has its table (`ClassName`:) listing every element with its portal name."""
    start = DOC.index(f"\n`{record.__name__}`:\n")
    table = DOC[start : DOC.find("\n\n`", start + 1)]
    rows = {
        match[1]: match[0]
        for match in re.finditer(r"^\| `([^`]+)` \|.*$", table, flags=re.MULTILINE)
    }
    for f in dataclasses.fields(record):
        assert f.metadata["xml"] in rows, f"{record.__name__}.{f.name}"
        portal = f.metadata.get("portal")
        if portal:
            assert f"`{portal}`" in rows[f.metadata["xml"]], f"{record.__name__}.{f.name}"
