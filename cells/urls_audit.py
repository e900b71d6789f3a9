from django.urls import path

from . import views_audit as views

urlpatterns = [
    path("", views.audit_list, name="audit_list"),
]
