import datetime as dt

import factory

from ebhxh.catalog.models import Agency
from ebhxh.lib.identifiers import make_tax_code
from ebhxh.units.models import Employment, Participant, Unit


def _tax_code(n: int) -> str:
    base = 100_000_000 + n * 7
    while True:
        code = make_tax_code(f"{base:09d}")
        if code:
            return code
        base += 1


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"9{n:04d}")
    name = factory.Sequence(lambda n: f"Bảo hiểm xã hội Cơ sở Thử nghiệm {n}")
    level = Agency.Level.BASE
    parent = factory.SubFactory(
        "ebhxh.units.tests.factories.AgencyFactory",
        code="79000",
        name="Bảo hiểm xã hội Thành phố Thử nghiệm",
        level=Agency.Level.PROVINCIAL,
        parent=factory.SubFactory(
            "ebhxh.units.tests.factories.AgencyFactory",
            code="00000",
            name="Bảo hiểm xã hội Việt Nam",
            level=Agency.Level.CENTRAL,
            parent=None,
        ),
    )


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"TS{n:04d}A")
    tax_code = factory.Sequence(_tax_code)
    name = factory.Sequence(lambda n: f"Công ty TNHH Thử Nghiệm {n}")
    unit_type = Unit.UnitType.PRIVATE_ENTERPRISE
    registered_address = "1 Đường Thử Nghiệm, Thành phố Hồ Chí Minh"
    managing_agency = factory.SubFactory(AgencyFactory)
    wage_region = 1
    contact_email = factory.Sequence(lambda n: f"donvi{n}@example.vn")


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    bhxh_code = factory.Sequence(lambda n: f"79{n:08d}")
    personal_id = factory.Sequence(lambda n: f"0790{90 + n % 10:02d}{n:06d}")
    full_name = factory.Faker("name", locale="vi_VN")
    birth_date = dt.date(1990, 5, 17)
    gender = Participant.Gender.FEMALE


class EmploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employment

    unit = factory.SubFactory(UnitFactory)
    participant = factory.SubFactory(ParticipantFactory)
    position = "Nhân viên kế toán"
    salary_amount = 8_000_000
    contract_type = Employment.ContractType.INDEFINITE
    contract_start = dt.date(2025, 1, 1)
    start_month = dt.date(2025, 1, 1)

    class Params:
        ended = factory.Trait(end_month=dt.date(2026, 3, 1), status=Employment.Status.STOPPED)
