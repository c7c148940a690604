from django import template

from core.utils import format_money

register = template.Library()


@register.filter
def money(value, currency=None):
    return format_money(value, currency)


@register.filter
def multiply(value, arg):
    return value * arg
