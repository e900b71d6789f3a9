from django.urls import path

from . import views, views_calendar

app_name = "meetings"

urlpatterns = [
    path("", views.index, name="index"),
    path("trang-cua-toi/", views.my_home, name="my_home"),
    path("chi-bo/<int:cell_pk>/viec-can-lam/", views.cell_home, name="cell_home"),
    path("<int:pk>/nhac-xac-nhan/", views.remind_rsvp, name="remind_rsvp"),
    path("<int:pk>/bao-cao-cap-tren/", views.report_upward, name="report_upward"),
    path("chi-bo/<int:cell_pk>/", views.cell_meetings, name="cell_list"),
    path("chi-bo/<int:cell_pk>/them/", views.meeting_create, name="create"),
    path("chi-bo/<int:cell_pk>/nhap-bo-sung/", views.meeting_record_past, name="record_past"),
    path("chi-bo/<int:cell_pk>/so-bien-ban/<int:year>.pdf", views.minutes_book_pdf, name="minutes_book_pdf"),
    path("<int:pk>/", views.meeting_detail, name="detail"),
    path("<int:pk>/sua/", views.meeting_update, name="update"),
    path("<int:pk>/gui-thong-bao/", views.meeting_publish, name="publish"),
    path("<int:pk>/lap-ke-hoach-thang-sau/", views.meeting_plan_next, name="plan_next"),
    path("<int:pk>/huy/", views.meeting_cancel, name="cancel"),
    path("<int:pk>/tham-du/", views.meeting_confirm, name="confirm"),
    path("<int:pk>/so-xac-nhan/", views.rsvp_counts, name="rsvp_counts"),
    path("<int:pk>/da-hop/", views.meeting_held, name="held"),
    path("<int:pk>/diem-danh/", views.attendance_record, name="attendance"),
    path("<int:pk>/y-kien/", views.opinion_add, name="opinion_add"),
    path("<int:pk>/bieu-quyet/", views.vote_add, name="vote_add"),
    path("<int:pk>/ket-luan/", views.resolution_edit, name="resolution"),
    path("<int:pk>/nhiem-vu/", views.task_add, name="task_add"),
    path("<int:pk>/chuong-trinh/them/", views.agenda_item_add, name="agenda_add"),
    path("<int:pk>/chuong-trinh/<int:item_pk>/", views.agenda_item_edit, name="agenda_edit"),
    path("<int:pk>/tai-lieu/", views.document_add, name="document_add"),
    path("<int:pk>/tai-lieu/<int:document_pk>/", views.document_download, name="document_download"),
    path("<int:pk>/bien-ban/", views.minutes, name="minutes"),
    path("<int:pk>/bien-ban.pdf", views.minutes_pdf, name="minutes_pdf"),
    path("<int:pk>/thong-bao.pdf", views.notice_pdf, name="notice_pdf"),
    path("<int:pk>/ket-luan.pdf", views.resolution_pdf, name="resolution_pdf"),
    path("<int:pk>/thong-qua/", views.meeting_adopt, name="adopt"),
    path("<int:pk>/dinh-chinh/", views.amendment_add, name="amend"),
    path("xac-nhan/<str:token>/", views.rsvp, name="rsvp"),
    path("nhiem-vu/", views.my_tasks, name="my_tasks"),
    path("nhiem-vu/<int:task_pk>/", views.task_update, name="task_update"),
    # calendars: an organisation's month, the member's own feed (read by calendar apps without login)
    path("lich/<int:pk>/", views_calendar.calendar_month, name="calendar_month"),
    path("lich-cua-toi/", views_calendar.calendar_settings, name="calendar_settings"),
    path("lich-cua-toi/tao-moi/", views_calendar.calendar_feed_renew, name="calendar_feed_renew"),
    path("lich-cua-toi/tat/", views_calendar.calendar_feed_revoke, name="calendar_feed_revoke"),
    path("lich/<str:token>.ics", views_calendar.calendar_feed, name="calendar_feed"),
]
