"""Dates, times and numbers as people read them, in the page's language (Babel, CLDR data).

The pages speak English (``en``, formatted as British English: ``en_GB``) and Welsh (``cy``);
:data:`CLDR_LOCALES` maps each to the CLDR locale whose conventions it follows. Times are shown
in the election's own time zone (an IANA name from the definition), never the server's:
``Saturday 24 September 2016, 11:42 BST``.

Vote figures arrive as the exact decimal strings the declaration publishes (``"1234.5000"``):
:func:`votes` groups their digits for the locale and keeps every decimal place, so a figure is
never rounded for display.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

__all__ = ["CLDR_LOCALES", "day", "moment", "number", "parse_instant", "percent", "votes"]

CLDR_LOCALES = {"en": "en_GB", "cy": "cy_GB"}
DAY = "EEEE d MMMM y"
MOMENT = "EEEE d MMMM y, HH:mm z"


def _cldr(locale: str) -> str:
    return CLDR_LOCALES.get(locale, "en_GB")


def number(value: int | Decimal | str, locale: str) -> str:
    """A whole number with the locale's grouping: ``1,234,567``."""
    return format_decimal(Decimal(str(value)), format="#,##0", locale=_cldr(locale))


def votes(value: object, locale: str) -> str:
    """A published figure (an exact decimal string or an integer) with the locale's grouping
    and every decimal place kept: ``"1234.50"`` -> ``1,234.50``. Anything that is not a
    number is shown as it is."""
    text = str(value)
    try:
        exact = Decimal(text)
    except InvalidOperation:
        return text
    if not exact.is_finite():
        return text
    places = max(0, -int(exact.as_tuple().exponent))
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(exact, format=pattern, locale=_cldr(locale), decimal_quantization=True)


def percent(value: object, locale: str) -> str:
    """A published percentage (``"61.8"``) as the locale writes it, every place kept."""
    return votes(value, locale) + "%"


def moment(when: datetime, zone: str, locale: str) -> str:
    """An instant in the election's time zone: ``Saturday 24 September 2016, 11:42 BST``."""
    return format_datetime(when, MOMENT, tzinfo=ZoneInfo(zone), locale=_cldr(locale))


def day(when: date, locale: str) -> str:
    """A calendar day: ``Saturday 24 September 2016``."""
    return format_date(when, DAY, locale=_cldr(locale))


def parse_instant(text: str) -> datetime:
    """An instant as the store writes it (ISO 8601, ``Z`` for UTC)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
