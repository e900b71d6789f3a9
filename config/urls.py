from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cells import views as cell_views
from cells import views_account as account_views
from cells import views_password
from meetings import views as meeting_views
from meetings import views_search

urlpatterns = [
    path("", cell_views.home, name="home"),
    path("dang-nhap/", auth_views.LoginView.as_view(), name="login"),
    path("dang-xuat/", account_views.second_factor_exempt(auth_views.LogoutView.as_view()), name="logout"),
    # The second step of signing in (cells.middleware.SecondFactorMiddleware), and the user's own account.
    path("xac-thuc/", account_views.two_factor_verify, name="two_factor_verify"),
    path("tai-khoan/", include("cells.urls_account")),
    path("doi-mat-khau/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("doi-mat-khau/xong/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("quen-mat-khau/", views_password.PasswordResetView.as_view(), name="password_reset"),
    path("quen-mat-khau/da-gui/", views_password.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "dat-lai-mat-khau/<uidb64>/<token>/",
        views_password.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("dat-lai-mat-khau/xong/", views_password.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("favicon.ico", cell_views.favicon, name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("cells.urls")),
    path("so-sach/", include("cells.urls_books")),
    path("hop-thu/", include("cells.urls_inbox")),
    path("nhat-ky/", include("cells.urls_audit")),
    path("boi-duong/", include("cells.urls_training")),
    path("ket-nap/", include("cells.urls_admission")),
    path("sinh-hoat/", include("meetings.urls")),
    # Public, no login: anyone holding a printed document checks it against the filed copy (issue #14).
    path("xac-minh/", meeting_views.verify_lookup, name="verify_lookup"),
    path("xac-minh/<str:code>/", meeting_views.verify_document, name="verify_document"),
    path("tim-kiem/", views_search.search, name="search"),
    path("bao-cao/", include("reports.urls")),
    path("cham-diem/", include("scoring.urls")),
    path("quan-tri/", admin.site.urls),
]

# Development server only. In production nothing serves MEDIA_ROOT: uploaded files go out through the
# access-checked download views (tests/security/test_deploy.py, tests/security/test_access_matrix.py).
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
