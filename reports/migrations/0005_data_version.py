import secrets

from django.db import migrations, models


def first_row(apps, schema_editor):
    DataVersion = apps.get_model("reports", "DataVersion")
    DataVersion.objects.using(schema_editor.connection.alias).get_or_create(
        pk=1, defaults={"token": secrets.token_hex(16), "number": 0}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_monthly_rollups"),
    ]

    operations = [
        migrations.CreateModel(
            name="DataVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token", models.CharField(max_length=32, verbose_name="mã cơ sở dữ liệu")),
                ("number", models.BigIntegerField(default=0, verbose_name="số phiên bản")),
                ("changed_at", models.DateTimeField(blank=True, null=True, verbose_name="thay đổi lúc")),
            ],
            options={
                "verbose_name": "phiên bản dữ liệu (bộ nhớ đệm bảng theo dõi)",
                "verbose_name_plural": "phiên bản dữ liệu (bộ nhớ đệm bảng theo dõi)",
            },
        ),
        migrations.RunPython(first_row, migrations.RunPython.noop),
    ]
