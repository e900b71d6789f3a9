from django.urls import path

from . import views_account as views

app_name = "account"

urlpatterns = [
    path("", views.account, name="account"),
    path("xac-thuc-hai-buoc/", views.two_factor_setup, name="two_factor_setup"),
    path("xac-thuc-hai-buoc/tat/", views.two_factor_disable, name="two_factor_disable"),
    path("ma-du-phong/", views.recovery_codes_regenerate, name="recovery_codes_regenerate"),
    path("phien-dang-nhap/", views.sessions, name="sessions"),
    path("phien-dang-nhap/dang-xuat-moi-noi/", views.sessions_end_others, name="sessions_end_others"),
]
