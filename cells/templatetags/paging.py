from django import template

from lib.paging import PAGE_PARAMETER
from lib.query import ALIASES

register = template.Library()


@register.simple_tag(takes_context=True)
def page_url(context, number) -> str:
    """``?<the current query>&trang=<number>``: the link to another page of the same filtered list."""
    request = context.get("request")
    if request is None:
        return f"?{PAGE_PARAMETER}={number}"
    query = request.GET.copy()
    query.pop(ALIASES[PAGE_PARAMETER], None)
    query[PAGE_PARAMETER] = str(number)
    return f"?{query.urlencode()}"
