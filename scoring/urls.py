from django.urls import path

from . import views

app_name = "scoring"

urlpatterns = [
    path("", views.index, name="index"),
    path("sinh-hoat/<int:pk>/", views.meeting_score, name="meeting_score"),
    path("sinh-hoat/<int:pk>/de-xuat/", views.meeting_score_prefill, name="prefill"),
    path("sinh-hoat/<int:pk>/tu-cham/", views.meeting_score_self, name="self_score"),
    path("sinh-hoat/<int:pk>/thong-qua/", views.meeting_score_adopt, name="adopt"),
    path("sinh-hoat/<int:pk>/xac-nhan/", views.meeting_score_confirm, name="confirm"),
    path("sinh-hoat/<int:pk>/phieu-diem.pdf", views.score_sheet_pdf, name="score_sheet_pdf"),
    path("xep-loai/chi-bo/<int:cell_pk>/<int:year>/", views.cell_ratings, name="cell_ratings"),
    path("xep-loai/chi-bo/<int:cell_pk>/<int:year>/mo/", views.ratings_open, name="ratings_open"),
    path("xep-loai/<int:pk>/", views.rating_detail, name="rating_detail"),
    path("xep-loai/<int:pk>/tu-danh-gia/", views.rating_self, name="rating_self"),
    path("xep-loai/<int:pk>/de-xuat/", views.rating_propose, name="rating_propose"),
    path("xep-loai/<int:pk>/quyet-dinh/", views.rating_decide, name="rating_decide"),
    path("giam-sat/", views.supervision, name="supervision"),
    path("kiem-tra/", views.inspection_list, name="inspections"),
    path("kiem-tra/chi-bo/<int:cell_pk>/them/", views.inspection_create, name="inspection_create"),
    path("kiem-tra/<int:pk>/khac-phuc/", views.inspection_follow_up, name="inspection_follow_up"),
]
