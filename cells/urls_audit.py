from django.urls import path

from . import views_audit as views

app_name = "audit"

urlpatterns = [
    path("", views.audit_list, name="audit_list"),
    path("xuat-excel/", views.audit_export, name="audit_export"),
]
