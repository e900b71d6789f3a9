"""Filters of the Party-format documents (templates/documents/)."""

from django import template

from lib.formatting import balanced_lines

register = template.Library()


@register.filter
def balanced(text, width=24):
    """``{% for line in name|balanced %}``: the name in balanced lines (lib.formatting.balanced_lines)."""
    return balanced_lines(str(text or ""), int(width))
