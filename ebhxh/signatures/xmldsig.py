"""Enveloped XML-DSig in the VSS profile: hardened parsing, two-phase signing, strict verification.

Pure Python (no Django): the CLI, the offline tools and the browser agent use it too.

    prepared = prepare(xml, certificate=cert, chain=chain)     # server: build SignedInfo
    value = token_or_remote_service.sign(prepared.digest_info) # CKM_RSA_PKCS, SmartCA, …
    signed = attach(prepared, value)                           # server: finish the file
    signed = sign(xml, KeySigner(key, cert, chain))            # or all three in one call

    verified = verify(signed)              # raises SignatureError with a stable code
    verified.root, verified.content        # use ONLY these; never re-parse the input

`verify` checks the signature, not the certificate: validate `verified.certificate` (path,
revocation, registration to the unit) separately, at `verified.signing_time` where relevant.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import functools
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import xmlsec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree

from ebhxh.signatures import profile
from ebhxh.signatures.errors import SignatureError
from ebhxh.signatures.profile import DS_NS, DSIG11_NS, Policy
from ebhxh.signatures.signers import HASHES, Signer

Element = Any  # lxml.etree._Element; lxml ships no type information

_DS = f"{{{DS_NS}}}"
_DSIG11 = f"{{{DSIG11_NS}}}"
_XML_ATTR = f"{{{profile.XML_NS}}}"
_EXC_NS = f"{{{profile.EXC_C14N}}}"
SIGNATURE_TAG = f"{_DS}Signature"

# RFC 8017 §9.2 DigestInfo prefixes: what a CKM_RSA_PKCS token must be given before the hash.
DIGEST_INFO_PREFIX: dict[str, bytes] = {
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
}

_XMLSEC_SIGNATURE_TRANSFORM = {
    profile.RSA_SHA256: xmlsec.constants.TransformRsaSha256,
    profile.ECDSA_SHA256: xmlsec.constants.TransformEcdsaSha256,
    profile.RSA_SHA1: xmlsec.constants.TransformRsaSha1,
}
_XMLSEC_DIGEST_TRANSFORM = {
    profile.SHA256: xmlsec.constants.TransformSha256,
    profile.SHA1: xmlsec.constants.TransformSha1,
}
_XMLSEC_C14N_TRANSFORMS = (xmlsec.constants.TransformInclC14N, xmlsec.constants.TransformExclC14N)

# A signer certificate and its chain; more is not a chain but an attempt to make the verifier
# work (choosing the signer compares every pair).
MAX_EMBEDDED_CERTIFICATES = 16
# yyyy-MM-ddTHH:mm:ss[.fff](Z|±HH:MM), or the legacy local "yyyy-MM-dd HH:mm:ss".
_SIGNING_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,7})?([Zz]|[+-]\d{2}:\d{2})?"
)

# Vietnam has used UTC+7 without daylight saving since 1975; one legacy client writes local time.
_VIETNAM_TIME = dt.timezone(dt.timedelta(hours=7), "ICT")


# --- parsing --------------------------------------------------------------------------------------


class _RefuseExternal(etree.Resolver):  # type: ignore[misc]
    """Belt and braces: libxml2 must never fetch anything while parsing a submitted file."""

    def resolve(self, system_url: str, public_id: str, context: object) -> None:
        raise SignatureError("SIG-XML-DOCTYPE", f"external resource refused: {system_url!r}")


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers keep per-parse state and are not shared across threads.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=True,  # 10k-row dossiers are legitimately large; entities are refused anyway
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=False,
    )
    parser.resolvers.add(_RefuseExternal())
    return parser


def _mentions_doctype(data: bytes) -> bool:
    head = data[:65536]
    return any(
        marker.encode(encoding) in head
        for marker in ("<!DOCTYPE", "<!ENTITY")
        for encoding in ("utf-8", "utf-16-le", "utf-16-be")
    )


def parse_secure(data: bytes) -> Element:
    """Parse untrusted XML: no DTD, no entities, no network; a UTF-8 BOM is fine.

    Raises `SIG-XML-DOCTYPE` for any DOCTYPE (internal subset or not) and `SIG-XML-MALFORMED`
    for anything that is not well-formed XML.
    """
    if not isinstance(data, bytes | bytearray):
        raise TypeError("parse_secure() takes bytes")
    try:
        root = etree.fromstring(bytes(data), _parser())
    except etree.XMLSyntaxError as exc:
        # libxml2 stops entity bombs itself ("Maximum entity amplification factor exceeded");
        # report them as the DOCTYPE problem they are.
        code = "SIG-XML-DOCTYPE" if _mentions_doctype(data) else "SIG-XML-MALFORMED"
        raise SignatureError(code, str(exc)) from None
    except ValueError as exc:  # e.g. an encoding declaration lxml cannot honour
        raise SignatureError("SIG-XML-MALFORMED", str(exc)) from None
    docinfo = root.getroottree().docinfo
    if (
        docinfo.doctype
        or docinfo.internalDTD is not None
        or docinfo.system_url
        or docinfo.public_id
    ):
        raise SignatureError("SIG-XML-DOCTYPE", docinfo.doctype or "DOCTYPE")
    return root


# --- small tree helpers ---------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _remove_keep_tail(node: Element) -> None:
    """Remove `node` but keep the text that follows it (lxml would drop its tail with it)."""
    parent = node.getparent()
    tail = node.tail
    if tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(node)


def _ds_children(node: Element, name: str) -> list[Element]:
    return node.findall(f"{_DS}{name}")


def _elements(node: Element) -> list[Element]:
    return [child for child in node if isinstance(child.tag, str)]


def _b64decode(text: str | None) -> bytes:
    """Strict base64 of an XML text node (line breaks and spaces allowed, as CryptoBinary)."""
    compact = "".join((text or "").split())
    return base64.b64decode(compact, validate=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _int_b64(value: int) -> str:
    return _b64(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _canonical_document(root: Element, method: str, prefixes: Sequence[str] | None = None) -> bytes:
    """C14N 1.0 (inclusive or exclusive, never with comments) of the whole document."""
    return etree.tostring(  # type: ignore[no-any-return]
        root.getroottree(),
        method="c14n",
        exclusive=method == profile.EXC_C14N,
        with_comments=False,
        inclusive_ns_prefixes=list(prefixes) if prefixes else None,
    )


def canonical_subtree(node: Element, method: str, prefixes: Sequence[str] | None = None) -> bytes:
    """C14N 1.0 of the document subset rooted at `node`, in the context of its ancestors.

    This is what a verifier computes for SignedInfo, so a signature over it is only valid if
    the bytes are exact. lxml's own subtree C14N is not: it loses the `xml:*` attributes that
    inclusive C14N 1.0 makes the apex inherit from its ancestors, and when the subtree uses a
    default namespace declared above it (`<Signature xmlns="…xmldsig#">`, as .NET writes it)
    it emits spurious `xmlns=""` on the descendants. So the subset is rebuilt as a document of
    its own: an apex declaring every namespace in scope (inclusive C14N outputs all of them,
    used or not; exclusive C14N drops the unused ones itself), carrying the inherited `xml:*`
    attributes (inclusive only; nearest ancestor wins), with copies of the children.
    """
    exclusive = method == profile.EXC_C14N
    in_scope = dict(node.nsmap)
    # lxml gives an element the first declared prefix bound to its namespace: declare the
    # node's own prefix first so that the copy keeps it.
    nsmap = {node.prefix: in_scope.pop(node.prefix)} if node.prefix in in_scope else {}
    nsmap.update(in_scope)
    apex = etree.Element(node.tag, nsmap=nsmap)
    if not exclusive:
        for ancestor in node.iterancestors():
            for name, value in ancestor.attrib.items():
                if name.startswith(_XML_ATTR) and name not in apex.attrib:
                    apex.set(name, value)
    for name, value in node.attrib.items():
        apex.set(name, value)
    apex.text = node.text
    for child in node:
        apex.append(copy.deepcopy(child))
    return etree.tostring(  # type: ignore[no-any-return]
        apex,
        method="c14n",
        exclusive=exclusive,
        with_comments=False,
        inclusive_ns_prefixes=list(prefixes) if prefixes else None,
    )


# --- containers -----------------------------------------------------------------------------------


def _container_steps(root: Element, container: str | None) -> list[str]:
    root_name = _local(root.tag)
    path = container or profile.container_for(root.tag)
    if path is None:
        raise SignatureError(
            "SIG-CONTAINER", f"no signature node is defined for <{root_name}>; pass container="
        )
    try:
        steps = profile.split_container(path)
    except ValueError as exc:
        raise SignatureError("SIG-CONTAINER", str(exc)) from None
    if steps[0] != root_name:
        raise SignatureError("SIG-CONTAINER", f"container path {path!r} is not under <{root_name}>")
    return steps[1:]


def _find_container(root: Element, steps: Sequence[str], *, create: bool) -> Element:
    """Walk `steps` from the root, each a direct child; duplicates are refused, not guessed."""
    node = root
    namespace = etree.QName(root).namespace
    for step in steps:
        matches = [child for child in _elements(node) if _local(child.tag) == step]
        if len(matches) > 1:
            raise SignatureError(
                "SIG-CONTAINER", f"{len(matches)} <{step}> nodes under <{_local(node.tag)}>"
            )
        if matches:
            node = matches[0]
        elif create:
            node = etree.SubElement(node, f"{{{namespace}}}{step}" if namespace else step)
        else:
            raise SignatureError("SIG-CONTAINER", f"<{step}> is missing under <{_local(node.tag)}>")
    return node


# --- signing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedSignature:
    """Phase one of signing: the document with its Signature built and SignatureValue empty.

    Sign `signed_info_c14n` (hash then sign: CKM_SHA256_RSA_PKCS, `Signer.sign`), or `digest_info`
    with raw PKCS#1 v1.5 (CKM_RSA_PKCS), or `digest` with raw ECDSA (CKM_ECDSA, remote hash
    signing); then `attach` the value in XML-DSig form (RSA PKCS#1 v1.5, ECDSA raw r||s).
    """

    document: bytes
    signed_info_c14n: bytes
    digest: bytes
    digest_info: bytes
    signature_method: str
    hash_name: str


@dataclass
class _Built:
    root: Element
    signature: Element
    signed_info_c14n: bytes
    signature_method: str
    hash_name: str


def _key_kind(key: object) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ec"
    raise SignatureError("SIG-ALGORITHM", f"unsupported key type {type(key).__name__}")


def _sub(parent: Element, name: str, text: str | None = None, **attrib: str) -> Element:
    element = etree.SubElement(parent, f"{_DS}{name}", attrib)
    if text is not None:
        element.text = text
    return element


def _key_value(parent: Element, key: object) -> None:
    key_value = _sub(parent, "KeyValue")
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        rsa_value = _sub(key_value, "RSAKeyValue")
        _sub(rsa_value, "Modulus", _int_b64(numbers.n))
        _sub(rsa_value, "Exponent", _int_b64(numbers.e))
    elif isinstance(key, ec.EllipticCurvePublicKey):
        # XML-DSig 1.1 §4.5.2.3 ECKeyValue: a named curve and the uncompressed point.
        oid = _CURVE_OIDS[key.curve.name]
        ec_value = etree.SubElement(key_value, f"{_DSIG11}ECKeyValue", nsmap={"dsig11": DSIG11_NS})
        etree.SubElement(ec_value, f"{_DSIG11}NamedCurve", URI=f"urn:oid:{oid}")
        point = key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        etree.SubElement(ec_value, f"{_DSIG11}PublicKey").text = _b64(point)


_CURVE_OIDS = {
    "secp256r1": "1.2.840.10045.3.1.7",
    "secp384r1": "1.3.132.0.34",
    "secp521r1": "1.3.132.0.35",
}
_CURVES = {f"urn:oid:{oid}": name for name, oid in _CURVE_OIDS.items()}
_CURVE_CLASSES: dict[str, type[ec.EllipticCurve]] = {
    "secp256r1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1,
    "secp521r1": ec.SECP521R1,
}


def _format_signing_time(when: dt.datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("signing_time must be timezone-aware")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _build(
    xml: bytes,
    *,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    container: str | None,
    algorithm: str | None,
    c14n: Literal["inclusive", "exclusive"],
    signing_time: dt.datetime | None,
    include_key_value: bool,
) -> _Built:
    public_key = certificate.public_key()
    kind = _key_kind(public_key)
    name = algorithm or ("ecdsa-sha256" if kind == "ec" else "rsa-sha256")
    if name == "rsa-sha1":
        raise SignatureError("SIG-SHA1-DISABLED", "ebhxh does not create SHA-1 signatures")
    signature_method = profile.SIGNATURE_ALGORITHMS.get(name)
    if signature_method is None or profile.KEY_TYPE_OF[signature_method] != kind:
        raise SignatureError("SIG-ALGORITHM", f"{name!r} cannot be used with a {kind} key")
    c14n_method = profile.C14N_ALGORITHMS.get(c14n)
    if c14n_method is None:
        raise ValueError(f"c14n must be 'inclusive' or 'exclusive', got {c14n!r}")
    signing_time_text = _format_signing_time(signing_time or dt.datetime.now(dt.UTC))

    root = parse_secure(xml)
    existing = next(root.iter(SIGNATURE_TAG), None)
    if existing is not None:
        raise SignatureError("SIG-MULTIPLE", "the document is already signed")
    node = _find_container(root, _container_steps(root, container), create=True)

    # The reference digest is taken now, before the Signature exists: exactly the node-set a
    # verifier gets after the enveloped-signature transform removes it again.
    digest = hashlib.sha256(_canonical_document(root, c14n_method)).digest()

    signature = etree.SubElement(
        node, SIGNATURE_TAG, {"Id": profile.SIGNATURE_ID}, nsmap={"ds": DS_NS}
    )
    signed_info = _sub(signature, "SignedInfo")
    _sub(signed_info, "CanonicalizationMethod", Algorithm=c14n_method)
    _sub(signed_info, "SignatureMethod", Algorithm=signature_method)
    reference = _sub(signed_info, "Reference", URI="")
    transforms = _sub(reference, "Transforms")
    _sub(transforms, "Transform", Algorithm=profile.ENVELOPED)
    _sub(transforms, "Transform", Algorithm=c14n_method)
    _sub(reference, "DigestMethod", Algorithm=profile.SHA256)
    _sub(reference, "DigestValue", _b64(digest))
    _sub(signature, "SignatureValue", "")
    key_info = _sub(signature, "KeyInfo")
    if include_key_value:
        _key_value(key_info, public_key)
    x509_data = _sub(key_info, "X509Data")
    _sub(x509_data, "X509SubjectName", certificate.subject.rfc4514_string())
    for cert in (certificate, *chain):
        _sub(x509_data, "X509Certificate", _b64(cert.public_bytes(serialization.Encoding.DER)))
    # Not referenced from SignedInfo, as in the VSS profile: the signing time is a claim.
    obj = _sub(signature, "Object")
    properties = _sub(obj, "SignatureProperties", Id=profile.SIGNATURE_PROPERTIES_ID)
    prop = _sub(properties, "SignatureProperty", Target=f"#{profile.SIGNATURE_ID}")
    signing = etree.SubElement(
        prop, f"{{{profile.SIGNING_TIME_NS}}}SigningTime", nsmap={None: profile.SIGNING_TIME_NS}
    )
    signing.text = signing_time_text

    return _Built(
        root=root,
        signature=signature,
        signed_info_c14n=canonical_subtree(signed_info, c14n_method),
        signature_method=signature_method,
        hash_name=profile.HASH_OF[signature_method],
    )


def _serialize(root: Element) -> bytes:
    # lxml would write the declaration with single quotes; VSS clients write double quotes.
    body: bytes = etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def prepare(
    xml: bytes,
    *,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
    container: str | None = None,
    algorithm: str | None = None,
    c14n: Literal["inclusive", "exclusive"] = "inclusive",
    signing_time: dt.datetime | None = None,
    include_key_value: bool = True,
) -> PreparedSignature:
    """Phase one: build the enveloped `ds:Signature Id="sigid"` in the form's container node.

    `algorithm` is "rsa-sha256" or "ecdsa-sha256" (default: from the certificate's key). The
    signature covers the whole document (`Reference URI=""`); the `ds:Object` with the
    SigningTime lives inside the Signature, so the enveloped transform removes it from what is
    signed. That is the VSS profile: its signing time is NOT protected by the signature.
    """
    built = _build(
        xml,
        certificate=certificate,
        chain=chain,
        container=container,
        algorithm=algorithm,
        c14n=c14n,
        signing_time=signing_time,
        include_key_value=include_key_value,
    )
    digest = hashlib.new(built.hash_name, built.signed_info_c14n).digest()
    return PreparedSignature(
        document=_serialize(built.root),
        signed_info_c14n=built.signed_info_c14n,
        digest=digest,
        digest_info=DIGEST_INFO_PREFIX[built.hash_name] + digest,
        signature_method=built.signature_method,
        hash_name=built.hash_name,
    )


def _finish(
    signature: Element, signed_info_c14n: bytes, signature_method: str, value: bytes
) -> None:
    """Put the value in after checking it against the signer certificate in the document."""
    certificate = _load_certificates(signature)[0]
    if not _value_verifies(certificate, signature_method, signed_info_c14n, value):
        raise SignatureError("SIG-VALUE", "the signature value does not match the certificate")
    _ds_children(signature, "SignatureValue")[0].text = _b64(value)


def attach(prepared: PreparedSignature, signature_value: bytes) -> bytes:
    """Phase two: put the signature value in; the signed file as UTF-8 with an XML declaration.

    Refuses (`SIG-VALUE`) a value that does not verify with the certificate in the document,
    e.g. a token that signed with another key.
    """
    root = parse_secure(prepared.document)
    signatures = list(root.iter(SIGNATURE_TAG))
    if len(signatures) != 1:
        raise SignatureError(
            "SIG-MULTIPLE", f"{len(signatures)} signatures in the prepared document"
        )
    signature = signatures[0]
    signed_info = _ds_children(signature, "SignedInfo")[0]
    method = signed_info.find(f"{_DS}CanonicalizationMethod").get("Algorithm")
    _finish(
        signature,
        canonical_subtree(signed_info, method),
        prepared.signature_method,
        signature_value,
    )
    return _serialize(root)


def sign(
    xml: bytes,
    signer: Signer,
    *,
    container: str | None = None,
    algorithm: str | None = None,
    c14n: Literal["inclusive", "exclusive"] = "inclusive",
    signing_time: dt.datetime | None = None,
    include_key_value: bool = True,
) -> bytes:
    """prepare + `signer.sign(SignedInfo)` + attach, in one call (one parse)."""
    built = _build(
        xml,
        certificate=signer.certificate(),
        chain=signer.chain(),
        container=container,
        algorithm=algorithm,
        c14n=c14n,
        signing_time=signing_time,
        include_key_value=include_key_value,
    )
    value = signer.sign(built.signed_info_c14n, hash_name=built.hash_name)
    _finish(built.signature, built.signed_info_c14n, built.signature_method, value)
    return _serialize(built.root)


# --- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedXml:
    """What was verified, and nothing else (signature-wrapping defence).

    `root` is the verified tree with the Signature element and all comments removed (comment
    text is never signed content; removing a comment joins the text around it, so a comment
    cannot cut a signed text node short). `content` is the exact octets the reference digest
    covers: the canonical document without the Signature, in `c14n_method`.
    `signing_time` comes from the unsigned ds:Object: treat it as the signer's claim.
    """

    root: Element
    content: bytes
    certificate: x509.Certificate
    embedded_certificates: list[x509.Certificate]
    signing_time: dt.datetime | None
    signature_method: str
    digest_method: str
    c14n_method: str


@dataclass
class _Checked:
    signature: Element
    signed_info: Element
    c14n_method: str
    c14n_prefixes: list[str] | None
    signature_method: str
    reference_c14n: str
    reference_prefixes: list[str] | None
    digest_method: str
    digest_value: bytes
    signature_value: bytes


def _only(node: Element, name: str, code: str) -> Element:
    found = _ds_children(node, name)
    if len(found) != 1:
        raise SignatureError(code, f"{len(found)} <{name}> in <{_local(node.tag)}>")
    return found[0]


def _prefix_list(method: Element, code: str) -> list[str] | None:
    """The exclusive-C14N `InclusiveNamespaces PrefixList`, the only child a c14n method may have."""
    children = _elements(method)
    algorithm = method.get("Algorithm")
    if not children:
        return None
    if (
        algorithm == profile.EXC_C14N
        and len(children) == 1
        and children[0].tag == f"{_EXC_NS}InclusiveNamespaces"
    ):
        return (children[0].get("PrefixList") or "").split() or None
    raise SignatureError(code, f"unexpected parameters of {algorithm}")


def _check_algorithm(uri: str | None, allowed: frozenset[str], what: str) -> str:
    if uri in allowed:
        return uri  # type: ignore[return-value]
    if uri in profile.SHA1_URIS:
        raise SignatureError("SIG-SHA1-DISABLED", f"{what} {uri}")
    raise SignatureError("SIG-ALGORITHM", f"{what} {uri}")


def _check_signed_info(signature: Element, policy: Policy) -> _Checked:
    if signature.findall(f".//{_DS}Manifest"):
        raise SignatureError("SIG-REFERENCE", "ds:Manifest references are not allowed")
    signed_info = _only(signature, "SignedInfo", "SIG-REFERENCE")
    for child in _elements(signed_info):
        if child.tag not in {
            f"{_DS}CanonicalizationMethod",
            f"{_DS}SignatureMethod",
            f"{_DS}Reference",
        }:
            raise SignatureError("SIG-REFERENCE", f"unexpected <{_local(child.tag)}> in SignedInfo")

    # Coverage first: exactly one Reference, and it is the whole document.
    references = _ds_children(signed_info, "Reference")
    if len(references) != 1:
        raise SignatureError("SIG-REFERENCE", f"{len(references)} references")
    reference = references[0]
    uri = reference.get("URI")
    if uri != "":
        raise SignatureError(
            "SIG-REFERENCE",
            f"Reference URI={uri!r}" if uri is not None else "Reference without URI",
        )

    # Transforms: [enveloped] or [enveloped, c14n]; without a c14n transform the node-set is
    # turned into octets with inclusive C14N 1.0 (XML-DSig §4.3.3.2).
    transform_elements: list[Element] = []
    transforms_nodes = _ds_children(reference, "Transforms")
    if len(transforms_nodes) > 1:
        raise SignatureError("SIG-TRANSFORM", "more than one <Transforms>")
    if transforms_nodes:
        transform_elements = _elements(transforms_nodes[0])
    uris = [t.get("Algorithm") for t in transform_elements]
    for transform, transform_uri in zip(transform_elements, uris, strict=True):
        if transform.tag != f"{_DS}Transform" or transform_uri not in profile.TRANSFORM_URIS:
            raise SignatureError(
                "SIG-TRANSFORM", f"transform {transform_uri or _local(transform.tag)}"
            )
        if transform_uri == profile.ENVELOPED and _elements(transform):
            raise SignatureError("SIG-TRANSFORM", "parameters on the enveloped-signature transform")
    if (
        not uris
        or uris[0] != profile.ENVELOPED
        or len(uris) > 2
        or (len(uris) == 2 and uris[1] not in profile.C14N_URIS)
    ):
        raise SignatureError(
            "SIG-TRANSFORM", f"transform chain {uris} (expected enveloped-signature, then C14N)"
        )
    reference_c14n = uris[1] if len(uris) == 2 else profile.C14N
    reference_prefixes = (
        _prefix_list(transform_elements[1], "SIG-TRANSFORM") if len(uris) == 2 else None
    )

    # Algorithms.
    c14n_node = _only(signed_info, "CanonicalizationMethod", "SIG-ALGORITHM")
    c14n_method = _check_algorithm(
        c14n_node.get("Algorithm"), profile.C14N_URIS, "CanonicalizationMethod"
    )
    c14n_prefixes = _prefix_list(c14n_node, "SIG-ALGORITHM")
    method_node = _only(signed_info, "SignatureMethod", "SIG-ALGORITHM")
    signature_method = _check_algorithm(
        method_node.get("Algorithm"), policy.signature_methods(), "SignatureMethod"
    )
    if _elements(method_node):
        raise SignatureError("SIG-ALGORITHM", "parameters on SignatureMethod (HMACOutputLength?)")
    digest_node = _only(reference, "DigestMethod", "SIG-ALGORITHM")
    digest_method = _check_algorithm(
        digest_node.get("Algorithm"), policy.digest_methods(), "DigestMethod"
    )
    if _elements(digest_node):
        raise SignatureError("SIG-ALGORITHM", "parameters on DigestMethod")

    try:
        digest_value = _b64decode(_only(reference, "DigestValue", "SIG-DIGEST").text)
    except (binascii.Error, ValueError):
        raise SignatureError("SIG-DIGEST", "DigestValue is not base64") from None
    try:
        signature_value = _b64decode(_only(signature, "SignatureValue", "SIG-VALUE").text)
    except (binascii.Error, ValueError):
        raise SignatureError("SIG-VALUE", "SignatureValue is not base64") from None
    return _Checked(
        signature=signature,
        signed_info=signed_info,
        c14n_method=c14n_method,
        c14n_prefixes=c14n_prefixes,
        signature_method=signature_method,
        reference_c14n=reference_c14n,
        reference_prefixes=reference_prefixes,
        digest_method=digest_method,
        digest_value=digest_value,
        signature_value=signature_value,
    )


@functools.lru_cache(maxsize=512)
def _certificate_from_der(der: bytes) -> x509.Certificate:
    # Certificates are immutable; a unit signs many files with the same one.
    return x509.load_der_x509_certificate(der)


def _load_certificates(signature: Element) -> list[x509.Certificate]:
    key_infos = _ds_children(signature, "KeyInfo")
    if len(key_infos) != 1:
        raise SignatureError("SIG-KEYINFO", f"{len(key_infos)} <KeyInfo>")
    nodes = key_infos[0].findall(f"{_DS}X509Data/{_DS}X509Certificate")
    if len(nodes) > MAX_EMBEDDED_CERTIFICATES:
        raise SignatureError("SIG-KEYINFO", f"{len(nodes)} certificates embedded")
    certificates = []
    for node in nodes:
        try:
            certificates.append(_certificate_from_der(_b64decode(node.text)))
        except (binascii.Error, ValueError) as exc:
            raise SignatureError("SIG-KEYINFO", f"unreadable X509Certificate: {exc}") from None
    if not certificates:
        raise SignatureError("SIG-KEYINFO", "no X509Certificate in KeyInfo/X509Data")
    return certificates


def _parse_key_value(node: Element) -> object:
    """The public key of a `ds:KeyValue` (RSAKeyValue or dsig11:ECKeyValue)."""
    children = _elements(node)
    if len(children) != 1:
        raise SignatureError("SIG-KEYINFO", "KeyValue must hold exactly one key")
    value = children[0]
    try:
        if value.tag == f"{_DS}RSAKeyValue":
            modulus = int.from_bytes(_b64decode(value.findtext(f"{_DS}Modulus")), "big")
            exponent = int.from_bytes(_b64decode(value.findtext(f"{_DS}Exponent")), "big")
            return rsa.RSAPublicNumbers(exponent, modulus).public_key()
        if value.tag == f"{_DSIG11}ECKeyValue":
            curve_node = value.find(f"{_DSIG11}NamedCurve")
            curve = _CURVES.get(curve_node.get("URI") if curve_node is not None else "")
            if curve is None:
                raise SignatureError("SIG-KEYINFO-MISMATCH", "ECKeyValue on an unsupported curve")
            point = _b64decode(value.findtext(f"{_DSIG11}PublicKey"))
            return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE_CLASSES[curve](), point)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise SignatureError("SIG-KEYINFO", f"unreadable KeyValue: {exc}") from None
    raise SignatureError(
        "SIG-KEYINFO-MISMATCH", f"KeyValue <{_local(value.tag)}> cannot match the certificate"
    )


def _same_key(a: object, b: object) -> bool:
    der = serialization.Encoding.DER
    info = serialization.PublicFormat.SubjectPublicKeyInfo
    return a.public_bytes(der, info) == b.public_bytes(der, info)  # type: ignore[attr-defined,no-any-return]


def _signer_certificate(signature: Element) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """The signer's certificate among the embedded ones, and the others (for chain building)."""
    certificates = _load_certificates(signature)
    key_values = [
        _parse_key_value(node) for node in signature.findall(f"{_DS}KeyInfo/{_DS}KeyValue")
    ]
    if key_values:
        matching = [c for c in certificates if _same_key(c.public_key(), key_values[0])]
        if not matching or any(not _same_key(matching[0].public_key(), k) for k in key_values[1:]):
            raise SignatureError(
                "SIG-KEYINFO-MISMATCH", "KeyValue is not the key of an embedded certificate"
            )
        signer = matching[0]
    else:
        # The leaf: the one certificate that issued none of the others. Tools put the signer
        # first, so fall back to document order when that does not single one out.
        leaves = [
            c
            for c in certificates
            if not any(o is not c and o.issuer == c.subject for o in certificates)
        ]
        signer = leaves[0] if len(leaves) == 1 else certificates[0]
    return signer, [c for c in certificates if c is not signer]


def _parse_signing_time(text: str) -> dt.datetime:
    value = text.strip()
    if not _SIGNING_TIME.fullmatch(value):
        raise ValueError(value)
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        # One legacy client writes local time as "yyyy-MM-dd HH:mm:ss" (vss-domain.md §4.3).
        parsed = parsed.replace(tzinfo=_VIETNAM_TIME)
    return parsed.astimezone(dt.UTC)


def _signing_time(signature: Element, policy: Policy) -> dt.datetime | None:
    nodes = [
        node
        for node in signature.iterfind(
            f"{_DS}Object/{_DS}SignatureProperties/{_DS}SignatureProperty/*"
        )
        if _local(node.tag) == "SigningTime"
    ]
    problem = None
    if len(nodes) == 1:
        try:
            return _parse_signing_time(nodes[0].text or "")
        except ValueError:
            problem = f"malformed SigningTime {nodes[0].text!r}"
    else:
        problem = f"{len(nodes)} SigningTime elements"
    if policy.require_signing_time:
        raise SignatureError("SIG-SIGNING-TIME", problem)
    return None


def _xmlsec_key(certificate: x509.Certificate) -> xmlsec.Key:
    """The certificate's public key for xmlsec (pinned: KeyInfo never chooses it)."""
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return _xmlsec_key_from_spki(spki)


@functools.lru_cache(maxsize=256)
def _xmlsec_key_from_spki(spki: bytes) -> xmlsec.Key:
    # A bare SubjectPublicKeyInfo rather than the certificate: xmlsec duplicates the key into
    # every context (so sharing the cached one is safe), and duplicating a certificate-backed
    # key costs more than the RSA check. Units sign many files with one key: cache the load.
    return xmlsec.Key.from_memory(spki, xmlsec.constants.KeyDataFormatDer)


def _value_verifies(
    certificate: x509.Certificate, signature_method: str, signed_info_c14n: bytes, value: bytes
) -> bool:
    """`value` is a signature over the canonical SignedInfo by the certificate's key.

    The same PKCS#1 v1.5 / ECDSA check xmlsec's verify_binary makes, done with cryptography
    (OpenSSL) directly: setting up an xmlsec context cost more than the RSA operation itself on
    small forms (bench/verify_signature.py). When it fails, verify() still lets xmlsec check the
    whole document before refusing, so no quirk here can cause a false rejection.
    """
    algorithm = HASHES[profile.HASH_OF[signature_method]]()
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey) and profile.KEY_TYPE_OF[signature_method] == "rsa":
            key.verify(value, signed_info_c14n, padding.PKCS1v15(), algorithm)
            return True
        if (
            isinstance(key, ec.EllipticCurvePublicKey)
            and profile.KEY_TYPE_OF[signature_method] == "ec"
        ):
            size = (key.curve.key_size + 7) // 8
            if len(value) != 2 * size:
                return False
            r, s = int.from_bytes(value[:size], "big"), int.from_bytes(value[size:], "big")
            key.verify(encode_dss_signature(r, s), signed_info_c14n, ec.ECDSA(algorithm))
            return True
    except InvalidSignature:
        return False
    return False


def _xmlsec_verify_document(xml: bytes, certificate: x509.Certificate, checked: _Checked) -> bool:
    """The whole signature by xmlsec itself, key pinned, only the checked algorithms enabled."""
    root = parse_secure(xml)
    signature = next(root.iter(SIGNATURE_TAG))
    ctx = xmlsec.SignatureContext()
    ctx.key = _xmlsec_key(certificate)
    # The pin is ctx.key: with a key set, libxmlsec ignores KeyInfo ("ignore <dsig:KeyInfo/>
    # if the key is already set", xmlSecDSigCtxProcessKeyInfoNode). An empty enabled-key-data
    # list means "no restriction" to libxmlsec, so this line documents intent, nothing more.
    ctx.set_enabled_key_data([])
    ctx.enable_signature_transform(_XMLSEC_SIGNATURE_TRANSFORM[checked.signature_method])
    for transform in _XMLSEC_C14N_TRANSFORMS:
        ctx.enable_signature_transform(transform)
        ctx.enable_reference_transform(transform)
    ctx.enable_reference_transform(xmlsec.constants.TransformEnveloped)
    ctx.enable_reference_transform(_XMLSEC_DIGEST_TRANSFORM[checked.digest_method])
    try:
        ctx.verify(signature)
    except xmlsec.Error:
        return False
    return True


def verify(xml: bytes, *, container: str | None = None, policy: Policy = Policy()) -> VerifiedXml:  # noqa: B008
    """Verify the one enveloped signature of a VSS file; `SignatureError` with a stable code otherwise.

    Order of checks: XML (`SIG-XML-*`), one signature (`SIG-MISSING`, `SIG-MULTIPLE`), its node
    (`SIG-CONTAINER`, `SIG-PLACEMENT`), coverage (`SIG-REFERENCE`), transforms and algorithms
    (`SIG-TRANSFORM`, `SIG-ALGORITHM`, `SIG-SHA1-DISABLED`), key information (`SIG-KEYINFO`,
    `SIG-KEYINFO-MISMATCH`), signing time (`SIG-SIGNING-TIME`), then the reference digest
    (`SIG-DIGEST`) and the signature value (`SIG-VALUE`).

    The digest is computed once, here, from the same canonical bytes returned as `content`;
    xmlsec then checks the signature value over the canonical SignedInfo with the key of the
    embedded certificate. If that fails, xmlsec verifies the whole document from scratch before
    the value is declared bad, so acceptance never depends on ebhxh's SignedInfo
    canonicalisation alone.
    """
    root = parse_secure(xml)
    # One walk of the tree finds both the signatures and the comments.
    signatures: list[Element] = []
    comments: list[Element] = []
    for node in root.iter(SIGNATURE_TAG, etree.Comment):
        (comments if node.tag is etree.Comment else signatures).append(node)
    # Comments are never signed content (URI="" and C14N without comments drop them), so
    # they go now; joining the text around each one keeps a comment from cutting a signed
    # text node short for callers reading `.root` (the SAML "comment truncation" attack).
    for comment in comments:
        _remove_keep_tail(comment)
    if not signatures:
        raise SignatureError("SIG-MISSING")
    if len(signatures) > 1:
        raise SignatureError("SIG-MULTIPLE", f"{len(signatures)} ds:Signature elements")
    signature = signatures[0]
    node = _find_container(root, _container_steps(root, container), create=False)
    if signature.getparent() is not node:
        raise SignatureError(
            "SIG-PLACEMENT", f"ds:Signature is in <{_local(signature.getparent().tag)}>"
        )

    checked = _check_signed_info(signature, policy)
    certificate, others = _signer_certificate(signature)
    if profile.KEY_TYPE_OF[checked.signature_method] != _key_kind(certificate.public_key()):
        raise SignatureError(
            "SIG-ALGORITHM",
            f"{checked.signature_method} with a {_key_kind(certificate.public_key())} key",
        )
    signing_time = _signing_time(signature, policy)

    signed_info_c14n = canonical_subtree(
        checked.signed_info, checked.c14n_method, checked.c14n_prefixes
    )
    _remove_keep_tail(signature)  # the enveloped-signature transform
    content = _canonical_document(root, checked.reference_c14n, checked.reference_prefixes)
    digest = hashlib.new(profile.HASH_OF[checked.digest_method], content).digest()
    if not hmac.compare_digest(digest, checked.digest_value):
        raise SignatureError("SIG-DIGEST")
    if not _value_verifies(
        certificate, checked.signature_method, signed_info_c14n, checked.signature_value
    ) and not _xmlsec_verify_document(xml, certificate, checked):
        raise SignatureError("SIG-VALUE")

    return VerifiedXml(
        root=root,
        content=content,
        certificate=certificate,
        embedded_certificates=others,
        signing_time=signing_time,
        signature_method=checked.signature_method,
        digest_method=checked.digest_method,
        c14n_method=checked.reference_c14n,
    )
