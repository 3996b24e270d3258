"""Why a message is out of scope, and the refusal that says so with what can be done instead.

A message no skill answers is one of four kinds: a prediction ("will it rain tomorrow?",
"forecast sales for next quarter"), an outside-world fact (market prices, exchange rates,
weather, news, sports, general knowledge), an action Companion doesn't have ("book me a
flight"), or anything else. Pure functions over the message, the NLU's entities and the
date; the dialogue skill adds what the user's role may see and do.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["forecast", "outside", "action", "other"]

HELP = "Say “help” for examples."
GENERIC = (
    "I can only help with your company's business data — cash, sales, invoices, purchasing "
    f"and stock. {HELP}"
)

_I = re.IGNORECASE
# Words in front of a request that ask nothing themselves: "please", "can you", "I need you to".
_LEAD = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay|so|companion|please|kindly)\b[\s,!]*)*"
    r"(?:(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+)?"
    r"|(?:are\s+you\s+able|is\s+it\s+possible)\s+to\s+"
    r"|i(?:\s+(?:want|need|would\s+like)|'d\s+like)\s+(?:you\s+)?to\s+"
    r"|(?:do\s+you\s+know|tell\s+me)\s+)?"
    r"(?:please\s+)?",
    _I,
)
# Verbs of doing something in the world. A request that starts with one is an action, one
# Companion has (then the action skill takes it before this one) or not.
_DOING = re.compile(
    r"(?:book|reserve|schedule|arrange|organi[sz]e|send|e-?mail|mail|text|sms|message|call"
    r"|phone|ring|dial|pay|transfer|wire|buy|purchase|order|sell|ship|deliver|print|fax|scan"
    r"|download|upload|export|delete|remove|erase|update|change|edit|rename|cancel|refund"
    r"|hire|fire|sign|file|submit|publish|tweet|share|forward|invite|translate|write|draft"
    r"|compose|set\s+up|open|close|lock|unlock|turn\s+(?:on|off)|switch|play|install|restart"
    r"|reset|create|make|generate|add|register|apply|renew|launch|notify|approve|reject"
    r"|void|adjust|record|post|invoice|issue|raise|contact|reply|respond|upgrade|subscribe"
    r"|unsubscribe|connect|sync|backup|back\s+up)\b",
    _I,
)
_SELF = re.compile(r"^(?:me|us|for\s+me|for\s+us)\s+", _I)

# Verbs a prediction puts after "will" ("will the dollar rise?").
_VERBS = (
    r"be|go|rise|fall|rain|snow|happen|win|lose|cost|increase|decrease|drop|grow|change|stay"
    r"|reach|hit|come|get|make|sell|earn|have|end|close|pay|need|improve|recover|crash|double"
    r"|shrink|owe|look"
)
# A prediction: forecasting words, "will <someone> ...", "going to be". "Will you ...?" is a
# request ("will you help me?"), not a prediction.
_PREDICTS = re.compile(
    r"\b(?:forecast\w*|predict\w*|projections?|projected|outlook|prognos\w+|gonna"
    r"|going\s+to\s+(?:be|happen|rise|fall|go|win|lose|cost|increase|decrease|drop|grow|change)"
    r"|(?:expected|likely|set)\s+to\s+(?:be|rise|fall|go|win|lose|increase|decrease|drop|grow)"
    r"|(?:chances?|odds|probability)\s+(?:of|that)"
    rf"|will(?!\s+(?:you|u)\b)\s+(?:\w+\s+){{0,6}}?(?:{_VERBS})\b"
    r"|will\s+(?:it|there|we|they|he|she|i|the|our|my|this|that|these|those)\b)",
    _I,
)
_FUTURE = re.compile(
    r"\b(?:tomorrow|tonight|next\s+(?:\w+\s+)?(?:week|month|quarter|year|season|decade"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|few\s+\w+)"
    r"|in\s+(?:a|one|two|three|\d+)\s+(?:days?|weeks?|months?|years?)"
    r"|later\s+this\s+(?:week|month|year)|in\s+the\s+(?:future|coming\s+\w+)|upcoming"
    r"|coming\s+(?:week|month|quarter|year))\b",
    _I,
)
# A future period alone makes a forecast only of a value ("what's the gold price next week?"),
# not of a schedule ("what falls due next week?", "what meetings do I have tomorrow?").
_VALUE = re.compile(
    r"\b(?:price|prices|rate|rates|value|cost|worth|level|how\s+(?:much|many|high|low)"
    r"|weather|temperature|score|result|winner|sales|revenue|profit|cash|balance)\b",
    _I,
)
_SCHEDULED = re.compile(r"\b(?:due|scheduled|booked|planned|appointments?|meetings?)\b", _I)

_CURRENCY = (
    r"(?:us\s+|u\.s\.\s+)?(?:dollars?|usd|euros?|eur|pounds?|gbp|yen|jpy|rupees?|inr|taka|bdt"
    r"|yuan|rmb|riyals?|sar|dirhams?|aed)"
)
# What one currency is worth in another: no company's books hold it (the ERP keeps no rates).
_EXCHANGE = re.compile(
    rf"\b(?:exchange\s+rates?|forex|fx\s+rates?|currency\s+rates?|{_CURRENCY}\s+rates?"
    rf"|rate\s+of\s+(?:the\s+)?{_CURRENCY}|{_CURRENCY}\s+(?:in|to|into|against|for)"
    rf"\s+(?:a\s+|an\s+|one\s+|\d[\d,.]*\s+)?{_CURRENCY})\b",
    _I,
)
_PRICE_OR_RATE = re.compile(r"\b(?:prices?|rates?)\b", _I)

# Outside-world topics, each with what Companion has none of.
_OUTSIDE: tuple[tuple[re.Pattern[str], str], ...] = (
    (_EXCHANGE, "market prices or exchange rates"),
    (
        re.compile(
            r"\b(?:exchange\s+rates?|forex|fx\s+rates?|currency\s+rates?|(?:dollar|euro|pound"
            r"|yen|rupee|taka|usd|eur|gbp|bdt)\s+(?:rate|price)|rate\s+of\s+(?:the\s+)?"
            r"(?:dollar|euro|pound|yen|rupee|taka)|(?:stock|share|gold|silver|oil|petrol|fuel"
            r"|diesel|gas|bitcoin|crypto)\s+(?:market|markets|price|prices)|stock\s+exchange"
            r"|price\s+of\s+(?:\w+\s+){0,2}?(?:gold|silver|oil|petrol|fuel|diesel|gas|bitcoin"
            r"|crypto\w*|shares?|stocks?|wheat|rice|cotton|steel|copper)|bitcoin|ethereum"
            r"|crypto\w*|commodit\w+|nasdaq|dow\s+jones|s&p|ftse|nikkei|sensex|inflation"
            r"|interest\s+rates?\s+(?:of|at|set\s+by)\s+(?:the\s+)?(?:central|federal|fed)"
            r"|central\s+bank|gdp)\b",
            _I,
        ),
        "market prices or exchange rates",
    ),
    (
        re.compile(
            r"\b(?:weather|rain\w*|snow\w*|sunny|temperature|humid\w*|storm\w*|cyclone"
            r"|monsoon|flood\w*|umbrella)\b",
            _I,
        ),
        "the weather",
    ),
    (
        re.compile(
            r"\b(?:news|headlines?|elections?"
            r"|football|soccer|cricket|tennis|basketball|baseball|rugby|hockey|golf|olympics?"
            r"|world\s+cup|premier\s+league|champions\s+league|tournament|innings)\b",
            _I,
        ),
        "news or sports results",
    ),
    (
        re.compile(
            r"\b(?:capital\s+of|population\s+of|president|prime\s+minister"
            r"|who\s+(?:invented|wrote|discovered|painted|founded|built)"
            r"|how\s+(?:far|tall|old|big|deep|long)\s+is|distance\s+(?:from|between)"
            r"|(?:tallest|largest|biggest|longest|smallest|richest)\s+(?:\w+\s+)?(?:in\s+the"
            r"\s+world|country|city|ocean|river|mountain|planet)|speed\s+of\s+light"
            r"|meaning\s+of\s+life|time\s+(?:is\s+it\s+)?in\s+[A-Z]\w+)",
            _I,
        ),
        "general-knowledge facts",
    ),
)

# Business measures a prediction may be of, in the words people use, and the data query
# (with an example question) that gives the actual figures.
_MEASURES: tuple[tuple[re.Pattern[str], str, str, str], ...] = (
    (re.compile(r"\bcash\s*flows?\b", _I), "cash_flow", "cash flow", "Cash flow last month"),
    (
        re.compile(r"\b(?:cash|bank\s+balances?|liquidity)\b", _I),
        "cash_balance",
        "cash balance",
        "What's our cash balance?",
    ),
    (
        re.compile(r"\b(?:profits?|loss|losses|margins?|earnings|net\s+income)\b", _I),
        "profit_and_loss",
        "profit and loss",
        "Profit and loss this quarter",
    ),
    (
        re.compile(r"\b(?:sales|revenues?|turnover|sell|selling|sold)\b", _I),
        "sales_summary",
        "sales",
        "Sales last month",
    ),
    (
        re.compile(r"\b(?:receivables?|collections?|collect|customers?\s+(?:will\s+)?pay)\b", _I),
        "ar_aging",
        "receivables",
        "Show the receivables aging",
    ),
    (
        re.compile(r"\b(?:payables?|owe|bills?)\b", _I),
        "ap_aging",
        "payables",
        "What do we owe suppliers?",
    ),
    (
        re.compile(r"\b(?:stock|inventory|stock-?outs?|run\s+out)\b", _I),
        "stock_levels",
        "stock levels",
        "Stock levels in the main warehouse",
    ),
)

# What answers call each action the user's role may take (in this order); an action not
# named here is said by its name. commit_import is left out: it only commits a file the
# user has uploaded, which the import page offers, and its permission depends on the file.
ACTION_PHRASES: dict[str, str] = {
    "approve_purchase_order": "approve purchase orders",
    "reject_purchase_order": "reject purchase orders",
    "create_purchase_order": "create purchase orders",
    "create_sales_order": "create sales orders",
    "create_customer": "add customers",
    "post_ar_invoice": "post customer invoices",
    "record_payment": "record payments",
    "adjust_inventory": "adjust stock",
    "void_document": "void documents",
}
UNLISTED_ACTIONS = frozenset({"commit_import"})

# Words said back in the assistant's person; anything else outside this alphabet (or a
# phrase too long to read as one thing) is said as "that".
_SWAP = {
    "i": "you",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "am": "are",
    "we": "you",
    "us": "you",
    "our": "your",
    "ours": "yours",
    "i'm": "you're",
    "we're": "you're",
    "myself": "yourself",
    "ourselves": "yourselves",
}
_SAFE = re.compile(r"^[\w$€£¥৳%&'’.,/ -]+$")
_MAX_WORDS = 12
_SUBJECTS = r"it|there|we|they|he|she|i|you"
_WH = r"what|how\s+much|how\s+many|how\s+high|how\s+low|how|which|who|when|where|why"


@dataclass(frozen=True)
class Reason:
    """Why a message is out of scope, with the user's words for the thing asked (or None)."""

    kind: Kind
    thing: str | None = None
    topic: str | None = None  # the outside data it needs ("the weather")
    measure: str | None = None  # the data query with the actual figures of a predicted measure


def classify(
    text: str, entities: dict[str, Any] | None = None, today: dt.date | None = None
) -> Reason:
    """Why ``text`` is out of scope: a prediction, an outside fact, an action, or other."""
    said = " ".join(text.strip().split()).rstrip("?!. ")
    topic = next((name for pattern, name in _OUTSIDE if pattern.search(said)), None)
    request = _LEAD.sub("", said, count=1)
    doing = _DOING.match(request)
    if doing is not None and not _PREDICTS.search(said):  # not "make a forecast of sales"
        return Reason("action", thing=_action_words(request[doing.end() :], doing.group(0)))
    if _predicts(said, entities, today):
        measure = next((m for p, m, _, _ in _MEASURES if p.search(said)), None)
        measure = None if topic is not None else measure
        return Reason("forecast", thing=_predicted(said), topic=topic, measure=measure)
    if topic is not None:
        return Reason("outside", topic=topic)
    return Reason("other")


def asks_outside_figure(text: str) -> bool:
    """Whether ``text`` asks for a figure no company's books hold, whatever the NLU read it
    as: what one currency is worth in another ("how much is one US dollar in taka right
    now?"), or a price or rate predicted ("will copper prices fall next week?"). A data
    question's answer to it would answer another question."""
    said = " ".join(text.strip().split()).rstrip("?!. ")
    if _EXCHANGE.search(said):
        return True
    return _PRICE_OR_RATE.search(said) is not None and _predicts(said, None, None)


def _predicts(said: str, entities: dict[str, Any] | None, today: dt.date | None) -> bool:
    if _PREDICTS.search(said):
        return not _SCHEDULED.search(said)
    period = (entities or {}).get("period")
    future = (
        today is not None
        and isinstance(period, dict)
        and str(period.get("start", "")) > today.isoformat()
    )
    timed = future or _FUTURE.search(said) is not None
    return timed and _VALUE.search(said) is not None and not _SCHEDULED.search(said)


def _predicted(said: str) -> str | None:
    """The thing predicted as an indirect question or noun phrase, in the user's words."""
    s = _LEAD.sub("", said, count=1)
    s = re.sub(r"^(\w+)'s\b", r"\1 is", s)
    s = re.sub(r"^(?:predict|forecast|estimate|project)\s+", "", s, flags=_I)
    s = re.sub(
        r"^(?:make|give|do|prepare)\s+(?:me\s+|us\s+)?(?:a\s+)?(?:forecast|prediction"
        r"|projection)\s+(?:for|of|on)\s+",
        "",
        s,
        flags=_I,
    )
    s = re.sub(
        r"^(?:what(?:'s|\s+is|\s+are)?\s+)?(?:the\s+|your\s+)?(?:forecast|prediction|outlook"
        r"|projection)s?\s+(?:for|of|on)\s+",
        "",
        s,
        flags=_I,
    )
    if _DOING.match(s):  # "send me the forecast": no prediction put in words
        return None
    m = re.match(rf"^({_WH})((?:\s+\w+){{0,3}}?)\s+will\s+(.+?)\s+be\b(.*)$", s, _I)
    if m and not re.search(r"\bwill\b", m.group(3), _I):
        return _said(f"{m.group(1)}{m.group(2)} {m.group(3)} will be{m.group(4)}")
    m = re.match(rf"^({_WH})((?:\s+\w+){{0,3}}?)\s+will\s+({_SUBJECTS})\s+(.+)$", s, _I)
    if m:
        return _said(f"{m.group(1)}{m.group(2)} {m.group(3)} will {m.group(4)}")
    m = re.match(r"^(who|what)\s+will\s+(.+)$", s, _I)  # the wh-word is the subject
    if m:
        return _said(f"{m.group(1)} will {m.group(2)}")
    m = re.match(rf"^will\s+({_SUBJECTS})\s+(.+)$", s, _I)
    if m:
        return _said(f"whether {m.group(1)} will {m.group(2)}")
    m = re.match(rf"^will\s+((?:\w+\s+){{1,4}}?)({_VERBS})\b(.*)$", s, _I)
    if m:
        return _said(f"whether {m.group(1).strip()} will {m.group(2)}{m.group(3)}")
    m = re.match(r"^(is|are)\s+(.+?)\s+going\s+to\s+(.+)$", s, _I)
    if m:
        return _said(f"whether {m.group(2)} {m.group(1)} going to {m.group(3)}")
    m = re.match(rf"^({_WH})((?:\s+\w+){{0,3}}?)\s+(is|are)\s+(.+?)\s+going\s+to\s+(.+)$", s, _I)
    if m:
        return _said(f"{m.group(1)}{m.group(2)} {m.group(4)} {m.group(3)} going to {m.group(5)}")
    m = re.match(r"^(?:what\s+(?:is|are)|how\s+much\s+(?:is|are))\s+(.+)$", s, _I)
    if m:
        return _said(m.group(1))
    if re.match(
        rf"^(?:{_WH}|will|is|are|do|does|can|could|would|should|for|of|on|in|about)\b", s, _I
    ):
        return None
    return _said(s)


def _action_words(rest: str, verb: str) -> str | None:
    """'book a flight to Dubai' from 'book' and 'me a flight to Dubai'."""
    rest = _SELF.sub("", rest.strip())
    rest = re.sub(r"\s+(?:for\s+(?:me|us)|please)$", "", rest, flags=_I)
    return _said(f"{verb.lower()} {rest}".strip())


def _said(phrase: str) -> str | None:
    """``phrase`` in the assistant's person, or None when it can't be said back safely."""
    words = phrase.strip(" ,").split()
    if not words or len(words) > _MAX_WORDS or not _SAFE.match(" ".join(words)):
        return None
    out = [_SWAP.get(w.lower(), w) for w in words]
    first = out[0]
    if first[:1].isupper() and first[1:].islower():  # a sentence's capital, not a name
        out[0] = first.lower() if first.lower() in _COMMON_FIRST else first
    return " ".join(out)


_COMMON_FIRST = frozenset(
    "what how which who when where why whether the a an our your my it there sales cash "
    "profit revenue stock price prices rate".split()
)


def actions_offered(allowed: Sequence[str]) -> list[str]:
    """The phrases for the actions in ``allowed``, in a fixed order, approve/reject joined."""
    names = [a for a in ACTION_PHRASES if a in allowed]
    names += sorted(a for a in allowed if a not in ACTION_PHRASES and a not in UNLISTED_ACTIONS)
    phrases = [ACTION_PHRASES.get(a, a.replace("_", " ")) for a in names]
    if "approve purchase orders" in phrases and "reject purchase orders" in phrases:
        phrases.remove("reject purchase orders")
        phrases[phrases.index("approve purchase orders")] = "approve or reject purchase orders"
    return phrases


def _listed(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True)
class Refusal:
    """The refusal's words, and example questions offered as choices."""

    text: str
    choices: tuple[str, ...] = ()


def refusal(
    reason: Reason,
    *,
    actions: Sequence[str],
    can_read: Callable[[str], bool],
    reads_any: bool,
) -> Refusal:
    """The refusal for ``reason``: ``actions`` the user may take (action names),
    ``can_read(intent)`` whether their role reads a data query's figures, and ``reads_any``
    whether it reads any."""
    if reason.kind == "forecast":
        head = (
            f"I can't predict {reason.thing or 'that'}: Companion has no forecasting method "
            "and doesn't guess future figures"
        )
        if reason.topic is not None:
            return Refusal(
                f"{head}, and it has no live outside data such as {reason.topic}, only your "
                f"company's ERP records and documents. {HELP}"
            )
        measure = next((m for m in _MEASURES if m[1] == reason.measure), None)
        if measure is not None and can_read(measure[1]):
            return Refusal(
                f"{head}. I can show the actual {measure[2]} to date from the books — try "
                f"“{measure[3]}”. {HELP}",
                (measure[3],),
            )
        if reads_any:
            return Refusal(f"{head}. I can show actual figures to date from the books. {HELP}")
        return Refusal(f"{head}. {HELP}")
    if reason.kind == "outside":
        return Refusal(
            f"I can't look up {reason.topic}: Companion only sees your company's ERP records "
            f"and documents, and has no live outside data. {HELP}"
        )
    if reason.kind == "action":
        what = reason.thing or "do that"
        offered = actions_offered(actions)
        if not offered:
            return Refusal(
                f"I can't {what}: that isn't something Companion can do, and your role has "
                f"no actions here; I can answer questions about the figures it may see. {HELP}"
            )
        return Refusal(
            f"I can't {what}: that isn't something Companion can do. The actions I can take "
            f"for you here are: {_listed(offered)}. {HELP}"
        )
    return Refusal(GENERIC)
