"""Masks of personal values in templates (the rule: cells/privacy.py)."""

from django import template

from cells.privacy import mask

register = template.Library()


@register.filter
def mask_citizen_id(value):
    return mask("citizen_id", value)


@register.filter
def mask_phone(value):
    return mask("phone", value)
