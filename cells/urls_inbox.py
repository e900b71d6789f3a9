from django.urls import path

from . import views_inbox as views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/", views.notification_detail, name="notification_detail"),
    path("<int:pk>/tep-dinh-kem/", views.notification_attachment, name="notification_attachment"),
    path("danh-dau-da-doc/", views.inbox_mark_all_read, name="inbox_mark_all_read"),
    path("nhan-thu-nhac-viec/", views.reminder_email_preference, name="reminder_email_preference"),
]
