"""The search page (/tim-kiem/?q=): organisations, members and meetings the user may see, grouped by kind.

Without ``loai`` each kind shows its best few results, with a link to all of them when there are more;
with ``loai`` one kind is listed page by page, with its count. The matching and the access rules are in
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
                rows, count, more = list(page.object_list), page.paginator.count, False
            else:
                # One more row than shown says whether there are more, without a COUNT over every match.
                page, count = None, None
                rows = list(found[: SUMMARY_SIZE + 1])
                more, rows = len(rows) > SUMMARY_SIZE, rows[:SUMMARY_SIZE]
            if key == "to-chuc":
                for organisation in rows:
                    organisation.found_url = reverse(
                        finders.organisation_link_name(request.user, organisation), args=[organisation.pk]
                    )
            groups.append({"key": key, "label": label, "rows": rows, "count": count, "more": more, "page": page})
    return render(
        request,
        "meetings/search.html",
        {
            "form": form,
            "groups": groups,
            "chosen": chosen,
            "query": query,
            "found_any": any(group["rows"] for group in groups),
        },
    )
