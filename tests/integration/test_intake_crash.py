"""Issue 6 item 4: crash safety of the dossier intake, tested by killing real processes.

gunicorn and a Celery worker run as processes of their own on a private Redis, with a migrated
database (SQLite in a temp DATA_DIR; a fresh PostgreSQL database when the run's DATABASE_URL is
PostgreSQL). Processes are killed with SIGKILL — by the test, or by themselves at a named step
through the test-only hook `services._crash_point` (EBHXH_FAULT, once per dossier). After each
scenario every dossier that was acknowledged must be RECEIVED exactly once: numbers 1..N without
gaps or duplicates, its bytes on disk under their SHA-256, one receipt, one event, one audit event
and one e-mail each, and the audit chain intact.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from ebhxh.dossiers.testing import signed_envelope
from ebhxh.signatures.signers import KeySigner
from ebhxh.signatures.testing.pki import Issued, TestPKI
from tests.integration.conftest import free_port
from tests.integration.intake_stack import UNIT, IntakeStack, sha256_file

pytestmark = pytest.mark.integration

_first = itertools.count(1, 20)  # distinct rows, so every dossier has bytes of its own


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI(name="ebhxh Crash Test")


@pytest.fixture(scope="module")
def unit_cert(pki: TestPKI) -> Issued:
    return pki.issue(UNIT["name"], tax_code=UNIT["tax_code"])


@pytest.fixture(scope="module")
def signer(unit_cert: Issued) -> KeySigner:
    return KeySigner(unit_cert.key, unit_cert.certificate, list(unit_cert.chain))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: Any, redis_url: str, pki: TestPKI, unit_cert: Issued, signer: KeySigner
) -> Any:
    url = os.environ.get("DATABASE_URL", "")
    postgres = url if url.startswith(("postgres://", "postgresql://")) else None
    broker = redis_url.rsplit("/", 1)[0] + "/7"  # a database of the private Redis of its own
    s = IntakeStack(tmp_path_factory.mktemp("intake-crash"), broker, postgres)
    try:
        s.prepare(pki, unit_cert.cert_pem, sample=dossier(signer))
        yield s
    finally:
        s.close()


@pytest.fixture(autouse=True)
def _stop_processes(stack: IntakeStack) -> Any:
    yield
    for proc in stack.procs:
        if proc.poll() is None:
            stack.kill(proc)


def dossier(signer: KeySigner) -> bytes:
    return signed_envelope(
        signer,
        rows=10,
        unit_name=UNIT["name"],
        unit_code=UNIT["code"],
        tax_code=UNIT["tax_code"],
        agency_code=UNIT["agency"],
        first=next(_first),
    )


def submit_until_answered(
    stack: IntakeStack, body: bytes, key: str, tries: int = 20
) -> tuple[int, Any, int]:
    """POST until an answer comes (the same Idempotency-Key each time): status, body, failures."""
    failures = 0
    while True:
        try:
            status, answer = stack.submit(body, key)
            return status, answer, failures
        except OSError:
            failures += 1
            assert failures < tries, f"no answer to {key} after {tries} tries"
            time.sleep(0.2)


def markers(stack: IntakeStack, step: str) -> set[str]:
    prefix = step.replace(":", "-") + "-"
    return {p.name[len(prefix) :] for p in stack.fault_dir.glob(prefix + "*")}


def assert_received_exactly_once(stack: IntakeStack) -> list[dict[str, Any]]:
    """Every dossier of the database RECEIVED once, numbered 1..N, with its bytes and receipt."""
    rows = stack.dossiers()
    n = len(rows)
    assert n and [d["id"] for d in rows if d["status"] != "received"] == []
    assert sorted(int(d["number"].split("/")[0]) for d in rows) == list(range(1, n + 1))
    assert all(d["number"].endswith("/" + UNIT["agency"]) for d in rows)
    assert stack.query("SELECT coalesce(sum(last), 0) FROM dossiers_dossiercounter") == [(n,)]
    for d in rows:  # the exact bytes, under their hash; the sealed receipt names the number
        assert sha256_file(stack.media(d["blob"])) == d["sha256"], d
        assert d["number"].encode() in stack.media(d["receipt_blob"]).read_bytes(), d
    assert len({d["receipt_blob"] for d in rows}) == n
    events = stack.query(
        "SELECT dossier_id, status, count(*) FROM dossiers_dossierevent GROUP BY dossier_id, status"
    )
    assert sorted(events) == sorted(
        (d["id"], s, 1) for d in rows for s in ("received", "submitted")
    )
    tags = stack.query(
        "SELECT tag, count(*) FROM audit_auditevent WHERE tag LIKE 'dossier:%' GROUP BY tag"
    )
    assert sorted(tags) == [("dossier:receive", n), ("dossier:submit", n)]
    mails = stack.query(
        "SELECT count(*) FROM notify_outboundemail WHERE purpose = 'dossier:received'"
    )
    assert mails == [(n,)]
    return rows


def test_a_worker_killed_before_and_after_commit_loses_nothing(
    stack: IntakeStack, signer: KeySigner
) -> None:
    """Prefork worker: the process running the task dies (SIGKILL) just before the accepting
    COMMIT, then again just after it. The task is re-delivered each time (acks_late,
    reject_on_worker_lost): no gap from the rolled-back number, no second acceptance."""
    faults = {"EBHXH_FAULT": "accept:before-commit,accept:committed"}
    worker = stack.start_worker(pool="prefork", extra_env=faults, wait=False)
    stack.start_web()
    stack.ready(worker)
    bodies = [dossier(signer) for _ in range(3)]
    acks = []
    for body in bodies:
        status, ack = stack.submit(body)
        assert status == 202, ack
        acks.append(ack)
    rows = stack.wait_decided(len(bodies), timeout=90)
    ids = {str(d["id"]) for d in rows}
    assert markers(stack, "accept:before-commit") == ids  # each was killed before COMMIT ...
    deadline = time.monotonic() + 60  # ... and once more just after it, then delivered again
    log = Path(worker.log_path)
    while log.read_text().count("'received'\n") < len(bodies):  # what the task returned
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    assert markers(stack, "accept:committed") == ids
    assert log.read_text().count("exited with 'signal 9 (SIGKILL)'") == 2 * len(bodies)
    assert worker.poll() is None  # the pool replaced its killed process each time
    rows = stack.dossiers()
    assert all(d["attempts"] == 2 for d in rows)  # the third delivery found it decided
    assert [d["tracking_id"] for d in rows] == [uuid.UUID(a["tracking_id"]) for a in acks]
    assert_received_exactly_once(stack)


def test_a_whole_worker_killed_mid_batch_is_resumed(stack: IntakeStack, signer: KeySigner) -> None:
    """Solo worker: the whole worker dies at the accepting COMMIT of the first dossier it takes,
    with the rest of the batch queued. Nothing of that dossier is half-done; a new worker takes the
    rest, and `resume_intake` queues the one whose unacknowledged task died with the worker."""
    before = len(stack.dossiers())
    stack.start_web()
    bodies = [dossier(signer) for _ in range(5)]
    for body in bodies:
        assert stack.submit(body)[0] == 202
    worker = stack.start_worker(pool="solo", extra_env={"EBHXH_FAULT": "accept:before-commit"})
    assert worker.wait(timeout=60) == -9
    earlier = {str(d["id"]) for d in stack.dossiers()[:before]}
    (killed,) = markers(stack, "accept:before-commit") - earlier
    half = next(d for d in stack.dossiers() if str(d["id"]) == killed)
    assert (half["status"], half["number"], half["receipt_blob"]) == ("submitted", None, "")
    assert stack.query("SELECT coalesce(sum(last), 0) FROM dossiers_dossiercounter") == [(before,)]

    stack.start_worker(pool="solo")
    deadline = time.monotonic() + 60
    while sum(d["status"] == "received" for d in stack.dossiers()) < before + len(bodies) - 1:
        assert time.monotonic() < deadline, stack.dossiers()
        time.sleep(0.2)
    assert "queued 1 dossier" in stack.manage("resume_intake", "--older-than", "0")
    stack.wait_decided(before + len(bodies))
    assert_received_exactly_once(stack)


def test_the_web_killed_after_storing_and_after_commit_keeps_one_dossier(
    stack: IntakeStack, signer: KeySigner
) -> None:
    """The gunicorn worker serving the POST dies (SIGKILL) after the bytes are stored and before
    the row, then — on the client's second try, same Idempotency-Key — after the COMMIT and before
    the task is queued. The third try gets the original dossier (replayed); the lost tasks are
    queued by `resume_intake`."""
    before = len(stack.dossiers())
    worker = stack.start_worker(wait=False)
    stack.start_web(extra_env={"EBHXH_FAULT": "submit:stored,submit:committed"})
    stack.ready(worker)
    bodies = {f"crash-web-{i}": dossier(signer) for i in range(4)}
    answers = {}
    for key, body in bodies.items():
        status, ack, failures = submit_until_answered(stack, body, key)
        assert (status, ack["replayed"], failures) == (202, True, 2), (key, ack)
        answers[key] = ack
    rows = {d["idempotency_key"]: d for d in stack.dossiers()[before:]}
    assert sorted(rows) == sorted(bodies)  # exactly one dossier per key
    for key, d in rows.items():
        assert str(d["tracking_id"]) == answers[key]["tracking_id"]
        assert stack.media(d["blob"]).read_bytes() == bodies[key]
    time.sleep(1)  # no task was queued for them: they wait
    assert {d["status"] for d in stack.dossiers()[before:]} == {"submitted"}
    assert f"queued {len(bodies)} dossier" in stack.manage("resume_intake", "--older-than", "0")
    stack.wait_decided(before + len(bodies))
    assert_received_exactly_once(stack)


def test_the_web_killed_under_load_loses_no_acknowledged_dossier(
    stack: IntakeStack, signer: KeySigner
) -> None:
    """Four clients POST; the whole gunicorn (master and workers) is SIGKILLed once ten dossiers
    are acknowledged. Each acknowledged dossier is there with its bytes; the unanswered requests,
    sent again with the same Idempotency-Key after a restart, make exactly one dossier each."""
    before = len(stack.dossiers())
    worker = stack.start_worker(wait=False)
    web = stack.start_web(workers=2)
    stack.ready(worker)
    bodies = {f"load-{i}": dossier(signer) for i in range(40)}
    acknowledged: dict[str, str] = {}
    unanswered: list[str] = []
    lock = threading.Lock()
    keys = iter(list(bodies))

    def client() -> None:
        while True:
            with lock:
                key = next(keys, None)
            if key is None:
                return
            try:
                status, ack = stack.submit(bodies[key], key, timeout=10)
                assert status == 202, ack
                with lock:
                    acknowledged[key] = ack["tracking_id"]
            except OSError:
                with lock:
                    unanswered.append(key)

    clients = [threading.Thread(target=client) for _ in range(4)]
    for c in clients:
        c.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 10:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    stack.kill(web)
    for c in clients:
        c.join(timeout=60)
    assert unanswered, "the kill came too late to catch any request"

    # What was acknowledged is kept: the row, and the exact bytes under their hash.
    rows = {d["idempotency_key"]: d for d in stack.dossiers()[before:]}
    for key, tracking_id in acknowledged.items():
        assert str(rows[key]["tracking_id"]) == tracking_id
    for d in rows.values():  # no row without its blob
        assert (
            sha256_file(stack.media(d["blob"])) == d["sha256"] == _sha(bodies[d["idempotency_key"]])
        )

    stack.start_web(workers=2)
    for key in unanswered:
        status, ack, _failures = submit_until_answered(stack, bodies[key], key)
        assert status == 202, ack
        acknowledged[key] = ack["tracking_id"]
    rows = {d["idempotency_key"]: d for d in stack.dossiers()[before:]}
    assert sorted(rows) == sorted(bodies)
    assert {k: str(d["tracking_id"]) for k, d in rows.items()} == acknowledged
    stack.manage("resume_intake", "--older-than", "0")  # a POST killed between COMMIT and queueing
    stack.wait_decided(before + len(bodies))
    assert_received_exactly_once(stack)

    # Sent again, the same bytes (with or without the key) get the original outcome.
    key = next(iter(bodies))
    for again in (stack.submit(bodies[key], key), stack.submit(bodies[key])):
        assert again[0] == 202
        assert (again[1]["tracking_id"], again[1]["status"], again[1]["replayed"]) == (
            acknowledged[key],
            "received",
            True,
        )
    assert len(stack.dossiers()) == before + len(bodies)


def test_with_the_broker_down_dossiers_are_acknowledged_and_resumed(
    stack: IntakeStack, signer: KeySigner
) -> None:
    """The web's broker is unreachable: the POST is still acknowledged (202) and the dossier
    kept; no task exists. With a broker and a worker back, `resume_intake` queues them."""
    before = len(stack.dossiers())
    dead_broker = f"redis://127.0.0.1:{free_port()}/0"
    stack.start_web(extra_env={"CELERY_BROKER_URL": dead_broker})
    worker = stack.start_worker(wait=False)
    bodies = [dossier(signer) for _ in range(3)]
    for body in bodies:
        status, ack = stack.submit(body, timeout=60)
        assert status == 202 and not ack["replayed"], ack
    stack.ready(worker)
    time.sleep(1)
    assert {d["status"] for d in stack.dossiers()[before:]} == {"submitted"}
    assert f"queued {len(bodies)} dossier" in stack.manage("resume_intake", "--older-than", "0")
    stack.wait_decided(before + len(bodies))
    assert_received_exactly_once(stack)
    stack.manage("verify_audit_chain")


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
