"""The address of the client that sent a request, as seen through the portal's TLS proxy.

Production runs gunicorn on 127.0.0.1 behind a TLS-terminating proxy (README "Production"): there
``REMOTE_ADDR`` is the proxy's own address for every visitor, and anything keyed on it (the login
throttle, the verification page's rate limit, the session list) would treat all clients as one.
The proxy appends the address it received the connection from to ``X-Forwarded-For``; with
``settings.TRUSTED_PROXY_COUNT`` proxies in front, the client's address is the entry that many
places from the right. Entries further left were written by the client and may be forged, so they
are never read. With no trusted proxy (the default, and the development server) ``REMOTE_ADDR`` is
the client.
"""

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(forwarded) < count:
        return remote  # not through the proxy chain (a health check on the local port)
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
