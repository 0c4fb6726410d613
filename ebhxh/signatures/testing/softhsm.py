"""SoftHSM2 as a stand-in for a VSS USB token, for the tests, the demo, the agent tests and the benchmark.

    hsm = shared_softhsm()                                  # one token directory for the process
    label = hsm.unique_label("signer")
    hsm.init_token(label, pin="123456")
    pub = hsm.generate_key_on_token(label, "123456", "signer", b"\\x01")      # non-extractable
    issued = TestPKI().issue("Công ty A", public_key=pub)
    hsm.import_certificate(label, "123456", issued.cert_der, "signer", b"\\x01")
    Pkcs11Signer(hsm.module_path, token_label=label, pin="123456").sign(b"...")

Why one token directory per process (checked with SoftHSM 2.6.1 + python-pkcs11 0.10.1):

* SoftHSM reads `SOFTHSM2_CONF` only in C_Initialize, and a process has one copy of the library:
  python-pkcs11 loads a module once per path, and dlopen hands out the same instance for every path
  to the same file (even through the /usr/lib/softhsm symlink). So two token directories cannot be
  active at the same time in one process.
* Switching is possible only by C_Finalize + C_Initialize with another `SOFTHSM2_CONF`
  (`SoftHSM.close()` does that through `ebhxh.signatures.pkcs11.reset_module`), which kills every
  session in the process. Hence `shared_softhsm()`: one directory for the whole test session, a
  token per test module (labels made unique), and `SoftHSM(dir)` refuses to start while another
  instance is active.
* A token initialised by `softhsm2-util --init-token` in another process after the module was
  loaded is invisible until re-initialisation, so `init_token` calls C_InitToken in-process (the
  one function python-pkcs11 does not wrap) on the already loaded module. Objects that
  `softhsm2-util --import` adds to an existing token *are* seen by the running process.

The helper never calls pytest: callers decide to skip with `softhsm_unavailable_reason()`.
Nothing here is for production keys; PINs appear on the softhsm2-util command line of `import_key`.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

_MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
)
DEFAULT_SO_PIN = "12345678"


def find_module() -> str | None:
    """Path of libsofthsm2.so: $SOFTHSM2_MODULE, the usual places, then dpkg (Debian ships it in
    the `libsofthsm2` package, so `dpkg -L softhsm2` alone does not list it)."""
    explicit = os.environ.get("SOFTHSM2_MODULE")
    if explicit:
        return explicit if os.path.isfile(explicit) else None
    for candidate in _MODULE_CANDIDATES:
        if os.path.isfile(candidate):
            return candidate
    dpkg = shutil.which("dpkg")
    if dpkg:
        for package in ("libsofthsm2", "softhsm2"):
            result = subprocess.run(  # noqa: S603
                [dpkg, "-L", package], capture_output=True, text=True, check=False
            )
            for line in result.stdout.splitlines():
                if line.endswith("/libsofthsm2.so") and os.path.isfile(line):
                    return line
    return None


def softhsm_unavailable_reason() -> str | None:
    """None if SoftHSM2 can be used here, else why not (for pytest.skip in a fixture)."""
    if find_module() is None:
        return "SoftHSM2 PKCS#11 module (libsofthsm2.so) not installed"
    if shutil.which("softhsm2-util") is None:
        return "softhsm2-util not installed"
    return None


class SoftHSMUnavailableError(RuntimeError):
    pass


_ACTIVE: SoftHSM | None = None
_ACTIVE_LOCK = threading.RLock()


class SoftHSM:
    """A SoftHSM2 token directory under `tmp_dir`, made the process's SoftHSM configuration."""

    def __init__(self, tmp_dir: str | os.PathLike[str], *, module_path: str | None = None) -> None:
        global _ACTIVE
        reason = softhsm_unavailable_reason() if module_path is None else None
        module = module_path or find_module()
        if reason or module is None:
            raise SoftHSMUnavailableError(reason or "SoftHSM2 not installed")
        self._module_path = os.path.realpath(module)
        self.dir = Path(tmp_dir)
        self.token_dir = self.dir / "tokens"
        self.conf_path = self.dir / "softhsm2.conf"
        self.closed = False
        with _ACTIVE_LOCK:
            if _ACTIVE is not None and not _ACTIVE.closed:
                raise RuntimeError(
                    f"a SoftHSM token directory is already active in this process ({_ACTIVE.dir}); "
                    "SoftHSM holds one per process: close() it first, or use shared_softhsm()"
                )
            if _module_initialized(self._module_path):
                # Loaded by someone else (with whatever SOFTHSM2_CONF was set then): start afresh.
                from ebhxh.signatures.pkcs11 import reset_module

                reset_module(self._module_path)
            self.token_dir.mkdir(parents=True, exist_ok=True)
            self.conf_path.write_text(
                f"directories.tokendir = {self.token_dir}\n"
                "objectstore.backend = file\n"
                "log.level = ERROR\n"
                "slots.removable = false\n",
                encoding="utf-8",
            )
            self._previous_conf = os.environ.get("SOFTHSM2_CONF")
            os.environ["SOFTHSM2_CONF"] = str(self.conf_path)  # before the module is initialised
            _ACTIVE = self

    # -- plumbing

    @property
    def module_path(self) -> str:
        return self._module_path

    @property
    def env(self) -> dict[str, str]:
        """Environment for a child process (agent, softhsm2-util, pkcs11-tool) using these tokens."""
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf_path)}

    def close(self) -> None:
        """Finalise the module (every session in the process ends) and restore SOFTHSM2_CONF.

        The directory is left for the caller (usually a pytest tmp dir) to remove."""
        global _ACTIVE
        with _ACTIVE_LOCK:
            if self.closed:
                return
            self.closed = True
            from ebhxh.signatures.pkcs11 import reset_module

            reset_module(self._module_path)
            if self._previous_conf is None:
                os.environ.pop("SOFTHSM2_CONF", None)
            else:
                os.environ["SOFTHSM2_CONF"] = self._previous_conf
            if _ACTIVE is self:
                _ACTIVE = None

    def __enter__(self) -> SoftHSM:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _lib(self) -> Any:
        self._check_open()
        import pkcs11

        return pkcs11.lib(self._module_path)

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("this SoftHSM was closed")

    @staticmethod
    def unique_label(prefix: str) -> str:
        """A token label unlikely to clash with other tests' tokens in the shared directory."""
        return f"{prefix[:20]}-{secrets.token_hex(4)}"

    # -- tokens and objects

    def init_token(self, label: str, pin: str, so_pin: str = DEFAULT_SO_PIN) -> None:
        """Initialise a new token in the free slot and set its user PIN (in-process, see module doc)."""
        from pkcs11 import PKCS11Error, TokenFlag

        raw_label = label.encode("utf-8")
        if len(raw_label) > 32:
            raise ValueError("a PKCS#11 token label has at most 32 bytes")
        lib = self._lib()
        tokens = []
        for slot in lib.get_slots(token_present=True):
            try:
                tokens.append(slot.get_token())
            except PKCS11Error:  # e.g. a token deleted by softhsm2-util under this process
                continue
        if any(t.label == label and t.flags & TokenFlag.TOKEN_INITIALIZED for t in tokens):
            raise ValueError(f"a token labelled {label!r} already exists")
        free = [t for t in tokens if not t.flags & TokenFlag.TOKEN_INITIALIZED]
        if not free:
            raise RuntimeError("SoftHSM has no free slot")
        library = ctypes.CDLL(self._module_path)  # the same, already initialised, instance
        init_token = library.C_InitToken
        init_token.argtypes = [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
        init_token.restype = ctypes.c_ulong
        so = so_pin.encode("utf-8")
        rv = init_token(free[0].slot.slot_id, so, len(so), raw_label.ljust(32, b" "))
        if rv != 0:
            raise RuntimeError(f"C_InitToken failed with CKR 0x{rv:x}")
        # Same slot, now initialised. (lib.get_token would stumble over the slot of a token
        # deleted under this process: SoftHSM answers CKR_GENERAL_ERROR for it.)
        token = free[0].slot.get_token()
        if token.label != label:
            raise RuntimeError(f"C_InitToken left the slot labelled {token.label!r}")
        with token.open(so_pin=so_pin, rw=True) as session:
            session.init_pin(pin)

    def generate_key_on_token(
        self,
        token_label: str,
        pin: str,
        key_label: str,
        key_id: bytes,
        kind: str = "rsa",
        *,
        bits: int = 2048,
        curve: str = "secp256r1",
    ) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
        """A key pair generated inside the token (sensitive, never extractable, local, like a USB
        token's); returns its public key as a cryptography object."""
        from pkcs11 import Attribute, KeyType, MechanismFlag
        from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

        if kind not in ("rsa", "ec"):
            raise ValueError("kind is 'rsa' or 'ec'")
        private_template = {
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.PRIVATE: True,
            Attribute.SIGN: True,
        }
        capabilities = MechanismFlag.SIGN | MechanismFlag.VERIFY
        with self._session(token_label, pin) as session:
            if kind == "rsa":
                public, _ = session.generate_keypair(
                    KeyType.RSA,
                    bits,
                    id=key_id,
                    label=key_label,
                    store=True,
                    capabilities=capabilities,
                    private_template=private_template,
                )
                return rsa.RSAPublicNumbers(
                    int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big"),
                    int.from_bytes(public[Attribute.MODULUS], "big"),
                ).public_key()
            params = session.create_domain_parameters(
                KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters(curve)}, local=True
            )
            public, _ = params.generate_keypair(
                id=key_id,
                label=key_label,
                store=True,
                capabilities=capabilities,
                private_template=private_template,
            )
            key = serialization.load_der_public_key(encode_ec_public_key(public))
            assert isinstance(key, ec.EllipticCurvePublicKey)
            return key

    def import_certificate(
        self,
        token_label: str,
        pin: str,
        cert_der: bytes | x509.Certificate,
        label: str,
        key_id: bytes,
    ) -> None:
        """Store an X.509 certificate as a public token object (CKA_ID = `key_id`, next to its key)."""
        from pkcs11 import Attribute, CertificateType, ObjectClass

        cert = (
            cert_der
            if isinstance(cert_der, x509.Certificate)
            else x509.load_der_x509_certificate(cert_der)
        )
        serial_der = _der_integer(cert.serial_number)
        with self._session(token_label, pin) as session:
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: False,
                    Attribute.ID: key_id,
                    Attribute.LABEL: label,
                    Attribute.SUBJECT: cert.subject.public_bytes(),
                    Attribute.ISSUER: cert.issuer.public_bytes(),
                    Attribute.SERIAL_NUMBER: serial_der,
                    Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER),
                }
            )

    def import_key(
        self, token_label: str, pin: str, key_pem: bytes, label: str, key_id: bytes
    ) -> None:
        """Import an existing key (unencrypted PKCS#8 PEM, e.g. `Issued.key_pem`) with softhsm2-util.

        Unlike a generated key it is sensitive but not never-extractable/local."""
        self._check_open()
        fd, name = tempfile.mkstemp(prefix="import-", suffix=".pem", dir=self.dir)
        try:
            with os.fdopen(fd, "wb") as handle:  # mkstemp: mode 0600
                handle.write(key_pem)
            result = subprocess.run(  # noqa: S603
                [
                    _tool("softhsm2-util"),
                    "--import",
                    name,
                    "--token",
                    token_label,
                    "--label",
                    label,
                    "--id",
                    key_id.hex(),
                    "--pin",
                    pin,
                ],
                env=self.env,
                capture_output=True,
                text=True,
                check=False,
            )
        finally:
            os.unlink(name)
        if result.returncode != 0:
            raise RuntimeError(
                f"softhsm2-util --import failed: {(result.stderr or result.stdout).strip()}"
            )

    def provision_signer(
        self,
        pki: Any,
        token_label: str,
        pin: str,
        *,
        common_name: str = "Công ty TNHH Token Thử",
        key_label: str = "signer",
        key_id: bytes = b"\x01",
        kind: str = "rsa",
        with_chain: bool = False,
        **issue_options: Any,
    ) -> TokenSigner:
        """The usual enrolment: key generated on the token, certificate from `pki` (a TestPKI) for
        its public key, stored on the token with the same CKA_ID (and the CA certificates if
        `with_chain`). The token must exist (`init_token`)."""
        public_key = self.generate_key_on_token(token_label, pin, key_label, key_id, kind)
        issued = pki.issue(common_name, key_kind=kind, public_key=public_key, **issue_options)
        self.import_certificate(token_label, pin, issued.cert_der, key_label, key_id)
        if with_chain:
            for index, ca in enumerate(issued.chain, start=1):
                self.import_certificate(
                    token_label, pin, ca, f"ca-{index}", b"\xca" + bytes([index])
                )
        return TokenSigner(token_label, key_label, key_id, issued.certificate, list(issued.chain))

    def _session(self, token_label: str, pin: str) -> _LeaseContext:
        self._check_open()
        from ebhxh.signatures.pkcs11 import logged_in_session

        # Through the shared login of ebhxh.signatures.pkcs11: a private login+logout here would
        # log out a Pkcs11Signer that is using the same token in this process.
        return _LeaseContext(logged_in_session(self._module_path, token_label, pin, rw=True))


@dataclass(frozen=True)
class TokenSigner:
    """What `provision_signer` put on the token."""

    token_label: str
    key_label: str
    key_id: bytes
    certificate: x509.Certificate
    chain: list[x509.Certificate]


class _LeaseContext:
    def __init__(self, lease: Any) -> None:
        self._lease = lease

    def __enter__(self) -> Any:
        return self._lease.session

    def __exit__(self, *exc: object) -> None:
        self._lease.release()


def _module_initialized(path: str) -> bool:
    import pkcs11

    loaded = getattr(pkcs11, "_loaded", {}).get(path)
    return bool(loaded is not None and loaded.initialized)


def _der_integer(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)
    return b"\x02" + _der_length(len(body)) + body


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SoftHSMUnavailableError(f"{name} not installed")
    return path


_SHARED: SoftHSM | None = None


def shared_softhsm() -> SoftHSM:
    """The process-wide SoftHSM (a temporary directory removed at exit), created on first use.

    Use it from session- or module-scoped fixtures; give each test module its own token
    (`unique_label`). Raises SoftHSMUnavailableError when SoftHSM2 is not installed."""
    global _SHARED
    with _ACTIVE_LOCK:
        if _SHARED is None or _SHARED.closed:
            directory = tempfile.mkdtemp(prefix="ebhxh-softhsm-")
            try:
                _SHARED = SoftHSM(directory)
            except BaseException:
                shutil.rmtree(directory, ignore_errors=True)
                raise
            atexit.register(_remove_shared, _SHARED)
        return _SHARED


def _remove_shared(hsm: SoftHSM) -> None:
    hsm.close()
    shutil.rmtree(hsm.dir, ignore_errors=True)
