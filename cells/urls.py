from django.urls import path

from . import views, views_privacy, views_tree

app_name = "cells"

urlpatterns = [
    path("to-chuc/", views.organisation_tree, name="organisation_tree"),
    path("to-chuc/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path("to-chuc/<int:pk>/phan-quyen/", views.organisation_roles, name="organisation_roles"),
    path("phan-quyen/<int:pk>/ket-thuc/", views.role_end, name="role_end"),
    path("to-chuc/<int:pk>/them-don-vi/", views_tree.organisation_create, name="organisation_create"),
    path("to-chuc/<int:pk>/sua/", views_tree.organisation_update, name="organisation_update"),
    path("to-chuc/<int:pk>/chuyen/", views_tree.organisation_move, name="organisation_move"),
    path("to-chuc/<int:pk>/chuc-vu/", views_tree.position_assign, name="position_assign"),
    path("chuc-vu/<int:pk>/ket-thuc/", views_tree.position_end, name="position_end"),
    path("dang-vien/", views.member_list, name="member_list"),
    path("dang-vien/them/", views.member_create, name="member_create"),
    path("dang-vien/xuat-excel/", views.member_export, name="member_export"),
    path("dang-vien/nhap-excel/", views.member_import, name="member_import"),
    path("dang-vien/nhap-excel/ghep-cot/", views.member_import_columns, name="member_import_columns"),
    path("dang-vien/nhap-excel/xac-nhan/", views.member_import_confirm, name="member_import_confirm"),
    path("dang-vien/<int:pk>/", views.member_detail, name="member_detail"),
    path("dang-vien/<int:pk>/hien/<slug:field>/", views_privacy.member_reveal, name="member_reveal"),
    path("dang-vien/de-nghi-sua/", views_privacy.correction_list, name="correction_list"),
    path("dang-vien/de-nghi-sua/<int:pk>/", views_privacy.correction_decide, name="correction_decide"),
    path("ca-nhan/du-lieu/", views_privacy.my_personal_data, name="my_personal_data"),
    path("dang-vien/<int:pk>/sua/", views.member_update, name="member_update"),
    path("dang-vien/<int:pk>/chuyen-sinh-hoat/", views.member_transfer, name="member_transfer"),
    path("dang-vien/<int:pk>/mien-sinh-hoat/", views.member_exempt, name="member_exempt"),
    path("dang-vien/<int:pk>/sinh-hoat-tam-thoi/", views.member_attach, name="member_attach"),
]
