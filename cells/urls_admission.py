from django.urls import path

from . import views_admission as views

app_name = "admission"

urlpatterns = [
    path("chi-bo/<int:pk>/", views.cell_pipeline, name="cell_pipeline"),
    path("chi-bo/<int:pk>/them/", views.candidate_create, name="candidate_create"),
    path("don-vi/<int:pk>/", views.unit_pipeline, name="unit_pipeline"),
    path("quan-chung/<int:pk>/", views.candidate_detail, name="candidate_detail"),
    path("quan-chung/<int:pk>/sua/", views.candidate_update, name="candidate_update"),
    path("quan-chung/<int:pk>/buoc/<slug:step>/", views.candidate_step, name="candidate_step"),
    path("quan-chung/<int:pk>/dung-xem-xet/", views.candidate_withdraw, name="candidate_withdraw"),
    path("quan-chung/<int:pk>/giay-to/", views.candidate_document_upload, name="candidate_document_upload"),
    path("giay-to/<int:pk>/tai-ve/", views.candidate_document_download, name="candidate_document_download"),
]
