"""`manage.py sign` and `manage.py verify` as real subprocesses, as an operator runs them.

Each child gets its own DATA_DIR (so its own SQLite database, migrated here) and none of the
parent's DATABASE_URL / DJANGO_SETTINGS_MODULE / SEAL_* / SIGNATURE_* / EBHXH_* variables.
Independent children run side by side to keep the module fast (each start costs about a second).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from ebhxh.signatures import profile, xmldsig
from ebhxh.signatures.services import seal
from ebhxh.signatures.signers import KeySigner
from ebhxh.signatures.testing.documents import d02_document
from ebhxh.signatures.testing.pki import Issued, TestPKI
from ebhxh.signatures.testing.softhsm import shared_softhsm, softhsm_unavailable_reason

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "Pkcs12-pw-5821-cli"
PIN = "531864"
WRONG_PIN = "999000"
UNIT_CODE = "TC0001A"
DS = f"{{{profile.DS_NS}}}"
_STRIPPED = ("DATABASE_URL", "DJANGO_", "SEAL_", "SIGNATURE_", "EBHXH_", "SOFTHSM2_CONF")

SETUP = """
from pathlib import Path
from ebhxh.audit.context import acting_as
from ebhxh.signatures.revocation import upload_crl
from ebhxh.signatures.trust import add_intermediate_certificate, register_certificate
from ebhxh.units.tests.factories import UnitFactory

d = Path({directory!r})
with acting_as():
    unit = UnitFactory(code={unit!r})
    add_intermediate_certificate((d / "ca.pem").read_bytes(), actor=None)
    register_certificate(unit, (d / "unit.pem").read_bytes(), actor=None)
    upload_crl((d / "ca.crl").read_bytes(), actor=None)
print("setup ok")
"""


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:  # what a failed assertion shows
        return f"{' '.join(self.args)} -> {self.returncode}\n{self.stdout}\n{self.stderr}"


def child_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_STRIPPED)}
    env.update(DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    env.update(extra)
    return env


def _start(env: dict[str, str], args: tuple[str, ...]) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,  # no TTY: a prompt is impossible
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def _finish(proc: subprocess.Popen[str], args: tuple[str, ...]) -> Result:
    try:
        stdout, stderr = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    return Result(args, proc.returncode, stdout, stderr)


def run(env: dict[str, str], *args: str) -> Result:
    return _finish(_start(env, args), args)


def run_all(*calls: tuple[dict[str, str], tuple[str, ...]]) -> list[Result]:
    """Independent commands side by side; results in the order given."""
    procs = [(_start(env, args), args) for env, args in calls]
    return [_finish(proc, args) for proc, args in procs]


@dataclass
class Workspace:
    dir: Path
    env: dict[str, str]
    pki: TestPKI
    unit: Issued
    p12: Path
    document: Path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    """A migrated DATA_DIR whose trust store holds the test root (added with `trust add`), with
    the issuing CA known, its CRL uploaded, and unit TC0001A owning the unit's certificate."""
    directory = tmp_path_factory.mktemp("cli")
    env = child_env(directory / "data")
    pki = TestPKI(name="ebhxh CLI")
    unit = pki.issue("Công ty TNHH Dòng Lệnh", tax_code="0310000017")
    (directory / "root.pem").write_bytes(pki.root.cert_pem)
    (directory / "ca.pem").write_bytes(pki.issuing.cert_pem)
    (directory / "ca.crl").write_bytes(pki.crl())
    (directory / "unit.pem").write_bytes(unit.cert_pem)
    p12 = directory / "unit.p12"
    p12.write_bytes(unit.pkcs12(PASSWORD.encode()))
    document = directory / "D02-TS.xml"
    document.write_bytes(d02_document(3, unit_code=UNIT_CODE))

    migrate = run(env, "migrate", "-v", "0")
    assert migrate.returncode == 0, migrate
    trust = run(env, "trust", "add", str(directory / "root.pem"), "--note", "test PKI (CLI)")
    assert trust.returncode == 0, trust
    assert "Trusted root added" in trust.stdout
    setup = run(env, "shell", "-c", SETUP.format(directory=str(directory), unit=UNIT_CODE))
    assert setup.returncode == 0, setup
    assert "setup ok" in setup.stdout
    return Workspace(directory, env, pki, unit, p12, document)


def test_secrets_never_come_from_the_command_line(workspace: Workspace):
    ws = workspace
    out = ws.dir / "never.xml"
    with_pkcs12 = ("sign", str(ws.document), "--pkcs12", str(ws.p12), "-o", str(out))
    help_, no_secret, password_arg, pin_arg = run_all(
        (ws.env, ("sign", "--help")),
        # No TTY and no EBHXH_PKCS12_PASSWORD: a clear error, not a hang or a traceback.
        (ws.env, with_pkcs12),
        # No option takes the secret, not even by abbreviating --password-env / --pin-env.
        (ws.env, (*with_pkcs12, "--password", PASSWORD)),
        (
            ws.env,
            (
                "sign",
                str(ws.document),
                "--pkcs11-module",
                "/nonexistent/libtoken.so",
                "--token",
                "T",
                "--pin",
                PIN,
            ),
        ),
    )

    assert help_.returncode == 0, help_
    options = set(re.findall(r"--[a-z0-9][a-z0-9-]*", help_.stdout))
    assert {"--pkcs12", "--pkcs11-module", "--token", "--password-env", "--pin-env"} <= options
    secret_options = {o for o in options if o.startswith(("--pass", "--pin", "--secret"))}
    assert secret_options == {"--password-env", "--pin-env"}  # names of variables, not secrets
    assert "never from the command line" in help_.stdout

    assert no_secret.returncode == 1, no_secret
    assert "set EBHXH_PKCS12_PASSWORD or run in a terminal" in no_secret.stderr
    assert "Traceback" not in no_secret.output

    for attempt, secret in ((password_arg, PASSWORD), (pin_arg, PIN)):
        assert attempt.returncode != 0, attempt
        assert "unrecognized arguments" in attempt.stderr
        # Not taken for the name of an environment variable either.
        assert f"set {secret} or run" not in attempt.output
    assert not out.exists()


def test_sign_with_a_key_file_then_verify(workspace: Workspace):
    ws = workspace
    signing = run(
        {**ws.env, "EBHXH_PKCS12_PASSWORD": PASSWORD},
        "sign",
        str(ws.document),
        "--pkcs12",
        str(ws.p12),
    )
    assert signing.returncode == 0, signing
    signed_path = ws.dir / "D02-TS.signed.xml"
    assert f"signed: {signed_path}" in signing.stdout
    assert "Dòng Lệnh" in signing.stdout  # the signer's subject
    assert PASSWORD not in signing.output
    signed = signed_path.read_bytes()
    assert xmldsig.verify(signed).certificate == ws.unit.certificate  # in the D02-TS/Cky node
    tampered_path = ws.dir / "tampered.xml"
    tampered_path.write_bytes(signed.replace("Nhân viên kỹ thuật".encode(), b"Giam doc", 1))

    text, as_json, tampered, unknown_unit = run_all(
        (ws.env, ("verify", str(signed_path), "--unit", UNIT_CODE)),
        (ws.env, ("verify", str(signed_path), "--json")),
        (ws.env, ("verify", str(tampered_path))),
        (ws.env, ("verify", str(signed_path), "--unit", "ZZ9999Z")),
    )

    assert text.returncode == 0, text
    assert text.stdout.startswith("HỢP LỆ / VALID")
    assert "Công ty TNHH Dòng Lệnh" in text.stdout  # signer
    assert "ebhxh CLI Root CA" in text.stdout  # chain
    assert "thu hồi / revocation" in text.stdout  # the uploaded CRL was used

    assert as_json.returncode == 0, as_json
    report = json.loads(as_json.stdout)
    assert report["valid"] is True and report["code"] is None
    assert report["document_sha256"] == hashlib.sha256(signed).hexdigest()
    assert report["policy"]["moment"] == "receipt"
    assert report["certificate"]["chain"][-1]["subject"].startswith("CN=ebhxh CLI Root CA,")
    [evidence] = report["certificate"]["revocation"]
    assert (evidence["status"], evidence["uploaded"]) == ("good", True)

    assert tampered.returncode == 1, tampered
    assert "KHÔNG HỢP LỆ / INVALID  SIG-DIGEST" in tampered.stdout
    assert "The content was changed after signing" in tampered.stdout

    assert unknown_unit.returncode != 0, unknown_unit
    assert "no unit ZZ9999Z" in unknown_unit.stderr
    assert "HỢP LỆ" not in unknown_unit.stdout


@pytest.fixture(scope="module")
def token(workspace: Workspace):
    reason = softhsm_unavailable_reason()
    if reason:
        pytest.skip(reason)
    hsm = shared_softhsm()
    label = hsm.unique_label("cli")
    hsm.init_token(label, PIN)
    enrolled = hsm.provision_signer(
        workspace.pki, label, PIN, common_name="Công ty Token Dòng Lệnh", with_chain=True
    )
    return hsm, enrolled


def test_sign_with_a_token(workspace: Workspace, token):
    ws = workspace
    hsm, enrolled = token
    env = {**ws.env, "SOFTHSM2_CONF": hsm.env["SOFTHSM2_CONF"]}
    module = ("--pkcs11-module", hsm.module_path, "--token", enrolled.token_label)
    combined_path, host_path, wrong_path = (
        ws.dir / "token.xml",
        ws.dir / "token-host.xml",
        ws.dir / "token-wrong.xml",
    )

    # One after the other: the same token, and SoftHSM's object store is a directory of files.
    combined = run(
        {**env, "EBHXH_PIN": PIN}, "sign", str(ws.document), *module, "-o", str(combined_path)
    )
    host = run(
        {**env, "EBHXH_PIN": PIN},
        "sign",
        str(ws.document),
        *module,
        "--key",
        enrolled.key_label,
        "--host-hashing",
        "-o",
        str(host_path),
    )
    wrong = run(
        {**env, "EBHXH_PIN": WRONG_PIN}, "sign", str(ws.document), *module, "-o", str(wrong_path)
    )

    assert combined.returncode == 0, combined
    assert host.returncode == 0, host
    assert PIN not in combined.output + host.output
    assert wrong.returncode == 1, wrong
    assert "SIGN-KEY" in wrong.stderr
    assert WRONG_PIN not in wrong.output
    assert "Traceback" not in wrong.output
    assert not wrong_path.exists()

    first, second = run_all(
        (ws.env, ("verify", str(combined_path))), (ws.env, ("verify", str(host_path)))
    )
    assert first.returncode == 0, first
    assert second.returncode == 0, second
    assert "Công ty Token Dòng Lệnh" in first.stdout
    for path in (combined_path, host_path):
        assert xmldsig.verify(path.read_bytes()).certificate == enrolled.certificate

    # CKM_SHA256_RSA_PKCS and CKM_RSA_PKCS over a host DigestInfo: the same PKCS#1 v1.5 value.
    def value(path: Path) -> str:
        return next(etree.fromstring(path.read_bytes()).iter(f"{DS}SignatureValue")).text

    assert value(combined_path) == value(host_path)


NOTICE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<BaoHiemDienTu><ThongBao><MauSo>02/TB-TS</MauSo>"
    "<NoiDung>Đã nhận hồ sơ.</NoiDung></ThongBao></BaoHiemDienTu>\n"
).encode()


def test_verify_a_notice_with_the_agency_certificate_alone(tmp_path):
    """No database, no trust store: only the agency's certificate file."""
    pki = TestPKI(name="ebhxh Seal")
    now = dt.datetime.now(dt.UTC)
    agency = pki.issue("Bảo hiểm xã hội Việt Nam — con dấu điện tử")
    other = pki.issue("Ai đó khác")
    old = pki.issue(
        "Con dấu cũ", not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=1)
    )
    for name, issued in (("agency", agency), ("other", other), ("old", old)):
        (tmp_path / f"{name}.pem").write_bytes(issued.cert_pem)
    notice = tmp_path / "notice.xml"
    notice.write_bytes(seal(NOTICE, signer=KeySigner(agency.key, agency.certificate)))  # type: ignore[arg-type]
    old_notice = tmp_path / "old-notice.xml"
    old_notice.write_bytes(
        xmldsig.sign(
            NOTICE,
            KeySigner(old.key, old.certificate),  # type: ignore[arg-type]
            signing_time=now - dt.timedelta(days=30),
        )
    )
    data_dir = tmp_path / "empty-data"
    env = child_env(data_dir)

    good, wrong_cert, expired, archived = run_all(
        (env, ("verify", str(notice), "--cert", str(tmp_path / "agency.pem"))),
        (env, ("verify", str(notice), "--cert", str(tmp_path / "other.pem"))),
        # Judged now, like at intake: a backdated SigningTime does not revive an expired seal...
        (env, ("verify", str(old_notice), "--cert", str(tmp_path / "old.pem"))),
        # ...except in an archive check.
        (
            env,
            ("verify", str(old_notice), "--cert", str(tmp_path / "old.pem"), "--at-signing-time"),
        ),
    )

    assert good.returncode == 0, good
    assert good.stdout.startswith("HỢP LỆ / VALID")
    assert "con dấu điện tử" in good.stdout
    assert wrong_cert.returncode == 1, wrong_cert
    assert "KHÔNG HỢP LỆ / INVALID  CERT-UNTRUSTED" in wrong_cert.stdout
    assert expired.returncode == 1, expired
    assert "CERT-EXPIRED" in expired.stdout
    assert archived.returncode == 0, archived
    assert "signing_time" in archived.stdout
    # Nothing needed a database.
    database = data_dir / "ebhxh.sqlite3"
    assert not database.exists() or database.stat().st_size == 0
