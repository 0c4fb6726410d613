"""The agency's processing of a received dossier (issue 7): the case, its steps, supplement
requests, messages with the unit, and the routing of procedures to departments.

Every write goes through `services.py`; the stages and who may move a case between them are the
table in `workflow.py`.

Scale (issue 7: 1,000,000 dossiers, queue and search at p95 <= 100 ms on PostgreSQL). The queue
and search read only `Case`, never `Dossier` (50+ columns with JSON): the case carries, copied
from the dossier when it is created, the agency, the unit's code and tax code, the dossier number
and procedure code, and the working state (stage, department, assignee, due date). Every queue
filter starts with the agency (officers only ever see their agency's cases), so every index
starts with `agency`; the queue is ordered by due date, which ends each index, so a page of 50
rows is an index range scan with no sort:

- `processing_case_queue`      (agency, stage, due_date): the desk's queue, overdue / near due;
- `processing_case_dept_queue` (agency, department, stage, due_date): a department's queue;
- `processing_case_assignee`   (assigned_to, stage, due_date): "my cases";
- `processing_case_unit`       (agency, unit_code), `processing_case_tax` (agency, unit_tax_code)
  and the unique `number`: search by exact value (PostgreSQL OR-s them with a bitmap scan);
  `processing_case_number_prefix` (number varchar_pattern_ops on PostgreSQL) for a number
  typed without its year and agency suffix.
Closed and withdrawn cases stay in the same indexes; their stages are simply not asked for.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ebhxh.processing import workflow


class Stage(models.TextChoices):
    DESK = workflow.Stage.DESK.value, _("Chờ tiếp nhận giải quyết")
    SUPPLEMENT = workflow.Stage.SUPPLEMENT.value, _("Chờ đơn vị bổ sung")
    ROUTED = workflow.Stage.ROUTED.value, _("Chờ phân công")
    ASSIGNED = workflow.Stage.ASSIGNED.value, _("Đang xử lý")
    RESULT = workflow.Stage.RESULT.value, _("Có kết quả, chờ trả")
    RETURNED = workflow.Stage.RETURNED.value, _("Đã trả kết quả")
    CLOSED = workflow.Stage.CLOSED.value, _("Đã kết thúc")
    WITHDRAWN = workflow.Stage.WITHDRAWN.value, _("Đơn vị đã rút")


class Action(models.TextChoices):
    RECEIVE = "receive", _("Tiếp nhận")
    ACCEPT = workflow.Action.ACCEPT.value, _("Chuyển phòng giải quyết")
    REQUEST_SUPPLEMENT = workflow.Action.REQUEST_SUPPLEMENT.value, _("Yêu cầu bổ sung")
    SUPPLY = workflow.Action.SUPPLY.value, _("Đơn vị nộp bổ sung")
    ASSIGN = workflow.Action.ASSIGN.value, _("Phân công")
    REASSIGN = workflow.Action.REASSIGN.value, _("Phân công lại")
    FORWARD = workflow.Action.FORWARD.value, _("Chuyển phòng khác")
    COMPLETE = workflow.Action.COMPLETE.value, _("Hoàn thành giải quyết")
    RETURN_RESULT = workflow.Action.RETURN_RESULT.value, _("Trả kết quả")
    CLOSE = workflow.Action.CLOSE.value, _("Kết thúc hồ sơ")
    WITHDRAW = workflow.Action.WITHDRAW.value, _("Đơn vị rút hồ sơ")


class Department(models.TextChoices):
    # The same values as accounts.Role and catalog.Procedure.Field.
    COLLECTION = "collection", _("Phòng Thu")
    BOOKS_CARDS = "books_cards", _("Phòng Sổ - thẻ")
    BENEFITS = "benefits", _("Phòng Chế độ")


class Case(models.Model):
    """The agency's working state of one received dossier (one-to-one)."""

    dossier = models.OneToOneField(
        "dossiers.Dossier", on_delete=models.PROTECT, related_name="case", verbose_name=_("hồ sơ")
    )
    agency = models.ForeignKey(
        "catalog.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("cơ quan BHXH")
    )
    unit = models.ForeignKey(
        "units.Unit", on_delete=models.PROTECT, related_name="+", verbose_name=_("đơn vị")
    )
    # --- copied from the dossier and the unit when the case starts (never change afterwards)
    number = models.CharField(_("số hồ sơ"), max_length=20, unique=True)
    unit_code = models.CharField(_("mã đơn vị"), max_length=20, blank=True)
    unit_tax_code = models.CharField(_("mã số thuế"), max_length=14, blank=True)
    procedure_code = models.CharField(_("mã thủ tục"), max_length=10, blank=True)
    received_at = models.DateTimeField(_("thời điểm tiếp nhận"))
    # --- working state
    stage = models.CharField(_("bước"), max_length=12, choices=Stage.choices, default=Stage.DESK)
    department = models.CharField(
        _("phòng giải quyết"), max_length=12, choices=Department.choices, blank=True
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cán bộ xử lý"),
    )
    # --- time limit
    original_due_date = models.DateField(
        _("ngày hẹn trả ban đầu"), help_text=_("Ngày hẹn trả ghi trên phiếu giao nhận.")
    )
    due_date = models.DateField(
        _("ngày hẹn trả"),
        help_text=_("Ngày hẹn trả ban đầu cộng số ngày làm việc tạm dừng chờ bổ sung."),
    )
    paused_days = models.PositiveSmallIntegerField(_("số ngày làm việc tạm dừng"), default=0)
    paused_since = models.DateTimeField(
        _("tạm dừng từ"),
        null=True,
        blank=True,
        help_text=_("Thời điểm yêu cầu bổ sung đang chờ đơn vị trả lời."),
    )
    result_at = models.DateTimeField(_("có kết quả lúc"), null=True, blank=True)
    returned_at = models.DateTimeField(_("trả kết quả lúc"), null=True, blank=True)
    closed_at = models.DateTimeField(_("kết thúc lúc"), null=True, blank=True)
    updated_at = models.DateTimeField(_("cập nhật lúc"))

    class Meta:
        verbose_name = _("hồ sơ đang giải quyết")
        verbose_name_plural = _("hồ sơ đang giải quyết")
        ordering = ["due_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stage__in=[s.value for s in workflow.Stage]),
                name="processing_case_stage_valid",
            ),
            models.CheckConstraint(
                condition=~Q(stage__in=["routed", "assigned"]) | ~Q(department=""),
                name="processing_case_department_when_routed",
            ),
            models.CheckConstraint(
                condition=Q(assigned_to__isnull=True) | Q(stage="assigned"),
                name="processing_case_assignee_only_when_assigned",
            ),
            models.CheckConstraint(
                condition=Q(paused_since__isnull=True) | Q(stage="supplement"),
                name="processing_case_paused_only_in_supplement",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "stage", "due_date"], name="processing_case_queue"),
            models.Index(
                fields=["agency", "department", "stage", "due_date"],
                name="processing_case_dept_queue",
            ),
            models.Index(
                fields=["assigned_to", "stage", "due_date"], name="processing_case_assignee"
            ),
            models.Index(fields=["agency", "unit_code"], name="processing_case_unit"),
            models.Index(fields=["agency", "unit_tax_code"], name="processing_case_tax"),
            models.Index(
                fields=["number"],
                name="processing_case_number_prefix",
                opclasses=["varchar_pattern_ops"],  # LIKE 'prefix%' on PostgreSQL
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_paused(self) -> bool:
        return self.stage == Stage.SUPPLEMENT


class Step(models.Model):
    """One step of the processing history (the portal's "Quatrinh", vss-domain.md §5.2): who
    did what, in which department, when. Officers see every step with its note; the unit sees
    the steps without the internal note (`services.history_for_unit`)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps")
    seq = models.PositiveIntegerField(_("bước"))
    action = models.CharField(_("hành động"), max_length=20, choices=Action.choices)
    from_stage = models.CharField(_("từ bước"), max_length=12, choices=Stage.choices, blank=True)
    stage = models.CharField(_("đến bước"), max_length=12, choices=Stage.choices)
    department = models.CharField(
        _("phòng"),
        max_length=12,
        choices=Department.choices,
        blank=True,
        help_text=_("Trống: Bộ phận Tiếp nhận và trả kết quả."),
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("người thực hiện"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cán bộ được phân công"),
    )
    at = models.DateTimeField(_("thời điểm"))
    note = models.CharField(_("ghi chú nội bộ"), max_length=1000, blank=True)

    class Meta:
        ordering = ["case", "seq"]
        verbose_name = _("bước xử lý")
        verbose_name_plural = _("quá trình xử lý")
        constraints = [
            models.UniqueConstraint(fields=["case", "seq"], name="processing_step_case_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.action}"


class SupplementRequest(models.Model):
    """A request to the unit to correct or complete its dossier ("chưa đúng, chưa đủ", 03/TB-TS
    part 2): itemised guidance; answered by a later dossier of the same unit (the supplement),
    received by the intake like any other and attached to this case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supplement_requests")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("người yêu cầu"),
    )
    requested_at = models.DateTimeField(_("yêu cầu lúc"))
    items = models.JSONField(
        _("nội dung cần bổ sung"),
        default=list,
        help_text=_(
            "Danh sách {subject, issue, guidance}: đối tượng, chưa đúng/chưa đủ, hướng dẫn."
        ),
    )
    answered_at = models.DateTimeField(_("bổ sung lúc"), null=True, blank=True)
    supplement = models.OneToOneField(
        "dossiers.Dossier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supplement_for",
        verbose_name=_("hồ sơ bổ sung"),
    )
    paused_working_days = models.PositiveSmallIntegerField(
        _("số ngày làm việc tạm dừng"), default=0
    )

    class Meta:
        ordering = ["case", "requested_at", "pk"]
        verbose_name = _("yêu cầu bổ sung")
        verbose_name_plural = _("yêu cầu bổ sung")
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(answered_at__isnull=True),
                name="processing_supplement_one_open_per_case",
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, supplement__isnull=True)
                | Q(answered_at__isnull=False, supplement__isnull=False),
                name="processing_supplement_answered_with_dossier",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.requested_at:%Y-%m-%d}"


class Message(models.Model):
    """A message between the unit and the agency about one dossier; e-mailed to the other side."""

    class Side(models.TextChoices):
        UNIT = "unit", _("Đơn vị")
        AGENCY = "agency", _("Cơ quan BHXH")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("người gửi"),
    )
    side = models.CharField(_("bên gửi"), max_length=8, choices=Side.choices)
    body = models.TextField(_("nội dung"), max_length=4000)
    at = models.DateTimeField(_("thời điểm"))

    class Meta:
        ordering = ["case", "at", "pk"]
        verbose_name = _("tin nhắn")
        verbose_name_plural = _("tin nhắn")

    def __str__(self) -> str:
        return f"{self.case_id} {self.side} {self.at:%Y-%m-%d %H:%M}"


class Routing(models.Model):
    """Which department processes a procedure's dossiers; without a row, the procedure's field
    (catalog.Procedure.field) decides. Edited in the admin (through `services.set_routing`)."""

    procedure = models.OneToOneField(
        "catalog.Procedure",
        on_delete=models.CASCADE,
        related_name="routing",
        verbose_name=_("thủ tục"),
    )
    department = models.CharField(_("phòng giải quyết"), max_length=12, choices=Department.choices)
    note = models.CharField(_("ghi chú"), max_length=300, blank=True)

    class Meta:
        ordering = ["procedure__code"]
        verbose_name = _("phân luồng thủ tục")
        verbose_name_plural = _("phân luồng thủ tục")

    def __str__(self) -> str:
        return f"{self.procedure_id} → {self.department}"


class Outcome(models.TextChoices):
    """The outcome of a completed case (03/TB-TS `MA_KQUA` 1, 3, 2)."""

    ACCEPTED = "accepted", _("Chấp nhận")
    PARTLY_ACCEPTED = "partly_accepted", _("Chấp nhận một phần")
    REFUSED = "refused", _("Từ chối")


class Result(models.Model):
    """The result of a case, recorded when the assigned officer completes it: the outcome, the
    accepted and refused items, the result documents (blobs "results", bound by their SHA-256)
    and the agency-sealed 03/TB-TS that says all of it. The unit gets it once the desk returns
    the result (`services.result_xml`, `result_pdf`, `result_document`)."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="result")
    outcome = models.CharField(_("kết quả"), max_length=16, choices=Outcome.choices)
    accepted_items = models.JSONField(
        _("nội dung chấp nhận"),
        default=list,
        help_text=_("Danh sách {subject, description}: đối tượng, nội dung giải quyết."),
    )
    refused_items = models.JSONField(
        _("nội dung không chấp nhận"),
        default=list,
        help_text=_("Danh sách {subject, description, reason, guidance}."),
    )
    documents = models.JSONField(
        _("tài liệu kết quả"),
        default=list,
        help_text=_("Danh sách {name, media_type, sha256, size, blob}."),
    )
    notice_blob = models.CharField(_("thông báo 03/TB-TS (XML)"), max_length=200)
    notice_sha256 = models.CharField(_("SHA-256 của thông báo"), max_length=64)
    notice_pdf_blob = models.CharField(_("thông báo 03/TB-TS (PDF)"), max_length=200, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("cán bộ giải quyết"),
    )
    issued_at = models.DateTimeField(_("thời điểm ban hành"))

    class Meta:
        verbose_name = _("kết quả giải quyết")
        verbose_name_plural = _("kết quả giải quyết")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=["accepted", "partly_accepted", "refused"]),
                name="processing_result_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.outcome}"
