"""Benchmark: strict verification of a signed D02-TS form, 10 rows and 10,000 rows (~6 MB), against
the floor measured in the same run: lxml parse + C14N + SHA-256 + one RSA-2048 verification.
Peak memory of verifying the 10,000-row file is measured in a fresh process.

    .venv/bin/python bench/verify_signature.py

Targets (issue 3): within 2x of the floor; at most 150 MiB peak RSS for the 10,000-row file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def _signed(rows: int) -> tuple[bytes, object]:
    from ebhxh.signatures import xmldsig
    from ebhxh.signatures.signers import KeySigner
    from ebhxh.signatures.testing.documents import d02_document
    from ebhxh.signatures.testing.pki import TestPKI

    pki = TestPKI()
    unit = pki.issue("Công ty TNHH Dệt may Sao Mai", tax_code="0310000017")
    signer = KeySigner(unit.key, unit.certificate, unit.chain[:1])
    return xmldsig.sign(d02_document(rows), signer), unit


def _floor(signed: bytes, unit) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from lxml import etree

    root = etree.fromstring(
        signed, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    )
    digest = hashlib.sha256(etree.tostring(root, method="c14n")).digest()
    # The floor times one RSA verification; the (failing) outcome is irrelevant.
    with contextlib.suppress(Exception):
        unit.certificate.public_key().verify(
            b"0" * 256, digest, padding.PKCS1v15(), hashes.SHA256()
        )


def _hwm_mib() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork+exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_rss_child(path: str) -> None:
    from ebhxh.signatures import xmldsig

    data = Path(path).read_bytes()
    base = _hwm_mib()
    xmldsig.verify(data)
    print(f"{base:.0f} {_hwm_mib():.0f}")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--rss":
        _peak_rss_child(sys.argv[2])
        return
    from ebhxh.signatures import xmldsig

    print("rows    size      floor ms   verify ms   ratio")
    for rows, repeat in ((10, 301), (10_000, 15)):
        signed, unit = _signed(rows)
        floor = _median_ms(lambda s=signed, u=unit: _floor(s, u), repeat)
        verify = _median_ms(lambda s=signed: xmldsig.verify(s), repeat)
        print(
            f"{rows:>6} {len(signed) / 1e6:6.2f} MB {floor:9.3f} {verify:11.3f} {verify / floor:7.2f}x"
        )
        if rows == 10_000:
            with tempfile.NamedTemporaryFile(suffix=".xml", delete=False) as f:
                f.write(signed)
            out = subprocess.run(
                [sys.executable, __file__, "--rss", f.name],
                capture_output=True,
                text=True,
                check=True,
            )
            os.unlink(f.name)
            base, peak = out.stdout.split()
            print(
                f"peak RSS verifying the 10,000-row file in a fresh process: {peak} MiB (before verify: {base} MiB)"
            )


if __name__ == "__main__":
    main()
