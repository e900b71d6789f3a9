from django.urls import path

from . import views_training as views

app_name = "training"

urlpatterns = [
    path("", views.course_list, name="course_list"),
    path("them/", views.course_create, name="course_create"),
    path("lop/<int:pk>/", views.course_detail, name="course_detail"),
    path("lop/<int:pk>/sua/", views.course_update, name="course_update"),
    path("lop/<int:pk>/hoc-vien/", views.attendance_add, name="attendance_add"),
    path("hoc-vien/<int:pk>/", views.attendance_update, name="attendance_update"),
    path("hoc-vien/<int:pk>/chung-nhan/", views.certificate_download, name="certificate_download"),
    path("hoc-vien/<int:pk>/xoa/", views.attendance_delete, name="attendance_delete"),
    path("to-chuc/<int:pk>/chua-boi-duong/", views.officers_untrained, name="officers_untrained"),
]
