"""Customer and supplier names, emails and phone numbers, distinct per company.

Names are combinations of word lists taken in a seeded shuffled order; the pools of the
two companies share no words, so a name tells which tenant it belongs to. A large demo
that needs more names than a pool holds gets variants of them ("New Rahman Traders",
then "Rahman Traders 2"), after every name of the pool, so smaller demos are unchanged.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from companion.demo.streams import stream


@dataclass(frozen=True)
class PartyName:
    name: str
    email: str | None
    phone: str


_ACME_FAMILIES = (
    "Rahman",
    "Karim",
    "Hossain",
    "Chowdhury",
    "Bhuiyan",
    "Talukder",
    "Sarkar",
    "Mridha",
    "Sikder",
    "Mollah",
    "Haque",
    "Patwary",
    "Majumder",
    "Barua",
    "Akanda",
    "Saha",
)
_ACME_PLACES = (
    "Padma",
    "Meghna",
    "Jamuna",
    "Karnaphuli",
    "Surma",
    "Sonargaon",
    "Motijheel",
    "Gulshan",
    "Uttara",
    "Mirpur",
    "Narayanganj",
    "Gazipur",
    "Cumilla",
    "Bogura",
    "Rajshahi",
    "Khulna",
    "Barishal",
    "Rangpur",
    "Mymensingh",
    "Jashore",
    "Tangail",
    "Feni",
)
_ACME_TRADES = (
    "Traders",
    "Enterprise",
    "Electronics",
    "Trading House",
    "Distributors",
    "& Sons",
    "Bazar",
    "Mart",
    "Agency",
    "Emporium",
    "Telecom",
    "Digital Point",
    "Home Appliances",
    "Corporation",
)
_ACME_SUPPLIER_ORIGINS = (
    "Shenzhen",
    "Guangzhou",
    "Ningbo",
    "Kolkata",
    "Chennai",
    "Bangkok",
    "Penang",
    "Dhaka",
    "Chattogram",
    "Singapore",
)
_ACME_SUPPLIER_NAMES = (
    "Brightway",
    "Everstar",
    "Goldleaf",
    "Sunrise",
    "Lotus",
    "Greenfield",
    "Orient",
    "Unique",
    "Royal",
    "Silverline",
)
_ACME_SUPPLIER_KINDS = (
    "Electronics Co.",
    "Industrial Ltd",
    "Exports Pvt Ltd",
    "Appliances Co.",
    "Plastics Ltd",
    "Trading Pte",
)

_GLOBEX_PLACES = (
    "Pinecrest",
    "Lakeshore",
    "Riverside",
    "Granite",
    "Summit",
    "Cedar",
    "Oakridge",
    "Harbor",
    "Ironwood",
    "Bluewater",
    "Redstone",
    "Westfield",
    "Northgate",
    "Eastbrook",
    "Prairie",
    "Canyon",
    "Highland",
    "Willow",
)
_GLOBEX_TRADES = (
    "Industrial",
    "Machine",
    "Fabrication",
    "Equipment",
    "Motors",
    "Tooling",
    "Automation",
    "Hydraulics",
    "Controls",
    "Systems",
    "Engineering",
    "Conveyor",
)
_GLOBEX_FORMS = ("Inc.", "LLC", "Co.", "Corp.", "Group", "Partners")
_GLOBEX_SUPPLIER_REGIONS = (
    "Great Lakes",
    "Ohio Valley",
    "Keystone",
    "Appalachian",
    "Gulf Coast",
    "Rocky Mountain",
    "Midwest",
    "Tri-State",
    "Pacific",
    "Atlantic",
)
_GLOBEX_SUPPLIER_GOODS = (
    "Steel Supply",
    "Alloys",
    "Polymers",
    "Fasteners",
    "Castings",
    "Bearings",
    "Wire & Cable",
    "Packaging",
    "Coatings",
    "Industrial Gases",
    "Electric Motors",
)


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())


def _unique(
    candidates: list[str], count: int, rng: random.Random, variants: tuple[str, ...]
) -> list[str]:
    """``count`` distinct names: the pool in a seeded order, then variants of it.

    The pool's own names come first, in the same order whatever ``count`` is, so a larger
    demo only adds names. Past the pool each name comes again through the next template of
    ``variants`` and then numbered ("Rahman Traders 2"), which never runs out.
    """
    rng.shuffle(candidates)
    base = list(dict.fromkeys(candidates))
    result = base[:count]
    for template in _templates(variants):
        if len(result) == count:
            return result
        result.extend(template.format(name) for name in base[: count - len(result)])
    raise AssertionError("unreachable: _templates never ends")


def _templates(variants: tuple[str, ...]) -> Iterator[str]:
    yield from variants
    for n in itertools.count(2):
        yield f"{{}} {n}"


def _bd_phone(rng: random.Random) -> str:
    return f"+880 1{rng.choice('3456789')}{rng.randint(10, 99)}-{rng.randint(100000, 999999)}"


def _us_phone(rng: random.Random) -> str:
    area = rng.choice(("614", "313", "216", "412", "317", "502"))
    return f"+1 {area}-555-{rng.randint(100, 199):04d}"


def customer_names(slug: str, count: int) -> list[PartyName]:
    """``count`` distinct customer names of company ``slug``."""
    rng = stream(slug, "customer-names")
    if slug == "acme":
        pool = [f"{w} {t}" for w in _ACME_FAMILIES + _ACME_PLACES for t in _ACME_TRADES]
        names = _unique(pool, count, rng, ("New {}",))
        return [
            PartyName(
                n,
                None if rng.random() < 0.2 else f"accounts@{_slugify(n)}.com.bd",
                _bd_phone(rng),
            )
            for n in names
        ]
    pool = [f"{p} {t} {f}" for p in _GLOBEX_PLACES for t in _GLOBEX_TRADES for f in _GLOBEX_FORMS]
    names = _unique(pool, count, rng, ())
    return [PartyName(n, f"ap@{_slugify(n.rsplit(' ', 1)[0])}.com", _us_phone(rng)) for n in names]


def supplier_names(slug: str, count: int) -> list[PartyName]:
    """``count`` distinct supplier names of company ``slug``."""
    rng = stream(slug, "supplier-names")
    if slug == "acme":
        pool = [
            f"{o} {n} {k}"
            for o in _ACME_SUPPLIER_ORIGINS
            for n in _ACME_SUPPLIER_NAMES
            for k in _ACME_SUPPLIER_KINDS
        ]
        names = _unique(pool, count, rng, ())
        return [PartyName(n, f"sales@{_slugify(n)}.com", _bd_phone(rng)) for n in names]
    pool = [f"{r} {g}" for r in _GLOBEX_SUPPLIER_REGIONS for g in _GLOBEX_SUPPLIER_GOODS]
    names = _unique(pool, count, rng, ("{} Company",))
    return [PartyName(n, f"orders@{_slugify(n)}.com", _us_phone(rng)) for n in names]
