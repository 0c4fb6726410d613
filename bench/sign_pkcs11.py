"""Benchmark: one XML-DSig signature value over a SignedInfo-sized payload (~700 bytes) through a
PKCS#11 token (SoftHSM2) with `Pkcs11Signer`, both RSA mechanisms, against the floor of a raw
RSA-2048 PKCS#1 v1.5 signature with cryptography in-process.

    .venv/bin/python bench/sign_pkcs11.py            # BENCH_N=300 by default (>= 200)

It makes its own SoftHSM token directory in a temporary folder (key generated on the token,
certificate from the test PKI stored next to it) and removes it at the end. Target: under 5 ms
per signature through SoftHSM. Real USB tokens take hundreds of ms per RSA signature; SoftHSM
measures the software path (python-pkcs11, the module, the session), not the token.
"""

from __future__ import annotations

import functools
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
N = max(200, int(os.environ.get("BENCH_N", "300")))
WARMUP = 20
TARGET_MS = 5.0
PIN = "bench-1234"
LABEL = "bench"

PAYLOAD = (
    b'<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
    b'<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
    b'<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
    b'<ds:Reference URI=""><ds:Transforms>'
    b'<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
    b"</ds:Transforms>"
    b'<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
    b"<ds:DigestValue>q3Xx2mJ8yQd0y1n5m0W9vC4oZ8kZ3pQH6Yl1cF0aG2E=</ds:DigestValue></ds:Reference>"
    b'<ds:Reference URI="#sigprop"><ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>'
    b"<ds:DigestValue>m2C5b1Yq9zR0x8VvJ3kT6Lh4pD7=</ds:DigestValue></ds:Reference>"
    b"</ds:SignedInfo>"
)


def _median_ms(fn: Callable[[], object], n: int) -> tuple[float, float]:
    for _ in range(WARMUP):
        fn()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.95)] * 1000


def main() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from pkcs11 import Mechanism, ObjectClass

    from ebhxh.signatures.pkcs11 import Pkcs11Signer, logged_in_session
    from ebhxh.signatures.signers import KeySigner
    from ebhxh.signatures.testing.pki import TestPKI
    from ebhxh.signatures.testing.softhsm import SoftHSM, softhsm_unavailable_reason

    reason = softhsm_unavailable_reason()
    if reason:
        sys.exit(f"cannot run: {reason}")
    directory = tempfile.mkdtemp(prefix="ebhxh-bench-softhsm-")
    try:
        with SoftHSM(directory) as hsm:
            pki = TestPKI()
            hsm.init_token(LABEL, PIN)
            on_token = hsm.provision_signer(pki, LABEL, PIN, key_label="rsa", key_id=b"\x01")
            hsm.provision_signer(pki, LABEL, PIN, key_label="ec", key_id=b"\x02", kind="ec")
            in_memory = pki.issue("Floor", key_kind="rsa")
            key = in_memory.key
            public_key = on_token.certificate.public_key()
            assert isinstance(key, rsa.RSAPrivateKey)
            assert isinstance(public_key, rsa.RSAPublicKey)

            rows: list[tuple[str, float, float]] = []
            rows.append(
                (
                    "floor: cryptography RSA-2048 sign",
                    *_median_ms(lambda: key.sign(PAYLOAD, padding.PKCS1v15(), hashes.SHA256()), N),
                )
            )
            key_signer = KeySigner(key, in_memory.certificate)
            rows.append(("KeySigner (in memory)", *_median_ms(lambda: key_signer.sign(PAYLOAD), N)))
            # the token's own floor: python-pkcs11 straight onto SoftHSM, no wrapper
            lease = logged_in_session(hsm.module_path, LABEL, PIN)
            try:
                raw_key = lease.session.get_key(object_class=ObjectClass.PRIVATE_KEY, label="rsa")
                rows.append(
                    (
                        "python-pkcs11 key.sign SHA256_RSA_PKCS",
                        *_median_ms(
                            lambda: raw_key.sign(PAYLOAD, mechanism=Mechanism.SHA256_RSA_PKCS), N
                        ),
                    )
                )
            finally:
                lease.release()
            signatures = {}
            for name, host_hashing in (
                ("Pkcs11Signer CKM_SHA256_RSA_PKCS", False),
                ("Pkcs11Signer CKM_RSA_PKCS + host hash", True),
            ):
                with Pkcs11Signer(
                    hsm.module_path,
                    token_label=LABEL,
                    key_label="rsa",
                    pin=PIN,
                    host_hashing=host_hashing,
                ) as signer:
                    signatures[name] = signer.sign(PAYLOAD)
                    public_key.verify(
                        signatures[name], PAYLOAD, padding.PKCS1v15(), hashes.SHA256()
                    )
                    rows.append((name, *_median_ms(functools.partial(signer.sign, PAYLOAD), N)))
            assert len(set(signatures.values())) == 1, "the two mechanisms must agree byte for byte"
            with Pkcs11Signer(
                hsm.module_path, token_label=LABEL, key_label="ec", pin=PIN
            ) as ec_signer:
                rows.append(
                    (
                        "Pkcs11Signer CKM_ECDSA P-256 (host hash)",
                        *_median_ms(lambda: ec_signer.sign(PAYLOAD), N),
                    )
                )

            # session opening + login + object lookup, what a signer pays once
            def open_close() -> None:
                Pkcs11Signer(
                    hsm.module_path, token_label=LABEL, key_label="rsa", pin=PIN
                ).open().close()

            rows.append(
                (
                    "Pkcs11Signer open+close (login, lookup)",
                    *_median_ms(open_close, max(50, N // 4)),
                )
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    floor = rows[0][1]
    print(
        f"payload {len(PAYLOAD)} bytes; {N} runs after {WARMUP} warm-up; SoftHSM in {directory} (removed)"
    )
    print(f"{'operation':<44} {'median ms':>10} {'p95 ms':>8} {'× floor':>8}")
    for name, median, p95 in rows:
        print(f"{name:<44} {median:>10.3f} {p95:>8.3f} {median / floor:>8.1f}")
    worst = max(median for name, median, _ in rows if name.startswith("Pkcs11Signer CKM"))
    verdict = "OK" if worst < TARGET_MS else "OVER TARGET"
    print(
        f"target: < {TARGET_MS} ms per signature through SoftHSM: {verdict} (worst {worst:.3f} ms)"
    )


if __name__ == "__main__":
    main()
