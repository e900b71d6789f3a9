"""The organisation tree, its members and who may do what where.

The tree is a materialised path: every organisation stores the path of its ancestors'
steps, so "the subtree of X" is one indexed ``path LIKE 'X.path%'`` query.
"""

import hashlib
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from lib.choices import ChoiceLabels
from lib.formatting import basis_points_label, money

PATH_STEP_WIDTH = 4
PATH_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def path_step(number: int) -> str:
    """The fixed-width base-36 step for the ``number``-th child (1-based)."""
    if number < 1 or number >= len(PATH_ALPHABET) ** PATH_STEP_WIDTH:
        raise ValueError(f"child number {number} out of range")
    digits = []
    while number:
        number, rest = divmod(number, len(PATH_ALPHABET))
        digits.append(PATH_ALPHABET[rest])
    return "".join(reversed(digits)).rjust(PATH_STEP_WIDTH, "0")


class Organisation(ChoiceLabels, models.Model):
    class Kind(models.TextChoices):
        KHOI = "khoi", _("Đảng bộ Khối")
        DANG_BO_CO_SO = "dang_bo_co_so", _("Đảng bộ cơ sở")
        CHI_BO_CO_SO = "chi_bo_co_so", _("Chi bộ cơ sở")
        DANG_BO_BO_PHAN = "dang_bo_bo_phan", _("Đảng bộ bộ phận")
        CHI_BO = "chi_bo", _("Chi bộ trực thuộc")
        TO_DANG = "to_dang", _("Tổ đảng")

    class UnitType(models.TextChoices):
        AGENCY = "agency", _("Cơ quan hành chính, sự nghiệp")
        STATE_ENTERPRISE = "state_enterprise", _("Doanh nghiệp nhà nước")
        PRIVATE_ENTERPRISE = "private_enterprise", _("Doanh nghiệp ngoài nhà nước")

    class DuesArea(models.TextChoices):
        # The four areas of HD 03-HD/VPTW's fixed dues under QĐ 342-QĐ/TW (amounts in cells.dues).
        INNER_CITY = "inner_city", _("Nội thành thành phố trực thuộc Trung ương")
        INNER_URBAN = "inner_urban", _("Nội thị đô thị loại I, II, III")
        MOUNTAIN = "mountain", _("Miền núi, vùng sâu, vùng xa, biên giới, hải đảo")
        ELSEWHERE = "elsewhere", _("Địa bàn khác")

    # Kinds that hold members and meet monthly as a cell.
    CELL_KINDS = (Kind.CHI_BO_CO_SO, Kind.CHI_BO)
    # Kinds that are a grassroots party organisation (TCCS) under the Khối.
    TCCS_KINDS = (Kind.DANG_BO_CO_SO, Kind.CHI_BO_CO_SO)

    path = models.CharField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(editable=False)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("Cấp trên")
    )
    kind = models.CharField(_("Loại tổ chức"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("Tên"), max_length=255)
    short_code = models.CharField(
        _("Ký hiệu"), max_length=20, blank=True, help_text=_("Dùng trong số văn bản, ví dụ CB, ĐU.")
    )
    unit_type = models.CharField(_("Loại hình đơn vị"), max_length=20, choices=UnitType.choices, blank=True)
    has_seal = models.BooleanField(_("Có con dấu"), default=False)
    committee_override = models.BooleanField(
        _("Có chi ủy (ghi đè)"),
        null=True,
        blank=True,
        help_text=_("Để trống: tự tính theo số đảng viên chính thức (từ 9 trở lên thì có chi ủy)."),
    )
    active_from = models.DateField(_("Hoạt động từ"), null=True, blank=True)
    active_to = models.DateField(_("Hoạt động đến"), null=True, blank=True)
    dues_area = models.CharField(
        _("Địa bàn tính mức đảng phí cố định"),
        max_length=12,
        choices=DuesArea.choices,
        blank=True,
        help_text=_(
            "Theo HD 03-HD/VPTW (áp dụng đến 31/01/2026). Để trống: theo cấp trên gần nhất; "
            "nếu không cấp nào ghi, tính theo nội thị đô thị loại I, II, III."
        ),
    )

    class Meta:
        verbose_name = _("Tổ chức đảng")
        verbose_name_plural = _("Tổ chức đảng")
        ordering = ["path"]
        indexes = [
            # LIKE 'prefix%' needs the pattern opclass on PostgreSQL; other backends ignore it.
            models.Index(fields=["path"], name="org_path_like", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["kind"], name="org_kind"),
            # One level of a subtree (a scope's children, reports.rollups): depth, then the path's prefix.
            models.Index(
                fields=["depth", "path"], name="org_depth_path", opclasses=["int2_ops", "varchar_pattern_ops"]
            ),
            # The few cells dissolved before a period or founded after it, which the whole-tree sums
            # of reports.rollups take away (most organisations have neither date).
            models.Index(fields=["active_to"], name="org_active_to", condition=Q(active_to__isnull=False)),
            models.Index(fields=["active_from"], name="org_active_from", condition=Q(active_from__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(active_to__isnull=True)
                | Q(active_from__isnull=True)
                | Q(active_to__gte=models.F("active_from")),
                name="org_active_dates_ordered",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_cell(self) -> bool:
        return self.kind in self.CELL_KINDS

    def is_descendant_of(self, other: "Organisation") -> bool:
        return self.path.startswith(other.path)


class Term(models.Model):
    """Nhiệm kỳ: document numbers restart with each term."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="terms", verbose_name=_("Tổ chức đảng")
    )
    name = models.CharField(_("Tên nhiệm kỳ"), max_length=50, help_text=_("Ví dụ 2025–2030"))
    start = models.DateField(_("Bắt đầu"))
    end = models.DateField(_("Kết thúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("Nhiệm kỳ")
        verbose_name_plural = _("Nhiệm kỳ")
        ordering = ["organisation", "-start"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "start"], name="term_unique_start"),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gt=models.F("start")), name="term_dates_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.organisation} — {self.name}"


class Member(ChoiceLabels, models.Model):
    class Sex(models.TextChoices):
        MALE = "nam", _("Nam")
        FEMALE = "nu", _("Nữ")

    class Status(models.TextChoices):
        PROBATIONARY = "du_bi", _("Dự bị")
        OFFICIAL = "chinh_thuc", _("Chính thức")

    class State(models.TextChoices):
        ACTIVE = "active", _("Đang sinh hoạt")
        TRANSFERRED_OUT = "transferred_out", _("Đã chuyển đi")
        DECEASED = "deceased", _("Từ trần")
        REMOVED = "removed", _("Đã ra khỏi Đảng")

    class DuesCategory(models.TextChoices):
        SALARIED = "salaried", _("Hưởng lương (đóng BHXH)")
        PENSIONER = "pensioner", _("Hưởng lương hưu")
        STUDENT = "student", _("Học sinh, sinh viên")
        OTHER = "other", _("Khác (không đóng BHXH)")
        # QĐ 342: members past working age pay 50 %; QĐ 01: members of retirement age without BHXH
        # 0,2 % then 0,3 % of the regional minimum wage (domain-research §7.1, §7.2; rows in cells/0015).
        RETIREMENT_AGE = "retired_age", _("Đã hết tuổi lao động, không đóng BHXH")

    full_name = models.CharField(_("Họ và tên"), max_length=120)
    date_of_birth = models.DateField(_("Ngày sinh"), null=True, blank=True)
    sex = models.CharField(_("Giới tính"), max_length=3, choices=Sex.choices, blank=True)
    citizen_id = models.CharField(_("Số CCCD"), max_length=12, null=True, blank=True, unique=True)
    phone = models.CharField(_("Điện thoại"), max_length=20, blank=True)
    email = models.EmailField(_("Thư điện tử"), blank=True)
    # Meeting notices always go by e-mail; the optional reminders only while this is on.
    optional_reminder_email = models.BooleanField(
        _("Nhận thư điện tử nhắc việc không bắt buộc"),
        default=True,
        help_text=_("Thông báo triệu tập sinh hoạt luôn được gửi qua thư điện tử."),
    )
    party_card_number = models.CharField(_("Số thẻ đảng viên"), max_length=20, null=True, blank=True, unique=True)
    admission_decision_date = models.DateField(
        _("Ngày quyết định kết nạp"), null=True, blank=True, help_text=_("Tuổi đảng tính từ ngày này.")
    )
    admission_ceremony_date = models.DateField(
        _("Ngày lễ kết nạp"), null=True, blank=True, help_text=_("Ngày bắt đầu tính 12 tháng dự bị.")
    )
    full_membership_date = models.DateField(_("Ngày công nhận chính thức"), null=True, blank=True)
    status = models.CharField(_("Loại đảng viên"), max_length=12, choices=Status.choices, default=Status.OFFICIAL)
    state = models.CharField(_("Tình trạng"), max_length=16, choices=State.choices, default=State.ACTIVE)
    workplace = models.CharField(_("Nơi công tác"), max_length=255, blank=True)
    job_title = models.CharField(_("Chức vụ chính quyền"), max_length=120, blank=True)
    hometown = models.CharField(_("Quê quán"), max_length=255, blank=True)
    notes = models.TextField(_("Ghi chú"), blank=True)
    dues_category = models.CharField(
        _("Đối tượng đóng đảng phí"), max_length=12, choices=DuesCategory.choices, default=DuesCategory.SALARIED
    )
    dues_base = models.PositiveBigIntegerField(
        _("Mức căn cứ đóng đảng phí (đồng)"), default=0, help_text=_("Lương đóng BHXH hoặc lương hưu, tính bằng đồng.")
    )
    # The current cell; the history is in CellMembership. Null once the member left the Khối.
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="members", verbose_name=_("Chi bộ")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
        verbose_name=_("Tài khoản"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Đảng viên")
        verbose_name_plural = _("Đảng viên")
        ordering = ["full_name", "pk"]
        indexes = [
            models.Index(fields=["organisation", "state", "status"], name="member_org_state"),
            models.Index(fields=["full_name"], name="member_name"),
        ]

    def __str__(self):
        return self.full_name

    def probation_review_due(self) -> date | None:
        """The probation review falls due 12 months after the admission ceremony."""
        if self.status != self.Status.PROBATIONARY or not self.admission_ceremony_date:
            return None
        start = self.admission_ceremony_date
        try:
            return start.replace(year=start.year + 1)
        except ValueError:  # 29 February
            return start.replace(year=start.year + 1, day=28)


class CellMembership(models.Model):
    """A member's time in one cell; a transfer closes one row and opens the next."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("Đảng viên")
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("Chi bộ")
    )
    start = models.DateField(_("Từ ngày"))
    end = models.DateField(_("Đến ngày"), null=True, blank=True)
    reason_in = models.CharField(_("Lý do đến"), max_length=255, blank=True)
    reason_out = models.CharField(_("Lý do đi"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("Quá trình sinh hoạt")
        verbose_name_plural = _("Quá trình sinh hoạt")
        ordering = ["member", "start"]
        constraints = [
            models.UniqueConstraint(fields=["member"], condition=Q(end__isnull=True), name="membership_one_open"),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")), name="membership_dates_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.member} @ {self.organisation}"


class Position(models.Model):
    class Kind(models.TextChoices):
        SECRETARY = "bi_thu", _("Bí thư")
        DEPUTY_SECRETARY = "pho_bi_thu", _("Phó Bí thư")
        COMMITTEE_MEMBER = "chi_uy_vien", _("Chi ủy viên")
        GROUP_LEADER = "to_truong", _("Tổ trưởng")
        GROUP_DEPUTY = "to_pho", _("Tổ phó")
        SUPERVISOR = "dang_uy_vien_phu_trach", _("Đảng ủy viên phụ trách")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="positions", verbose_name=_("Đảng viên"))
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="positions", verbose_name=_("Tổ chức đảng")
    )
    kind = models.CharField(_("Chức vụ"), max_length=30, choices=Kind.choices)
    start = models.DateField(_("Từ ngày"))
    end = models.DateField(_("Đến ngày"), null=True, blank=True)

    class Meta:
        verbose_name = _("Chức vụ đảng")
        verbose_name_plural = _("Chức vụ đảng")
        ordering = ["organisation", "kind", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")), name="position_dates_ordered"
            ),
            models.UniqueConstraint(
                fields=["organisation"], condition=Q(end__isnull=True, kind="bi_thu"), name="position_one_secretary"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.member}"


class MemberImportMapping(models.Model):
    """The columns a user mapped by hand in a member import, kept for the organisation's next import.

    ``columns`` maps a folded heading ("so the dv cu") to an import column key, or "" to ignore it.
    """

    organisation = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="member_import_mapping")
    columns = models.JSONField(default=dict)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Cách ghép cột khi nhập đảng viên")
        verbose_name_plural = _("Cách ghép cột khi nhập đảng viên")

    def __str__(self):
        return str(self.organisation)


class Exemption(models.Model):
    """Miễn công tác và sinh hoạt đảng."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="exemptions", verbose_name=_("Đảng viên"))
    reason = models.CharField(_("Lý do"), max_length=255)
    resolution_ref = models.CharField(_("Số nghị quyết / quyết định"), max_length=60, blank=True)
    start = models.DateField(_("Từ ngày"))
    end = models.DateField(_("Đến ngày"), null=True, blank=True)

    class Meta:
        verbose_name = _("Miễn sinh hoạt")
        verbose_name_plural = _("Miễn sinh hoạt")
        ordering = ["member", "-start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")), name="exemption_dates_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.member}: {self.reason}"


class TemporaryAttachment(models.Model):
    """Sinh hoạt đảng tạm thời: a member attached for a time to a party organisation elsewhere (study, a
    posting). While it lasts the member is not expected at the home cell's meetings and is left out of its
    attendance base and of a decision's count (QĐ 24-QĐ/TW §9.3.2, kept in QĐ 294-QĐ/TW §9.3.2;
    domain-research §5 and §12): the record pre-fills "Sinh hoạt tạm thời nơi khác" on the lists."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="attachments")
    place = models.CharField(_("Nơi sinh hoạt tạm thời"), max_length=255)
    reason = models.CharField(_("Lý do"), max_length=255, blank=True)
    letter_ref = models.CharField(_("Số giấy giới thiệu"), max_length=60, blank=True)
    start = models.DateField(_("Từ ngày"))
    end = models.DateField(_("Đến ngày"), null=True, blank=True)

    class Meta:
        verbose_name = _("Sinh hoạt tạm thời")
        verbose_name_plural = _("Sinh hoạt tạm thời")
        ordering = ["member", "-start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")), name="attachment_dates_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.member}: {self.place}"


class Suspension(models.Model):
    """Đình chỉ sinh hoạt đảng."""

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="suspensions", verbose_name=_("Đảng viên")
    )
    reason = models.CharField(_("Lý do"), max_length=255)
    decision_ref = models.CharField(_("Số quyết định"), max_length=60, blank=True)
    start = models.DateField(_("Từ ngày"))
    end = models.DateField(_("Đến ngày"), null=True, blank=True)

    class Meta:
        verbose_name = _("Đình chỉ sinh hoạt")
        verbose_name_plural = _("Đình chỉ sinh hoạt")
        ordering = ["member", "-start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")), name="suspension_dates_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.member}: {self.reason}"


class Role(models.TextChoices):
    KHOI_ADMIN = "khoi_admin", _("Quản trị Khối")
    COMMITTEE_VIEWER = "committee_viewer", _("Cấp ủy (xem)")
    TCCS_OFFICER = "tccs_officer", _("Cán bộ đảng ủy cơ sở")
    CELL_SECRETARY = "cell_secretary", _("Bí thư / Phó Bí thư chi bộ")
    CELL_CLERK = "cell_clerk", _("Thư ký chi bộ")
    MEMBER = "member", _("Đảng viên")


class RoleAssignment(models.Model):
    """Access is a row: a role on an organisation covers its whole subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments", verbose_name=_("Tài khoản")
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="role_assignments", verbose_name=_("Tổ chức đảng")
    )
    role = models.CharField(_("Vai trò"), max_length=20, choices=Role.choices)
    start = models.DateField(_("Từ ngày"), default=timezone.localdate)  # the local day, not the process's
    end = models.DateField(_("Đến ngày"), null=True, blank=True)

    class Meta:
        verbose_name = _("Phân quyền")
        verbose_name_plural = _("Phân quyền")
        ordering = ["user", "organisation", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation", "role", "start"], name="role_unique"),
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")), name="role_dates_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} — {self.organisation}"


class AuditEntry(models.Model):
    """Who changed what, when, with the values before and after."""

    created_at = models.DateTimeField(_("Thời điểm"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người thực hiện"),
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("Tổ chức đảng")
    )
    action = models.CharField(_("Thao tác"), max_length=80, help_text="app.entity.verb")
    object_type = models.CharField(_("Loại đối tượng"), max_length=80)
    object_id = models.CharField(_("Mã đối tượng"), max_length=40)
    before = models.JSONField(_("Trước"), null=True, blank=True)
    after = models.JSONField(_("Sau"), null=True, blank=True)

    class Meta:
        verbose_name = _("Nhật ký thay đổi")
        verbose_name_plural = _("Nhật ký thay đổi")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self):
        return f"{self.created_at:%d/%m/%Y %H:%M} {self.action} {self.object_type}#{self.object_id}"


class Notification(models.Model):
    """One message to one person: the in-app inbox row, and the log of its e-mail."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("Người nhận"),
    )
    member = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("Đảng viên"),
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("Tổ chức đảng")
    )
    kind = models.CharField(_("Loại thông báo"), max_length=60, help_text="app.event, e.g. meetings.notice")
    subject = models.CharField(_("Tiêu đề"), max_length=255)
    body = models.TextField(_("Nội dung"))
    url = models.CharField(_("Liên kết"), max_length=500, blank=True)
    email = models.EmailField(_("Thư điện tử"), blank=True)
    created_at = models.DateTimeField(_("Thời điểm tạo"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("Đã đọc lúc"), null=True, blank=True)
    email_sent_at = models.DateTimeField(_("Đã gửi thư lúc"), null=True, blank=True)
    email_error = models.TextField(_("Lỗi gửi thư"), blank=True)
    # A file sent with the e-mail (the meeting's invitation.ics): kept on the row, so that the outbox
    # sweep and a retry send exactly what the service composed.
    attachment_name = models.CharField(_("Tệp đính kèm"), max_length=100, blank=True)
    attachment_type = models.CharField(
        max_length=100, blank=True, help_text="MIME type, e.g. text/calendar; method=REQUEST"
    )
    attachment = models.TextField(blank=True)

    class Meta:
        verbose_name = _("Thông báo")
        verbose_name_plural = _("Thông báo")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | Q(member__isnull=False), name="notification_has_recipient"
            ),
        ]

    def __str__(self):
        return self.subject


# --- the cell's books: required documents, commitments, party dues ------------------------


class RequiredDocumentType(models.Model):
    """A programme or plan every cell must adopt, per term or per year (editable data, not code)."""

    class Period(models.TextChoices):
        TERM = "term", _("Toàn khóa")
        YEAR = "year", _("Hằng năm")

    code = models.SlugField(_("Mã"), max_length=40, unique=True)
    name = models.CharField(_("Tên văn bản"), max_length=255)
    period = models.CharField(_("Kỳ ban hành"), max_length=4, choices=Period.choices)
    order = models.PositiveSmallIntegerField(_("Thứ tự"), default=0)
    active = models.BooleanField(_("Đang áp dụng"), default=True)

    class Meta:
        verbose_name = _("Loại văn bản bắt buộc")
        verbose_name_plural = _("Loại văn bản bắt buộc")
        ordering = ["period", "order", "pk"]

    def __str__(self):
        return self.name


def cell_document_upload_to(instance, filename: str) -> str:
    import uuid
    from pathlib import PurePath

    # A random name: the original name may hold personal data and must not be guessable.
    return f"so-sach/van-ban/{instance.organisation_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class CellDocument(models.Model):
    """The adopted file of one required document, for one term or one year of one cell."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="documents", verbose_name=_("Chi bộ")
    )
    document_type = models.ForeignKey(
        RequiredDocumentType, on_delete=models.PROTECT, related_name="documents", verbose_name=_("Loại văn bản")
    )
    term = models.ForeignKey(
        Term, null=True, blank=True, on_delete=models.PROTECT, related_name="documents", verbose_name=_("Nhiệm kỳ")
    )
    year = models.PositiveSmallIntegerField(_("Năm"), null=True, blank=True)
    file = models.FileField(_("Tệp"), upload_to=cell_document_upload_to, max_length=255)
    original_name = models.CharField(_("Tên tệp gốc"), max_length=255, blank=True)
    content_type = models.CharField(_("Kiểu tệp"), max_length=100, blank=True)
    adopted_on = models.DateField(_("Ngày ban hành"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người tải lên"),
    )
    uploaded_at = models.DateTimeField(_("Thời điểm tải lên"), auto_now=True)

    class Meta:
        verbose_name = _("Văn bản của chi bộ")
        verbose_name_plural = _("Văn bản của chi bộ")
        ordering = ["organisation", "document_type__order", "-year"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(term__isnull=False) & Q(year__isnull=True))
                | (Q(term__isnull=True) & Q(year__isnull=False)),
                name="celldocument_term_or_year",
            ),
            models.UniqueConstraint(
                fields=["organisation", "document_type", "term"],
                condition=Q(term__isnull=False),
                name="celldocument_unique_term",
            ),
            models.UniqueConstraint(
                fields=["organisation", "document_type", "year"],
                condition=Q(year__isnull=False),
                name="celldocument_unique_year",
            ),
        ]

    def __str__(self):
        return f"{self.document_type} — {self.organisation}"


class MemberCommitment(models.Model):
    """Cam kết tu dưỡng, rèn luyện: one per member per year."""

    class Source(models.TextChoices):
        PORTAL = "portal", _("Đảng viên tự xác nhận trên cổng")
        PAPER = "paper", _("Bản giấy do chi bộ ghi nhận")

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="commitments", verbose_name=_("Đảng viên")
    )
    year = models.PositiveSmallIntegerField(_("Năm"))
    content = models.TextField(_("Nội dung cam kết"))
    confirmed_at = models.DateTimeField(_("Ngày xác nhận"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người ghi nhận"),
    )
    source = models.CharField(_("Hình thức"), max_length=6, choices=Source.choices, default=Source.PORTAL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Bản cam kết tu dưỡng, rèn luyện")
        verbose_name_plural = _("Bản cam kết tu dưỡng, rèn luyện")
        ordering = ["-year", "member"]
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="commitment_one_per_year")]

    def __str__(self):
        return f"{self.member} — {self.year}"


class DuesRateRule(models.Model):
    """One dues rate for one category of member over a date range (QĐ 342-QĐ/TW, QĐ 01-QĐ/TW…).

    A percentage is stored in basis points (100 = 1 %), a fixed amount in đồng: never floats.
    """

    class Kind(models.TextChoices):
        PERCENT = "percent", _("Theo tỷ lệ")
        FIXED = "fixed", _("Mức cố định")
        # A share (basis_points) of HD 03-HD/VPTW's fixed amount for the cell's area (cells.dues).
        AREA = "area", _("Mức cố định theo địa bàn")

    effective_from = models.DateField(_("Áp dụng từ"))
    effective_to = models.DateField(_("Áp dụng đến"), null=True, blank=True)
    category = models.CharField(_("Đối tượng"), max_length=12, choices=Member.DuesCategory.choices)
    kind = models.CharField(_("Cách tính"), max_length=7, choices=Kind.choices)
    basis_points = models.PositiveIntegerField(
        _("Tỷ lệ (phần vạn)"),
        null=True,
        blank=True,
        help_text=_("100 = 1 %; 50 = 0,5 %. Cách tính theo địa bàn: 10000 = cả mức của địa bàn, 5000 = một nửa."),
    )
    fixed_amount = models.PositiveBigIntegerField(_("Mức cố định (đồng)"), null=True, blank=True)
    exempt_party_years = models.PositiveSmallIntegerField(
        _("Miễn khi tuổi đảng từ (năm)"),
        null=True,
        blank=True,
        help_text=_("Để trống nếu văn bản không quy định miễn theo tuổi đảng."),
    )
    source = models.CharField(_("Văn bản quy định"), max_length=255)
    note = models.CharField(_("Ghi chú"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("Mức đóng đảng phí")
        verbose_name_plural = _("Mức đóng đảng phí")
        ordering = ["category", "-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["percent", "area"]) & Q(basis_points__isnull=False) & Q(fixed_amount__isnull=True)
                )
                | (Q(kind="fixed") & Q(fixed_amount__isnull=False) & Q(basis_points__isnull=True)),
                name="duesrule_amount_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                name="duesrule_dates_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.get_category_display()}: {self.rate_label} ({self.source})"

    @property
    def rate_label(self) -> str:
        if self.kind == self.Kind.PERCENT:
            return basis_points_label(self.basis_points or 0)
        if self.kind == self.Kind.AREA:
            if self.basis_points == 10_000:
                return str(_("Mức theo địa bàn"))
            return str(_("%(share)s mức theo địa bàn")) % {"share": basis_points_label(self.basis_points or 0)}
        return money(self.fixed_amount or 0)


class DuesRelief(models.Model):
    """An exemption from or reduction of dues granted on application (QĐ 01-QĐ/TW)."""

    class Kind(models.TextChoices):
        EXEMPT = "exempt", _("Miễn đóng đảng phí")
        REDUCE = "reduce", _("Giảm mức đóng")

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="dues_reliefs", verbose_name=_("Đảng viên")
    )
    kind = models.CharField(_("Loại"), max_length=6, choices=Kind.choices)
    reduction_percent = models.PositiveSmallIntegerField(_("Tỷ lệ giảm (%)"), null=True, blank=True)
    start = models.DateField(_("Từ tháng"))
    end = models.DateField(_("Đến tháng"), null=True, blank=True)
    reason = models.CharField(_("Lý do"), max_length=255)
    decision_ref = models.CharField(_("Số quyết định"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("Miễn, giảm đảng phí")
        verbose_name_plural = _("Miễn, giảm đảng phí")
        ordering = ["member", "-start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=models.F("start")), name="duesrelief_dates_ordered"
            ),
            models.CheckConstraint(
                condition=(Q(kind="exempt") & Q(reduction_percent__isnull=True))
                | (Q(kind="reduce") & Q(reduction_percent__in=[30, 50, 70])),
                name="duesrelief_percent_matches_kind",
            ),
        ]

    def __str__(self):
        return f"{self.member}: {self.get_kind_display()}"


class DuesPayment(models.Model):
    """One line of the dues book (sổ thu nộp đảng phí): one member, one month, in whole đồng."""

    class Method(models.TextChoices):
        CASH = "cash", _("Tiền mặt")
        TRANSFER = "transfer", _("Chuyển khoản / Cổng DVC")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="dues_payments", verbose_name=_("Đảng viên")
    )
    month = models.DateField(_("Tháng"), help_text=_("Ngày đầu tháng."))
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="dues_payments", verbose_name=_("Chi bộ")
    )
    base = models.PositiveBigIntegerField(_("Mức căn cứ (đồng)"))
    rate_rule = models.ForeignKey(
        DuesRateRule, on_delete=models.PROTECT, related_name="payments", verbose_name=_("Mức đóng áp dụng")
    )
    adjustment = models.CharField(_("Miễn, giảm"), max_length=255, blank=True)
    amount_due = models.PositiveBigIntegerField(_("Phải nộp (đồng)"))
    amount_paid = models.PositiveBigIntegerField(_("Đã nộp (đồng)"), default=0)
    paid_on = models.DateField(_("Ngày nộp"), null=True, blank=True)
    method = models.CharField(_("Hình thức nộp"), max_length=8, choices=Method.choices, blank=True)
    note = models.CharField(_("Ghi chú"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người ghi nhận"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Thu nộp đảng phí")
        verbose_name_plural = _("Thu nộp đảng phí")
        ordering = ["organisation", "-month", "member__full_name"]
        indexes = [
            models.Index(fields=["organisation", "month"], name="dues_org_month"),
            # The unpaid lines only (about a tenth), with what the 3-unpaid-months alert reads: it counts
            # them from this index alone (EXPLAIN at large: 131 ms of table scan -> 27 ms index-only).
            models.Index(
                fields=["month", "organisation", "member"],
                include=["id"],
                condition=Q(amount_paid__lt=F("amount_due")),
                name="dues_unpaid_month",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["member", "month"], name="dues_one_per_member_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="dues_month_first_day"),
        ]

    def __str__(self):
        return f"{self.member} {self.month:%m/%Y}"

    @property
    def arrears(self) -> int:
        return max(self.amount_due - self.amount_paid, 0)


class DuesRemittance(models.Model):
    """Money the cell paid up to the committee above for one month's dues (nộp đảng phí lên cấp trên).

    The share it owes is computed by ``cells.dues.split_in_force``; this row is what was actually paid,
    with the upper level's receipt number, unique within the cell.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="dues_remittances", verbose_name=_("Chi bộ")
    )
    month = models.DateField(_("Kỳ (tháng thu)"), help_text=_("Ngày đầu tháng của số đảng phí được nộp."))
    remitted_on = models.DateField(_("Ngày nộp"))
    amount = models.PositiveBigIntegerField(_("Số tiền (đồng)"))
    receipt_number = models.CharField(_("Số biên lai"), max_length=40)
    note = models.CharField(_("Ghi chú"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Nộp đảng phí lên cấp trên")
        verbose_name_plural = _("Nộp đảng phí lên cấp trên")
        ordering = ["organisation", "month", "remitted_on", "pk"]
        indexes = [models.Index(fields=["organisation", "month"], name="remittance_org_month")]
        constraints = [
            models.UniqueConstraint(F("organisation"), Lower("receipt_number"), name="remittance_receipt_unique"),
            models.CheckConstraint(condition=Q(month__day=1), name="remittance_month_first_day"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="remittance_amount_positive"),
        ]

    def __str__(self):
        return f"{self.organisation} {self.month:%m/%Y}: {self.receipt_number}"


class CellFundEntry(models.Model):
    """One line of the cell's activity funds (kinh phí hoạt động): money received or spent, with its voucher."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Thu kinh phí")
        EXPENSE = "expense", _("Chi")
        BROUGHT_FORWARD = "brought_forward", _("Số dư chuyển sang từ sổ cũ")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="fund_entries", verbose_name=_("Chi bộ")
    )
    kind = models.CharField(_("Loại"), max_length=16, choices=Kind.choices)
    entry_date = models.DateField(_("Ngày"))
    purpose = models.CharField(_("Nội dung"), max_length=255)
    amount = models.PositiveBigIntegerField(_("Số tiền (đồng)"))
    voucher_number = models.CharField(_("Số chứng từ"), max_length=40, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Thu, chi kinh phí hoạt động")
        verbose_name_plural = _("Thu, chi kinh phí hoạt động")
        ordering = ["organisation", "entry_date", "pk"]
        indexes = [models.Index(fields=["organisation", "entry_date"], name="fund_org_date")]
        constraints = [
            # Receipts and payment vouchers are numbered apart (phiếu thu số 01, phiếu chi số 01).
            models.UniqueConstraint(
                F("organisation"),
                F("kind"),
                Lower("voucher_number"),
                condition=~Q(voucher_number=""),
                name="fund_voucher_unique",
            ),
            models.UniqueConstraint(
                fields=["organisation"], condition=Q(kind="brought_forward"), name="fund_one_brought_forward"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="fund_amount_positive"),
        ]

    def __str__(self):
        return f"{self.organisation} {self.entry_date:%d/%m/%Y} {self.get_kind_display()}: {self.amount}"


# --- sign-in: recovery codes and the sessions a user is signed in with (issue #21) ----------------


class RecoveryCodeDevice(ThrottlingMixin, Device):
    """The user's recovery codes, as one django-otp device: a code lets them in once when the phone is lost.

    The codes are stored as SHA-256 digests only (``RecoveryCode.code_hash``): each is 16 random base-32
    characters (80 bits), too many to guess from a leaked digest, so no slow salted hash is needed to
    check the up to ten of them at every use. The user sees them once, when they are made.
    """

    class Meta(Device.Meta):
        verbose_name = _("Bộ mã dự phòng")
        verbose_name_plural = _("Bộ mã dự phòng")

    def get_throttle_factor(self):
        return getattr(settings, "OTP_RECOVERY_THROTTLE_FACTOR", 1)

    def verify_token(self, token):
        allowed, _data = self.verify_is_allowed()
        if not allowed:
            return False
        # A used code is deleted: it can never be used twice.
        used, _count = self.codes.filter(code_hash=RecoveryCode.digest(token)).delete()
        if used:
            self.throttle_reset(commit=True)
            return True
        self.throttle_increment(commit=True)
        return False


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("Mã dự phòng")
        verbose_name_plural = _("Mã dự phòng")
        constraints = [models.UniqueConstraint(fields=["device", "code_hash"], name="recovery_code_unique")]

    def __str__(self):
        return f"{self.device} — {self.code_hash[:8]}…"

    @staticmethod
    def normalise(code: str) -> str:
        """The code as typed, without the spaces and hyphens of its printed groups, in capitals."""
        return "".join(ch for ch in str(code).upper() if ch.isalnum())

    @classmethod
    def digest(cls, code: str) -> str:
        return hashlib.sha256(cls.normalise(code).encode()).hexdigest()


class AuthenticatorApp(TOTPDevice):
    """django-otp's TOTP device under a Vietnamese name, for the admin (the same table, no new data):
    a staff user resets a user who lost their phone by deleting it there."""

    class Meta:
        proxy = True
        verbose_name = _("Ứng dụng xác thực")
        verbose_name_plural = _("Ứng dụng xác thực")


class UserSession(models.Model):
    """One signed-in session of a user (the database session ``session_key``), for "Phiên đăng nhập".

    Django's database sessions do not say whose they are without decoding each one; this row does,
    so a user can see where they are signed in and end every other session.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(_("Trình duyệt"), max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(_("Địa chỉ"), null=True, blank=True)
    created_at = models.DateTimeField(_("Đăng nhập lúc"))
    last_seen_at = models.DateTimeField(_("Hoạt động gần nhất"))

    class Meta:
        verbose_name = _("Phiên đăng nhập")
        verbose_name_plural = _("Phiên đăng nhập")
        ordering = ["user", "-last_seen_at"]
        indexes = [models.Index(fields=["user", "-last_seen_at"], name="user_session_recent")]

    def __str__(self):
        return f"{self.user} — {self.last_seen_at:%d/%m/%Y %H:%M}"


class PersonalDataCorrection(models.Model):
    """A member's request to correct the data held about them (Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15:
    the data subject's right to have their data corrected). An officer approves it — the change is
    made by ``services.member_update``, before → after in the audit — or refuses it with a reason."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Chờ xử lý")
        APPROVED = "approved", _("Đã chấp nhận")
        REFUSED = "refused", _("Không chấp nhận")

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="corrections", verbose_name=_("Đảng viên")
    )
    field = models.CharField(_("Mục cần sửa"), max_length=40)
    new_value = models.CharField(_("Giá trị đúng"), max_length=255)
    reason = models.CharField(_("Lý do"), max_length=500)
    status = models.CharField(_("Trạng thái"), max_length=8, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("Ngày đề nghị"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người xử lý"),
    )
    decided_at = models.DateTimeField(_("Ngày xử lý"), null=True, blank=True)
    decision_note = models.CharField(_("Ghi chú xử lý"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("Đề nghị sửa dữ liệu cá nhân")
        verbose_name_plural = _("Đề nghị sửa dữ liệu cá nhân")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "field"], condition=Q(status="pending"), name="correction_one_pending_per_field"
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="correction_decided_when_closed",
            ),
        ]

    def __str__(self):
        return f"{self.member} — {self.field}"


# --- training of secretaries and committee members (issue #18, item 5; the rule: cells/training.py) ----


class TrainingCourse(models.Model):
    """A course held by the Khối or a đảng ủy cơ sở for its officers (lớp bồi dưỡng, tập huấn)."""

    class Kind(models.TextChoices):
        # The course the Khối's requirement asks of every bí thư, phó bí thư and chi ủy viên (cells/training.py).
        OFFICER = "officer", _("Bồi dưỡng nghiệp vụ công tác đảng cho bí thư, cấp ủy viên")
        OTHER = "other", _("Khác")

    organiser = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="training_courses", verbose_name=_("Đơn vị tổ chức")
    )
    title = models.CharField(_("Tên lớp"), max_length=255)
    kind = models.CharField(_("Loại lớp"), max_length=10, choices=Kind.choices, default=Kind.OFFICER)
    start_date = models.DateField(_("Từ ngày"))
    end_date = models.DateField(_("Đến ngày"))
    place = models.CharField(_("Địa điểm"), max_length=255, blank=True)
    notes = models.TextField(_("Ghi chú"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Lớp bồi dưỡng")
        verbose_name_plural = _("Lớp bồi dưỡng")
        ordering = ["-start_date", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="trainingcourse_dates_ordered"),
        ]

    def __str__(self):
        return self.title


def certificate_upload_to(instance, filename: str) -> str:
    import uuid
    from pathlib import PurePath

    # A random name: the original name may hold the member's name and must not be guessable.
    return f"boi-duong/{instance.course_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class CourseAttendance(models.Model):
    """A member at a course: whether they completed it, and their certificate (giấy chứng nhận)."""

    course = models.ForeignKey(
        TrainingCourse, on_delete=models.CASCADE, related_name="attendances", verbose_name=_("Lớp bồi dưỡng")
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="course_attendances", verbose_name=_("Đảng viên")
    )
    completed = models.BooleanField(_("Đã hoàn thành"), default=False)
    certificate_number = models.CharField(_("Số giấy chứng nhận"), max_length=60, blank=True)
    certificate = models.FileField(
        _("Bản chụp giấy chứng nhận"), upload_to=certificate_upload_to, max_length=255, blank=True
    )
    certificate_name = models.CharField(_("Tên tệp gốc"), max_length=255, blank=True)
    certificate_type = models.CharField(_("Kiểu tệp"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Học viên lớp bồi dưỡng")
        verbose_name_plural = _("Học viên lớp bồi dưỡng")
        ordering = ["course", "member__full_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["course", "member"], name="attendance_one_per_course"),
        ]

    def __str__(self):
        return f"{self.member} — {self.course}"


# --- party admission, from candidate to full member (issue #18, item 4; the rules: cells/admission.py) ----


class Candidate(models.Model):
    """A quần chúng ưu tú the cell proposes for admission, and the steps of the admission recorded on it.

    The cell's vote is a ``meetings.Vote`` of kind "admission" pointing here (``admission_votes``); at the
    ceremony the member record is created from these fields (``member``)."""

    class DecisionLevel(models.TextChoices):
        UPPER_COMMITTEE = "upper", _("Cấp ủy cấp trên trực tiếp của tổ chức cơ sở đảng")
        DELEGATED = "delegated", _("Đảng ủy cơ sở được ủy quyền kết nạp")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="candidates", verbose_name=_("Chi bộ")
    )
    full_name = models.CharField(_("Họ và tên"), max_length=120)
    date_of_birth = models.DateField(_("Ngày sinh"), null=True, blank=True)
    sex = models.CharField(_("Giới tính"), max_length=3, choices=Member.Sex.choices, blank=True)
    citizen_id = models.CharField(_("Số CCCD"), max_length=12, blank=True)
    phone = models.CharField(_("Điện thoại"), max_length=20, blank=True)
    email = models.EmailField(_("Thư điện tử"), blank=True)
    workplace = models.CharField(_("Nơi công tác"), max_length=255, blank=True)
    job_title = models.CharField(_("Chức vụ chính quyền"), max_length=120, blank=True)
    hometown = models.CharField(_("Quê quán"), max_length=255, blank=True)
    # Điều lệ Art. 4: two official members introduce the candidate (checked in cells.services.admission).
    mentor_1 = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("Đảng viên giới thiệu thứ nhất")
    )
    mentor_2 = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("Đảng viên giới thiệu thứ hai")
    )
    proposed_on = models.DateField(_("Ngày chi bộ giới thiệu"))
    # The political class (lớp bồi dưỡng nhận thức về Đảng) and its certificate.
    class_name = models.CharField(_("Lớp bồi dưỡng nhận thức về Đảng"), max_length=255, blank=True)
    class_date = models.DateField(_("Ngày cấp giấy chứng nhận"), null=True, blank=True)
    certificate_number = models.CharField(_("Số giấy chứng nhận"), max_length=60, blank=True)
    # The candidate's documents (hồ sơ xin vào Đảng).
    has_application = models.BooleanField(_("Đơn xin vào Đảng"), default=False)
    has_biography = models.BooleanField(_("Lý lịch của người xin vào Đảng"), default=False)
    has_references = models.BooleanField(_("Giấy giới thiệu của hai đảng viên chính thức"), default=False)
    has_reviews = models.BooleanField(_("Nhận xét của đoàn thể và chi ủy nơi cư trú"), default=False)
    has_verification = models.BooleanField(_("Kết quả thẩm tra lý lịch"), default=False)
    documents_date = models.DateField(_("Ngày hoàn thiện hồ sơ"), null=True, blank=True)
    # The đảng ủy cơ sở's proposal (tờ trình đề nghị kết nạp).
    proposal_number = models.CharField(_("Số văn bản đề nghị của đảng ủy"), max_length=60, blank=True)
    proposal_date = models.DateField(_("Ngày đảng ủy đề nghị"), null=True, blank=True)
    # The decision (quyết định kết nạp): party age counts from its date.
    decision_number = models.CharField(_("Số quyết định kết nạp"), max_length=60, blank=True)
    decision_date = models.DateField(_("Ngày quyết định kết nạp"), null=True, blank=True)
    decision_level = models.CharField(_("Cấp ra quyết định"), max_length=10, choices=DecisionLevel.choices, blank=True)
    decision_signer = models.CharField(_("Người ký quyết định"), max_length=120, blank=True)
    # The day the cell received the decision: the ceremony's 30 working days run from it (cells/admission.py).
    decision_received_on = models.DateField(_("Ngày nhận quyết định"), null=True, blank=True)
    ceremony_date = models.DateField(_("Ngày lễ kết nạp"), null=True, blank=True)
    # The member record created at the ceremony (cells.services.admission.candidate_record_ceremony).
    member = models.OneToOneField(
        Member,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="candidacy",
        verbose_name=_("Hồ sơ đảng viên"),
    )
    # The cell stops considering the candidate (rút khỏi danh sách): out of the pipeline and its reminders.
    withdrawn_on = models.DateField(_("Ngày dừng xem xét"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("Lý do dừng xem xét"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Quần chúng ưu tú")
        verbose_name_plural = _("Quần chúng ưu tú")
        ordering = ["organisation", "proposed_on", "full_name", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(mentor_1=F("mentor_2")), name="candidate_mentors_differ"),
        ]

    def __str__(self):
        return self.full_name


def candidate_document_upload_to(instance, filename: str) -> str:
    import uuid
    from pathlib import PurePath

    # Under the cell; a random name: the original may hold the candidate's name and must not be guessable.
    candidate = instance.candidate
    return f"ket-nap/{candidate.organisation_id}/{candidate.pk}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class CandidateDocument(models.Model):
    """A scan of one of the candidate's papers: the class certificate or a document of the file (hồ sơ)."""

    class Kind(models.TextChoices):
        CERTIFICATE = "certificate", _("Giấy chứng nhận lớp bồi dưỡng nhận thức về Đảng")
        APPLICATION = "application", _("Đơn xin vào Đảng")
        BIOGRAPHY = "biography", _("Lý lịch của người xin vào Đảng")
        REFERENCES = "references", _("Giấy giới thiệu của hai đảng viên chính thức")
        REVIEWS = "reviews", _("Nhận xét của đoàn thể và chi ủy nơi cư trú")
        VERIFICATION = "verification", _("Kết quả thẩm tra lý lịch")

    candidate = models.ForeignKey(
        Candidate, on_delete=models.CASCADE, related_name="documents", verbose_name=_("Quần chúng ưu tú")
    )
    kind = models.CharField(_("Loại giấy tờ"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("Tệp"), upload_to=candidate_document_upload_to, max_length=255)
    original_name = models.CharField(_("Tên tệp gốc"), max_length=255, blank=True)
    content_type = models.CharField(_("Kiểu tệp"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Giấy tờ của quần chúng")
        verbose_name_plural = _("Giấy tờ của quần chúng")
        ordering = ["candidate", "kind", "-created_at", "-pk"]

    def __str__(self):
        return self.original_name or self.get_kind_display()
