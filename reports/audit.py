"""What the reports app's change-log rows mean to a reader (registered in cells.audit)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from cells.audit import ObjectKind, register

ACTIONS = {
    "reports.reportrun.create": _("Yêu cầu lập báo cáo"),
    "reports.reportrun.restart": _("Lập lại báo cáo"),
    "reports.rollup.repair": _("Sửa số liệu tổng hợp tháng lệch với hồ sơ"),
}


def register_reports() -> None:
    register(
        app="reports",
        actions=ACTIONS,
        objects=[
            ObjectKind(
                "reports.reportrun",
                name=lambda r: f"{r.get_kind_display()} {r.params.get('year', '')} — {r.organisation.name}",
                url=lambda r: reverse("reports:run_status", args=[r.pk]),
                organisation=lambda r: r.organisation,
                select_related=("organisation",),
            ),
        ],
        extra_fields={"created_by": _("Người yêu cầu")},
    )
