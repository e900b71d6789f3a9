from django.conf import settings
from django.utils import translation


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


class ContentSecurityPolicyMiddleware:
    """Send the portal's Content-Security-Policy (``settings.CONTENT_SECURITY_POLICY``) on every answer.

    Django 5.2 has no CSP of its own. The policy allows scripts and styles from the portal only:
    pages carry no inline ``<script>``, ``<style>``, ``style=`` or ``on…=`` handlers
    (their behaviour lives in static/js/portal.js). A view that sets its own header keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


# Pages and files that show members' personal data, the minutes, or an uploaded document: on the
# shared computers of a party office, neither the browser nor a proxy may keep a copy of them
# (the back button after logging out, the disk cache). Every file sent as an attachment is
# covered too, whatever its URL.
PRIVATE_VIEW_NAMES = frozenset({
    # members
    "organisation_detail", "member_list", "member_create", "member_detail", "member_update", "member_transfer",
    "member_exempt", "member_export", "member_import", "member_import_confirm", "audit_list", "audit_export",
    "books_member_dues", "books_dues_relief", "books_dues_ledger", "books_dues_arrears", "books_lifecycle",
    "books_commitments", "books_commitment_paper", "books_commitment_mine", "books_member_admission",
    "books_member_full_membership", "books_member_exemption_end", "books_member_suspension",
    "books_member_removal", "organisation_roles", "role_end",
    # minutes and what they record
    "meetings:detail", "meetings:attendance", "meetings:rsvp", "meetings:minutes", "meetings:minutes_pdf",
    "meetings:my_home", "meetings:cell_home",
    "meetings:notice_pdf", "meetings:resolution_pdf", "meetings:minutes_book_pdf", "scoring:score_sheet_pdf",
    # files
    "meetings:document_download", "books_document_download", "books_dues_pdf", "books_dues_xlsx",
    "reports:run_download",
})
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
