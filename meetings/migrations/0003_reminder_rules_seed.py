"""The default reminder rules of issue #6; the Khối admin edits them afterwards."""

from django.db import migrations

RULES = [
    ("rsvp_missing", "Nhắc đảng viên chưa xác nhận tham dự",
     "Gửi cho đảng viên chưa trả lời thông báo triệu tập, 3 ngày và 1 ngày trước buổi sinh hoạt.",
     False, {"days_before": [3, 1]}),
    ("decline_without_reason", "Nhắc đảng viên báo vắng chưa ghi lý do",
     "Gửi một lần cho đảng viên báo vắng buổi sinh hoạt sắp tới mà chưa ghi lý do.",
     False, {}),
    ("regular_meeting_unplanned", "Nhắc bí thư lập kế hoạch sinh hoạt thường kỳ",
     "Từ ngày 25 hằng tháng, gửi bí thư chi bộ chưa lập kế hoạch buổi sinh hoạt thường kỳ của tháng.",
     True, {"day_of_month": 25, "month_offset": 0}),
    ("minutes_not_adopted", "Nhắc thông qua biên bản",
     "Gửi thư ký và bí thư khi biên bản chưa được thông qua 2 ngày sau buổi sinh hoạt.",
     True, {"days_after": 2, "max_days_after": 60}),
    ("task_due_soon", "Nhắc nhiệm vụ sắp đến hạn",
     "Gửi người được giao nhiệm vụ 3 ngày trước thời hạn.",
     True, {"days_before": 3}),
    ("task_overdue", "Nhắc nhiệm vụ quá hạn",
     "Gửi một lần cho người được giao khi nhiệm vụ quá hạn mà chưa hoàn thành.",
     True, {"max_days_overdue": 60}),
    ("supervisor_no_visit", "Nhắc đảng ủy viên phụ trách dự sinh hoạt chi bộ",
     "Trong tháng cuối quý, gửi đảng ủy viên phụ trách chi bộ chưa có cấp ủy cấp trên dự sinh hoạt trong quý.",
     True, {"from_day": 1}),
    ("dues_unpaid", "Nhắc bí thư về đảng viên chưa nộp đảng phí",
     "Mỗi tháng một lần, gửi bí thư danh sách đảng viên chưa nộp đủ đảng phí từ 3 tháng trở lên trong năm.",
     True, {"months": 3}),
]


def seed(apps, schema_editor):
    ReminderRule = apps.get_model("meetings", "ReminderRule")
    for code, name, description, optional, params in RULES:
        ReminderRule.objects.get_or_create(
            code=code, defaults={"name": name, "description": description, "optional": optional, "params": params})


def unseed(apps, schema_editor):
    apps.get_model("meetings", "ReminderRule").objects.filter(code__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):

    dependencies = [("meetings", "0002_reminders")]

    operations = [migrations.RunPython(seed, unseed)]
