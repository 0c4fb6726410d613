"""manage.py verify_audit_chain: check the audit hash chain; exit code 1 when broken."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ebhxh.audit.context import acting_as
from ebhxh.audit.services import Break, VerifyResult, record_verification, verify_chain

# (Vietnamese, English): shown together, the command is read by operators of both.
REASONS: dict[str, tuple[str, str]] = {
    Break.SEQ_GAP: (
        "thiếu sự kiện trong chuỗi (số thứ tự không liên tục)",
        "an event is missing (seq gap)",
    ),
    Break.PREV_HASH: (
        "mã băm trước không khớp với mã băm của sự kiện liền trước",
        "prev_hash does not match the previous event's hash",
    ),
    Break.HASH: (
        "nội dung sự kiện đã bị sửa (mã băm tính lại không khớp)",
        "the event was altered (recomputed hash does not match)",
    ),
    Break.HEAD: (
        "đầu chuỗi ghi một mã băm khác cho sự kiện này",
        "the chain head records another hash for this event",
    ),
    Break.TAIL: ("các sự kiện cuối chuỗi đã bị xoá", "events at the end of the chain were removed"),
}


class Command(BaseCommand):
    help = "Kiểm tra chuỗi băm của nhật ký kiểm toán / Verify the audit trail's hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--record",
            action="store_true",
            help="Also append an audit:verify event with the outcome.",
        )

    def handle(self, *args: Any, record: bool = False, **options: Any) -> None:
        if record:
            with acting_as():
                result = record_verification()
        else:
            result = verify_chain()
        if result.ok:
            self.stdout.write(self.style.SUCCESS(f"OK: {result.checked} events"))
            self.stdout.write(f"Chuỗi nhật ký kiểm toán toàn vẹn: {result.checked} sự kiện.")
            return
        self.stderr.write(self._describe(result))
        raise CommandError(f"audit chain broken at seq {result.first_broken_seq}", returncode=1)

    def _describe(self, result: VerifyResult) -> str:
        vi, en = REASONS.get(result.reason, (result.reason, result.reason))
        seq = result.first_broken_seq
        when = result.time.isoformat() if result.time else "—"
        tag = result.tag or "—"
        at = ""
        if result.found_seq is not None and result.found_seq != seq:
            at = f" (phát hiện tại / found at seq {result.found_seq})"
        return "\n".join(
            [
                f"HỎNG: mắt xích hỏng đầu tiên là seq {seq}{at}, thời điểm {when}, loại {tag}: {vi}.",
                f"BROKEN: first broken link at seq {seq}{at}, time {when}, tag {tag}: {en}.",
                f"  {result.checked} sự kiện hợp lệ trước đó / events verified before it; {result.detail}",
            ]
        )
