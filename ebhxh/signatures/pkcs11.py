"""Signing with a private key that never leaves a PKCS#11 token (the VSS USB tokens; SoftHSM2 in tests).

    with Pkcs11Signer(module_path, token_label="VNPT-CA", pin=pin_from_prompt) as signer:
        value = signer.sign(signed_info_c14n)          # XML-DSig SignatureValue bytes
        cert, chain = signer.certificate(), signer.chain()

    list_tokens(module_path)                             # what is plugged in
    list_certificates(module_path, "VNPT-CA")            # what is on it (no PIN needed, usually)

Decisions (see also stack-notes §2 and pitfall 10):

* **Mechanism.** RSA uses the combined `CKM_SHA256_RSA_PKCS` (or `CKM_SHA1_RSA_PKCS`) when the
  token lists it, else the host hashes and the token signs the DER `DigestInfo` with `CKM_RSA_PKCS`;
  both give byte-identical PKCS#1 v1.5 signatures. `host_hashing=True/False` forces one path;
  `signer.mechanism` tells which one is used for SHA-256. EC keys use `CKM_ECDSA` over a digest
  computed on the host (forcing `host_hashing=False` asks for `CKM_ECDSA_SHA256`, which SoftHSM
  2.6 does not offer); the token returns r||s, which is already the XML-DSig form.
* **Sessions.** The session is opened lazily (or by `open()` / `with`) and kept until `close()`.
  PKCS#11 login state belongs to the *process*, not to a session: closing any logged-in session
  logs out every session on that token. So logins are shared and reference-counted per token in
  this module: the first user logs in on a dedicated session, later users (other signers,
  `list_certificates`, the SoftHSM test helper) get their own sessions that ride on that login, and
  the last one to leave logs out. A second user with a different PIN is refused (SIGN-KEY) rather
  than silently riding on the first login.
* **PIN.** Only ever taken from the constructor argument (callers read it from an env var or a
  prompt). It is kept in a wrapper whose repr is hidden, is never logged and never appears in
  exception text; it stays in memory while the signer lives because a re-plugged token or a key
  with CKA_ALWAYS_AUTHENTICATE needs it again.
* **Errors.** Wrong/locked PIN or an unusable key → `SignatureError("SIGN-KEY")`; module, token,
  key or certificate not found, or the token pulled out → `SignatureError("SIGN-TOKEN")`; the
  person pressed Cancel on a PIN pad → `SignatureError("SIGN-REFUSED")`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pkcs11 import Attribute, CertificateType, KeyType, Mechanism, ObjectClass, TokenFlag
from pkcs11 import exceptions as p11e

from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.signers import HASHES, ecdsa_der_to_raw, order_chain

logger = logging.getLogger(__name__)

# RFC 8017 §9.2 note 1: DER DigestInfo prefixes, followed by the raw digest.
DIGEST_INFO_PREFIX: dict[str, bytes] = {
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
}
_COMBINED: dict[str, dict[str, Mechanism]] = {
    "rsa": {"sha256": Mechanism.SHA256_RSA_PKCS, "sha1": Mechanism.SHA1_RSA_PKCS},
    "ec": {"sha256": Mechanism.ECDSA_SHA256, "sha1": Mechanism.ECDSA_SHA1},
}
_RAW: dict[str, Mechanism] = {"rsa": Mechanism.RSA_PKCS, "ec": Mechanism.ECDSA}

_PIN_ERRORS = (
    p11e.PinIncorrect,
    p11e.PinInvalid,
    p11e.PinLenRange,
    p11e.PinExpired,
    p11e.PinLocked,
    p11e.UserPinNotInitialized,
    p11e.UserNotLoggedIn,
)
# The token was pulled out (or its sessions vanished): every session and the login are gone.
_GONE_ERRORS = (
    p11e.NoSuchToken,
    p11e.TokenNotPresent,
    p11e.TokenNotRecognised,
    p11e.DeviceRemoved,
    p11e.SessionHandleInvalid,
    p11e.SessionClosed,
    p11e.SlotIDInvalid,
)
# The key object went away under a live session (another token in the reader, SoftHSM's token
# deleted): look everything up again on next use.
_STALE_OBJECT_ERRORS = (p11e.ObjectHandleInvalid, p11e.KeyHandleInvalid)
_TOKEN_ERRORS = (*_GONE_ERRORS, *_STALE_OBJECT_ERRORS, p11e.DeviceError)


def _error(exc: p11e.PKCS11Error, what: str) -> SignatureError:
    """A SignatureError for a python-pkcs11 exception (whose text never contains the PIN)."""
    name = type(exc).__name__
    text = str(exc).strip()
    detail = f"{what}: {name}" + (f" ({text})" if text and text != name else "")
    if isinstance(exc, p11e.FunctionCancelled):
        return SignatureError("SIGN-REFUSED", detail)
    if isinstance(exc, _TOKEN_ERRORS):
        return SignatureError("SIGN-TOKEN", detail)
    return SignatureError("SIGN-KEY", detail)


class _Secret:
    """Holds the PIN; its repr/str never show it and it refuses to be pickled."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a PIN cannot be pickled")


# ---------------------------------------------------------------------------------------------
# Module loading and token lookup


_LOAD_LOCK = threading.Lock()


def _load(module_path: str) -> tuple[Any, str]:
    """The loaded module and its canonical path.

    python-pkcs11 caches one library object per path *string*; the same .so reached through a
    symlink would be dlopen'ed to the same handle and fail with "already initialized". So the path
    is canonicalised before it is handed over.
    """
    path = os.path.realpath(module_path)
    if not os.path.isfile(path):
        raise SignatureError("SIGN-TOKEN", f"PKCS#11 module not found: {module_path}")
    with _LOAD_LOCK:
        try:
            return pkcs11.lib(path), path
        except p11e.PKCS11Error as exc:
            raise SignatureError(
                "SIGN-TOKEN", f"cannot load PKCS#11 module {module_path}: {exc}"
            ) from exc


def _serial(token: Any) -> str:
    return bytes(token.serial).decode("ascii", "replace").strip()


def _find_token(lib: Any, token_label: str, token_serial: str | None) -> Any:
    try:
        tokens = [
            token
            for token in _initialized_tokens(lib)
            if token.label == token_label
            and (token_serial is None or _serial(token) == token_serial)
        ]
    except p11e.PKCS11Error as exc:
        raise SignatureError("SIGN-TOKEN", f"listing tokens: {type(exc).__name__}") from exc
    wanted = repr(token_label) + (f" with serial {token_serial}" if token_serial else "")
    if not tokens:
        raise SignatureError("SIGN-TOKEN", f"no token labelled {wanted}")
    if len(tokens) > 1:
        raise SignatureError(
            "SIGN-TOKEN", f"{len(tokens)} tokens labelled {wanted}; choose one by token_serial"
        )
    return tokens[0]


def _initialized_tokens(lib: Any) -> list[Any]:
    tokens = []
    for slot in lib.get_slots(token_present=True):
        try:
            token = slot.get_token()
        except p11e.PKCS11Error as exc:
            # Pulled out between the two calls, a reader with an unknown card, a broken token:
            # one bad slot must not hide the others.
            logger.debug("skipping PKCS#11 slot %s: %s", slot.slot_id, type(exc).__name__)
            continue
        if token.flags & TokenFlag.TOKEN_INITIALIZED:
            tokens.append(token)
    return tokens


# ---------------------------------------------------------------------------------------------
# Shared, reference-counted logins (login state is per process and per token in PKCS#11)

_PIN_KEY = secrets.token_bytes(32)


def _pin_digest(pin: str) -> bytes:
    return hmac.new(_PIN_KEY, pin.encode("utf-8"), hashlib.sha256).digest()


@dataclass
class _Login:
    lib: Any
    session: Any  # the session that called C_Login; closing it logs every session out
    pin_digest: bytes
    users: int = 0
    # The module was finalised (`reset_module`) or the token pulled out: its handles mean nothing.
    dead: bool = False


_LOGINS: dict[tuple[str, int, str], _Login] = {}
_LOGINS_LOCK = threading.RLock()


@dataclass
class _Lease:
    """A session on a logged-in token; `release()` closes it and, for the last user, logs out."""

    key: tuple[str, int, str]
    login: _Login
    session: Any
    released: bool = field(default=False)

    def release(self) -> None:
        with _LOGINS_LOCK:
            if self.released:
                return
            self.released = True
            if self.login.dead:
                return  # handle numbers may already belong to sessions opened after re-initialisation
            _close_quietly(self.session)
            self.login.users -= 1
            if self.login.users <= 0:
                if _LOGINS.get(self.key) is self.login:
                    del _LOGINS[self.key]
                _close_quietly(self.login.session)  # C_Logout + C_CloseSession

    def invalidate(self) -> None:
        """The token went away (and with it every session and the login): the next user of this
        token, this signer or another, logs in afresh."""
        with _LOGINS_LOCK:
            if _LOGINS.get(self.key) is self.login:
                del _LOGINS[self.key]
            self.login.dead = True
            self.released = True


def _close_quietly(session: Any) -> None:
    try:
        session.close()
    except p11e.PKCS11Error as exc:  # token pulled out, module finalised: nothing left to close
        logger.debug("closing PKCS#11 session: %s", type(exc).__name__)


def logged_in_session(
    module_path: str,
    token_label: str,
    pin: str,
    *,
    rw: bool = False,
    token_serial: str | None = None,
) -> _Lease:
    """A session on the token, logged in as the user through the shared login.

    For this module and the test helpers; call `.release()` on the result (a signer does it in
    `close()`). Wrong PIN → SIGN-KEY, token not found → SIGN-TOKEN.
    """
    lib, path = _load(module_path)
    token = _find_token(lib, token_label, token_serial)
    return _acquire(lib, path, token, pin, rw=rw)


def _acquire(lib: Any, path: str, token: Any, pin: str, *, rw: bool) -> _Lease:
    key = (path, int(token.slot.slot_id), _serial(token))
    digest = _pin_digest(pin)
    with _LOGINS_LOCK:
        login = _LOGINS.get(key)
        if login is not None and (login.dead or login.lib is not lib):
            del _LOGINS[key]
            login = None
        if login is None:
            try:
                login_session = token.open(user_pin=pin)
            except p11e.UserAlreadyLoggedIn as exc:
                raise SignatureError(
                    "SIGN-KEY", "the token is already logged in by other code in this process"
                ) from exc
            except p11e.PKCS11Error as exc:
                raise _error(exc, f"logging in to token {token.label!r}") from exc
            login = _LOGINS[key] = _Login(lib, login_session, digest)
        elif not hmac.compare_digest(login.pin_digest, digest):
            raise SignatureError(
                "SIGN-KEY",
                f"wrong PIN: token {token.label!r} is already unlocked in this process with another PIN",
            )
        try:
            session = token.open(rw=rw)
        except p11e.PKCS11Error as exc:
            if login.users == 0:
                del _LOGINS[key]
                _close_quietly(login.session)
            raise _error(exc, f"opening a session on token {token.label!r}") from exc
        login.users += 1
        return _Lease(key, login, session)


def reset_module(module_path: str) -> None:
    """Finalise the module in this process (C_Finalize), forgetting every login and session on it.

    The next use initialises it again, which makes SoftHSM re-read `SOFTHSM2_CONF` and rescan its
    token directory. Every session opened before is gone: signers notice and log in again on next
    use. Meant for the SoftHSM test helper; the library stays mapped (no dlclose), because
    session objects keep pointers into it.
    """
    path = os.path.realpath(module_path)
    with _LOAD_LOCK, _LOGINS_LOCK:
        for key in [key for key in _LOGINS if key[0] == path]:
            _LOGINS.pop(key).dead = True
        loaded = getattr(pkcs11, "_loaded", {}).get(path)
        if loaded is not None and loaded.initialized:
            loaded.finalize()


# ---------------------------------------------------------------------------------------------
# Listing what is on a token (for the signing agent's "choose your certificate" screen)


@dataclass(frozen=True)
class TokenInfo:
    label: str
    manufacturer: str
    model: str
    serial: str
    slot_id: int


@dataclass(frozen=True)
class TokenCertificate:
    label: str
    id_hex: str
    certificate: x509.Certificate


def list_tokens(module_path: str) -> list[TokenInfo]:
    """The initialised tokens present in the module's slots (empty readers are left out)."""
    lib, _ = _load(module_path)
    try:
        tokens = _initialized_tokens(lib)
    except p11e.PKCS11Error as exc:
        raise SignatureError("SIGN-TOKEN", f"listing tokens: {type(exc).__name__}") from exc
    return [
        TokenInfo(
            label=token.label,
            manufacturer=token.manufacturer_id,
            model=token.model,
            serial=_serial(token),
            slot_id=int(token.slot.slot_id),
        )
        for token in tokens
    ]


def list_certificates(
    module_path: str, token_label: str, pin: str | None = None, *, token_serial: str | None = None
) -> list[TokenCertificate]:
    """The X.509 certificates on the token.

    Certificates are normally public objects, so a session without login is tried first; only if
    it sees none and a PIN was given does it log in (a PIN try costs the person one of their few
    attempts on a real token).
    """
    lib, path = _load(module_path)
    token = _find_token(lib, token_label, token_serial)
    try:
        session = token.open()
    except p11e.PKCS11Error as exc:
        raise _error(exc, f"opening a session on token {token_label!r}") from exc
    try:
        found = _certificates(session)
    except p11e.PKCS11Error as exc:
        raise _error(exc, f"reading certificates on token {token_label!r}") from exc
    finally:
        _close_quietly(session)  # a public session: closing it does not log anyone out
    if not found and pin is not None:
        lease = _acquire(lib, path, token, pin, rw=False)
        try:
            found = _certificates(lease.session)
        except p11e.PKCS11Error as exc:
            raise _error(exc, f"reading certificates on token {token_label!r}") from exc
        finally:
            lease.release()
    return [TokenCertificate(label, object_id.hex(), cert) for label, object_id, cert in found]


def _attr(obj: Any, attribute: Attribute, default: Any = None) -> Any:
    try:
        return obj[attribute]
    except (p11e.AttributeTypeInvalid, p11e.AttributeSensitive, KeyError):
        return default


def _certificates(session: Any) -> list[tuple[str, bytes, x509.Certificate]]:
    found = []
    template = {
        Attribute.CLASS: ObjectClass.CERTIFICATE,
        Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
    }
    for obj in list(session.get_objects(template)):
        der = _attr(obj, Attribute.VALUE)
        try:
            cert = x509.load_der_x509_certificate(bytes(der or b""))
        except ValueError:
            logger.warning("skipping an unreadable certificate object on the token")
            continue
        found.append(
            (_attr(obj, Attribute.LABEL) or "", bytes(_attr(obj, Attribute.ID) or b""), cert)
        )
    return found


# ---------------------------------------------------------------------------------------------
# The signer


@dataclass
class _Opened:
    lease: _Lease
    key: Any
    key_type: str  # "rsa" | "ec"
    key_label: str
    key_id: bytes
    always_authenticate: bool
    certificate: x509.Certificate
    chain: list[x509.Certificate]
    mechanisms: frozenset[Any]


class Pkcs11Signer:
    """The `Signer` protocol over a private key on a PKCS#11 token.

    The key is chosen by `key_label` and/or `key_id` (CKA_ID, bytes or hex); with neither, the
    token must hold
    exactly one private key (the usual VSS token: one key + one certificate sharing a CKA_ID).
    The certificate is the token's certificate object with the key's CKA_ID, else the one with the
    key's label, else the one whose RSA modulus matches; the chain is made of the token's other
    certificate objects that lie above it (issuing CA first), often none.
    """

    def __init__(
        self,
        module_path: str,
        *,
        token_label: str,
        key_label: str | None = None,
        pin: str,
        key_id: bytes | str | None = None,
        token_serial: str | None = None,
        host_hashing: bool | None = None,
    ) -> None:
        if not isinstance(pin, str):
            raise TypeError("pin must be a str")
        if isinstance(key_id, str):  # TokenCertificate.id_hex, as the agent's picker shows it
            key_id = bytes.fromhex(key_id)
        self.module_path = module_path
        self.token_label = token_label
        self.token_serial = token_serial
        self.host_hashing_requested = host_hashing
        self._key_label = key_label
        self._key_id = key_id
        self._pin = _Secret(pin)
        self._state: _Opened | None = None
        self._lock = threading.RLock()

    # -- lifetime

    def open(self) -> Pkcs11Signer:
        """Log in and find key and certificate now (otherwise it happens on first use)."""
        self._opened()
        return self

    def close(self) -> None:
        with self._lock:
            state, self._state = self._state, None
        if state is not None:
            state.lease.release()  # logs out if this was the token's last user in the process

    @property
    def is_open(self) -> bool:
        return self._state is not None

    def __enter__(self) -> Pkcs11Signer:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = self._state
        key = state.key_label if state else self._key_label
        parts = [f"module={self.module_path!r}", f"token={self.token_label!r}", f"key={key!r}"]
        if state is not None:
            try:
                parts.append(f"mechanism={self._mechanism_for(state, 'sha256').name}")
            except SignatureError:
                parts.append("mechanism=unavailable")
        parts.append("open" if state else "closed")
        return f"<Pkcs11Signer {' '.join(parts)}>"

    # -- what was found

    @property
    def mechanism(self) -> Mechanism:
        """The PKCS#11 mechanism used for SHA-256 signatures (opens the session if needed)."""
        return self.mechanism_for("sha256")

    @property
    def mechanism_name(self) -> str:
        """E.g. "CKM_SHA256_RSA_PKCS" (combined) or "CKM_RSA_PKCS" (digest computed on the host)."""
        return f"CKM_{self.mechanism.name}"

    def mechanism_for(self, hash_name: str) -> Mechanism:
        return self._mechanism_for(self._opened(), hash_name)

    @property
    def host_hashing(self) -> bool:
        """True when the host computes the digest and the token only signs it (SHA-256)."""
        state = self._opened()
        return self._mechanism_for(state, "sha256") == _RAW[state.key_type]

    @property
    def key_type(self) -> str:
        return self._opened().key_type

    @property
    def key_label(self) -> str:
        return self._opened().key_label

    @property
    def key_id(self) -> bytes:
        return self._opened().key_id

    # -- Signer protocol

    def certificate(self) -> x509.Certificate:
        return self._opened().certificate

    def chain(self) -> list[x509.Certificate]:
        return list(self._opened().chain)

    def sign(self, data: bytes, *, hash_name: str = "sha256") -> bytes:
        if hash_name not in HASHES:
            raise ValueError(f"unsupported hash {hash_name!r}")
        with self._lock:
            state = self._opened()
            mechanism = self._mechanism_for(state, hash_name)
            if mechanism == _RAW[state.key_type]:
                digest = hashlib.new(hash_name, data).digest()
                payload = (
                    DIGEST_INFO_PREFIX[hash_name] + digest if state.key_type == "rsa" else digest
                )
            else:
                payload = data
            options: dict[str, Any] = {"mechanism": mechanism}
            if state.always_authenticate:
                options["pin"] = self._pin.reveal()
            try:
                value = bytes(state.key.sign(payload, **options))
            except p11e.PKCS11Error as exc:
                if isinstance(exc, _GONE_ERRORS):
                    self._state = None
                    state.lease.invalidate()
                elif isinstance(exc, _STALE_OBJECT_ERRORS):
                    self._state = None
                    state.lease.release()
                raise _error(
                    exc, f"signing with key {state.key_label!r} ({mechanism.name})"
                ) from exc
        if state.key_type == "ec":
            return _ecdsa_raw(value, state.certificate)
        return value

    # -- internals

    def _mechanism_for(self, state: _Opened, hash_name: str) -> Mechanism:
        if hash_name not in HASHES:
            raise ValueError(f"unsupported hash {hash_name!r}")
        combined = _COMBINED[state.key_type][hash_name]
        raw = _RAW[state.key_type]
        if self.host_hashing_requested is True:
            wanted = raw
        elif self.host_hashing_requested is False:
            wanted = combined
        else:  # RSA: the combined mechanism if the token has it (pitfall 10); EC: always CKM_ECDSA
            wanted = combined if state.key_type == "rsa" and combined in state.mechanisms else raw
        if state.mechanisms and wanted not in state.mechanisms:
            raise SignatureError(
                "SIGN-KEY", f"token {self.token_label!r} does not offer {wanted.name}"
            )
        return wanted

    def _opened(self) -> _Opened:
        with self._lock:
            if self._state is not None and self._state.lease.login.dead:
                self._state = None  # the module was reset under us: log in again
            if self._state is None:
                self._state = self._open()
            return self._state

    def _open(self) -> _Opened:
        lib, path = _load(self.module_path)
        token = _find_token(lib, self.token_label, self.token_serial)
        lease = _acquire(lib, path, token, self._pin.reveal(), rw=False)
        try:
            state = self._inspect(token, lease)
        except p11e.PKCS11Error as exc:
            lease.release()
            raise _error(exc, f"reading objects on token {self.token_label!r}") from exc
        except BaseException:
            lease.release()
            raise
        logger.debug(
            "PKCS#11 token %r: key %r (%s), certificate %s, %d chain certificate(s), mechanism %s",
            self.token_label,
            state.key_label,
            state.key_type,
            state.certificate.subject.rfc4514_string(),
            len(state.chain),
            self._mechanism_for(state, "sha256").name,
        )
        return state

    def _inspect(self, token: Any, lease: _Lease) -> _Opened:
        session = lease.session
        template: dict[Attribute, Any] = {Attribute.CLASS: ObjectClass.PRIVATE_KEY}
        if self._key_label is not None:
            template[Attribute.LABEL] = self._key_label
        if self._key_id is not None:
            template[Attribute.ID] = self._key_id
        keys = list(session.get_objects(template))
        wanted = ", ".join(
            part
            for part in (
                f"label {self._key_label!r}" if self._key_label is not None else "",
                f"id {self._key_id.hex()}" if self._key_id is not None else "",
            )
            if part
        )
        if not keys:
            raise SignatureError(
                "SIGN-TOKEN",
                f"no private key{' with ' + wanted if wanted else ''} on token {self.token_label!r}",
            )
        if len(keys) > 1:
            labels = sorted(repr(_attr(k, Attribute.LABEL) or "") for k in keys)
            raise SignatureError(
                "SIGN-TOKEN",
                f"{len(keys)} private keys{' with ' + wanted if wanted else ''} on token "
                f"{self.token_label!r} ({', '.join(labels)}); choose one by key_label or key_id",
            )
        key = keys[0]
        key_label = _attr(key, Attribute.LABEL) or ""
        key_id = bytes(_attr(key, Attribute.ID) or b"")
        key_type_value = _attr(key, Attribute.KEY_TYPE)
        if key_type_value == KeyType.RSA:
            key_type = "rsa"
        elif key_type_value == KeyType.EC:
            key_type = "ec"
        else:
            raise SignatureError(
                "SIGN-KEY", f"key {key_label!r} has unsupported type {key_type_value!r}"
            )

        certs = _certificates(session)
        certificate = _certificate_for(key, key_type, key_label, key_id, certs)
        if certificate is None:
            raise SignatureError(
                "SIGN-TOKEN", f"no certificate for key {key_label!r} on token {self.token_label!r}"
            )
        chain = order_chain(certificate, [cert for _, _, cert in certs])
        return _Opened(
            lease=lease,
            key=key,
            key_type=key_type,
            key_label=key_label,
            key_id=key_id,
            always_authenticate=bool(_attr(key, Attribute.ALWAYS_AUTHENTICATE, False)),
            certificate=certificate,
            chain=chain,
            mechanisms=_mechanisms(token),
        )


def _mechanisms(token: Any) -> frozenset[Any]:
    """The token's mechanism list (empty if it cannot be read: then the token answers at signing)."""
    try:
        return frozenset(token.slot.get_mechanisms())
    except p11e.PKCS11Error:
        return frozenset()


def _certificate_for(
    key: Any,
    key_type: str,
    key_label: str,
    key_id: bytes,
    certs: list[tuple[str, bytes, x509.Certificate]],
) -> x509.Certificate | None:
    expected_type = rsa.RSAPublicKey if key_type == "rsa" else ec.EllipticCurvePublicKey
    candidates = [cert for _, _, cert in certs if isinstance(cert.public_key(), expected_type)]
    modulus = _attr(key, Attribute.MODULUS) if key_type == "rsa" else None
    if modulus:
        n = int.from_bytes(bytes(modulus), "big")
        candidates = [c for c in candidates if c.public_key().public_numbers().n == n]  # type: ignore[union-attr]
    by_id = [cert for _, object_id, cert in certs if key_id and object_id == key_id]
    by_label = [cert for label, _, cert in certs if key_label and label == key_label]
    for rule in (by_id, by_label, candidates if modulus else []):
        matches = [cert for cert in rule if cert in candidates]
        if matches:  # several (a renewal kept the old certificate): the one valid longest
            return max(matches, key=lambda cert: cert.not_valid_after_utc)
    return None


def _ecdsa_raw(value: bytes, certificate: x509.Certificate) -> bytes:
    public_key = certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    bits = public_key.curve.key_size
    size = (bits + 7) // 8
    if len(value) == 2 * size:
        return value  # PKCS#11 CKM_ECDSA output is r||s, each padded to the order's length
    if value[:1] == b"\x30":  # a module that answers in DER (non-conforming, but seen)
        try:
            return ecdsa_der_to_raw(value, bits)
        except ValueError:
            pass
    raise SignatureError(
        "SIGN-KEY", f"unexpected ECDSA signature length {len(value)} from the token"
    )
