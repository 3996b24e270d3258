"""Detectors for structured personal data: each finds (start, end) spans of one type.

Shapes alone are not enough in ERP chat, where document numbers (INV-2026-0001), amounts
(BDT 1,25,000.00), dates, quantities and account codes look like phone numbers or IDs. So
every detector checks something beyond the shape: a check digit (cards, IBANs), a number
plan (phones), the SSA's rules (SSNs), the octets (IPv4), a context word (Bangladesh NIDs),
and none matches digits glued to a document prefix or inside a longer figure.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator

from companion.governance.pii.checksums import (
    IBAN_LENGTHS,
    card_brand_plausible,
    iban_valid,
    luhn_valid,
)

Detector = Callable[[str], Iterator[tuple[int, int]]]

# Not in the middle of a word or a figure: no letter, digit or '+' just before; not after
# "digit-" / "digit." / "digit," / "digit/" (a longer figure, a date); not after a document
# prefix ("INV-", "PO-").
_LEFT = r"(?<![\w+@])(?<!\d[-./,])(?<![A-Z]-)"
# ...and not followed by a letter or digit, nor by "-digit" / ".digit" / ",digit" / "/digit".
_RIGHT = r"(?![\w@])(?![-./,]\d)"

# A number right after one of these words is a ledger figure however it looks: "cheque no
# 524-202-1930", "our BIN is 0012345678", "batch 999-261-6369".
_LEDGER_WORD = re.compile(
    r"\b(?:cheque|chq|check|voucher|vch|ref|reference|txn|trx|transaction|batch|lot|serial|"
    r"s/n|lc|l/c|a/c|acct?|account|bin|tin|vat|bill|order|grn|challan|licen[cs]e|reg|"
    r"registration|balance|folio|barcode|sku|hs\s+code|tracking|awb|container|bl|b/l)"
    r"(?:\s*(?:no\.?|number|num|#|id|code|is|:))*\s*[:#.-]?\s*$",
    re.IGNORECASE,
)


def after_ledger_word(text: str, start: int) -> bool:
    """Whether the number starting at ``start`` follows a word naming a ledger figure."""
    return _LEDGER_WORD.search(text, max(0, start - 32), start) is not None


_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)


def find_emails(text: str) -> Iterator[tuple[int, int]]:
    """E-mail addresses (ASCII local part and domain, a TLD of letters)."""
    if "@" not in text:
        return
    for match in _EMAIL.finditer(text):
        yield match.span()


# Bangladesh mobiles: 01[3-9] + 8 digits, or with the country code (+880 / 880 / +88 0...),
# digits grouped any way by single spaces or hyphens.
_BD_MOBILE = re.compile(_LEFT + r"(?:(?:\+|00)?88[ -]?0?[ -]?|0)1[3-9](?:[ -]?\d){8}" + _RIGHT)
# North American numbers written as phone numbers: (212) 555-0123, 212-555-0123,
# 212.555.0123, +1 212 555 0123. A bare run of 10 digits is a figure, not a phone.
_US_PHONE = re.compile(
    _LEFT
    + r"(?:(?:\+1|1)[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}"
    + _RIGHT
)
# International: '+' (or '00') and a country code, then 7-14 more digits in groups.
_INTL_PHONE = re.compile(r"(?<![\w+])(?:\+|\b00)[1-9]\d{0,3}(?:[ .-]?\(?\d{1,5}\)?){1,6}" + _RIGHT)


# Bangladesh landlines (Dhaka 02-9555123, Chattogram 031-712345): a leading 0 and an area
# code, too like a figure to take without a phone word just before.
_BD_LANDLINE = re.compile(_LEFT + r"0[2-9]\d{0,3}[ -]?\d{5,8}" + _RIGHT)
# ...and North American numbers written as ten bare digits ("call 2125550123").
_US_BARE = re.compile(_LEFT + r"[2-9]\d{2}[2-9]\d{6}" + _RIGHT)
_PHONE_WORD = re.compile(
    r"\b(?:tel|telephone|phone|ph|fax|landline|call|ring|dial|mobile|cell|whatsapp|sms)"
    r"\b(?:\s*(?:no\.?|number|#|is|on|at|:))*\W{0,3}$|ফোন\W{0,3}$",
    re.IGNORECASE,
)


def find_phones(text: str) -> Iterator[tuple[int, int]]:
    """Phone numbers: Bangladesh, North American and international (E.164) forms."""
    for pattern in (_BD_MOBILE, _US_PHONE, _INTL_PHONE):
        if pattern is _INTL_PHONE and "+" not in text and "00" not in text:
            continue
        for match in pattern.finditer(text):
            number = match.group(0)
            if number[0] != "+" and after_ledger_word(text, match.start()):
                continue
            if pattern is _INTL_PHONE:
                digits = sum(ch.isdigit() for ch in number)
                if not 8 <= digits - (0 if number[0] == "+" else 1) <= 15:
                    continue
            yield match.span()
    for match in _BD_LANDLINE.finditer(text):
        digits = sum(ch.isdigit() for ch in match.group(0))
        if 9 <= digits <= 11 and _after_phone_word(text, match.start()):
            yield match.span()
    for match in _US_BARE.finditer(text):
        if _after_phone_word(text, match.start()):
            yield match.span()


def _after_phone_word(text: str, start: int) -> bool:
    return _PHONE_WORD.search(text, max(0, start - 24), start) is not None


# Bangladesh NIDs are 10 (smart card), 13 or 17 (old, with the birth year) digits; a run of
# digits that long is also a bank account or a reference, so a context word must be near.
# (Not _LEFT: "NID-4567891230" is an ID after its own prefix, not a document number.)
_DIGIT_RUN = re.compile(r"(?<![\w+@])(?<!\d[-./,])\d(?:[ -]?\d){9,16}" + _RIGHT)
_NID_CONTEXT = re.compile(
    r"\b(?:nid|n\.i\.d\.?|national\s+id(?:entity)?|national\s+identity|voter\s+id|"
    r"jatiy?o\s+porichoy|porichoy\s*potro|smart\s*card|id\s+card)|এনআইডি|জাতীয়\s*পরিচয়",
    re.IGNORECASE,
)
_NID_LENGTHS = frozenset({10, 13, 17})


def find_bd_nids(text: str) -> Iterator[tuple[int, int]]:
    """Bangladesh national ID numbers (10, 13 or 17 digits) with a context word near them."""
    for match in _DIGIT_RUN.finditer(text):
        digits = sum(ch.isdigit() for ch in match.group(0))
        if digits not in _NID_LENGTHS:
            continue
        start, end = match.span()
        window = text[max(0, start - 40) : start] + " " + text[end : end + 25]
        if _NID_CONTEXT.search(window):
            yield start, end


_SSN_DASHED = re.compile(_LEFT + r"(\d{3})([- ])(\d{2})\2(\d{4})" + _RIGHT)
_SSN_BARE = re.compile(_LEFT + r"(\d{3})(\d{2})(\d{4})" + _RIGHT)
_SSN_CONTEXT = re.compile(r"\b(?:ssn|social\s+security|ss\s*#|ss\s+no)", re.IGNORECASE)


def _ssn_valid(area: str, group: str, serial: str) -> bool:
    return (
        area not in ("000", "666") and not area.startswith("9") and group != "00"
        and serial != "0000"
    )  # fmt: skip


def find_us_ssns(text: str) -> Iterator[tuple[int, int]]:
    """US social security numbers: 123-45-6789 anywhere, nine bare digits beside 'SSN'."""
    for match in _SSN_DASHED.finditer(text):
        area, sep, group, serial = match.groups()
        if sep == " " and not _SSN_CONTEXT.search(text[max(0, match.start() - 30) : match.start()]):
            continue
        if _ssn_valid(area, group, serial) and not after_ledger_word(text, match.start()):
            yield match.span()
    for match in _SSN_BARE.finditer(text):
        start = match.start()
        if _SSN_CONTEXT.search(text[max(0, start - 30) : start]) and _ssn_valid(*match.groups()):
            yield match.span()


_CARD_RUN = re.compile(_LEFT + r"\d(?:[ -]?\d){12,18}" + _RIGHT)
_GROUPED = re.compile(r"\d{4}(?:([ -])\d{4}){2,3}(?:\1\d{1,4})?|\d{4}([ -])\d{6}\2\d{4,5}")
# A long bare number after these words is a bank account, not a card.
_ACCOUNT_CONTEXT = re.compile(r"\b(?:a/c|acct?|account|hisab|ac\s+no)\b", re.IGNORECASE)
_CARD_CONTEXT = re.compile(r"\bcard\b", re.IGNORECASE)


def find_cards(text: str) -> Iterator[tuple[int, int]]:
    """Payment card numbers: 13-19 digits, an issuer's prefix, Luhn-valid."""
    for match in _CARD_RUN.finditer(text):
        raw = match.group(0)
        digits = raw.replace(" ", "").replace("-", "")
        if not (13 <= len(digits) <= 19 and card_brand_plausible(digits) and luhn_valid(digits)):
            continue
        if raw != digits and not _GROUPED.fullmatch(raw):
            continue  # odd grouping: several figures side by side, not one card
        before = text[max(0, match.start() - 30) : match.start()]
        if raw == digits and _ACCOUNT_CONTEXT.search(before) and not _CARD_CONTEXT.search(before):
            continue
        if after_ledger_word(text, match.start()):
            continue
        yield match.span()


_IBAN_START = re.compile(r"(?<![\w])([A-Za-z]{2})(\d{2})(?=[ ]?[A-Za-z0-9])")


def find_ibans(text: str) -> Iterator[tuple[int, int]]:
    """IBANs of any IBAN country, compact or in groups of four, checked mod 97."""
    for match in _IBAN_START.finditer(text):
        length = IBAN_LENGTHS.get(match.group(1).upper())
        if length is None:
            continue
        count, pos = 4, match.end()
        while count < length and pos < len(text):
            char = text[pos]
            if char.isascii() and char.isalnum():
                count += 1
            elif not (char == " " and pos + 1 < len(text) and text[pos + 1].isalnum()):
                break
            pos += 1
        if count != length or (pos < len(text) and text[pos].isalnum()):
            continue
        if iban_valid(text[match.start() : pos]):
            yield match.start(), pos


_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"(?![\w]|\.\d)"
)
# A dotted number after these words is a section or a version, not an address.
_NOT_IP_CONTEXT = re.compile(r"(?:section|clause|sec\.|para|version|ver\.|v)\s*$", re.IGNORECASE)
_IPV6 = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
_TIME = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?")


def find_ips(text: str) -> Iterator[tuple[int, int]]:
    """IPv4 addresses (four octets 0-255) and IPv6 addresses the stdlib accepts."""
    if "." in text:
        for match in _IPV4.finditer(text):
            if match.group(0).startswith("127.") or match.group(0) == "0.0.0.0":
                continue  # this machine or any address: nobody's personal data
            if not _NOT_IP_CONTEXT.search(text[max(0, match.start() - 12) : match.start()]):
                yield match.span()
    if text.count(":") >= 2:
        for match in _IPV6.finditer(text):
            candidate = match.group(0)
            if _TIME.fullmatch(candidate) or candidate.count(":") < 2:
                continue
            try:
                address = ipaddress.IPv6Address(candidate)
            except ValueError:
                continue
            if not (address.is_loopback or address.is_unspecified):
                yield match.span()


# Type -> detector, in order of precedence when two spans of the same length overlap.
DETECTORS: dict[str, Detector] = {
    "EMAIL": find_emails,
    "IBAN": find_ibans,
    "CARD": find_cards,
    "SSN": find_us_ssns,
    "NID": find_bd_nids,
    "PHONE": find_phones,
    "IP": find_ips,
}
