"""The one way a list page is cut into pages: Django's Paginator, the page number in ``?trang=``.

Every paged list reads its page with ``page_of`` and shows ``templates/_partials/pagination.html``
("Trang 2/5" between the previous and next links), which keeps the list's other query parameters.
"""

from django.core.paginator import Page, Paginator

PAGE_PARAMETER = "trang"
PAGE_SIZE = 50


def page_of(request, rows, per_page: int = PAGE_SIZE) -> Page:
    """The page of ``rows`` the request asks for; a missing, bad or too large number gives the first or last page."""
    return Paginator(rows, per_page).get_page(request.GET.get(PAGE_PARAMETER))


def query_without_page(request) -> str:
    """The request's query string without the page number: for links that keep the filters of a list."""
    query = request.GET.copy()
    query.pop(PAGE_PARAMETER, None)
    return query.urlencode()
