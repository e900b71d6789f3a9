"""Issue 15 item 7: the Django admin in Vietnamese — app names, model names, titles and list columns."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.urls import reverse

from tests.factories import UserFactory, pass_second_factor

pytestmark = pytest.mark.django_db

# A label of ASCII letters only is English (or a bare field name): Vietnamese labels carry diacritics.
ENGLISH = re.compile(r"^[A-Za-z][A-Za-z0-9 _()\-/.,:]*$")
ALLOWED_ASCII = {"Email", "IP", "URL", "HTTP Accept", "Exchange"}

EXPECTED = [
    # apps (AppConfig.verbose_name)
    "Tổ chức đảng và đảng viên",
    "Sinh hoạt chi bộ",
    "Chấm điểm và xếp loại",
    "Báo cáo",
    "Chống dò mật khẩu",
    "Tác vụ định kỳ",
    "Xác thực và ủy quyền",
    # models (verbose_name_plural), of the portal and of django-axes, django-celery-beat, auth
    "Đảng viên",
    "Tổ chức đảng",
    "Nhật ký thay đổi",
    "Buổi sinh hoạt",
    "Điểm buổi sinh hoạt",
    "Bộ tiêu chí chấm điểm",
    "Các lần lập báo cáo",
    "Các lượt thử đăng nhập",
    "Các lần đăng nhập sai",
    "Nhật ký đăng nhập",
    "Lịch cron",
    "Lịch theo chu kỳ",
    "Lịch theo mặt trời",
    "Lịch theo thời điểm",
    "Người sử dụng",
    "Các nhóm",
    # the site's titles and Django 5.2's own strings
    "Quản trị Cổng sinh hoạt chi bộ",
    "Quản trị hệ thống",
    "Chuyển đến nội dung chính",
]


@pytest.fixture
def superuser_client(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return pass_second_factor(client, user)  # the admin is behind the second factor (cells/admin_site.py)


def test_the_admin_index_names_every_app_and_model_in_vietnamese(superuser_client):
    response = superuser_client.get(reverse("admin:index"))
    page = response.content.decode()
    for label in EXPECTED:
        assert label in page, label
    english = []
    for app in response.context["app_list"]:
        for name in [app["name"], *(model["name"] for model in app["models"])]:
            if ENGLISH.match(str(name)) and str(name) not in ALLOWED_ASCII:
                english.append(str(name))
    assert not english, english
    for stock in (
        "Django administration",
        "Site administration",
        "Skip to main content",
        "Toggle theme",
        "Model name",
        "Periodic Tasks",
        "Access attempts",
        "Axes",
    ):
        assert stock not in page, stock


def test_every_change_list_has_vietnamese_columns_and_filters(superuser_client):
    """The column headers as the change list computes them (with or without rows), and its filters."""
    english = []
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.list_display:
            header = str(label_for_field(name, model, model_admin))
            if name != "__str__" and ENGLISH.match(header) and header not in ALLOWED_ASCII:
                english.append(f"{model._meta.label}: {header!r}")
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = superuser_client.get(url)
        assert response.status_code == 200, url
        for title in re.findall(r"<summary>\s*([^<]+?)\s*</summary>", response.content.decode()):
            title = re.sub(r"^Bởi\s+", "", title.strip())
            if ENGLISH.match(title) and title not in ALLOWED_ASCII:
                english.append(f"{model._meta.label} filter: {title!r}")
    assert not english, "\n".join(english)
