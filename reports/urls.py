from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.dashboard, name="dashboard"),
    path("<int:pk>/chi-tiet/<slug:metric>/", views.drill, name="drill"),
    path("<int:pk>/bao-cao-nam/", views.report_runs, name="runs"),
    path("<int:pk>/bao-cao/<slug:kind>/", views.report_runs, name="runs_of_kind"),
    path("lan-lap/<int:run_pk>/", views.report_run_status, name="run_status"),
    path("lan-lap/<int:run_pk>/lap-lai/", views.report_run_restart, name="run_restart"),
    path("lan-lap/<int:run_pk>/tai/<str:file_kind>/", views.report_run_download, name="run_download"),
]
