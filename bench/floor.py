"""The floor: the cheapest request the same stack can answer, measured in the same run.

``bare`` runs one trivial query and returns a few bytes through the full middleware stack (sessions,
authentication, CSRF, locale, axes); ``layout`` does the same and renders ``base.html`` with no
content (informative: the share of a page that is the site's layout). The harness mounts them with
``override_settings(ROOT_URLCONF=...)``; nothing here is reachable from the site's own URLconf.
"""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path

from config import urls as site_urls


@login_not_required
def bare(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok", content_type="text/plain")


@login_not_required
def layout(request):
    """The site layout with no content: what any server-rendered page pays before its own work."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return render(request, "base.html", {})


# The site's own URLs stay mounted: the layout links to them by name.
urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("bench/layout/", layout, name="bench_layout"),
    *site_urls.urlpatterns,
]

# The SQL floor of the reports: one hand-written aggregate over every attendance row, per meeting.
ATTENDANCE_AGGREGATE_SQL = """
SELECT meeting_id,
       COUNT(*) AS expected,
       AVG(CASE WHEN presence IN ('present', 'late') THEN 1.0 ELSE 0.0 END) AS attendance_rate
FROM meetings_attendance
GROUP BY meeting_id
"""
