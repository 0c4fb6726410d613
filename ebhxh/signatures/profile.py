"""The VSS XML signature profile: namespaces, algorithm allow-lists and where each form's signature goes.

Pure Python (no Django): the CLI, the offline tools and the browser agent use it too. Sources:
shared/domain/vss-domain.md §4.2 (signature node per file type) and §4.3 (signature profile).

The profile in one paragraph: W3C XML-DSig, enveloped, one `Reference URI=""` with the
enveloped-signature transform, C14N 1.0, RSA-SHA256/SHA-256 (RSA-SHA1/SHA-1 from legacy clients
only where a policy allows it), `Signature/@Id="sigid"`, `KeyInfo` with `RSAKeyValue` and
`X509Data`, and a `ds:Object` carrying `SignatureProperties/SignatureProperty/SigningTime`.
The `ds:Object` is not referenced by `SignedInfo`, so the signing time is an unsigned claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# --- namespaces ---------------------------------------------------------------------------------

DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
DSIG11_NS: Final = "http://www.w3.org/2009/xmldsig11#"
XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
# VSS clients copied this placeholder namespace from a .NET sample and it stuck: real VSS files
# carry `<SigningTime xmlns="http://example.org/#signatureProperties">`. It identifies nothing,
# but it is what the agency's software writes and reads, so ebhxh writes it too.
SIGNING_TIME_NS: Final = "http://example.org/#signatureProperties"

# --- identifiers of the profile -----------------------------------------------------------------

SIGNATURE_ID: Final = "sigid"
SIGNATURE_PROPERTIES_ID: Final = "proid"

# --- algorithm URIs -----------------------------------------------------------------------------

RSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
ECDSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
RSA_SHA1: Final = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"

SHA256: Final = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA1: Final = "http://www.w3.org/2000/09/xmldsig#sha1"

C14N: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
EXC_C14N: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
# Named so that the verifier can say precisely why it refuses them: comments are not signed
# content in this profile (a comment inside a text node must not change what callers read).
C14N_WITH_COMMENTS: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
EXC_C14N_WITH_COMMENTS: Final = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"

ENVELOPED: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

# Short names used by the Python API (`prepare(algorithm=..., c14n=...)`).
SIGNATURE_ALGORITHMS: Final[dict[str, str]] = {
    "rsa-sha256": RSA_SHA256,
    "ecdsa-sha256": ECDSA_SHA256,
    "rsa-sha1": RSA_SHA1,
}
C14N_ALGORITHMS: Final[dict[str, str]] = {"inclusive": C14N, "exclusive": EXC_C14N}

# Hash behind each signature/digest URI (names as in `signers.HASHES`).
HASH_OF: Final[dict[str, str]] = {
    RSA_SHA256: "sha256",
    ECDSA_SHA256: "sha256",
    RSA_SHA1: "sha1",
    SHA256: "sha256",
    SHA1: "sha1",
}
# Key type each signature method needs.
KEY_TYPE_OF: Final[dict[str, str]] = {RSA_SHA256: "rsa", ECDSA_SHA256: "ec", RSA_SHA1: "rsa"}

SHA1_URIS: Final = frozenset({RSA_SHA1, SHA1})
C14N_URIS: Final = frozenset({C14N, EXC_C14N})
TRANSFORM_URIS: Final = frozenset({ENVELOPED, C14N, EXC_C14N})


@dataclass(frozen=True)
class Policy:
    """What a verifier accepts beyond the SHA-256 core of the profile."""

    # Legacy VSS clients fall back to RSA-SHA1 on old tokens (vss-domain.md §4.3). Off unless a
    # deployment explicitly decides to accept such files.
    allow_sha1: bool = False
    # Every VSS client writes a SigningTime; files from generic tools (xmlsec1) do not.
    require_signing_time: bool = True

    def signature_methods(self) -> frozenset[str]:
        methods = {RSA_SHA256, ECDSA_SHA256}
        if self.allow_sha1:
            methods.add(RSA_SHA1)
        return frozenset(methods)

    def digest_methods(self) -> frozenset[str]:
        return frozenset({SHA256, SHA1} if self.allow_sha1 else {SHA256})


# --- where the signature goes -------------------------------------------------------------------

# Root element (local name) -> path of the signature container, root first. The signature is
# appended to the container, which is created if absent (vss-domain.md §4.2,
# `HosoBHXHHelper.GetNodeSignXml`).
CONTAINERS: Final[dict[str, str]] = {
    "TK1-TS": "TK1-TS/Cky",
    "TK3-TS": "TK3-TS/Cky",
    "D01-TS": "D01-TS/Cky",
    "D02-TS": "D02-TS/Cky",
    "D03-TS": "D03-TS/Cky",
    "D05-TS": "D05-TS/Cky",
    "M01B-HSB": "M01B-HSB/Cky",
    "M05A-HSB": "M05A-HSB/Cky",
    # The envelope BHXHDienTu.xml and the I-VAN registration forms 04_DK-IVAN, 05_SD-IVAN and
    # 06_NG-IVAN all have the root <Hoso> and carry the unit's signature in CKy_Dvi.
    "Hoso": "Hoso/CKy_Dvi",
    # Agency notices of the newer family (02/TB-TS …). NOT CONFIRMED by a sample: the XSLT kit
    # only shows that they are signed; `CKy_CQBHXH` (the node of ebhxh's 01/TB-GD and 02/TB-TS,
    # ebhxh.notices) is an assumption to check against a real notice. (Unit-signed `BaoHiemDienTu` files of another vendor put the signature in
    # `BaoHiemDienTu/CKyDTu/CKYDTU_DVI`; verify those with an explicit container override.)
    "BaoHiemDienTu": "BaoHiemDienTu/CKy_CQBHXH",
}


def container_for(root_tag: str) -> str | None:
    """The container path (root first) for a document whose root element is `root_tag`.

    `root_tag` may be a local name or a Clark name (`{namespace}local`); the namespace is ignored
    because VSS forms are matched by element name only.
    """
    local = root_tag.rsplit("}", 1)[-1]
    return CONTAINERS.get(local)


def split_container(path: str) -> list[str]:
    """`"Hoso/CKy_Dvi"` -> `["Hoso", "CKy_Dvi"]`; refuses empty steps and paths without a container."""
    steps = path.strip("/").split("/")
    if len(steps) < 2 or any(not step or step in {".", ".."} for step in steps):
        raise ValueError(f"container path must be '<root>/<node>[/<node>…]', got {path!r}")
    return steps
