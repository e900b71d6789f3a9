"""The search page (/tim-kiem/?q=): organisations, members and meetings the user may see, grouped by kind.

Without ``loai`` each kind shows its best few results and how many there are, with a link to all of
them; with ``loai`` one kind is listed page by page. The matching and the access rules are in
``meetings.search``; the number of queries does not depend on the number of results.
"""

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from lib.paging import page_of

from . import search as finders
from .forms import SearchForm

SUMMARY_SIZE = 5
PAGE_SIZE = 20
GROUPS = (
    ("to-chuc", _("Tổ chức đảng"), finders.organisations_found),
    ("dang-vien", _("Đảng viên"), finders.members_found),
    ("sinh-hoat", _("Buổi sinh hoạt"), finders.meetings_found),
)


@require_GET
def search(request):
    form = SearchForm(request.GET or None)
    groups, chosen, query = [], "", ""
    if form.is_valid():
        query, chosen = form.cleaned_data["q"], form.cleaned_data["loai"]
        for key, label, finder in GROUPS:
            if chosen and key != chosen:
                continue
            found = finder(user=request.user, query=query)
            if chosen:
                page = page_of(request, found, PAGE_SIZE)
                rows, count = list(page.object_list), page.paginator.count
            else:
                page, count = None, found.count()
                rows = list(found[:SUMMARY_SIZE]) if count else []
            if key == "to-chuc":
                for organisation in rows:
                    organisation.found_url = reverse(finders.organisation_link_name(request.user, organisation),
                                                     args=[organisation.pk])
            groups.append({"key": key, "label": label, "rows": rows, "count": count, "page": page})
    return render(request, "meetings/search.html", {
        "form": form, "groups": groups, "chosen": chosen, "query": query,
        "total": sum(group["count"] for group in groups), "kinds": [(key, label) for key, label, _f in GROUPS],
    })
