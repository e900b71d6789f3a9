"""Party admission (issue #18, item 4): an admission vote names its candidate; the reminder rule of the
admission steps (cells/admission.py: the due dates and the warning period)."""

import django.db.models.deletion
from django.db import migrations, models


CODE = "admission_step_due"


def seed(apps, schema_editor):
    apps.get_model("meetings", "ReminderRule").objects.get_or_create(
        code=CODE,
        defaults={
            "name": "Nhắc hạn các bước kết nạp đảng viên",
            "description": (
                "Khi một bước kết nạp (quyết định trong thời hạn giấy chứng nhận, lễ kết nạp trong 30 ngày làm việc, "
                "xét công nhận chính thức trong 30 ngày làm việc sau 12 tháng dự bị) còn 10 ngày đến hạn hoặc đã "
                "quá hạn, gửi một lần cho bí thư chi bộ và hai đảng viên giới thiệu."
            ),
            "optional": False,
            "params": {},
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("meetings", "ReminderRule").objects.filter(code=CODE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cells", "0020_admission_pipeline"),
        ("meetings", "0026_async_decisions"),
    ]

    operations = [
        migrations.AddField(
            model_name="vote",
            name="candidate",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="admission_votes",
                to="cells.candidate",
                verbose_name="Quần chúng được xét kết nạp",
            ),
        ),
        migrations.RunPython(seed, unseed),
    ]
