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
