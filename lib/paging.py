"""The one way a list page is cut into pages: Django's Paginator, the page number in ``?trang=``
(``?page=`` read as its alias, lib.query).

Every paged list reads its page with ``page_of`` and shows ``templates/_partials/pagination.html``
("Trang 2/5" between the previous and next links), which keeps the list's other query parameters.
"""

from django.core.paginator import Page, Paginator

from . import query

PAGE_PARAMETER = query.PAGE
PAGE_SIZE = 50


def page_of(request, rows, per_page: int = PAGE_SIZE) -> Page:
    """The page of ``rows`` the request asks for; a missing, bad or too large number gives the first or last page."""
    return Paginator(rows, per_page).get_page(query.value(request.GET, PAGE_PARAMETER) or None)


def query_without_page(request) -> str:
    """The request's query string without the page number: for links that keep the filters of a list."""
    params = request.GET.copy()
    for name in (PAGE_PARAMETER, query.ALIASES[PAGE_PARAMETER]):
        params.pop(name, None)
    return params.urlencode()
