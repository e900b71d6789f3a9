import time

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils import translation
from django.views.i18n import set_language

from lib.client_address import client_address

from . import services
from .receivers import SESSION_ENROLLED, SESSION_SEEN
from .selectors import second_factor_required, totp_device_of


class PortalLocaleMiddleware:
    """Vietnamese unless the user chose another language (the set_language cookie).

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language: a party office's
    computers often run an English browser, and the portal's documents are Vietnamese.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in self.languages:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


# Pages and files that show members' personal data, the minutes, or an uploaded document: on the
# shared computers of a party office, neither the browser nor a proxy may keep a copy of them
# (the back button after logging out, the disk cache). Every file sent as an attachment is
# covered too, whatever its URL.
PRIVATE_VIEW_NAMES = frozenset(
    {
        # members
        "cells:organisation_detail",
        "cells:member_list",
        "cells:member_create",
        "cells:member_detail",
        "cells:member_update",
        "cells:member_transfer",
        "cells:member_exempt",
        "cells:member_export",
        "cells:member_import",
        "cells:member_import_confirm",
        "audit:audit_list",
        "audit:audit_export",
        "cells:member_reveal",
        "cells:my_personal_data",
        "cells:correction_list",
        "cells:correction_decide",
        "books:books_member_dues",
        "books:books_dues_relief",
        "books:books_dues_ledger",
        "books:books_dues_arrears",
        "books:books_lifecycle",
        "books:books_commitments",
        "books:books_commitment_paper",
        "books:books_commitment_mine",
        "books:books_member_admission",
        "books:books_member_full_membership",
        "books:books_member_exemption_end",
        "books:books_member_suspension",
        "books:books_member_removal",
        "cells:organisation_roles",
        "cells:role_end",
        # minutes and what they record
        "meetings:detail",
        "meetings:attendance",
        "meetings:rsvp",
        "meetings:minutes",
        "meetings:minutes_pdf",
        "meetings:my_home",
        "meetings:cell_home",
        "meetings:calendar_settings",
        "meetings:calendar_feed",
        "meetings:notice_pdf",
        "meetings:resolution_pdf",
        "meetings:minutes_book_pdf",
        "scoring:score_sheet_pdf",
        # the authenticator's secret, the recovery codes, where the user is signed in
        "account:two_factor_setup",
        "account:recovery_codes_regenerate",
        "account:sessions",
        "account:account",
        # files
        "meetings:document_download",
        "meetings:rsvp_document",
        "books:books_document_download",
        "admission:candidate_document_download",
        "books:books_dues_pdf",
        "books:books_dues_xlsx",
        "reports:run_download",
    }
)
PRIVATE_CACHE_CONTROL = "private, no-store"


class PrivateResponseMiddleware:
    """``Cache-Control: private, no-store`` on the answers of ``PRIVATE_VIEW_NAMES`` and on every download."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if (match is not None and match.view_name in PRIVATE_VIEW_NAMES) or response.has_header("Content-Disposition"):
            response["Cache-Control"] = PRIVATE_CACHE_CONTROL
        return response


class SecondFactorMiddleware:
    """After the password, the second factor before anything else (issue #21).

    A signed-in user who has not passed it in this session is sent to the code page when they have an
    authenticator app (anyone who enrolled), or to the enrolment page when their role requires one
    (``cells.selectors.second_factor_required``) and they have none yet. Every other page, the Django
    admin included, answers with that redirect until then; only the pages marked
    ``second_factor_exempt`` (the code and enrolment pages, logout) and the public ones open.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        request.second_factor_pending = False
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        enrolled = request.session.get(SESSION_ENROLLED)
        if enrolled is None:  # a session from before the second factor existed
            enrolled = request.session[SESSION_ENROLLED] = totp_device_of(user) is not None
        if not enrolled and not second_factor_required(user):
            return None
        request.second_factor_pending = True
        if (
            getattr(view_func, "second_factor_exempt", False)
            or not getattr(view_func, "login_required", True)
            or view_func is set_language
        ):
            return None
        target = "two_factor_verify" if enrolled else "account:two_factor_setup"
        return redirect_to_login(request.get_full_path(), reverse(target))


# The session list shows when each session was last used, to the minute: write it at most that often.
SESSION_TOUCH_SECONDS = 60


class SessionActivityMiddleware:
    """Keep "Hoạt động gần nhất" and the address of the user's session row current (one UPDATE a minute)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is None or session is None or not user.is_authenticated or not session.session_key:
            return response
        now = time.time()
        if now - session.get(SESSION_SEEN, 0) >= SESSION_TOUCH_SECONDS:
            services.user_session_touch(
                user=user,
                session_key=session.session_key,
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                ip_address=client_address(request) or None,
            )
            session[SESSION_SEEN] = now
        return response
