"""Counts the way each language writes them: 1.2万 / 3.4亿 in Chinese, 12.3K in English.

The feed script formats counts it receives later with `Intl.NumberFormat`
(compact notation, one decimal), which gives the same strings.
"""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.translation import get_language

register = template.Library()

CHINESE = [(10**8, "亿"), (10**4, "万")]
ENGLISH = [(10**9, "B"), (10**6, "M"), (10**3, "K")]


def _one_decimal(value: int, unit: int) -> Decimal:
    return (Decimal(value) / unit).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def compact(value: int, language: str) -> str:
    units = CHINESE if language.startswith("zh") else ENGLISH
    for index, (unit, suffix) in enumerate(units):
        if value >= unit:
            scaled = _one_decimal(value, unit)
            bigger = units[index - 1] if index else None
            if bigger and scaled * unit >= bigger[0]:  # 9999.96万 reads 1亿, 999.95K reads 1M
                scaled, suffix = _one_decimal(value, bigger[0]), bigger[1]
            return f"{scaled:f}".removesuffix(".0") + suffix
    return str(value)


@register.filter
def compact_count(value) -> str:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return ""
    return compact(number, get_language() or "zh-hans")
