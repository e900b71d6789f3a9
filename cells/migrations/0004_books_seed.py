"""Seed the catalogue of required documents and the party-dues rates.

Sources (see shared/reference/domain-research.md §1 and §7):
- the required documents: the Khối resolution on the quality of cell meetings, target I.2;
- dues until 31/01/2026: QĐ 342-QĐ/TW (28/12/2010) and HD 03-HD/VPTW (06/7/2016);
- dues from 01/02/2026: QĐ 01-QĐ/TW (03/02/2026, in force 01/02/2026).
"""

import datetime

from django.db import migrations

DOCUMENT_TYPES = [
    # code, name, period, order
    ("quy-che-lam-viec", "Quy chế làm việc", "term", 1),
    ("ctr-hanh-dong-nq-dai-hoi", "Chương trình hành động thực hiện nghị quyết đại hội", "term", 2),
    ("ctr-cong-tac-toan-khoa", "Chương trình công tác toàn khóa", "term", 3),
    ("ctr-ktgs-toan-khoa", "Chương trình kiểm tra, giám sát toàn khóa", "term", 4),
    ("phan-cong-cap-uy-vien", "Phân công nhiệm vụ cấp ủy viên", "term", 5),
    ("ctr-cong-tac-nam", "Chương trình công tác năm", "year", 1),
    ("ctr-ktgs-nam", "Chương trình kiểm tra, giám sát năm", "year", 2),
    ("phan-cong-dang-vien", "Phân công nhiệm vụ đảng viên", "year", 3),
    ("kh-chi-thi-05", "Kế hoạch thực hiện Chỉ thị 05-CT/TW", "year", 4),
    ("kh-nq-tw4", "Kế hoạch thực hiện Nghị quyết Trung ương 4", "year", 5),
]

QD_342 = "QĐ 342-QĐ/TW ngày 28/12/2010; HD 03-HD/VPTW ngày 06/7/2016"
QD_01 = "QĐ 01-QĐ/TW ngày 03/02/2026 (hiệu lực 01/02/2026)"
OLD_FROM, OLD_TO = datetime.date(2011, 4, 1), datetime.date(2026, 1, 31)
NEW_FROM = datetime.date(2026, 2, 1)

RULES = [
    # effective_from, effective_to, category, kind, basis_points, fixed_amount, exempt_party_years, source, note
    (OLD_FROM, OLD_TO, "salaried", "percent", 100, None, None, QD_342, "1 % tiền lương và phụ cấp."),
    (OLD_FROM, OLD_TO, "pensioner", "percent", 50, None, None, QD_342, "0,5 % lương hưu."),
    (OLD_FROM, OLD_TO, "student", "fixed", None, 8000, None, QD_342,
     "Mức cố định theo HD 03-HD/VPTW cho nội thị đô thị loại I–III; nơi khác 6.000 đ, miền núi 4.000 đ: sửa tại đây."),
    (OLD_FROM, OLD_TO, "other", "fixed", None, 8000, None, QD_342,
     "Mức cố định theo HD 03-HD/VPTW cho nội thị đô thị loại I–III; nơi khác 6.000 đ, miền núi 4.000 đ: sửa tại đây."),
    (NEW_FROM, None, "salaried", "percent", 100, None, 50, QD_01,
     "1 % tiền lương đóng BHXH tháng trước (khi ốm đau, thai sản: 1 % trợ cấp)."),
    (NEW_FROM, None, "pensioner", "percent", 50, None, 50, QD_01, "0,5 % lương hưu."),
    (NEW_FROM, None, "student", "fixed", None, 5000, 50, QD_01, "5.000 đ/tháng."),
    (NEW_FROM, datetime.date(2027, 12, 31), "other", "percent", 30, None, 50, QD_01,
     "0,3 % lương tối thiểu vùng (căn cứ = lương tối thiểu vùng); chưa đối chiếu văn bản gốc."),
    (datetime.date(2028, 1, 1), None, "other", "percent", 50, None, 50, QD_01,
     "0,5 % lương tối thiểu vùng từ 2028; chưa đối chiếu văn bản gốc."),
]


def seed(apps, schema_editor):
    RequiredDocumentType = apps.get_model("cells", "RequiredDocumentType")
    DuesRateRule = apps.get_model("cells", "DuesRateRule")
    for code, name, period, order in DOCUMENT_TYPES:
        RequiredDocumentType.objects.update_or_create(code=code, defaults={"name": name, "period": period, "order": order})
    if not DuesRateRule.objects.exists():
        for start, end, category, kind, bp, fixed, exempt_years, source, note in RULES:
            DuesRateRule.objects.create(
                effective_from=start, effective_to=end, category=category, kind=kind, basis_points=bp,
                fixed_amount=fixed, exempt_party_years=exempt_years, source=source, note=note,
            )


def unseed(apps, schema_editor):
    apps.get_model("cells", "DuesRateRule").objects.filter(payments__isnull=True).delete()
    apps.get_model("cells", "RequiredDocumentType").objects.filter(documents__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("cells", "0003_books")]

    operations = [migrations.RunPython(seed, unseed)]
