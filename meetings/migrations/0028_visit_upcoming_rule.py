"""The reminder to the assigned visitor (issue #18, item 3): the rule ``visit_upcoming``
(meetings/reminders.py; the Khối's own requirement, no Party source)."""

from django.db import migrations


CODE = "visit_upcoming"


def seed(apps, schema_editor):
    apps.get_model("meetings", "ReminderRule").objects.get_or_create(
        code=CODE,
        defaults={
            "name": "Nhắc đồng chí được phân công dự sinh hoạt chi bộ",
            "description": (
                "Gửi một lần cho đảng ủy viên được phân công khi buổi sinh hoạt đồng chí đã xác nhận dự còn 2 ngày, "
                "và một lần khi quý còn 14 ngày mà đồng chí chưa xác nhận buổi dự."
            ),
            "optional": False,
            "params": {"days_before": 2, "quarter_days_left": 14},
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("meetings", "ReminderRule").objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [("meetings", "0027_admission_pipeline")]

    operations = [migrations.RunPython(seed, unseed)]
