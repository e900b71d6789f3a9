"""The reminder rule of the yearly thematic plan (issue #18): six weeks before a quarter ends, the drafter
and the bí thư of a planned topic whose cell has no thematic meeting scheduled in the quarter."""

from django.db import migrations

CODE = "thematic_plan_unscheduled"


def seed(apps, schema_editor):
    apps.get_model("meetings", "ReminderRule").objects.get_or_create(
        code=CODE,
        defaults={
            "name": "Nhắc lên lịch sinh hoạt chuyên đề theo kế hoạch",
            "description": (
                "Từ 6 tuần (42 ngày) trước ngày cuối quý, gửi một lần cho người chuẩn bị đề cương và bí thư khi "
                "chuyên đề của quý trong kế hoạch năm chưa có buổi sinh hoạt chuyên đề nào được lên lịch."
            ),
            "optional": True,
            "params": {},
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("meetings", "ReminderRule").objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [("meetings", "0020_thematic_plans")]

    operations = [migrations.RunPython(seed, unseed)]
