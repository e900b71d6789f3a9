"""The HTXSNV quota's base, as HD 21-HD/BTCTW writes it: "20% số đảng viên được xếp loại HTTNV" (issue #19).

The shipped regimes (QĐ 124-QĐ/TW 2023, QĐ 366-QĐ/TW 2025) counted HTTNV plus HTXSNV; they now count
the members rated HTTNV. A regime the admin added keeps its own choice.
"""

from django.db import migrations, models

SHIPPED = ["qd124-2023", "qd366-2025"]


def forward(apps, schema_editor):
    apps.get_model("scoring", "RatingRegime").objects.filter(code__in=SHIPPED).update(
        quota_base_includes_excellent=False)


def backward(apps, schema_editor):
    apps.get_model("scoring", "RatingRegime").objects.filter(code__in=SHIPPED).update(
        quota_base_includes_excellent=True)


class Migration(migrations.Migration):

    dependencies = [
        ('scoring', '0003_rating_amendment'),
    ]

    operations = [
        migrations.AlterField(
            model_name='ratingregime',
            name='quota_base_includes_excellent',
            field=models.BooleanField(default=False, help_text='Để trống (theo HD 21-HD/BTCTW): tỷ lệ tính trên số đảng viên xếp loại HTTNV. Đánh dấu: tính trên số HTTNV cộng số HTXSNV.', verbose_name='Số HTTNV tính cả HTXSNV'),
        ),
        migrations.RunPython(forward, backward),
    ]
