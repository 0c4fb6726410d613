"""Stable error codes of signature and certificate checks, each with a Vietnamese and English message.

Pure Python (no Django): the CLI, the signing agent and the offline tools use it too. Codes never
change meaning once released; add new ones instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    code: str
    message_vi: str
    message_en: str


_PROBLEMS = [
    # XML and structure
    Problem("SIG-XML-MALFORMED", "Tệp không phải XML hợp lệ.", "The file is not well-formed XML."),
    Problem(
        "SIG-XML-DOCTYPE",
        "Tệp XML có khai báo DOCTYPE hoặc thực thể: không được chấp nhận.",
        "The XML has a DOCTYPE or entity declaration: refused.",
    ),
    Problem(
        "SIG-CONTAINER",
        "Không tìm thấy nút chứa chữ ký theo quy định của tờ khai.",
        "The form's designated signature node is missing.",
    ),
    Problem("SIG-MISSING", "Tệp chưa được ký số.", "The file carries no signature."),
    Problem(
        "SIG-MULTIPLE",
        "Tệp có nhiều hơn một chữ ký số.",
        "The file carries more than one signature.",
    ),
    Problem(
        "SIG-PLACEMENT",
        "Chữ ký số không nằm ở nút quy định của tờ khai.",
        "The signature is not in the form's designated node.",
    ),
    Problem(
        "SIG-REFERENCE",
        'Chữ ký số không bao trùm toàn bộ tài liệu (phải có đúng một Reference URI="").',
        'The signature does not cover the whole document (exactly one Reference with URI="" is required).',
    ),
    Problem(
        "SIG-TRANSFORM",
        "Chữ ký số dùng phép biến đổi không được phép.",
        "The signature uses a transform that is not allowed.",
    ),
    Problem(
        "SIG-ALGORITHM",
        "Thuật toán ký hoặc băm không được phép.",
        "The signature or digest algorithm is not allowed.",
    ),
    Problem(
        "SIG-SHA1-DISABLED",
        "Chữ ký SHA-1 không còn được chấp nhận.",
        "SHA-1 signatures are not accepted.",
    ),
    Problem(
        "SIG-KEYINFO",
        "Chữ ký số không kèm chứng thư số (X509Data).",
        "The signature carries no certificate (X509Data).",
    ),
    Problem(
        "SIG-KEYINFO-MISMATCH",
        "Khóa công khai trong KeyInfo không khớp với chứng thư số.",
        "The public key in KeyInfo does not match the certificate.",
    ),
    Problem(
        "SIG-SIGNING-TIME",
        "Thời điểm ký (SigningTime) thiếu hoặc sai định dạng.",
        "The signing time (SigningTime) is missing or malformed.",
    ),
    Problem(
        "SIG-DIGEST",
        "Nội dung đã bị thay đổi sau khi ký (sai giá trị băm).",
        "The content was changed after signing (digest mismatch).",
    ),
    Problem("SIG-VALUE", "Giá trị chữ ký số không đúng.", "The signature value is invalid."),
    # Certificate and trust
    Problem("CERT-MALFORMED", "Chứng thư số không đọc được.", "The certificate cannot be read."),
    Problem(
        "CERT-UNTRUSTED",
        "Chứng thư số không do tổ chức cung cấp dịch vụ chứng thực được tin cậy cấp.",
        "The certificate does not chain to a trusted certification authority.",
    ),
    Problem(
        "CERT-EXPIRED",
        "Chứng thư số đã hết hạn vào thời điểm đánh giá (lúc nhận hồ sơ, hoặc lúc ký với hồ sơ lưu trữ).",
        "The certificate had expired at the moment judged (receipt, or signing time for archives).",
    ),
    Problem(
        "CERT-NOT-YET-VALID",
        "Chứng thư số chưa có hiệu lực vào thời điểm đánh giá.",
        "The certificate was not yet valid at the moment judged.",
    ),
    Problem(
        "CERT-KEY-USAGE",
        "Chứng thư số không được phép dùng để ký (thiếu digitalSignature/nonRepudiation).",
        "The certificate may not be used for signing (no digitalSignature/nonRepudiation key usage).",
    ),
    Problem("CERT-REVOKED", "Chứng thư số đã bị thu hồi.", "The certificate has been revoked."),
    Problem(
        "CERT-REVOCATION-UNKNOWN",
        "Không kiểm tra được tình trạng thu hồi của chứng thư số (CRL/OCSP).",
        "The revocation status of the certificate could not be checked (CRL/OCSP).",
    ),
    Problem(
        "CERT-NOT-REGISTERED",
        "Chứng thư số chưa được đăng ký cho đơn vị này.",
        "The certificate is not registered to this unit.",
    ),
    # Signing
    Problem(
        "SIGN-KEY",
        "Không dùng được khóa ký (sai mật khẩu, PIN hoặc tệp khóa).",
        "The signing key cannot be used (wrong password, PIN or key file).",
    ),
    Problem(
        "SIGN-TOKEN",
        "Không tìm thấy thiết bị ký số (token) hoặc khóa theo nhãn đã chọn.",
        "The token or the key with the chosen label was not found.",
    ),
    Problem("SIGN-REFUSED", "Người dùng đã từ chối ký.", "The person refused to sign."),
]

PROBLEMS: dict[str, Problem] = {p.code: p for p in _PROBLEMS}


class SignatureError(Exception):
    """A check failed; `code` is stable, messages in Vietnamese and English, `detail` for logs."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.problem = PROBLEMS[code]
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {self.problem.message_en}" + (f" ({detail})" if detail else ""))

    @property
    def message_vi(self) -> str:
        return self.problem.message_vi

    @property
    def message_en(self) -> str:
        return self.problem.message_en

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
            "detail": self.detail,
        }
