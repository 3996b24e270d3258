"""Money arithmetic: Decimal only, rounded half up to the currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")

# Minor units for the currencies the demo and tests use; two decimals otherwise.
_MINOR_UNITS = {"JPY": 0, "KWD": 3, "BHD": 3}
_INDIAN_LOCALES = ("en_IN", "bn_BD", "bn")
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "BDT": "৳", "INR": "₹", "JPY": "¥"}


def quantize(value: Decimal, scale: int = 2) -> Decimal:
    """Round half up to ``scale`` decimal places."""
    return value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def money(value: Decimal | int | str) -> Decimal:
    """A Decimal rounded to cents; refuses floats, which cannot hold money exactly."""
    if isinstance(value, float):
        raise TypeError("money must not be built from a float")
    return quantize(Decimal(value))


def percent_of(amount: Decimal, pct: Decimal) -> Decimal:
    """``pct`` percent of ``amount``, rounded to cents."""
    return quantize(amount * pct / HUNDRED)


def format_money(amount: Decimal, currency: str, locale: str = "en") -> str:
    """``BDT 1,234,567.00``; Indian-style grouping for the ``en_IN``/``bn`` locales."""
    places = _MINOR_UNITS.get(currency, 2)
    value = quantize(amount, places)
    sign = "-" if value < 0 else ""
    return f"{sign}{currency} {group_digits(abs(value), locale, places)}"


def currency_symbol(currency: str) -> str:
    """The usual symbol of a currency, or its code."""
    return _SYMBOLS.get(currency, currency)


def group_digits(value: Decimal | int, locale: str = "en", places: int = 0) -> str:
    """``1,234,567`` (or ``12,34,567`` for Indian-style locales), rounded to ``places``."""
    amount = quantize(Decimal(value), places)
    sign = "-" if amount < 0 else ""
    whole, _, frac = f"{abs(amount):.{places}f}".partition(".")
    if locale in _INDIAN_LOCALES and len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        grouped = ",".join([*groups, tail])
    else:
        grouped = f"{int(whole):,}"
    return f"{sign}{grouped}.{frac}" if places else f"{sign}{grouped}"
