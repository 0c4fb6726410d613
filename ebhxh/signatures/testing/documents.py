"""Synthetic documents for signature tests and benchmarks (no real personal data, vss-domain.md §0.3).

The element names follow the portal's JSON field names for a D02-TS row (vss-domain.md §3.5) until
the declarations package (issue 4) defines the form schemas.
"""

from __future__ import annotations

import random

_SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi"]
_GIVEN = ["Thị Lan", "Văn Hùng", "Ngọc Ánh", "Minh Đức", "Thu Hương", "Quốc Việt", "Mỹ Duyên"]


def d02_document(rows: int, *, seed: int = 1, unit_code: str = "DM0001A") -> bytes:
    """A D02-TS form with `rows` participant rows, pretty-printed, with an empty <Cky/> slot."""
    rng = random.Random(seed)  # noqa: S311  synthetic data
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<D02-TS>\n',
        "  <ThongTinDonVi>\n",
        "    <TenDonVi>Công ty TNHH Dệt may Sao Mai</TenDonVi>\n",
        f"    <MaDonVi>{unit_code}</MaDonVi>\n    <MaSoThue>0310000017</MaSoThue>\n",
        "    <KyKeKhai>07/2026</KyKeKhai>\n  </ThongTinDonVi>\n  <DanhSach>\n",
    ]
    for i in range(1, rows + 1):
        parts.append(
            "    <NguoiLaoDong>\n"
            f"      <Stt>{i}</Stt>\n"
            f"      <PhuongAn>TM</PhuongAn>\n"
            f"      <HoTen>{rng.choice(_SURNAMES)} {rng.choice(_GIVEN)}</HoTen>\n"
            f"      <MaSoBhxh>79{i:08d}</MaSoBhxh>\n"
            f"      <NgaySinh>{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1965, 2004)}</NgaySinh>\n"
            f"      <GioiTinh>{rng.randint(0, 1)}</GioiTinh>\n"
            f"      <SoDinhDanh>079{rng.randint(0, 3)}{rng.randint(0, 99):02d}{i:06d}</SoDinhDanh>\n"
            "      <ChucVu>Nhân viên kỹ thuật</ChucVu>\n"
            f"      <TienLuong>{rng.randint(53, 300) * 100000}</TienLuong>\n"
            "      <PhuCapChucVu>0</PhuCapChucVu>\n"
            "      <PhuCapLuong>500000</PhuCapLuong>\n"
            "      <TuThang>07/2026</TuThang>\n"
            "      <DenThang></DenThang>\n"
            f"      <HdldTuNgay>01/07/2026</HdldTuNgay>\n"
            "      <GhiChu>Hợp đồng lao động số 01/HĐLĐ</GhiChu>\n"
            "    </NguoiLaoDong>\n"
        )
    parts.append("  </DanhSach>\n  <Cky/>\n</D02-TS>\n")
    return "".join(parts).encode()
