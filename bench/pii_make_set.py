"""Writes the labelled PII set (src/companion/governance/pii/eval/pii_set.yml).

ERP chat in English and Banglish: messages with e-mails, phones, national IDs, cards, IBANs,
IP addresses and person names, and messages whose document numbers, amounts, dates,
quantities, account codes and phone-like ledger figures must survive. Templates are written
by hand; the values are drawn with a fixed seed (valid check digits where the real thing
has them), so the same command writes the same file. Each item lists its PII spans and the
hard-negative strings in it.

    .venv/bin/python bench/pii_make_set.py [--out FILE] [--seed 15]
"""

from __future__ import annotations

import argparse
import random
import re
import string
from collections.abc import Callable
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parents[1] / "src/companion/governance/pii/eval/pii_set.yml"

FIRST = ["Rahim", "Karim", "Fatema", "Nusrat", "Tanvir", "Shakib", "Ayesha", "Imran",
         "Sadia", "Mahmud", "Farhana", "Arif", "John", "Sarah", "Michael", "Priya", "Ahmed",
         "Jannat", "Sumon", "Rafiq"]  # fmt: skip
LAST = ["Uddin", "Hossain", "Begum", "Jahan", "Ahmed", "Hasan", "Rahman", "Chowdhury",
        "Islam", "Akter", "Smith", "Miller", "Khan", "Sarkar", "Das", "Roy"]  # fmt: skip
DOMAINS = ["gmail.com", "yahoo.com", "acme.com.bd", "tangail-traders.com", "globex.us",
           "outlook.com", "bd-steel.com.bd", "mail.khulnaemporium.com",
           "hotmail.co.uk"]  # fmt: skip
COMPANIES = ["Tangail Traders", "Khulna Emporium", "Dhaka Steel", "Sylhet Tea House",
             "Chittagong Marine", "Globex Supplies", "Rajshahi Silk", "Comilla Foods"]  # fmt: skip
ITEMS = ["cement bags", "steel rods", "rice", "tea chests", "PVC pipes", "LED panels"]
WAREHOUSES = ["WH-01", "WH-02", "Gazipur WH", "Narayanganj depot"]


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        digits = body + check
        total = 0
        for i, ch in enumerate(reversed(digits)):
            v = int(ch) * (2 if i % 2 else 1)
            total += v - 9 if v > 9 else v
        if total % 10 == 0:
            return digits
    raise AssertionError


# Each country's BBAN format from SWIFT's IBAN registry (a: letters, n: digits, c: either).
IBAN_BBAN = {"GB": "4a14n", "DE": "18n", "FR": "10n11c2n", "AE": "19n", "SA": "2n18c",
             "PK": "4a16c", "NL": "4a10n", "IT": "1a10n12c", "ES": "20n", "CH": "5n12c",
             "TR": "6n16c"}  # fmt: skip


def iban(rng: random.Random) -> str:
    country = rng.choice(sorted(IBAN_BBAN))
    bban = ""
    for count, kind in re.findall(r"(\d+)([anc])", IBAN_BBAN[country]):
        pool = {"a": string.ascii_uppercase, "n": string.digits}.get(
            kind, string.ascii_uppercase + string.digits
        )
        bban += "".join(rng.choice(pool) for _ in range(int(count)))
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(numeric) % 97
    compact = f"{country}{check:02d}{bban}"
    if rng.random() < 0.5:
        return compact
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def card(rng: random.Random) -> str:
    brand = rng.choice(["visa", "visa", "mc", "mc2", "amex", "disc", "jcb"])
    prefix, length = {
        "visa": ("4", 16),
        "mc": (str(rng.randint(51, 55)), 16),
        "mc2": (str(rng.randint(2221, 2720)), 16),
        "amex": (rng.choice(["34", "37"]), 15),
        "disc": ("6011", 16),
        "jcb": ("35" + str(rng.randint(28, 89)), 16),
    }[brand]
    digits = luhn_complete(prefix, length, rng)
    style = rng.choice(["space", "dash", "bare", "space"])
    if style == "bare":
        return digits
    sep = " " if style == "space" else "-"
    if length == 15:
        return sep.join([digits[:4], digits[4:10], digits[10:]])
    return sep.join(digits[i : i + 4] for i in range(0, 16, 4))


def bd_phone(rng: random.Random) -> str:
    op = rng.choice("3456789")
    rest = "".join(rng.choice(string.digits) for _ in range(8))
    local = f"01{op}{rest}"
    return rng.choice(
        [
            local,
            local,
            f"{local[:5]}-{local[5:]}",
            f"{local[:5]} {local[5:]}",
            f"{local[:5]} {local[5:8]} {local[8:]}",
            f"+880{local[1:]}",
            f"+880 {local[1:5]}-{local[5:]}",
            f"+880-{local[1:5]}-{local[5:]}",
            f"+88 {local[:5]}-{local[5:]}",
            f"880{local[1:]}",
        ]
    )


def us_phone(rng: random.Random) -> str:
    area = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
    exch = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
    line = f"{rng.randint(0, 9999):04d}"
    return rng.choice(
        [
            f"({area}) {exch}-{line}",
            f"{area}-{exch}-{line}",
            f"{area}.{exch}.{line}",
            f"+1 {area} {exch} {line}",
            f"+1 ({area}) {exch}-{line}",
            f"1-{area}-{exch}-{line}",
            f"+1-{area}-{exch}-{line}",
        ]
    )


def intl_phone(rng: random.Random) -> str:
    return rng.choice(
        [
            f"+44 20 {rng.randint(7000, 8999)} {rng.randint(1000, 9999)}",
            f"+44 7{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
            f"+91 9{rng.randint(1000, 9999)} {rng.randint(10000, 99999)}",
            f"+971 4 {rng.randint(200, 999)} {rng.randint(1000, 9999)}",
            f"+971-50-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            f"+65 6{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            f"+86 13{rng.randint(0, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
            f"+49 30 {rng.randint(100000, 9999999)}",
            f"+61 2 {rng.randint(8000, 9999)} {rng.randint(1000, 9999)}",
            f"+966 5{rng.randint(0, 9)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            f"+60 12-{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            f"+9779{rng.randint(100000000, 999999999)}",
            f"0044 20 {rng.randint(7000, 8999)} {rng.randint(1000, 9999)}",
        ]
    )


def nid(rng: random.Random) -> str:
    length = rng.choice([10, 13, 17])
    if length == 17:
        return f"{rng.randint(1960, 2004)}{rng.randint(10**12, 10**13 - 1)}"
    return str(rng.randint(10 ** (length - 1), 10**length - 1))


def ssn(rng: random.Random) -> str:
    area = rng.choice([n for n in range(1, 900) if n != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def ssn_bare(rng: random.Random) -> str:
    return ssn(rng).replace("-", "")


def ipv4(rng: random.Random) -> str:
    first = rng.choice([10, 172, 192, 203, 103, 45, 8])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(8)]
    style = rng.choice(["full", "compressed", "ll"])
    if style == "full":
        return ":".join(groups)
    if style == "ll":
        return "fe80::" + ":".join(groups[4:])
    return "2001:db8:" + groups[2] + "::" + groups[6] + ":" + groups[7]


def email(rng: random.Random) -> str:
    first, last = rng.choice(FIRST).lower(), rng.choice(LAST).lower()
    local = rng.choice(
        [
            f"{first}.{last}",
            f"{first}{rng.randint(1, 99)}",
            f"{first[0]}_{last}",
            f"{first}",
            "accounts",
            "billing.team",
            f"{first}+erp",
        ]  # fmt: skip
    )
    value = f"{local}@{rng.choice(DOMAINS)}"
    return value if rng.random() > 0.15 else value.title()


def name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


# Hard negatives: ERP figures that look like personal data and must survive.
def doc(rng: random.Random) -> str:
    prefix = rng.choice(["INV", "PO", "SO", "GRN", "DN", "JV", "BILL", "RCPT"])
    return f"{prefix}-{rng.choice([2025, 2026])}-{rng.randint(1, 9999):04d}"


def lakh(n: int) -> str:
    s = str(n)
    if len(s) <= 3:
        return s
    head, tail = s[:-3], s[-3:]
    parts = []
    while len(head) > 2:
        parts.insert(0, head[-2:])
        head = head[:-2]
    if head:
        parts.insert(0, head)
    return ",".join(parts) + "," + tail


def amount(rng: random.Random) -> str:
    n = rng.randint(1000, 99_999_999)
    return rng.choice(
        [
            f"BDT {lakh(n)}.00",
            f"Tk {lakh(n)}",
            f"{n:,}",
            f"USD {n:,}.{rng.randint(0, 99):02d}",
            f"BDT {n:,}",
            f"৳{lakh(n)}",
            f"{lakh(n)}/-",
        ]
    )


def date(rng: random.Random) -> str:
    y, m, d = rng.choice([2025, 2026]), rng.randint(1, 12), rng.randint(1, 28)
    month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return rng.choice(
        [
            f"{y}-{m:02d}-{d:02d}",
            f"{d:02d}/{m:02d}/{y}",
            f"{d} {month[m - 1]} {y}",
            f"{d:02d}.{m:02d}.{y}",
            f"{month[m - 1]} {d}, {y}",
            f"{d:02d}-{m:02d}-{y}",
        ]  # fmt: skip
    )


def qty(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randint(1, 5000):,} pcs",
            f"{rng.randint(1, 900)} kg",
            f"{rng.randint(2, 80)} cartons",
            f"{rng.randint(100, 99999)} units",
            f"{rng.randint(1, 60)} bags",
            f"{rng.randint(1, 12)} ton",
        ]  # fmt: skip
    )


def account_code(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randint(1000, 9999)}",
            f"{rng.randint(1000, 9999)}-{rng.randint(1, 99):02d}",
            f"{rng.randint(1000, 9999)}.{rng.randint(100, 999)}",
            f"{rng.randint(1000, 9999)}-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            f"CC-{rng.randint(100, 999)}",
        ]  # fmt: skip
    )


def ledger_figure(rng: random.Random) -> str:
    """Long numbers an ERP is full of: cheques, vouchers, BIN/TIN, LC and bank accounts."""
    return rng.choice(
        [
            f"{rng.randint(10**9, 10**10 - 1)}",
            f"{rng.randint(10**10, 10**11 - 1)}",
            f"{rng.randint(10**12, 10**13 - 1)}",
            f"{rng.randint(10**15, 10**16 - 1)}",
            f"{rng.randint(10**8, 10**9 - 1)}-{rng.randint(1000, 9999)}",
            f"{rng.randint(10**5, 10**6 - 1)}",
            f"0{rng.randint(10**9, 10**10 - 1)}",
            f"{rng.randint(10**16, 10**17 - 1)}",
            f"{rng.randint(100, 999)}-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
        ]
    )


def version(rng: random.Random) -> str:
    return f"{rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"


def clock(rng: random.Random) -> str:
    return f"{rng.randint(8, 20)}:{rng.choice(['00', '15', '30', '45'])}"


SLOTS: dict[str, tuple[str | None, Callable[[random.Random], str]]] = {
    "email": ("EMAIL", email),
    "bdphone": ("PHONE", bd_phone),
    "usphone": ("PHONE", us_phone),
    "intlphone": ("PHONE", intl_phone),
    "nid": ("NID", nid),
    "ssn": ("SSN", ssn),
    "ssnbare": ("SSN", ssn_bare),
    "card": ("CARD", card),
    "iban": ("IBAN", iban),
    "ip4": ("IP", ipv4),
    "ip6": ("IP", ipv6),
    "name": ("PERSON", name),
    "doc": (None, doc),
    "amount": (None, amount),
    "date": (None, date),
    "qty": (None, qty),
    "acct": (None, account_code),
    "fig": (None, ledger_figure),
    "ver": (None, version),
    "time": (None, clock),
    "co": ("", lambda rng: rng.choice(COMPANIES)),
    "item": ("", lambda rng: rng.choice(ITEMS)),
    "wh": ("", lambda rng: rng.choice(WAREHOUSES)),
}

# Messages with personal data (some also holding figures that must survive).
PII_TEMPLATES = [
    "mail me the statement at {email}",
    "send {doc} to {email} please",
    "customer er email {email}, invoice ta pathao",
    "update {co} contact: {name}, {email}, {bdphone}",
    "call {name} on {bdphone} about {doc}",
    "amar number {bdphone}, payment hole janaben",
    "ei number e call dao {bdphone}",
    "supplier phone {bdphone} - ask about {doc} for {amount}",
    "new customer {co}, mobile {bdphone}, credit limit {amount}",
    "Please add {usphone} as the billing phone for {co}",
    "their US office is {usphone}",
    "our Dubai agent {name} is on {intlphone}",
    "WhatsApp {intlphone} to confirm the shipment of {qty}",
    "contact {name} at {intlphone} or {email}",
    "the buyer's number changed to {intlphone}",
    "customer {name} NID {nid}, add to KYC",
    "NID no: {nid} for the new dealer {co}",
    "amar NID number {nid}, account khulte hobe",
    "the voter ID of {name} is {nid}",
    "national ID {nid} attached with {doc}",
    "employee {name} SSN {ssn}, payroll from {date}",
    "W-9 for the US contractor: SSN {ssn}",
    "his ssn is {ssnbare} for the 1099",
    "pay {doc} with card {card}",
    "customer paid {amount} by card {card} on {date}",
    "card number {card} exp 12/28, charge {amount}",
    "amar card {card} diye payment koro",
    "refund to {card} for {doc}",
    "wire {amount} to IBAN {iban}",
    "supplier bank details: {iban}, ref {doc}",
    "update {co} bank account IBAN {iban}",
    "IBAN ta holo {iban}, taka pathao",
    "transfer to {iban} before {date}",
    "login from {ip4} failed for user finance",
    "block IP {ip4}, too many attempts at {time}",
    "the ERP server is at {ip4}",
    "API calls from {ip6} since {date}",
    "whitelist {ip4} and {ip6} for the branch office",
    "{name} called from {bdphone} about {doc}, email {email}",
    "ship {qty} of {item} to {name}, phone {bdphone}",
    "dealer {name}: {bdphone} / {email}",
    "send the PO copy to {email} and cc {email}",
    "receipt for {amount} paid by {name} ({email})",
    "remember that {co} prefers e-mail: {email}",
    "remind me to call {name} on {intlphone} tomorrow",
    "customer ke SMS pathao {bdphone} e, {doc} due {amount}",
    "{name} er IBAN {iban}, payment {amount}",
    "charge card {card} and email the receipt to {email}",
    "Mr. {name} (NID {nid}) is the guarantor for {co}",
    "driver {name} mobile {bdphone}, vehicle for {wh}",
    "VPN from {ip4} by {name} at {time}",
    "salary of {name} to card {card}? no, to IBAN {iban}",
    "{email} bounced, try {email}",
    "ask {name} at {usphone} for the {doc} copy",
    "KYC: {name}, NID {nid}, phone {bdphone}, email {email}",
    "call me at {bdphone}",
    "email: {email}",
    "IBAN {iban}",
    "{card}",
    "approved {doc}; notify {name} at {email}",
]

# Messages with no personal data, full of figures that look like some.
NEGATIVE_TEMPLATES = [
    "approve {doc}",
    "has {doc} been paid?",
    "{doc} er status ki?",
    "what is the balance of {doc} after the {amount} receipt?",
    "sales were {amount} last month",
    "cash balance koto? last month chilo {amount}",
    "post {amount} to account {acct} on {date}",
    "move {qty} of {item} from {wh} to WH-03 on {date}",
    "adjust stock of {item} by {qty} in {wh}",
    "void {doc}, entered twice on {date}",
    "create a sales order for {co}: {qty} of {item} at {amount}",
    "record a payment of {amount} from {co} against {doc} on {date}",
    "GL {acct} shows {amount} as of {date}",
    "cheque no {fig} for {amount} bounced",
    "voucher {fig} posted to {acct}",
    "our BIN is {fig} and TIN {fig}",
    "LC no {fig} opened on {date} for {amount}",
    "bank a/c {fig} at City Bank has {amount}",
    "reference {fig} in the bank statement of {date}",
    "batch {fig}, expiry {date}",
    "{co} owes {amount} since {date}",
    "top customers by sales from {date} to {date}",
    "compare {amount} vs {amount} for Q3",
    "profit and loss for FY2025-26, budget {amount}",
    "invoice {doc} dated {date} for {qty}",
    "PO er amount {amount}, approve kori?",
    "{qty} {item} koto taka? rate {amount}",
    "meeting at {time} on {date} about {doc}",
    "upgrade to ERP version {ver} on {date}",
    "see section {ver} of the procurement policy",
    "account {acct} and {acct} reconcile by {date}",
    "receive {qty} against {doc} into {wh}",
    "credit note {doc} for {amount}",
    "stock value {amount} for {item} at {wh}",
    "how much did {co} pay on {date}?",
    "ageing: 0-30 days {amount}, 31-60 days {amount}",
    "dashboard for {date}",
    "opening balance {fig} BDT",
    "transaction id {fig} from bKash, {amount}",
    "journal {doc}: debit {acct} {amount}, credit {acct}",
    "{doc} e {qty} ache, {doc} e baki",
    "order {qty} {item} by {date}, max {amount}",
    "total sales {amount}, returns {amount}, net {amount}",
    "serial {fig} on the invoice {doc}",
]


def fill(template: str, rng: random.Random) -> dict[str, object]:
    text, spans, negatives = "", [], []
    pos = 0
    for match in re.finditer(r"\{(\w+)\}", template):
        text += template[pos : match.start()]
        kind, make = SLOTS[match.group(1)]
        value = make(rng)
        if kind:
            spans.append({"type": kind, "start": len(text), "end": len(text) + len(value),
                          "value": value})  # fmt: skip
        elif kind is None:
            negatives.append(value)
        text += value
        pos = match.end()
    text += template[pos:]
    return {"text": text, "pii": spans, "negatives": negatives}


def build(seed: int, per_pii: int = 3, per_negative: int = 4) -> list[dict[str, object]]:
    rng = random.Random(seed)
    items = []
    for template in PII_TEMPLATES:
        items.extend(fill(template, rng) for _ in range(per_pii))
    for template in NEGATIVE_TEMPLATES:
        items.extend(fill(template, rng) for _ in range(per_negative))
    rng.shuffle(items)
    return [{"id": i + 1, **item} for i, item in enumerate(items)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    items = build(args.seed)
    hard = sum(1 for item in items if item["negatives"])
    header = (
        "# Labelled PII set (issue 15), written by bench/pii_make_set.py: ERP chat in English\n"
        "# and Banglish. pii: spans to redact (type, start, end, value); negatives: document\n"
        "# numbers, amounts, dates, quantities, account codes and ledger figures that must\n"
        f"# survive. {len(items)} messages, {hard} with hard negatives.\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump(items, allow_unicode=True, sort_keys=False, width=1000)
    args.out.write_text(header + body, encoding="utf-8")
    print(f"wrote {args.out}: {len(items)} messages, {hard} with hard negatives")


if __name__ == "__main__":
    main()
