"""Ship the two meeting-quality schemes (HD 42-HD/BTCTW 2025; QĐ 31-QĐ/TU 2019, provisional) and the
two rating regimes (QĐ 124-QĐ/TW 2023, QĐ 366-QĐ/TW 2025) as data, loaded from ``scoring/data/``."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"
SHIPPED = ["qd31-tu-2019.json", "hd42-2025.json"]
REGIMES = [
    {"code": "qd124-2023", "name": "Quy định 124-QĐ/TW ngày 04/10/2023", "first_year": 2023, "note": ""},
    {"code": "qd366-2025", "name": "Quy định 366-QĐ/TW ngày 30/8/2025", "first_year": 2025,
     "note": "Chưa xác nhận tỷ lệ HTXSNV không quá 20% số HTTNV còn áp dụng theo QĐ 366; giữ là quy tắc cấu hình."},
]


def load(apps, schema_editor):
    from scoring.schemes import scheme_load

    models = {name: apps.get_model("scoring", name) for name in ("ScoringScheme", "ScoringGroup", "Criterion")}
    for name in SHIPPED:
        data = json.loads((DATA / name).read_text(encoding="utf-8"))
        scheme_load(data, Organisation=apps.get_model("cells", "Organisation"), **models)
    regime = apps.get_model("scoring", "RatingRegime")
    for row in REGIMES:
        regime.objects.update_or_create(code=row["code"], defaults=row)


def unload(apps, schema_editor):
    apps.get_model("scoring", "ScoringScheme").objects.filter(
        code__in=["qd31-tu-2019", "hd42-btctw-2025"], scores__isnull=True).delete()
    apps.get_model("scoring", "RatingRegime").objects.filter(code__in=[r["code"] for r in REGIMES],
                                                              ratings__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
