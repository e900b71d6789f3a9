"""Meeting-quality schemes and scores, yearly ratings and inspections (design §3 "scoring").

A scoring scheme is data, never code: its groups, criteria, options and classification rule are
rows and JSON that the admin edits or a JSON file replaces. A meeting score keeps a frozen copy of
the scheme it was scored with, so editing a scheme never rescores the past.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cells.models import Member, Organisation
from meetings.models import Meeting

POINTS = {"max_digits": 6, "decimal_places": 2}


class ScoringScheme(models.Model):
    class InapplicablePolicy(models.TextChoices):
        FULL = "full", _("Tính đủ điểm tiêu chí không áp dụng")
        RESCALE = "rescale", _("Quy đổi tổng điểm về thang điểm tối đa")

    code = models.SlugField(_("Mã"), max_length=40, unique=True)
    name = models.CharField(_("Tên"), max_length=255)
    source_document = models.CharField(_("Văn bản quy định"), max_length=255)
    version = models.PositiveIntegerField(_("Phiên bản"), default=1, editable=False)
    effective_from = models.DateField(_("Áp dụng từ"))
    effective_to = models.DateField(
        _("Áp dụng đến"), null=True, blank=True, help_text=_("Để trống: áp dụng đến khi có bộ tiêu chí mới thay thế.")
    )
    scope = models.ManyToManyField(
        Organisation,
        blank=True,
        related_name="scoring_schemes",
        verbose_name=_("Phạm vi áp dụng"),
        help_text=_(
            "Để trống: áp dụng cho mọi tổ chức. Bộ tiêu chí của cấp dưới thay thế bộ của cấp trên trong cây con của nó."
        ),
    )
    max_points = models.DecimalField(_("Điểm tối đa"), default=100, **POINTS)
    levels = models.JSONField(
        _("Quy tắc xếp loại"),
        default=list,
        help_text=_('Danh sách từ cao xuống thấp: {"code", "name", "min", "requires_key_criteria", "conditions"}.'),
    )
    inapplicable_policy = models.CharField(
        _("Tiêu chí không áp dụng"), max_length=8, choices=InapplicablePolicy.choices, default=InapplicablePolicy.FULL
    )
    is_provisional = models.BooleanField(_("Tạm thời"), default=False)
    provisional_note = models.TextField(_("Ghi chú tạm thời"), blank=True)
    description = models.TextField(_("Mô tả"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Bộ tiêu chí chấm điểm")
        verbose_name_plural = _("Bộ tiêu chí chấm điểm")
        ordering = ["-effective_from", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                name="scheme_dates_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.name} (v{self.version})"


class ScoringGroup(models.Model):
    scheme = models.ForeignKey(ScoringScheme, on_delete=models.CASCADE, related_name="groups")
    order = models.PositiveSmallIntegerField(_("Thứ tự"))
    code = models.CharField(_("Mã"), max_length=20)
    name = models.CharField(_("Nhóm tiêu chí"), max_length=255)
    max_points = models.DecimalField(_("Điểm tối đa"), **POINTS)

    class Meta:
        verbose_name = _("Nhóm tiêu chí")
        verbose_name_plural = _("Nhóm tiêu chí")
        ordering = ["scheme", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="scoringgroup_unique_code")]

    def __str__(self):
        return f"{self.code}. {self.name}"


class Criterion(models.Model):
    class Kind(models.TextChoices):
        CHOICE = "choice", _("Chọn một mức")
        NUMBER = "number", _("Nhập số điểm trong khoảng")

    group = models.ForeignKey(ScoringGroup, on_delete=models.CASCADE, related_name="criteria")
    order = models.PositiveSmallIntegerField(_("Thứ tự"))
    code = models.CharField(_("Mã"), max_length=20)
    name = models.CharField(_("Tiêu chí"), max_length=500)
    guidance = models.TextField(_("Hướng dẫn chấm"), blank=True)
    max_points = models.DecimalField(_("Điểm tối đa"), **POINTS)
    kind = models.CharField(_("Cách chấm"), max_length=6, choices=Kind.choices, default=Kind.NUMBER)
    options = models.JSONField(
        _("Các mức điểm"),
        default=list,
        blank=True,
        help_text=_(
            'Theo thứ tự xét, mức đầu tiên thỏa điều kiện được đề xuất: {"label", "points", "measure", '
            '"gte", "gt", "lte", "lt"}.'
        ),
    )
    measure = models.CharField(
        _("Số liệu đề xuất điểm"),
        max_length=40,
        blank=True,
        help_text=_("Để trống: bí thư tự chấm, cổng không đề xuất."),
    )
    is_key = models.BooleanField(
        _("Tiêu chí then chốt"), default=False, help_text=_("Phải đạt điểm tối đa mới được xếp loại cao nhất.")
    )
    only_when_thematic = models.BooleanField(_("Chỉ chấm khi có sinh hoạt chuyên đề"), default=False)
    is_bonus = models.BooleanField(_("Điểm cộng"), default=False)

    class Meta:
        verbose_name = _("Tiêu chí")
        verbose_name_plural = _("Tiêu chí")
        ordering = ["group", "order", "pk"]
        constraints = [models.UniqueConstraint(fields=["group", "code"], name="criterion_unique_code")]

    def __str__(self):
        return f"{self.code}. {self.name}"


class MeetingScore(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Đang chấm")
        SELF_ADOPTED = "self_adopted", _("Chi bộ đã thông qua")
        CONFIRMED = "confirmed", _("Cấp trên đã xác nhận")

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="score")
    scheme = models.ForeignKey(ScoringScheme, on_delete=models.PROTECT, related_name="scores")
    scheme_version = models.PositiveIntegerField()
    scheme_snapshot = models.JSONField(help_text="The scheme as it was when the meeting was first scored.")
    facts = models.JSONField(default=dict, help_text="The measures read from the records, with their evidence.")
    state = models.CharField(_("Trạng thái"), max_length=12, choices=State.choices, default=State.DRAFT)
    weaknesses = models.TextField(_("Hạn chế, khuyết điểm"), blank=True)
    self_total = models.DecimalField(_("Điểm chi bộ tự chấm"), null=True, blank=True, **POINTS)
    self_level = models.CharField(_("Chi bộ tự xếp loại"), max_length=20, blank=True)
    self_adopted_at = models.DateTimeField(null=True, blank=True)
    self_adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    official_total = models.DecimalField(_("Điểm cấp trên xác nhận"), null=True, blank=True, **POINTS)
    official_level = models.CharField(_("Xếp loại chính thức"), max_length=20, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirm_reason = models.TextField(_("Lý do điều chỉnh"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Điểm buổi sinh hoạt")
        verbose_name_plural = _("Điểm buổi sinh hoạt")
        ordering = ["-meeting__period_month", "pk"]
        indexes = [models.Index(fields=["state"], name="meetingscore_state")]

    def __str__(self):
        return f"{self.meeting} — {self.get_state_display()}"

    @property
    def is_provisional(self) -> bool:
        return bool(self.scheme_snapshot.get("is_provisional"))

    def _level_name(self, code: str) -> str:
        for level in self.scheme_snapshot.get("levels", []):
            if level["code"] == code:
                return level["name"]
        return code

    @property
    def self_level_name(self) -> str:
        """ "Khá", "Tốt"…: the cell's level in the words of the scheme it was scored with (for the minutes)."""
        return self._level_name(self.self_level)

    @property
    def official_level_name(self) -> str:
        return self._level_name(self.official_level)


class MeetingScoreLine(models.Model):
    """One criterion of one meeting's score: what the records propose, what the cell and the upper level gave."""

    score = models.ForeignKey(MeetingScore, on_delete=models.CASCADE, related_name="lines")
    order = models.PositiveSmallIntegerField()
    group_code = models.CharField(max_length=20)
    criterion_code = models.CharField(max_length=20)
    max_points = models.DecimalField(**POINTS)
    applicable = models.BooleanField(default=True)
    proposed_points = models.DecimalField(_("Điểm đề xuất"), null=True, blank=True, **POINTS)
    evidence = models.TextField(_("Căn cứ"), blank=True)
    self_points = models.DecimalField(_("Chi bộ chấm"), null=True, blank=True, **POINTS)
    official_points = models.DecimalField(_("Cấp trên chấm"), null=True, blank=True, **POINTS)
    override_reason = models.CharField(_("Lý do điều chỉnh"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("Điểm tiêu chí")
        verbose_name_plural = _("Điểm tiêu chí")
        ordering = ["score", "order"]
        constraints = [
            models.UniqueConstraint(fields=["score", "group_code", "criterion_code"], name="scoreline_unique"),
        ]

    def __str__(self):
        return f"{self.group_code}.{self.criterion_code}"


# --- yearly rating -------------------------------------------------------------------------


class RatingLevel(models.TextChoices):
    EXCELLENT = "htxsnv", _("Hoàn thành xuất sắc nhiệm vụ")
    GOOD = "httnv", _("Hoàn thành tốt nhiệm vụ")
    DONE = "htnv", _("Hoàn thành nhiệm vụ")
    FAILED = "khtnv", _("Không hoàn thành nhiệm vụ")


LEVEL_RANK = {RatingLevel.EXCELLENT: 4, RatingLevel.GOOD: 3, RatingLevel.DONE: 2, RatingLevel.FAILED: 1}
LEVEL_SHORT = {
    RatingLevel.EXCELLENT: "HTXSNV",
    RatingLevel.GOOD: "HTTNV",
    RatingLevel.DONE: "HTNV",
    RatingLevel.FAILED: "KHTNV",
}


class RatingRegime(models.Model):
    """The configurable rules of one rating regime (QĐ 124-QĐ/TW 2023, QĐ 366-QĐ/TW 2025)."""

    code = models.SlugField(_("Mã"), max_length=20, unique=True)
    name = models.CharField(_("Văn bản quy định"), max_length=255)
    first_year = models.PositiveSmallIntegerField(_("Áp dụng từ năm"))
    excellent_quota_percent = models.PositiveSmallIntegerField(
        _("HTXSNV tối đa (% số HTTNV)"),
        null=True,
        blank=True,
        default=20,
        help_text=_("Để trống nếu không áp dụng tỷ lệ. Cảnh báo trước khi quyết định."),
    )
    # Which members the quota's base counts. HD 21-HD/BTCTW (2019, under QĐ 132) reads: "số đảng viên được
    # xếp loại HTXSNV không vượt quá 20% số đảng viên được xếp loại HTTNV ở từng tổ chức cơ sở đảng"
    # (domain-research §4.2, §10.4): the base is the members rated at the level HTTNV, the four levels
    # being distinct results. The shipped regimes read it so (False); True is the looser reading where
    # the HTXSNV, chosen from among those who earned HTTNV, count in the base too.
    quota_base_includes_excellent = models.BooleanField(
        _("Số HTTNV tính cả HTXSNV"),
        default=False,
        help_text=_(
            "Để trống (theo HD 21-HD/BTCTW): tỷ lệ tính trên số đảng viên xếp loại HTTNV. Đánh dấu: "
            "tính trên số HTTNV cộng số HTXSNV."
        ),
    )
    cell_excellent_min_done_percent = models.PositiveSmallIntegerField(
        _("Chi bộ HTXSNV: % đảng viên từ HTNV trở lên"), default=100
    )
    cell_excellent_min_good_percent = models.PositiveSmallIntegerField(
        _("Chi bộ HTXSNV: % đảng viên từ HTTNV trở lên"), default=80
    )
    min_months_since_admission = models.PositiveSmallIntegerField(
        _("Không đánh giá đảng viên kết nạp chưa đủ (tháng)"), default=6
    )
    note = models.TextField(_("Ghi chú"), blank=True)

    class Meta:
        verbose_name = _("Quy định đánh giá, xếp loại")
        verbose_name_plural = _("Quy định đánh giá, xếp loại")
        ordering = ["-first_year"]

    def __str__(self):
        return self.name


class AnnualRating(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("Chưa tự đánh giá")
        SELF_ASSESSED = "self_assessed", _("Đã tự đánh giá")
        PROPOSED = "proposed", _("Đã đề xuất")
        DECIDED = "decided", _("Cấp trên đã quyết định")

    year = models.PositiveSmallIntegerField(_("Năm"))
    regime = models.ForeignKey(
        RatingRegime, on_delete=models.PROTECT, related_name="ratings", verbose_name=_("Quy định")
    )
    # The organisation the rating is kept in: the member's cell, or the rated organisation itself.
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="annual_ratings", verbose_name=_("Tổ chức")
    )
    member = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="annual_ratings",
        verbose_name=_("Đảng viên"),
    )
    evidence = models.JSONField(default=dict, blank=True)
    state = models.CharField(_("Trạng thái"), max_length=14, choices=State.choices, default=State.OPEN)
    self_level = models.CharField(_("Tự xếp loại"), max_length=6, choices=RatingLevel.choices, blank=True)
    self_score = models.DecimalField(_("Tự chấm điểm"), null=True, blank=True, **POINTS)
    self_comment = models.TextField(_("Tự nhận xét"), blank=True)
    proposed_level = models.CharField(_("Mức đề xuất"), max_length=6, choices=RatingLevel.choices, blank=True)
    proposal_note = models.TextField(_("Ý kiến đề xuất"), blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_level = models.CharField(
        _("Mức cấp trên quyết định"), max_length=6, choices=RatingLevel.choices, blank=True
    )
    decision_note = models.TextField(_("Ghi chú quyết định"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Đánh giá, xếp loại hằng năm")
        verbose_name_plural = _("Đánh giá, xếp loại hằng năm")
        ordering = ["-year", "organisation", "member__full_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "member"], condition=Q(member__isnull=False), name="rating_one_per_member_year"
            ),
            models.UniqueConstraint(
                fields=["year", "organisation"],
                condition=Q(member__isnull=True),
                name="rating_one_per_organisation_year",
            ),
        ]

    def __str__(self):
        return f"{self.member or self.organisation} — {self.year}"

    @property
    def subject_name(self) -> str:
        return self.member.full_name if self.member_id else self.organisation.name


class RatingAmendment(models.Model):
    """A change to a rating the upper committee had already decided: the old and new level and why.

    A decided rating is an official record; the service refuses to change it without one of these rows.
    """

    rating = models.ForeignKey(
        AnnualRating, on_delete=models.CASCADE, related_name="amendments", verbose_name=_("Đánh giá, xếp loại")
    )
    level_before = models.CharField(_("Mức trước khi sửa"), max_length=6, choices=RatingLevel.choices)
    level_after = models.CharField(_("Mức sau khi sửa"), max_length=6, choices=RatingLevel.choices)
    reason = models.TextField(_("Lý do sửa đổi"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Người sửa"),
    )
    created_at = models.DateTimeField(_("Thời điểm"), auto_now_add=True)

    class Meta:
        verbose_name = _("Sửa đổi quyết định xếp loại")
        verbose_name_plural = _("Sửa đổi quyết định xếp loại")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.rating}: {self.level_before} → {self.level_after}"


# --- supervision ---------------------------------------------------------------------------


class Inspection(models.Model):
    """The đảng ủy cơ sở's yearly check of a cell's books and minutes."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("Chi bộ được kiểm tra")
    )
    year = models.PositiveSmallIntegerField(_("Năm"))
    inspected_on = models.DateField(_("Ngày kiểm tra"))
    inspectors = models.CharField(_("Người kiểm tra"), max_length=255)
    member_register_ok = models.BooleanField(_("Sổ danh sách đảng viên đầy đủ"), default=False)
    minutes_book_ok = models.BooleanField(_("Sổ biên bản sinh hoạt đầy đủ"), default=False)
    dues_book_ok = models.BooleanField(_("Sổ thu, nộp đảng phí đầy đủ"), default=False)
    documents_ok = models.BooleanField(_("Đủ chương trình, kế hoạch bắt buộc"), default=False)
    findings = models.TextField(_("Nhận xét, kết luận"))
    follow_up = models.TextField(_("Yêu cầu khắc phục"), blank=True)
    follow_up_due = models.DateField(_("Hạn khắc phục"), null=True, blank=True)
    follow_up_done_on = models.DateField(_("Đã khắc phục ngày"), null=True, blank=True)
    follow_up_result = models.TextField(_("Kết quả khắc phục"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Kiểm tra sổ sách chi bộ")
        verbose_name_plural = _("Kiểm tra sổ sách chi bộ")
        ordering = ["-inspected_on", "pk"]
        indexes = [models.Index(fields=["organisation", "year"], name="inspection_org_year")]

    def __str__(self):
        return f"{self.organisation} — {self.inspected_on:%d/%m/%Y}"
