"""Regenerate the example declarations in docs/examples/ (deterministic).

    .venv/bin/python docs/examples/generate.py            # rewrite the examples
    .venv/bin/python docs/examples/generate.py --check    # exit 1 if a committed file differs

Every form is written unsigned (`<CODE>.xml`) and signed (`<CODE>.signed.xml`), plus the
envelope `BHXHDienTu.xml` carrying the signed D02-TS and TK1-TS, itself signed, and the
workbooks `D02-TS.xlsx` (the D02-TS with the TK1-TS of its participants, in the portal's
template) and `D02-TS-template.xlsx` (blank). All data is
synthetic (vss-domain.md §0.3). Signatures use the TEST key in test-signer/ (a test CA made by
ebhxh's TestPKI; never trust it) at a fixed signing time, so the output is byte-for-byte
stable. If test-signer/ is missing, a new test key and certificates are made there first
(the signed examples then change once).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ebhxh.declarations.envelope import EnvelopeUnit, build_envelope
from ebhxh.declarations.forms import (
    D01TS,
    D02TS,
    D03TS,
    D05TS,
    TK1TS,
    TK3TS,
    D01Header,
    D01Row,
    D02Header,
    D02Row,
    D03Header,
    D03Row,
    D05Header,
    D05Row,
    Form,
    HouseholdAppendix,
    HouseholdMember,
    Month,
    PartialDate,
    TK1Adjustment,
    TK1Header,
    TK1Row,
    TK3Header,
)
from ebhxh.declarations.xmlcodec import encode
from ebhxh.signatures import xmldsig
from ebhxh.signatures.signers import KeySigner
from ebhxh.signatures.testing.pki import TestPKI

HERE = Path(__file__).resolve().parent
SIGNER_DIR = HERE / "test-signer"
SIGNING_TIME = dt.datetime(2026, 7, 5, 2, 30, tzinfo=dt.UTC)  # 09:30 in Vietnam
PERIOD = Month(2026, 7)
DATE = dt.date(2026, 7, 5)
UNIT_NAME = "Công ty TNHH Dệt may Sao Mai"
UNIT_CODE = "DM0001A"  # the demo unit of `scripts/run`
TAX_CODE = "0310000017"
AGENCY = "07901"
ADDRESS = "12 Đường Số 3, Phường Tân Định, Thành phố Hồ Chí Minh"


def unit_header(cls: type, **changes: object) -> Any:
    values: dict[str, object] = {
        "unit_name": UNIT_NAME,
        "unit_code": UNIT_CODE,
        "tax_code": TAX_CODE,
        "address": ADDRESS,
        "phone": "0281234567",
        "email": "nhansu@saomai.example",
        "agency_code": AGENCY,
        "procedure_code": "600",
        "period": PERIOD,
        "batch": 1,
        "place": "Thành phố Hồ Chí Minh",
        "date": DATE,
        "preparer": "Trần Thị Kế Toán",
        "representative": "Phạm Văn Giám Đốc",
    }
    return cls(**(values | changes))


def d02() -> D02TS:
    common: dict[str, Any] = {
        "pa": "TM",
        "kind": "1",
        "position": "Nhân viên kỹ thuật",
        "workplace": "Xưởng dệt số 1",
        "department": "KT",
        "allowance_salary": Decimal("500000"),
        "from_month": PERIOD,
        "contribution_rate": Decimal("32"),
        "charge_interest": False,
        "wage_region": "01",
    }
    return D02TS(
        unit_header(D02Header, document_number="01/2026/D02"),
        [
            D02Row(
                stt=1,
                full_name="Lê Thu Hương",
                bhxh_code="7900000001",
                birth_date=PartialDate(1981, 2, 28),
                gender="0",
                personal_id="079181000001",
                salary=Decimal("16800000"),
                contract_indefinite_from=dt.date(2026, 7, 1),
                note="HĐLĐ số 01/2026/HĐLĐ ngày 01/07/2026",
                has_book=True,
                **common,
            ),
            D02Row(
                stt=2,
                full_name="Bùi Quốc Việt",
                bhxh_code="7900000002",
                birth_date=PartialDate(1971, 4, 13),
                gender="1",
                personal_id="079071000002",
                salary=Decimal("16300000"),
                contract_fixed_from=dt.date(2026, 7, 1),
                contract_fixed_to=dt.date(2027, 6, 30),
                note="HĐLĐ số 02/2026/HĐLĐ ngày 01/07/2026",
                has_book=True,
                **common,
            ),
            D02Row(
                stt=3,
                full_name="Nguyễn Ngọc Ánh",
                birth_date=PartialDate(2003),
                gender="0",
                personal_id="079303000003",
                salary=Decimal("5800000"),
                contract_fixed_from=dt.date(2026, 7, 1),
                contract_fixed_to=dt.date(2027, 6, 30),
                note="HĐLĐ số 03/2026/HĐLĐ ngày 01/07/2026; chưa có mã số BHXH",
                has_book=False,
                **common,
            ),
        ],
    )


def tk1() -> TK1TS:
    return TK1TS(
        TK1Header(
            unit_name=UNIT_NAME,
            unit_code=UNIT_CODE,
            tax_code=TAX_CODE,
            agency_code=AGENCY,
            procedure_code="600",
            period=PERIOD,
            batch=1,
            place="Thành phố Hồ Chí Minh",
            date=DATE,
        ),
        [
            TK1Row(
                stt=1,
                full_name="NGUYỄN NGỌC ÁNH",
                gender="0",
                birth_date=PartialDate(2003),
                nationality="VN",
                ethnicity="01",
                personal_id="079303000003",
                phone="0900000003",
                email="anh.nguyen@example.invalid",
                birth_registration_place="UBND Phường Tân Định, Thành phố Hồ Chí Minh",
                birth_commune="26734",
                birth_province="79",
                address_text="12 Đường Số 3, Phường Tân Định, Thành phố Hồ Chí Minh",
                address_street="12 Đường Số 3",
                address_commune="26734",
                address_province="79",
                household_declared=True,
                payment_method="1",
                hospital_province="79",
                hospital_code="79001",
                hospital_name="Bệnh viện thử nghiệm",
                change_content="Cấp mã số BHXH và thẻ BHYT lần đầu",
                attachments="HĐLĐ số 03/2026/HĐLĐ",
                receive_electronic=True,
                receive_paper=False,
                household=HouseholdAppendix(
                    household_code="7900000099",
                    head_name="NGUYỄN VĂN CHỦ HỘ",
                    head_personal_id="079075000099",
                    head_phone="0900000099",
                    head_address="12 Đường Số 3, Phường Tân Định, Thành phố Hồ Chí Minh",
                    head_commune="26734",
                    head_province="79",
                    residence_kind="1",
                    members=(
                        HouseholdMember(
                            stt=1,
                            full_name="NGUYỄN VĂN CHỦ HỘ",
                            birth_date=PartialDate(1975, 9, 2),
                            gender="1",
                            nationality="VN",
                            ethnicity="01",
                            personal_id="079075000099",
                            relationship="00",
                        ),
                        HouseholdMember(
                            stt=2,
                            full_name="NGUYỄN NGỌC ÁNH",
                            birth_date=PartialDate(2003),
                            gender="0",
                            nationality="VN",
                            ethnicity="01",
                            personal_id="079303000003",
                            relationship="03",
                        ),
                    ),
                ),
            ),
            TK1Row(
                stt=2,
                full_name="BÙI QUỐC VIỆT",
                gender="1",
                birth_date=PartialDate(1971, 4, 13),
                nationality="VN",
                ethnicity="01",
                personal_id="079071000002",
                bhxh_code="7900000002",
                adjustment=TK1Adjustment(
                    birth_date=PartialDate(1971, 4, 3),
                    personal_id="079071000002",
                ),
                change_content="Điều chỉnh ngày sinh theo căn cước",
                attachments="Bản sao căn cước",
                receive_electronic=True,
            ),
        ],
    )


def tk3() -> TK3TS:
    return TK3TS(
        TK3Header(
            unit_name=UNIT_NAME,
            unit_code=UNIT_CODE,
            tax_code=TAX_CODE,
            registered_address=ADDRESS,
            unit_type="Công ty trách nhiệm hữu hạn",
            main_business="Sản xuất hàng dệt",
            contact_address="45 Đường Số 7, Phường Bến Thành, Thành phố Hồ Chí Minh",
            phone="0281234567",
            email="nhansu@saomai.example",
            license_number=TAX_CODE,
            license_issuer="Sở Tài chính Thành phố Hồ Chí Minh",
            license_date=dt.date(2020, 3, 2),
            payment_method="1",
            change_content="Thay đổi địa chỉ liên hệ từ ngày 01/07/2026",
            attachments="Giấy chứng nhận đăng ký doanh nghiệp (thay đổi lần 2)",
            agency_code=AGENCY,
            procedure_code="604",
            place="Thành phố Hồ Chí Minh",
            date=DATE,
            representative="Phạm Văn Giám Đốc",
        )
    )


def d01() -> D01TS:
    return D01TS(
        unit_header(D01Header),
        [
            D01Row(
                stt=1,
                full_name="Lê Thu Hương",
                bhxh_code="7900000001",
                document_type="Hợp đồng lao động",
                document_number="01/2026/HĐLĐ",
                issued_on=dt.date(2026, 7, 1),
                effective_on=dt.date(2026, 7, 1),
                issuer=UNIT_NAME,
                summary="Hợp đồng lao động không xác định thời hạn",
                content_excerpt="Tiền lương 16.800.000 đồng/tháng từ 01/07/2026",
            ),
            D01Row(
                stt=2,
                full_name="Bùi Quốc Việt",
                bhxh_code="7900000002",
                document_type="Hợp đồng lao động",
                document_number="02/2026/HĐLĐ",
                issued_on=dt.date(2026, 7, 1),
                effective_on=dt.date(2026, 7, 1),
                issuer=UNIT_NAME,
                summary="Hợp đồng lao động xác định thời hạn 12 tháng",
            ),
        ],
    )


def d03() -> D03TS:
    common: dict[str, Any] = {
        "pa": "TM",
        "beneficiary_group": "HS",
        "benefit_level": "4",
        "hospital_province": "79",
        "hospital_code": "79001",
        "from_month": Month(2026, 9),
        "months": 12,
    }
    return D03TS(
        unit_header(D03Header, list_kind="TANG"),
        [
            D03Row(
                stt=1,
                full_name="Trần Minh Khang",
                birth_date=PartialDate(2012, 3, 15),
                gender="1",
                personal_id="079212000011",
                household_code="7900000111",
                address="Phường Tân Định, Thành phố Hồ Chí Minh",
                amount=Decimal("1062600"),
                **common,
            ),
            D03Row(
                stt=2,
                full_name="Phạm Thảo Vy",
                bhxh_code="7900000012",
                birth_date=PartialDate(2011, 11),
                gender="0",
                personal_id="079311000012",
                household_code="7900000112",
                health_card_number="HS4797900000012",
                card_valid_from=dt.date(2025, 9, 1),
                card_valid_to=dt.date(2026, 8, 31),
                amount=Decimal("1062600"),
                **common,
            ),
        ],
    )


def d05() -> D05TS:
    return D05TS(
        unit_header(D05Header, procedure_code="602"),
        [
            D05Row(
                stt=1,
                full_name="Đặng Văn Hòa",
                bhxh_code="7900000021",
                birth_date=PartialDate(1978, 6, 1),
                gender="1",
                personal_id="079078000021",
                phone="0900000021",
                address="Phường Tân Định, Thành phố Hồ Chí Minh",
                pa="TM",
                income=Decimal("5000000"),
                payment_method="3",
                from_month=PERIOD,
                months=3,
                amount=Decimal("3300000"),
                state_support=Decimal("0"),
            ),
            D05Row(
                stt=2,
                full_name="Võ Thị Mỹ Duyên",
                bhxh_code="7900000022",
                birth_date=PartialDate(1985, 12, 24),
                gender="0",
                personal_id="079185000022",
                pa="DT",
                income=Decimal("3000000"),
                payment_method="1",
                from_month=PERIOD,
                months=1,
                amount=Decimal("660000"),
                note="Đóng tiếp",
            ),
        ],
    )


def forms() -> dict[str, Form]:
    return {
        "D02-TS": d02(),
        "TK1-TS": tk1(),
        "TK3-TS": tk3(),
        "D01-TS": d01(),
        "D03-TS": d03(),
        "D05-TS": d05(),
    }


# --- the test signer ------------------------------------------------------------------------


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def make_signer(directory: Path = SIGNER_DIR) -> None:
    """A new TEST CA and signer key/certificate (valid 2026–2036) in `directory`."""
    pki = TestPKI(name="ebhxh Examples TEST", now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    issued = pki.issue(
        UNIT_NAME,
        tax_code=TAX_CODE,
        not_before=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        not_after=dt.datetime(2036, 1, 1, tzinfo=dt.UTC),
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "signer-key.pem").write_bytes(issued.key_pem)
    (directory / "signer-cert.pem").write_bytes(issued.cert_pem)
    (directory / "issuing-ca-cert.pem").write_bytes(_pem(pki.issuing.certificate))
    (directory / "root-ca-cert.pem").write_bytes(_pem(pki.root.certificate))


def load_signer(directory: Path = SIGNER_DIR) -> KeySigner:
    key = serialization.load_pem_private_key(
        (directory / "signer-key.pem").read_bytes(), password=None
    )
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    chain = [
        x509.load_pem_x509_certificate((directory / name).read_bytes())
        for name in ("issuing-ca-cert.pem", "root-ca-cert.pem")
    ]
    certificate = x509.load_pem_x509_certificate((directory / "signer-cert.pem").read_bytes())
    return KeySigner(key, certificate, chain)


# --- the examples ---------------------------------------------------------------------------


def build_all(signer: KeySigner | None = None) -> dict[str, bytes]:
    """File name -> content of every example (unsigned and signed forms, the envelope)."""
    signer = signer or load_signer()
    files: dict[str, bytes] = {}
    for code, form in forms().items():
        unsigned = encode(form)
        files[f"{code}.xml"] = unsigned
        files[f"{code}.signed.xml"] = xmldsig.sign(unsigned, signer, signing_time=SIGNING_TIME)
    envelope = build_envelope(
        EnvelopeUnit(
            name=UNIT_NAME,
            code=UNIT_CODE,
            tax_code=TAX_CODE,
            signer="Phạm Văn Giám Đốc",
            phone="0281234567",
            agency_code=AGENCY,
        ),
        "600",
        PERIOD,
        [
            ("D02-TS", "D02-TS-595.xml", files["D02-TS.signed.xml"]),
            ("TK1-TS", "TK1-TS-595.xml", files["TK1-TS.signed.xml"]),
        ],
        date=DATE,
    )
    files["BHXHDienTu.xml"] = xmldsig.sign(envelope, signer, signing_time=SIGNING_TIME)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="only compare with the committed files"
    )
    args = parser.parse_args(argv)
    if not (SIGNER_DIR / "signer-key.pem").exists():
        if args.check:
            print("test-signer/ is missing", file=sys.stderr)
            return 1
        make_signer()
    differ = []
    for name, content in build_all().items():
        path = HERE / name
        if path.exists() and path.read_bytes() == content:
            continue
        differ.append(name)
        if not args.check:
            path.write_bytes(content)
    # The workbooks (D02-TS.xlsx with the TK1-TS columns and the household sheet, and the
    # blank template) are made from the XML examples above. openpyxl stamps the time into
    # them, so they are compared by content, not bytes.
    from ebhxh.declarations.excel import example_workbooks, sheet_values

    for name, content in example_workbooks().items():
        path = HERE / name
        if path.exists() and sheet_values(path.read_bytes()) == sheet_values(content):
            continue
        differ.append(name)
        if not args.check:
            path.write_bytes(content)
    for name in differ:
        print(("differs: " if args.check else "written: ") + name)
    return 1 if args.check and differ else 0


if __name__ == "__main__":
    sys.exit(main())
