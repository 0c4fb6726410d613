"""Demo data: one provincial agency with two base agencies, three units, an officer per role,
30 participants with employments. Deterministic and idempotent: a second run creates nothing.

Everything here is synthetic (vss-domain.md §0.3): names are drawn from common Vietnamese
name parts and identifiers are generated, never copied from real records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from ebhxh.accounts import services as account_services
from ebhxh.accounts.models import ApiToken, Role, User
from ebhxh.catalog.models import Agency, MinimumWage
from ebhxh.lib.identifiers import make_tax_code
from ebhxh.units import services as unit_services
from ebhxh.units.models import Employment, Participant, Unit
from ebhxh.web.demo_pki import ensure_demo_pki

DEMO_PASSWORD = "ebhxh-demo-2026"  # noqa: S105  printed by the run command; demo only
# A fixed, printed API token of DM0001A, so payroll vendors can try the API at once; demo only.
DEMO_API_TOKEN = "ebhxh-demo-token-DM0001A"  # noqa: S105
PARTICIPANTS = 30

SURNAMES = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
]
MIDDLE_M = ["Văn", "Hữu", "Đức", "Minh", "Quốc", "Thành", "Công"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Thanh", "Mỹ", "Kim", "Bảo"]
GIVEN_M = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hải",
    "Hùng",
    "Khánh",
    "Long",
    "Nam",
    "Phúc",
    "Quang",
    "Sơn",
    "Tài",
    "Thắng",
    "Việt",
]
GIVEN_F = [
    "Anh",
    "Chi",
    "Dung",
    "Giang",
    "Hà",
    "Hằng",
    "Hương",
    "Lan",
    "Linh",
    "Mai",
    "Ngân",
    "Nhung",
    "Oanh",
    "Thảo",
    "Yến",
]
POSITIONS = [
    ("Nhân viên kế toán", "mid_skilled"),
    ("Kỹ sư phần mềm", "high_skilled"),
    ("Công nhân may", "other"),
    ("Nhân viên kinh doanh", "mid_skilled"),
    ("Trưởng phòng nhân sự", "manager"),
    ("Lái xe", "other"),
    ("Kỹ thuật viên", "mid_skilled"),
    ("Giám đốc điều hành", "manager"),
]

UNITS = [
    # code, name, tax prefix, unit type, region, base-agency index, participants
    ("DM0001A", "Công ty TNHH Dệt may Sao Mai", "031000001", "private_enterprise", 1, 0, 15),
    ("DM0002B", "Công ty Cổ phần Phần mềm Bến Nghé", "031000002", "private_enterprise", 1, 0, 10),
    ("DM0003C", "Hợp tác xã Nông nghiệp Tân Thông", "031000003", "cooperative", 3, 1, 5),
]

UNIT_MEMBERS = {
    "DM0001A": [
        ("ketoan.saomai", "Đỗ Thị Kế Toán", Role.PREPARER, "Người lập hồ sơ / preparer"),
        ("giamdoc.saomai", "Bùi Văn Giám Đốc", Role.SIGNER, "Người ký / signer"),
    ],
}

# Invited by DM0001A's admin and still without a password: the invitation lies in the outbox.
UNIT_INVITEES = {
    "DM0001A": [("Phan Thị Nhân Sự", "nhansu@dm0001a.demo.ebhxh.vn", [Role.PREPARER])],
}

OFFICER_ROLES = [
    ("motcua.demo", "Lê Thị Một Cửa", Role.DESK, 0),
    ("thu.demo", "Trần Văn Thu", Role.COLLECTION, 0),
    ("sothe.demo", "Phạm Thị Sổ Thẻ", Role.BOOKS_CARDS, 0),
    ("chedo.demo", "Vũ Văn Chế Độ", Role.BENEFITS, 0),
    ("giamsat.demo", "Nguyễn Thị Giám Sát", Role.SUPERVISOR, None),  # provincial level
]


@dataclass
class DemoReport:
    created: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (login, who, note)

    def add(self, what: str, n: int = 1) -> None:
        self.created[what] = self.created.get(what, 0) + n


def demo_totp_key(username: str) -> str:
    """Deterministic TOTP secret (hex) of a demo officer, so `ebhxh demo_totp` can show the code."""
    return hashlib.sha256(f"ebhxh-demo-totp:{username}".encode()).hexdigest()[:40]


def _valid_tax_code(prefix: str) -> str:
    for last in range(10):
        for tweak in range(10):
            code = make_tax_code(prefix[:-2] + str(tweak) + prefix[-1])
            if code:
                return code
        prefix = prefix[:-1] + str(last)
    raise RuntimeError("no valid tax code near " + prefix)


def _demo_agencies() -> tuple[Agency, list[Agency]]:
    for provincial in Agency.objects.filter(level=Agency.Level.PROVINCIAL).order_by("code"):
        bases = list(provincial.children.filter(level=Agency.Level.BASE).order_by("code")[:2])
        if len(bases) == 2:
            return provincial, bases
    raise RuntimeError("Danh mục cơ quan BHXH chưa được nạp: chạy `ebhxh load_catalogues` trước.")


def _user(report: DemoReport, username: str, **kwargs: object) -> User:
    existing = User.objects.filter(username=username).first()
    if existing:
        return existing
    report.add("users")
    return account_services.create_user(username=username, password=DEMO_PASSWORD, **kwargs)  # type: ignore[arg-type]


@transaction.atomic
def seed_demo() -> DemoReport:
    """Create the demo data that is missing; leave what exists untouched."""
    report = DemoReport()
    rng = random.Random(2026)  # noqa: S311  deterministic synthetic data, not security
    provincial, bases = _demo_agencies()

    admin = _user(
        report,
        "admin.demo",
        kind=User.Kind.SYSTEM,
        full_name="Quản trị hệ thống",
        roles=[Role.SYSADMIN],
    )
    report.logins.append(("admin.demo", "Quản trị hệ thống / System administrator", "/admin/"))

    for username, name, role, base_index in OFFICER_ROLES:
        agency = provincial if base_index is None else bases[base_index]
        officer = _user(
            report, username, kind=User.Kind.AGENCY, agency=agency, full_name=name, roles=[role]
        )
        if not TOTPDevice.objects.filter(user=officer, confirmed=True).exists():
            TOTPDevice.objects.create(
                user=officer, name="demo", key=demo_totp_key(username), confirmed=True
            )
        report.logins.append(
            (
                username,
                f"{Role(role).label} · {agency.code}",
                "TOTP: .venv/bin/ebhxh demo_totp " + username,
            )
        )

    person_no = 0
    for code, name, tax_prefix, unit_type, region, base_index, headcount in UNITS:
        # Draw every random value first so the sequence does not depend on what already exists.
        address = f"{rng.randint(1, 300)} Đường Demo, Thành phố Hồ Chí Minh"
        head_name = _person_name(rng, male=True)
        phone = f"028{rng.randint(1000000, 9999999)}"
        unit = Unit.objects.filter(code=code).first()
        if unit is None:
            unit = unit_services.create_unit(
                actor=admin,
                code=code,
                tax_code=_valid_tax_code(tax_prefix),
                name=name,
                unit_type=unit_type,
                registered_address=address,
                managing_agency=bases[base_index],
                wage_region=region,
                head_name=head_name,
                contact_email=f"lienhe@{code.lower()}.demo.ebhxh.vn",
                contact_phone=phone,
                etx_status=Unit.EtxStatus.ACTIVE,
            )
            report.add("units")
        _user(
            report,
            f"dv-{code.lower()}",
            kind=User.Kind.UNIT,
            unit=unit,
            is_unit_account=True,
            full_name=name,
            email=unit.contact_email,
            roles=[Role.UNIT_ADMIN, Role.SIGNER],
        )
        report.logins.append(
            (code, f"{name} (mã đơn vị / MST {unit.tax_code})", "quản trị đơn vị, người ký")
        )
        for username, full_name, role, label in UNIT_MEMBERS.get(code, []):
            _user(
                report, username, kind=User.Kind.UNIT, unit=unit, full_name=full_name, roles=[role]
            )
            report.logins.append((username, f"{label} · {code}", ""))
        _invitees_and_api_token(report, unit)
        for _ in range(headcount):
            person_no += 1
            _participant_with_employment(report, rng, person_no, unit, admin)
    units = list(Unit.objects.filter(code__in=[u[0] for u in UNITS]).order_by("code"))
    for what, n in ensure_demo_pki(units, actor=admin, password=DEMO_PASSWORD).items():
        report.add(what, n)
    from ebhxh.registrations.demo import seed_registrations

    for what, n in seed_registrations(_valid_tax_code, bases[0]).items():
        report.add(what, n)
    from ebhxh.dossiers.demo import seed_dossiers

    for what, n in seed_dossiers(DEMO_PASSWORD).items():
        report.add(what, n)
    report.logins.append(("/don-vi/ho-so/", "Hồ sơ của đơn vị / the unit's dossiers", "DM0001A"))
    report.logins.append(
        (
            "API nộp hồ sơ",
            "ebhxh demo_dossier -o /tmp/BHXHDienTu.xml, rồi / then",
            f'curl -H "Authorization: Bearer {DEMO_API_TOKEN}" -H "Content-Type: application/xml" '
            f"--data-binary @/tmp/BHXHDienTu.xml {settings.SITE_URL}/api/v1/dossiers",
        )
    )
    report.logins.append(
        ("/dang-ky/", "Đăng ký giao dịch điện tử (công khai) / e-transaction registration", "")
    )
    report.logins.append(
        ("/co-quan/dang-ky/", "Hàng chờ duyệt đăng ký / registrations to review", "motcua.demo")
    )
    return report


def _invitees_and_api_token(report: DemoReport, unit: Unit) -> None:
    """DM0001A's invited member and its demo API token (printed with a curl example)."""
    invitees = UNIT_INVITEES.get(unit.code or "", [])
    if not invitees:
        return
    admin = User.objects.get(unit=unit, is_unit_account=True)
    for full_name, email, roles in invitees:
        if not User.objects.filter(email__iexact=email).exists():
            account_services.invite_member(
                actor=admin, full_name=full_name, email=email, roles=roles
            )
            report.add("users")
    token_hash = account_services.hash_api_token(DEMO_API_TOKEN)
    if not ApiToken.objects.filter(token_hash=token_hash).exists():
        account_services.create_api_token(
            actor=admin,
            unit=unit,
            name="Phần mềm tiền lương minh họa / demo payroll software",
            value=DEMO_API_TOKEN,
        )
        report.add("api_tokens")
    report.logins.append(
        (
            "API token",
            f"Bearer {DEMO_API_TOKEN} · {unit.code}",
            f'curl -H "Authorization: Bearer {DEMO_API_TOKEN}" {settings.SITE_URL}/api/v1/me',
        )
    )


def _person_name(rng: random.Random, *, male: bool) -> str:
    middle, given = (MIDDLE_M, GIVEN_M) if male else (MIDDLE_F, GIVEN_F)
    return f"{rng.choice(SURNAMES)} {rng.choice(middle)} {rng.choice(given)}"


def _participant_with_employment(
    report: DemoReport, rng: random.Random, n: int, unit: Unit, actor: User
) -> None:
    # Draw every random value first so the sequence does not depend on what already exists.
    male = rng.random() < 0.5
    name = _person_name(rng, male=male)
    birth = dt.date(rng.randint(1970, 2003), rng.randint(1, 12), rng.randint(1, 28))
    century_digit = (0 if birth.year < 2000 else 2) + (0 if male else 1)
    personal_id = f"079{century_digit}{birth.year % 100:02d}{n:06d}"
    bhxh_code = f"79{n:08d}"
    position, group = rng.choice(POSITIONS)
    start = dt.date(rng.randint(2022, 2026), rng.randint(1, 6), 1)
    raw_salary = rng.randint(0, 25_000_000)
    indefinite = rng.random() < 0.6

    participant = Participant.objects.filter(bhxh_code=bhxh_code).first()
    if participant is None:
        participant = unit_services.create_participant(
            actor=actor,
            bhxh_code=bhxh_code,
            personal_id=personal_id,
            full_name=name,
            birth_date=birth,
            gender=Participant.Gender.MALE if male else Participant.Gender.FEMALE,
            address="Thành phố Hồ Chí Minh",
        )
        report.add("participants")
    if Employment.objects.filter(unit=unit, participant=participant).exists():
        return
    floor = (
        MinimumWage.objects.in_force(start)
        .filter(region=unit.wage_region)
        .values_list("amount", flat=True)
        .first()
        or 5_310_000
    )
    salary = (floor + raw_salary) // 100_000 * 100_000 + 100_000
    unit_services.start_employment(
        actor=actor,
        unit=unit,
        participant=participant,
        position=position,
        job_group=group,
        salary_amount=salary,
        contract_type=Employment.ContractType.INDEFINITE
        if indefinite
        else Employment.ContractType.FIXED_TERM,
        contract_number=f"{n:03d}/HĐLĐ",
        contract_start=start,
        contract_end=None
        if indefinite
        else start.replace(year=start.year + 2) - dt.timedelta(days=1),
        start_month=start,
    )
    report.add("employments")
