"""Concurrent appends from many connections never fork the chain (PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db import connection, connections, transaction

from ebhxh.audit.models import AuditEvent
from ebhxh.audit.services import record_event, verify_chain
from ebhxh.audit.tags import Tag

THREADS = 8
EVENTS_PER_THREAD = 25


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks and real connections"
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_stay_linear(capsys: pytest.CaptureFixture[str]) -> None:
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EVENTS_PER_THREAD):
                # Each event in its own transaction, like a service call per request.
                with transaction.atomic():
                    record_event(Tag.DEMO_SEED, data={"thread": n, "i": i})
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()  # each thread has its own connection

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began

    assert errors == []
    total = THREADS * EVENTS_PER_THREAD
    rows = list(AuditEvent.objects.order_by("seq").values_list("seq", "prev_hash", "hash", "data"))
    assert [r[0] for r in rows] == list(range(1, total + 1))
    assert len({r[1] for r in rows}) == total
    assert [r[1] for r in rows[1:]] == [r[2] for r in rows[:-1]]
    assert Counter(r[3]["thread"] for r in rows) == dict.fromkeys(range(THREADS), EVENTS_PER_THREAD)
    result = verify_chain()
    assert (result.ok, result.checked) == (True, total)
    with capsys.disabled():
        print(f"\n{total} concurrent appends ({THREADS} threads) in {elapsed:.2f} s")
