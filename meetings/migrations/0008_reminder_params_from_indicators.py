"""The reminders' thresholds move to meetings/indicators.py (issue #13): the planning deadline, the
days after which minutes are overdue and the unpaid-dues months are the indicators', one home for the
dashboards and the reminders. What stays editable is when a reminder fires."""

from django.db import migrations

DESCRIPTIONS = {
    "regular_meeting_unplanned": "Từ hạn lập kế hoạch (ngày 25) đến hết tháng, gửi bí thư chi bộ chưa lập kế hoạch và "
                                 "gửi thông báo buổi sinh hoạt thường kỳ của tháng.",
    "minutes_not_adopted": "Gửi thư ký và bí thư khi biên bản chưa được thông qua 2 ngày sau buổi sinh hoạt.",
    "dues_unpaid": "Mỗi tháng một lần, gửi bí thư danh sách đảng viên chưa nộp đủ đảng phí từ 3 tháng trở lên trong "
                   "năm.",
}


def forward(apps, schema_editor):
    ReminderRule = apps.get_model("meetings", "ReminderRule")
    for rule in ReminderRule.objects.filter(code__in=list(DESCRIPTIONS)):
        params = dict(rule.params or {})
        if rule.code == "regular_meeting_unplanned":
            day = params.pop("day_of_month", 25)
            params.pop("month_offset", None)
            # A rule that reminded from an earlier day keeps doing so, counted back from the deadline.
            params["days_before_deadline"] = max(25 - int(day), 0) if isinstance(day, int) else 0
        elif rule.code == "minutes_not_adopted":
            params.pop("days_after", None)
        elif rule.code == "dues_unpaid":
            params.pop("months", None)
        rule.params = params
        rule.description = DESCRIPTIONS[rule.code]
        rule.save(update_fields=["params", "description"])


def backward(apps, schema_editor):
    ReminderRule = apps.get_model("meetings", "ReminderRule")
    for rule in ReminderRule.objects.filter(code__in=list(DESCRIPTIONS)):
        params = dict(rule.params or {})
        if rule.code == "regular_meeting_unplanned":
            params = {"day_of_month": 25 - int(params.get("days_before_deadline", 0)), "month_offset": 0}
        elif rule.code == "minutes_not_adopted":
            params["days_after"] = 2
        elif rule.code == "dues_unpaid":
            params["months"] = 3
        rule.params = params
        rule.save(update_fields=["params"])


class Migration(migrations.Migration):

    dependencies = [("meetings", "0007_dashboard_covering_indexes")]

    operations = [migrations.RunPython(forward, backward)]
