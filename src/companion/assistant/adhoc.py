"""Reading an ad-hoc question ("sales by item last month", "top 5 suppliers by payments this
year", "compare sales this month with last month") into an ``AnalyticsQuery`` — or into a
plain refusal when it asks for something the data doesn't have (a city, a salesperson, a
budget, a forecast). Pure functions over the message, the NLU's entities and the
conversation state, so the rules are unit-tested.

A message is ad hoc when it names a measure (or follows up on an ad-hoc answer) and asks a
shape the fixed data query the NLU picked does not answer exactly: a breakdown, a ranking
other than the customer ranking by sales, an average, a count, a comparison. Questions the
19 fixed queries answer exactly stay with them.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from companion.analytics import GRAINS, MAX_TOP, MEASURES, AnalyticsQuery
from companion.analytics.engine import compared_period
from companion.analytics.query import Comparison
from companion.assistant import adhoc_shapes
from companion.assistant.nlu.entities.periods import extract_dates
from companion.assistant.state import ANALYTICS, ConversationState

INTENT = "analytics"
STATE_KEY = ANALYTICS  # where the conversation keeps an answer's query
DEFAULT_TOP = 5

# (pattern, measure), most specific first: "gross margin" before "sales", "stock value"
# before "stock".
_MEASURE_WORDS: tuple[tuple[str, str], ...] = (
    # "net (profit) margin" and "profit margin" are the profit and loss's net profit share.
    (r"gross\s+(?:margin|profit)s?|(?<!net\s)(?<!profit\s)margins?", "gross_margin"),
    # Tax (VAT) charged on sales: named with what it is on, or asked as an amount.
    (
        r"(?:how\s+much|total|amount\s+of)\s+(?:vat|gst|sales\s+tax|output\s+tax|tax(?:es)?)"
        r"|(?:vat|gst|sales\s+tax|output\s+tax|tax(?:es)?)\s+(?:we\s+)?(?:have\s+)?"
        r"(?:collected|charged|billed|invoiced|on\s+(?:our\s+)?(?:sales|invoices))"
        r"|(?:vat|gst|output\s+tax|sales\s+tax)\s+(?=by\b|per\b|for\b|in\b|this\b|last\b)",
        "tax_collected",
    ),
    (
        r"(?:average|avg|mean)\s+(?:invoice|sale|order|ticket|bill)s?(?:\s+(?:value|size|amount))?"
        r"|average\s+value\s+of\s+(?:an?\s+)?(?:invoice|sale)s?",
        "average_invoice",
    ),
    (
        r"(?:how\s+many|number\s+of|count\s+of|no\.?\s+of)\s+(?:customer\s+|sales\s+)?orders"
        r"|(?:sales\s+)?order\s+count",
        "order_count",
    ),
    (
        r"(?:how\s+many|number\s+of|count\s+of|no\.?\s+of)\s+(?:(?:unpaid|open|outstanding|overdue)\s+)?"
        r"(?:customer\s+|sales\s+)?invoices|invoice\s+count",
        "invoice_count",
    ),
    (
        # "how many units of stock do we hold" is stock on hand: units are sold only when said.
        r"(?:quantity|qty|units|volume|pieces)\s+(?:sold|of\s+sales)"
        r"|how\s+many\s+units(?=.*\b(?:sold|sell|selling|sales|bought|buy|ordered)\b)"
        r"|units\s+of\s+\w+\s+sold",
        "quantity_sold",
    ),
    # Money still to go out is payables, not payments ("bills we still have to pay").
    (
        r"(?:have|need|due)\s+to\s+(?:be\s+)?pa(?:y|id)(?!\s+us\b)"
        r"|(?:still|yet)\s+(?:have\s+)?to\s+pay(?!\s+us\b)|to\s+be\s+paid|unpaid\s+(?:supplier\s+|vendor\s+)?(?:bills|supplier\s+invoices)"
        r"|unpaid\s+(?:supplier|vendor)\s+invoices|bills\s+(?:still\s+)?unpaid",
        "open_ap",
    ),
    # Money still to come in is receivables, not receipts ("still to be collected").
    (
        r"\bto\s+(?:be\s+)?collect(?:ed)?\b|\buncollected\b|to\s+pay\s+us\b"
        r"|(?:unpaid|unsettled)\s+(?:customer\s+|sales\s+)?invoices|invoices\s+(?:still\s+)?unpaid",
        "open_ar",
    ),
    (
        r"receipts?|collect(?:ions?|ed|ing|s)?\b|payments?\s+(?:received|from\s+customers)"
        r"|receiv(?:e|ed|ing)\s+from\s+(?:our\s+|the\s+)?(?:customers?|clients?)"
        r"|customer\s+payments?|cash\s+received|pa(?:y|id)\s+us\b"
        r"|(?:customers?|clients?)\s+(?:have\s+|has\s+)?paid",
        "receipts",
    ),
    (
        r"(?:supplier|vendor)\s+payments?|payments?\s+(?:to|made\s+to)\s+(?:suppliers|vendors)"
        r"|paid\s+to\s+(?:suppliers|vendors)|how\s+much\s+(?:money\s+)?(?:did|have|had|do)\s+we"
        r"\s+pa(?:y|id)|how\s+much\s+we\s+paid|(?:did|have)\s+we\s+pa(?:y|id)\s+(?:the\s+)?most"
        r"|paid\s+out",
        "supplier_payments",
    ),
    (r"payments?|paid|payouts?", "supplier_payments"),
    (
        r"(?:purchase\s+order|po)s?\s+value|value\s+of\s+(?:purchase\s+orders|pos)"
        r"|purchase\s+orders|\bpos\b",
        "po_value",
    ),
    # What suppliers billed us: "purchases", "what we bought from", "spend with a supplier".
    (
        r"purchases|purchasing\s+spend|(?:buy|bought|purchased?)\s+from"
        r"|spen[dt](?:\s+(?:the\s+)?(?:most|least|more|less))?\s+with"
        r"|(?:did|do|have|had)\s+we\s+(?:buy|bought|purchased?)\b|we\s+(?:bought|purchased)\b",
        "purchases",
    ),
    (r"expenses?|spending|spend|costs?\s+by\s+account", "expenses"),
    (
        r"open\s+(?:receivables|ar)|receivables|outstanding\s+(?:invoices|receivables)"
        r"|owed\s+to\s+us|\bar\b",
        "open_ar",
    ),
    (
        r"open\s+(?:payables|ap)|payables|bills\s+outstanding|outstanding\s+bills|we\s+owe"
        r"|\bap\b",
        "open_ap",
    ),
    (
        r"(?:stock|inventory)\s+(?:value|valuation)|value\s+of\s+(?:the\s+)?(?:stock|inventory)",
        "stock_value",
    ),
    (r"stock(?:\s+(?:on\s+hand|quantity|levels?))?|inventory|on\s+hand", "stock_quantity"),
    (r"sales|revenue|turnover|sold|sell(?:s|ing)?|bought|buy(?:s|ing)?", "sales"),
)
_MEASURES = [(re.compile(rf"\b(?:{p})\b", re.IGNORECASE), m) for p, m in _MEASURE_WORDS]
# Fixed queries whose figure is a measure: a follow-up or "by X" on them is ad hoc.
FIXED_MEASURE = {
    "sales_summary": "sales",
    "top_customers": "sales",
    "inventory_valuation": "stock_value",
    "stock_levels": "stock_quantity",
    "ar_aging": "open_ar",
    "customer_balance": "open_ar",
    "ap_aging": "open_ap",
    "supplier_balance": "open_ap",
    "purchase_orders": "po_value",
    "profit_and_loss": "expenses",
}

# The breakdown a fixed list already gives ("which customers owe us" is the aging by customer).
# Fixed queries that answer no measure's total: one naming a measure asks for that total.
_NO_MEASURE = frozenset({"invoice_status"})
# Measures named by words so common ("stock", "inventory", "sales") that the fixed query the
# classifier picked knows better what is asked of them.
_GENERIC = frozenset({"stock_quantity", "sales"})

_NATURAL = {
    "ar_aging": ("customer",),
    "customer_balance": ("customer",),
    "ap_aging": ("supplier",),
    "supplier_balance": ("supplier",),
    "purchase_orders": ("supplier",),
    "stock_levels": ("item",),
    "inventory_valuation": ("item",),
}

_DIMENSION_WORDS = {
    "customer": "customer|customers|client|clients|buyer|buyers|party|parties",
    "supplier": "supplier|suppliers|vendor|vendors",
    "item": "item|items|product|products|sku|skus|goods|line item|line items",
    "warehouse": "warehouse|warehouses|depot|depots|godown|godowns",
    "account": "account|accounts|expense account|expense accounts|gl account|ledger account",
    "status": "status|statuses|state",
    "day": "day|days|daily|date",
    "week": "week|weeks|weekly",
    "month": "month|months|monthly",
    "quarter": "quarter|quarters|quarterly",
    "year": "year|years|yearly|annual|annually",
}
_DIMENSION = {w: d for d, ws in _DIMENSION_WORDS.items() for w in ws.split("|")}

# What the ERP's records don't carry, and the nearest breakdown it does, named as such.
_MISSING: tuple[tuple[str, str, str | None], ...] = (
    (
        r"city|cities|town|towns|district|districts|division|divisions|region|regions|area|areas"
        r"|zone|zones|territory|territories|country|countries|location|locations|address"
        r"|geography|state\s+or\s+province",
        "Companion has no address, city or region for customers or suppliers",
        "customer",
    ),
    (
        r"sales\s*(?:person|people|persons|rep|reps|representatives?|man|men|woman|women|team)"
        r"|salesperson|salespeople|salesman|salesmen|reps?|seller|sellers|agents?|employees?"
        r"|staff|account\s+managers?|users?\s+who\s+sold",
        "Companion records no salesperson or employee on invoices or orders",
        "customer",
    ),
    (
        r"cost\s+cent(?:re|er)s?|departments?|branch(?:es)?|business\s+units?|projects?"
        r"|profit\s+cent(?:re|er)s?",
        "journal lines carry no cost centre, department, branch or project",
        "account",
    ),
    (
        r"categor(?:y|ies)|brands?|product\s+(?:groups?|lines?|famil(?:y|ies)|types?)|segments?"
        r"|industr(?:y|ies)|sectors?|customer\s+(?:types?|groups?)",
        "items and customers have no category, brand, segment or industry",
        "item",
    ),
    (
        r"campaigns?|marketing|channels?|promotions?|lead\s+sources?|referrals?|sources?",
        "invoices and orders record no marketing campaign or sales channel",
        "customer",
    ),
    (r"hour|hours|time\s+of\s+day|shift|shifts", "invoices carry a date, not a time of day", "day"),
    (
        r"payment\s+methods?|tender|cards?",
        "receipts record a bank account, not a payment method",
        None,
    ),
)
_MISSING_RE = [(re.compile(rf"\b(?:{p})\b", re.IGNORECASE), why, near) for p, why, near in _MISSING]

# Days of the week as a filter ("on weekends", "on Fridays"); a dated day ("on Tuesday 14
# October") is a period, read by the date extractor.
_WEEKDAYS = re.compile(
    r"\b(?:on\s+(?:the\s+)?)?(?:weekends|weekdays|(?:mon|tues|wednes|thurs|fri|satur|sun)days"
    r"|(?:public\s+)?holidays|business\s+days|working\s+days)\b",
    re.IGNORECASE,
)
_PLAN = re.compile(
    r"\b(?:plan|planned|target|targets|budget|budgets|budgeted|quota|quotas|goal|goals"
    r"|forecasted\s+vs)\b",
    re.IGNORECASE,
)
_FORECAST = re.compile(
    r"\b(?:forecast\w*|predict\w*|project(?:ed|ion|ions)|expected|will\s+(?:we|be|sell|make)"
    r"|going\s+to\s+(?:sell|make|be)|next\s+(?:month|quarter|year|week))\b",
    re.IGNORECASE,
)
_BY = re.compile(
    r"\b(?:broken\s+down\s+by|break\s*down\s+by|split\s+by|grouped\s+by|group\s+by|by|per"
    r"|for\s+each|for\s+every|each|every|across|in\s+each)\s+(?:the\s+|a\s+|an\s+)?"
    r"(?P<what>[a-z][a-z ]{0,40})",
    re.IGNORECASE,
)
_WHICH = re.compile(
    r"\b(?:which|what|who(?:\s+is|\s+are)?(?:\s+the)?|best|top|worst|bottom|highest|lowest"
    r"|biggest|largest|smallest)\s+(?:\d+\s+)?(?P<what>[a-z][a-z ]{0,40})",
    re.IGNORECASE,
)
_TOP = re.compile(
    r"\b(?P<dir>top|best|highest|largest|biggest|bottom|worst|lowest|smallest|least)"
    r"\s+(?P<n>\d[\d,]*)\b",
    re.IGNORECASE,
)
_RANK = re.compile(
    r"\b(?:top|best|highest|largest|biggest|most|worst|bottom|lowest|smallest|least|rank\w*)\b",
    re.IGNORECASE,
)
_ASCENDING = re.compile(r"\b(?:bottom|worst|lowest|smallest|least|fewest)\b", re.IGNORECASE)
_AVERAGE = re.compile(r"\b(?:average|avg|mean)\b", re.IGNORECASE)
_COMPARE = re.compile(
    r"\s*\b(?:compared\s+(?:to|with)|comparison\s+with|vs\.?|versus|against|relative\s+to"
    r"|than)\b\s*",
    re.IGNORECASE,
)
_THAN_FILTER = re.compile(
    r"\b(?:more|less|fewer|older|longer|shorter|newer|greater|bigger|larger|smaller|over|under"
    r"|above|below)\s+than\s+(?:an?|one|two|three|four|five|six|seven|\d[\d,.]*)\b",
    re.IGNORECASE,
)
_COMPARE_VERB = re.compile(r"\bcompare[sd]?\b", re.IGNORECASE)
_GROWTH = re.compile(
    r"\b(?:growth|grew|grow|change[sd]?|increase[sd]?|decrease[sd]?|up\s+or\s+down|trend)\b",
    re.IGNORECASE,
)
_LAST_YEAR = re.compile(
    r"\b(?:same\s+(?:period|time|month|quarter)\s+(?:last|a|the\s+previous)\s+year"
    r"|(?:a|one)\s+year\s+(?:ago|before|earlier)|year\s+on\s+year|yoy|last\s+year)\b",
    re.IGNORECASE,
)
_PREVIOUS = re.compile(
    r"\b(?:previous|prior|preceding|last)\s+period\b|\bperiod\s+before\b", re.IGNORECASE
)
_REFINE = re.compile(
    r"^\s*(?:and|but|now|only|just|what\s+about|how\s+about|same|then|instead|also|ok(?:ay)?"
    r"|for|in|at|by|per|show|make\s+it|break\s+it|split\s+it|top|compare)\b",
    re.IGNORECASE,
)
_AND_BY = re.compile(r"\s+(?:and|by)\s+(?:the\s+|a\s+|an\s+)?", re.IGNORECASE)
_PERIOD_WORDS = re.compile(
    r"^(?:this|last|next|the|previous|current|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?"
    r"|may|june?|july?|aug(?:ust)?|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
    r"|\d+|q[1-4]|today|yesterday|end|fy\d*|h[12]|so|far)\b",
    re.IGNORECASE,
)
_STOP = {"the", "a", "an", "my", "our", "their", "its", "of", "in", "for", "and", "with", "to"}
_ENTITY_FILTER = {
    "customer": "customer",
    "supplier": "supplier",
    "product": "item",
    "warehouse": "warehouse",
}


# "best-selling item", "top-selling products": read as two words.
_HYPHENATED = re.compile(
    r"\b(best|top|most|fast(?:est)?|slow(?:est)?|worst|least)-(selling|sold|moving|performing)\b",
    re.IGNORECASE,
)
_WHEN = re.compile(r"^\W*when\b", re.IGNORECASE)
# "what do we owe suppliers by age", "receivables in ageing buckets": the ageing itself, which
# the fixed ageing queries give (age is no dimension of a measure's breakdown).
_AGEING = re.compile(
    r"\b(?:by|in|into|per)\s+(?:(?:their|its|the)\s+)?(?:age|ages|ageing|aging"
    r"|(?:age|ageing|aging|overdue)\s+(?:buckets?|bands?|brackets?)|buckets?"
    r"|days?\s+(?:overdue|past\s+due|outstanding))\b|\baged\b|\bageing\b|\baging\b",
    re.IGNORECASE,
)
_AGEING_INTENTS = frozenset({"ar_aging", "ap_aging"})
# Documents still waiting for what the status word names ("waiting to be delivered").
_AWAITING = re.compile(
    r"\b(?:waiting|wait|awaiting|yet|still|pending|outstanding)\b.{0,25}?\b(?:deliver\w*"
    r"|receiv\w*|arriv\w*|dispatch\w*|ship\w*)|\bundelivered\b|\bnot\s+(?:yet\s+)?(?:been\s+)?"
    r"(?:delivered|received|dispatched|shipped)\b",
    re.IGNORECASE,
)
_UNITS_ASKED = re.compile(
    r"\b(?:how\s+many|total|number\s+of|count\s+of)\s+(?:\w+\s+)?(?:units|pieces|pcs)\b",
    re.IGNORECASE,
)
# "who did we buy the most from?", "who paid us the least?": the party of the measure ranked.
_WHO_RANKED = re.compile(
    r"^\W*who\b.*\b(?:most|least|highest|lowest|biggest|largest|best|worst)\b", re.IGNORECASE
)
_PARTY_OF = {
    "purchases": "supplier",
    "supplier_payments": "supplier",
    "open_ap": "supplier",
    "po_value": "supplier",
    "sales": "customer",
    "receipts": "customer",
    "open_ar": "customer",
    "order_count": "customer",
    "invoice_count": "customer",
    "average_invoice": "customer",
}
# "how many sales orders are still open?": those open today, as waiting ones are.
_OPEN_ASKED = re.compile(r"\b(?:still\s+)?open\b|\bunfulfilled\b", re.IGNORECASE)
_COUNTED_ASKED = re.compile(r"\b(?:how\s+many|number\s+of|count\s+of)\b", re.IGNORECASE)
_FIGURE_ASKED = re.compile(
    r"\b(?:how\s+(?:much|many)|total|sum|number\s+of|count\s+of)\b", re.IGNORECASE
)
_PROFIT = re.compile(r"\b(?:profit|loss|losses|p\s*&\s*l|income\s+statement|net)\b", re.I)
_WHAT_BOUGHT = re.compile(
    r"\bwhat\s+(?:items?\s+|products?\s+|goods\s+)?(?:did|does|do|has|have)\s+.{1,60}?"
    r"\b(?:buy|bought|purchase[sd]?|order(?:ed)?|sell|sold)\b",
    re.IGNORECASE,
)
_SPEND = re.compile(r"\bspen(?:d|t|ding)\b", re.IGNORECASE)
# "our biggest expense", "the top 3 costs": expenses ranked by account.
_RANKED_EXPENSE = re.compile(
    r"\b(?:biggest|largest|highest|top|main|major|smallest|lowest)\s+(?:\d+\s+)?"
    r"(?:expenses?|costs?|spending|spend)\b",
    re.IGNORECASE,
)
# A figure asked about the future ("how much cash will we have at month end?"). Due dates
# ("what falls due next week") are not forecasts.
_FORECAST_ASKED = re.compile(
    r"\b(?:forecast\w*|predict\w*|project(?:ed|ion|ions)|will\s+(?:we|our|the|there|it)"
    r"\s+(?:[a-z']+\s+){0,3}?(?:have|be|make|earn|end|close|sell|hold|owe)\b"
    r"|going\s+to\s+(?:have|be|sell|make|earn)"
    r"|expect(?:ed)?\s+to\s+(?:have|be|sell|make|earn|receive|collect))",
    re.IGNORECASE,
)
# Fixed queries whose figure a forecast question asks about, as answers name it.
_FORECASTABLE = {
    "cash_balance": "cash",
    "cash_flow": "cash flow",
    "profit_and_loss": "profit",
    "dashboard_summary": "these figures",
    "sales_summary": "sales",
    "top_customers": "sales",
    "ar_aging": "receivables",
    "customer_balance": "receivables",
    "ap_aging": "payables",
    "supplier_balance": "payables",
    "inventory_valuation": "stock value",
    "stock_levels": "stock",
    "purchase_orders": "purchase orders",
}
# Statuses that ask what is still open today, not what happened in a period.
_OPEN_NOW = frozenset({"unpaid", "open", "overdue"})
_CASH_OFFERS = ("cash balance", "receivables ageing", "payables ageing")
# Figures the ERP's records can't give, asked by their usual names: said plainly, with the
# nearest figures Companion does have (each an offer the user can pick).
_UNSUPPORTED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        r"current\s+ratio|quick\s+ratio|acid[\s-]+test|liquidity\s+ratio|debt[\s-]+to[\s-]+equity"
        r"|gearing|working\s+capital\s+ratio|solvency",
        "balance-sheet ratios: Companion doesn't classify the ledger's accounts into current "
        "assets and liabilities",
        _CASH_OFFERS,
    ),
    (
        r"\bdso\b|days?\s+sales\s+outstanding|average\s+(?:number\s+of\s+)?days\s+to\s+(?:pay|collect)"
        r"|how\s+(?:long|many\s+days)\s+(?:do|does|did)\s+(?:our\s+|the\s+|a\s+)?"
        r"(?:customers?|clients?|buyers?)\s+(?:\w+\s+)?take\s+to\s+pay"
        r"|(?:days|time)\s+(?:our\s+|the\s+)?(?:customers?|clients?)\s+take\s+to\s+pay"
        r"|collection\s+period|payment\s+(?:speed|delay)s?",
        "how long customers take to pay: Companion doesn't measure payment times yet",
        ("receivables ageing", "overdue invoices"),
    ),
    (
        r"\bdpo\b|days?\s+payables?\s+outstanding|how\s+long\s+(?:do|does|did)\s+we\s+take\s+to"
        r"\s+pay",
        "how long we take to pay suppliers: Companion doesn't measure payment times yet",
        ("payables ageing", "supplier payments by month for the last 3 months"),
    ),
    (
        r"(?:inventory|stock)\s+turn(?:over|s)?|days?\s+(?:of|in)\s+(?:inventory|stock)"
        r"|sell[\s-]+through(?:\s+rate)?",
        "stock turnover: Companion doesn't compute it",
        ("stock value by item", "quantity sold by item last month"),
    ),
    (
        r"\bebitda\b|\bebit\b|\broi\b|\broe\b|\broa\b"
        r"|return\s+on\s+(?:investment|equity|assets|capital)",
        "that ratio: the ledger has no operating, interest, tax and depreciation split or "
        "invested capital to compute it from",
        ("profit and loss this year", "gross margin by month for the last 3 months"),
    ),
    (
        r"churn(?:\s+rate)?|retention\s+rate|(?:customer\s+)?lifetime\s+value|\bclv\b|\bltv\b"
        r"|(?:customer\s+)?acquisition\s+cost|\bcac\b",
        "customer churn, retention or lifetime value: Companion doesn't track them",
        ("top customers this year", "sales by customer last month"),
    ),
    (
        r"(?:customers|clients|parties|accounts|who)\b.{0,40}?(?:over|above|exceed\w*|beyond|past"
        r"|breach\w*|near|close\s+to)\s+(?:the\s+|their\s+|its\s+|our\s+)?credit\s+limits?",
        "which balances are over their credit limits: Companion doesn't compare open "
        "receivables with credit limits yet",
        ("open receivables by customer", "customer list"),
    ),
    (
        r"(?:how\s+many|number\s+of|count\s+of)\s+(?:\w+\s+)?(?:employees|staff|workers|people\s+work)"
        r"|\bheadcount\b",
        "the number of employees: Companion holds no staff or payroll records",
        ("expenses by account this month",),
    ),
    (
        r"(?:how\s+many|number\s+of|count\s+of|which|list|who\s+are)\s+(?:(?:the|our|of)\s+)*"
        r"(?:new|first[\s-]+time)\s+(?:customers|clients|buyers)",
        "which customers are new: Companion doesn't record when a customer was first won",
        ("how many customers bought something this month", "top customers this year"),
    ),
    (
        r"(?:bills?|invoices?|payables?|receivables?|payments?)\b.{0,30}?\b(?:falls?\s+|falling\s+|"
        r"coming\s+)?due\s+(?:this|next|in\s+the\s+next|within|by|before|on|tomorrow|today)\b",
        "bills or invoices by the days they fall due: Companion shows open items by age and "
        "what is already past due, not a list by due date yet",
        ("payables ageing", "receivables ageing", "overdue invoices"),
    ),
    (
        r"\bmy\s+(?:own\s+)?(?:sales|revenue|commissions?)\b|\b(?:have|did)\s+i\s+(?:sell|sold)\b"
        r"|\bi\s+(?:have\s+)?sold\b",
        "your own sales: Companion records no salesperson on invoices or orders, only the "
        "company's sales",
        ("sales this week", "sales by customer this month"),
    ),
    (
        r"conversion\s+rate|win\s+rate|sales\s+pipeline",
        "a conversion rate or sales pipeline: Companion records orders and invoices, not leads",
        ("sales orders by customer this month", "sales by customer this month"),
    ),
    (
        # Quotes we sent or won; "how many quotations do we need" is procurement's policy.
        r"quot(?:e|es|ation|ations)\s+(?:(?:did|have|had|do)\s+)?(?:we\s+)?(?:sent|send|issued|gave"
        r"|given|made|won|lost|converted)\b|(?:open|pending|outstanding|sales)\s+quot(?:e|es|ations?)"
        r"\b|(?:price\s+)?offers?\s+(?:we\s+)?(?:sent|made|gave)",
        "quotations: Companion records sales orders and invoices, not quotes",
        ("sales orders by customer last month", "sales by customer last month"),
    ),
    # A person's pay, asked of any role: the ledger has no staff, only expense accounts.
    (
        r"(?:(?!(?:what|that|who|it|here|there|let|today|company)\b)[a-z]+(?:'s|s'|\u2019s)\s+"
        r"|\bmy\s+)(?:monthly\s+|annual\s+|basic\s+|gross\s+|net\s+)?"
        r"(?:salary|wages?|pay|remuneration)\b"
        r"|(?:salary|salaries|wages?|remuneration)\s+(?:of|for|does|do|is)\s+(?!(?:this|last|next)\b)"
        r"|how\s+much\s+(?:does|do|did|is)\s+(?!(?:we|us|our|you|i|it|they|the\s+company)\b)"
        r"(?:\w+\s+){1,3}(?:earn|paid|make)\b|payslips?",
        "a person's pay: Companion holds no staff or payroll records (salaries are one "
        "expense account in the ledger)",
        ("expenses by account this month",),
    ),
    (
        r"loans?\b|borrowings?\b|overdrafts?\b|mortgages?\b|credit\s+lines?\b",
        "loans or their interest: Companion records bank balances, not loans or their terms",
        ("cash balance", "cash flow this month"),
    ),
    (
        r"competitors?|competition\b|market\s+shares?|rivals?\b|industry\s+average",
        "how we compare with competitors or the market: Companion holds only this company's "
        "own records",
        ("sales this year", "sales by month for the last 12 months"),
    ),
    (
        r"(?:customers?|clients?|buyers?|people)\s+(?:are\s+|have\s+been\s+)?(?:saying|say|said"
        r"|think|thought|feel)\b|feedback|reviews\b|customer\s+reviews?|complaints?"
        r"|satisfaction",
        "what customers say or think: Companion records orders, invoices and payments, not "
        "feedback",
        ("sales by item this month", "top customers this year"),
    ),
    (
        r"(?:shelf|shelves|bin|bins|rack|racks|aisle|aisles)\b(?:\s+(?:location|number|position)s?)?",
        "where an item sits inside a warehouse: Companion records stock per warehouse, not "
        "shelves or bins",
        ("stock levels by warehouse",),
    ),
    (
        r"lead\s+times?|(?:shipping|delivery|transit)\s+times?|how\s+long\s+(?:does|do|will|did)"
        r"\s+.{0,50}?(?:take|takes)\s+to\s+(?:arrive|come|deliver|ship|reach)",
        "delivery lead times: Companion doesn't record when goods were shipped against when "
        "they arrived",
        ("open purchase orders", "purchase orders by supplier this year"),
    ),
    # Advice or a judgement, not a figure: the figures it would rest on are offered.
    (
        r"^\W*should\s+(?:we|i)\b"
        r"|(?:reliable|trustworthy|dependable|risky|good|bad)\s+(?:customer|client|supplier|vendor"
        r"|payer)s?\b|(?:is|are)\s+it\s+(?:a\s+)?(?:good|wise|smart)\s+(?:idea|time)",
        "an opinion or advice: Companion reports the company's figures and leaves judgements "
        "and decisions to you",
        ("gross margin by item this year", "overdue invoices"),
    ),
)
_UNSUPPORTED_RE = [(re.compile(rf"\b(?:{p})", re.IGNORECASE), w, o) for p, w, o in _UNSUPPORTED]


# A staff scheme or policy ("is there a housing loan scheme?", "can staff apply for a loan?")
# is the documents' to answer, not a ledger figure Companion lacks.
_SCHEME = re.compile(
    r"\b(?:schemes?|polic(?:y|ies)|eligib\w*|entitle\w*|apply|applying|benefits?|staff"
    r"|employees?|advances?)\b",
    re.IGNORECASE,
)
_LOANS = "loans or their interest"


def _unsupported(text: str) -> Refusal | None:
    """A figure asked by a name Companion can't compute ("current ratio", "DSO"), said so."""
    for pattern, what, offers in _UNSUPPORTED_RE:
        if what.startswith(_LOANS) and _SCHEME.search(text):
            continue
        if pattern.search(text):
            shown = ", ".join(offers[:-1]) + (" or " if len(offers) > 1 else "") + offers[-1]
            return Refusal(f"I can't work out {what}. I can show {shown} instead.", offers)
    return None


def _no_forecast(label: str) -> Refusal:
    offers = _CASH_OFFERS if label in ("cash", "cash flow") else (f"{label} this month so far",)
    return Refusal(
        f"I can't forecast {label}: Companion has no forecasting method, and I won't present "
        f"today's figures as a forecast. I can show the actual figures as of today.",
        offers,
    )


def _names(entities: dict[str, Any], key: str) -> bool:
    value = entities.get(key)
    return isinstance(value, dict) and value.get("id") is not None


@dataclass(frozen=True)
class Refusal:
    """A question Companion can't answer as asked: why, and nearer questions it can."""

    text: str
    offers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reading:
    """An ad-hoc question read into a query, with how to say its period and filters."""

    query: AnalyticsQuery
    names: dict[str, str] = field(default_factory=dict)  # filter dimension -> record name
    defaulted: str | None = None  # the default period's label ("this month so far")
    follow_up: bool = False
    unknown: tuple[str, str, tuple[str, ...]] | None = None  # (kind, text, close names)
    ambiguous: tuple[str, tuple[str, ...]] | None = None  # (kind, candidate names)


# What ``read`` gives the analytics skill: a measure query, a refusal, or another shape.
Answerable = (
    Reading | Refusal | adhoc_shapes.Documents | adhoc_shapes.Inactive | adhoc_shapes.Shared
)


def asks_last_time(text: str) -> bool:
    """Whether the message asks when a party last bought, ordered or billed."""
    return adhoc_shapes.asks_last_time(text)


def asks_awaited(text: str) -> bool:
    """Whether the message asks what is still waiting for a step ("not yet received")."""
    return bool(_AWAITING.search(" ".join(text.split())))


def asks_breakdown(text: str) -> bool:
    """Whether the message has the shape of a breakdown, ranking or comparison."""
    said = " ".join(text.split())
    return any(p.search(said) for p in (_BY, _TOP, _RANK, _AVERAGE, _COMPARE, _COMPARE_VERB))


def read(
    text: str,
    intent: str,
    entities: dict[str, Any],
    state: ConversationState | None,
    today: dt.date,
    fy_start: int = 1,
) -> Answerable | None:
    """The ad-hoc reading of ``text``, a refusal, or None when a fixed query answers it."""
    said = _HYPHENATED.sub(r"\1 \2", " ".join(text.split()))
    if _WHEN.match(said):
        # A date asked: "when did Gazipur & Sons last buy?" is its newest invoice; "when are
        # bonuses paid?" no measure's total answers.
        return adhoc_shapes.last_document(said, entities, today)
    if intent == "explain_policy" and not (asks_breakdown(said) or _FIGURE_ASKED.search(said)):
        return None  # "what is the late payment penalty?": a rule, whatever measure it names
    if intent in _AGEING_INTENTS and _AGEING.search(said) and not _COMPARE.search(said):
        return None  # "what do we owe our suppliers by age": the ageing the fixed query gives
    unsupported = _unsupported(said)
    if unsupported is not None:
        return unsupported
    # Documents, members with no activity, counts of parties, shares: none of them a measure's
    # breakdown or a fixed query's answer, whatever intent the classifier picked.
    shape = adhoc_shapes.read(said, entities, today, intent)
    if isinstance(shape, adhoc_shapes.Counted):
        named = shape.named
        return Reading(
            shape.query,
            shape.names,
            shape.defaulted,
            unknown=named.unknown,
            ambiguous=named.ambiguous,
        )
    if shape is not None:
        return shape
    measure = _measure(said)
    state = state or ConversationState()
    previous = state.analytics
    if measure is None and previous is not None and _refines(said):
        return _follow_up(said, entities, previous, today, fy_start)
    if measure is None and state.intent in FIXED_MEASURE and _refines(said):
        by, _ = _dimensions(said, entities)
        if by and state.intent is not None:  # "now by customer" after a fixed sales answer
            measure = FIXED_MEASURE[state.intent]
            entities = {**state.question, **entities}
    if (
        measure is None
        and intent in FIXED_MEASURE
        and (_PLAN.search(said) or _FORECAST.search(said))
    ):
        measure = FIXED_MEASURE[intent]  # "how are we doing against budget": not the P&L
    if measure is None and intent in _FORECASTABLE and _FORECAST_ASKED.search(said):
        return _no_forecast(_FORECASTABLE[intent])  # "how much cash will we have ...?"
    inferred = measure is None
    if measure is None:
        measure = FIXED_MEASURE.get(intent) if _BY.search(said) or _WHICH.search(said) else None
    if measure is None:
        return None
    if measure == "purchases" and (
        _names(entities, "customer") or re.search(r"\b(?:customers?|clients?)\b", said, re.I)
    ):
        measure = "sales"  # "customer ranking by purchases": what customers buy from us
    if measure == "expenses" and _SPEND.search(said) and _names(entities, "supplier"):
        measure = "purchases"  # "how much did we spend with Penang ...": what they billed
    if (_AWAITING.search(said) or _OPEN_ASKED.search(said)) and _FIGURE_ASKED.search(said):
        # "how many sales orders are waiting to be delivered?": the orders open today, not
        # those delivered; "how many purchase orders are still waiting for delivery?".
        if measure == "order_count" or (measure == "po_value" and _COUNTED_ASKED.search(said)):
            if not isinstance(entities.get("period"), dict):
                measure = "open_orders" if measure == "order_count" else "open_pos"
    if measure == "invoice_count" and entities.get("status") in _OPEN_NOW:
        # "how many invoices are unpaid?": the open ones as of today, whenever issued; with a
        # period named, those issued in it that are still open (the answer names the period).
        if not isinstance(entities.get("period"), dict):
            measure = "open_invoices"
    # A fixed query answers its own figure: one that names another ("how much did we pay
    # suppliers" read as the payables ageing) is asked ad hoc, not answered with the wrong one.
    mismatch = not inferred and (
        (
            intent in FIXED_MEASURE
            and FIXED_MEASURE[intent] != measure
            and measure not in _GENERIC  # "our stock worth", "sales order": the intent knows
            and not (intent == "profit_and_loss" and _PROFIT.search(said))
        )
        # "the total value of unpaid invoices": a total, not one invoice's status
        or (intent in _NO_MEASURE and measure in ("open_ar", "open_ap"))
    )
    refusal = _refusal(said, measure, entities, today)
    if refusal is not None:
        return refusal
    by, unknown_by = _dimensions(said, entities)
    if unknown_by is not None:
        return _no_dimension(measure, unknown_by)
    if not by and measure in _PARTY_OF and _WHO_RANKED.search(said):
        by = (_PARTY_OF[measure],)  # "who did we buy the most from": the supplier ranked first
    if not by and measure == "expenses" and _RANKED_EXPENSE.search(said):
        by = ("account",)  # "our biggest expense this year": the expense account ranked first
    if not by and measure in ("sales", "purchases", "quantity_sold") and _WHAT_BOUGHT.search(said):
        by = ("item",)  # "what did Tangail Traders buy last month?": the items, not a total
    top, order = _top(said, by)
    compare, other = _comparison(said, today, fy_start)
    average = measure == "average_invoice" or bool(_AVERAGE.search(said))
    if measure == "sales" and average:
        measure = "average_invoice"
    # "how many units of stock do we hold?": the units in all, not the list of stock lines.
    units = measure == "stock_quantity" and not by and bool(_UNITS_ASKED.search(said))
    shaped = (
        mismatch
        or units
        or bool(by)
        or top is not None
        or compare is not None
        or measure
        not in (
            "sales",
            "stock_value",
            "stock_quantity",
            "open_ar",
            "open_ap",
            "po_value",
            "expenses",
        )
    )
    if inferred and by in ((), _NATURAL.get(intent, ())) and top is None and compare is None:
        return None  # "which customers owe us": the list the fixed query gives
    # "which item do we have the most of": one record asked, which the fixed stock or value
    # list doesn't rank (the top customers' list does, naming the largest first).
    ranks = intent == "top_customers"
    asked_top = top if _TOP.search(said) or (top == 1 and not ranks) else None
    # "which customers bought from us last week": every one of them, not the top 5.
    ranked = bool(_RANK.search(said)) or top is not None or bool(entities.get("top_n"))
    fixed = _fixed_answers(intent, measure, by, asked_top, compare, entities, order, ranked)
    if not shaped or (fixed and not units):
        return None
    return _reading(said, measure, by, top, order, compare, other, entities, today, fy_start)


def _measure(text: str) -> str | None:
    for pattern, measure in _MEASURES:
        if pattern.search(text):
            return measure
    return None


def _refines(text: str) -> bool:
    return bool(_REFINE.match(text)) or len(text.split()) <= 4


def _fixed_answers(
    intent: str,
    measure: str,
    by: tuple[str, ...],
    top: int | None,
    compare: Comparison | None,
    entities: dict[str, Any],
    order: str = "desc",
    ranked: bool = True,
) -> bool:
    """Whether the fixed query the NLU picked answers this exactly (it then keeps it)."""
    if compare is not None or (top is not None and not 1 <= top <= MAX_TOP):
        return False
    if intent == "sales_summary" and measure == "sales":
        return by in ((), ("month",)) and top is None
    if intent == "top_customers" and measure == "sales":
        # A name it can't filter by is answered for the whole company, saying so; the
        # ranking is largest first with the NLU's top-N.
        same_top = top is None or top == entities.get("top_n")
        listed = by == ("customer",) and not ranked  # which customers bought: all of them
        return by in ((), ("customer",)) and order == "desc" and same_top and not listed
    if intent == "inventory_valuation" and measure == "stock_value":
        return by in ((), ("item",)) and top is None
    if intent == "stock_levels" and measure == "stock_quantity":
        return by in ((), ("item",), ("item", "warehouse")) and top is None
    return False


def _refusal(text: str, measure: str, entities: dict[str, Any], today: dt.date) -> Refusal | None:
    """Plans, forecasts, future periods and weekday filters: said plainly, with what can be
    shown instead."""
    label = MEASURES[measure].label
    weekday = _WEEKDAYS.search(text)
    if weekday:
        return Refusal(
            f"I can't count {label} {weekday.group(0).lower()}: Companion doesn't filter "
            "figures by day of the week. I can show them day by day, where those days can "
            "be read off.",
            (f"{label} by day this month",),
        )
    if _PLAN.search(text):
        return Refusal(
            f"I can't compare {label} with a plan, target or budget: Companion has no plan, "
            "target or budget figures. I can compare them with an earlier period instead.",
            (
                f"{label} this month compared with last month",
                f"{label} this month compared with the same month last year",
            ),
        )
    period = entities.get("period")
    future = isinstance(period, dict) and str(period.get("start", "")) > today.isoformat()
    if _FORECAST.search(text) or future:
        return Refusal(
            f"I can't forecast {label}: Companion has no forecasting method for them, and I "
            "won't present past figures as a forecast. I can show the actual figures so far.",
            (
                f"{label} by month for the last 3 months (actuals)",
                f"{label} this month so far (actuals)",
            ),
        )
    return None


def _no_dimension(measure: str, what: tuple[str, str, str | None]) -> Refusal:
    word, why, near = what
    label = MEASURES[measure].label
    if near is not None and near not in MEASURES[measure].dimensions and near not in GRAINS:
        near = next(
            (d for d in ("customer", "item", "account") if d in MEASURES[measure].dimensions), None
        )
    text = f"I can't break {label} down by {word}: {why}."
    if near is None:
        return Refusal(text)
    return Refusal(
        f"{text} The nearest I have is {label} by {near}, which is not the same thing.",
        (f"{label} by {near} this month",),
    )


def _dimensions(
    text: str, entities: dict[str, Any]
) -> tuple[tuple[str, ...], tuple[str, str, str | None] | None]:
    """The dimensions asked ("by X", "which X"), or the first one the data doesn't have."""
    by: list[str] = []
    names = [str(v.get("text", "")).casefold() for v in entities.values() if isinstance(v, dict)]
    for pattern in (_BY, _WHICH):
        for match in _every_match(pattern, text) if pattern is _WHICH else pattern.finditer(text):
            # "best selling item", "top paying customers": the participle says the measure.
            what = _head(match.group("what"))
            if any(n and what.startswith(n) for n in names) or _PERIOD_WORDS.match(what):
                continue
            missing = _missing(what)
            if missing is not None:
                return tuple(by), missing
            dim = _dimension_of(what)
            if dim is not None and dim not in by:
                by.append(dim)
            elif dim is None and pattern is _BY and not _measure(what):
                word = _first_words(what)
                if word:
                    return tuple(by), (word, f"Companion has no {word} for that figure", None)
            # "by customer and month", "by customer by month": the match ate the second one
            for more in _AND_BY.split(what)[1:] if dim is not None else ():
                also = _dimension_of(more.strip())
                if also is not None and also not in by:
                    by.append(also)
    for pattern, why, near in _MISSING_RE:  # "sales in each city", "which rep sold most"
        found = pattern.search(text)
        if found and _RANK.search(text) and not by:
            return (), (found.group(0).lower(), why, near)
    records = [d for d in by if d not in ("day", "week", "month", "quarter", "year")]
    grains = [d for d in by if d not in records]
    return tuple(records[:1] + grains[:1] + records[1:2]), None


def _every_match(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Matches starting at every position, overlapping: "what were the top 3 suppliers" is
    "what (were the ...)" and "top 3 (suppliers)", the record named by the second."""
    at = 0
    while (match := pattern.search(text, at)) is not None:
        yield match
        at = match.start() + 1


_PARTICIPLE = re.compile(
    r"^(?:(?:is|are|was|were)\s+)?(?:(?:our|the|my|your|their)\s+)?(?:(?:best|top|worst|biggest|largest|highest|lowest"
    r"|smallest|most|least)\s+)?(?:(?:selling|sold|performing|moving|paying|paid|owing|earning"
    r"|grossing|spending)\s+)?"
)


def _head(what: str) -> str:
    """The words a "which/who/by" names, without "our best selling" before the record."""
    return _PARTICIPLE.sub("", what.strip().casefold())


# A superlative before one record ("our best selling item", "the biggest supplier"): one row.
_ONE = re.compile(
    r"\b(?:best|top|biggest|largest|highest|most\s+\w+|worst|lowest|smallest|least\s+\w+)\s+"
    r"(?:selling\s+|sold\s+|performing\s+|paying\s+|paid\s+|moving\s+|owing\s+)?"
    r"(?:customer|client|buyer|supplier|vendor|item|product|sku|warehouse|account|expense|cost"
    r"|month|week|day|quarter|year)\b(?!s)",
    re.IGNORECASE,
)


def _dimension_of(what: str) -> str | None:
    words = what.split()
    for n in (3, 2, 1):
        if len(words) >= n and " ".join(words[:n]) in _DIMENSION:
            return _DIMENSION[" ".join(words[:n])]
    return None


def _missing(what: str) -> tuple[str, str, str | None] | None:
    head = " ".join(what.split()[:3])  # "product category", "marketing campaign"
    for pattern, why, near in _MISSING_RE:
        found = pattern.search(head)
        if found:
            return found.group(0), why, near
    return None


def _first_words(what: str) -> str:
    words = [w for w in what.split() if w not in _STOP][:2]
    cut: list[str] = []
    for w in words:
        if _PERIOD_WORDS.match(w) or w in ("last", "this", "so", "far", "since"):
            break
        cut.append(w)
    return " ".join(cut)


def _top(text: str, by: tuple[str, ...]) -> tuple[int | None, str]:
    order = "asc" if _ASCENDING.search(text) else "desc"
    match = _TOP.search(text)
    if match is not None:
        return int(match.group("n").replace(",", "")), (
            "asc"
            if match.group("dir").lower() in ("bottom", "worst", "lowest", "smallest", "least")
            else "desc"
        )
    if by and (
        re.search(r"\b(?:which|who)\b.*\b(?:most|least|highest|lowest|best|worst)\b", text, re.I)
        or _ONE.search(text)
    ):
        return 1, order
    if by and _RANK.search(text):
        return DEFAULT_TOP, order
    return None, order


def _comparison(
    text: str, today: dt.date, fy_start: int
) -> tuple[Comparison | None, tuple[dt.date, dt.date] | None]:
    """The comparison asked and, when the other period is named, its dates."""
    parts = _COMPARE.split(text, maxsplit=1)
    if len(parts) == 2 and _THAN_FILTER.search(text):
        parts = [text]  # "waiting for more than a week", "invoices over 5 lakh": a filter
    if len(parts) == 1 and _COMPARE_VERB.search(text):
        parts = re.split(r"\s+\b(?:with|and|to)\b\s+", text, maxsplit=1, flags=re.IGNORECASE)
        if (
            len(parts) == 2
            and not extract_dates(parts[1], today=today, fiscal_year_start_month=fy_start).period
        ):
            parts = [text]
    if len(parts) == 2:
        right = parts[1]
        if _LAST_YEAR.search(right) and not re.fullmatch(r"\s*last\s+year\W*", right, re.I):
            return "last_year", None
        if _PREVIOUS.search(right):
            return "previous_period", None
        other = extract_dates(right, today=today, fiscal_year_start_month=fy_start).period
        if other is not None:
            return "period", (other.start, other.end)
        return "previous_period", None
    if _COMPARE_VERB.search(text) or _GROWTH.search(text):
        return ("last_year" if _LAST_YEAR.search(text) else "previous_period"), None
    return None, None


def _reading(
    text: str,
    measure: str,
    by: tuple[str, ...],
    top: int | None,
    order: str,
    compare: Comparison | None,
    other: tuple[dt.date, dt.date] | None,
    entities: dict[str, Any],
    today: dt.date,
    fy_start: int,
) -> Reading:
    left = _COMPARE.split(text, maxsplit=1)[0] if compare == "period" else text
    own = extract_dates(left, today=today, fiscal_year_start_month=fy_start).period
    period = entities.get("period")
    defaulted = None
    if own is not None and compare == "period":
        start, end = own.start, own.end
        if other is not None and other[1] + dt.timedelta(days=1) == start and today < end:
            # "sales this year vs last year": this year so far against the same days of
            # last year (like for like), not a part year against a whole one.
            compare, other = "previous_period", None
    elif isinstance(period, dict) and period.get("start") and period.get("end"):
        start = dt.date.fromisoformat(str(period["start"]))
        end = dt.date.fromisoformat(str(period["end"]))
    elif any(g in by for g in ("month", "quarter", "week", "year")):
        start, end, defaulted = _last_12_months(today), today, "the last 12 months"
    else:
        start, end, defaulted = today.replace(day=1), today, "this month so far"
    if compare == "period" and other is not None and other[0] == start and own is None:
        # "did sales grow compared to last quarter?": this quarter so far against the same
        # days of last quarter (like for like), not a part quarter against a whole one.
        start, end, defaulted = _current_like(other, today, fy_start)
        if other[1] + dt.timedelta(days=1) == start and today < end:
            compare, other = "previous_period", None
    filters, names, unknown, ambiguous = _filters(entities)
    if top is not None and not 1 <= top <= MAX_TOP:
        top = max(0, min(top, 1_000_000))  # validated (and refused) by the engine
    query = AnalyticsQuery(
        measure=measure,
        by=by,
        filters=filters,
        start=start,
        end=end,
        top=top,
        order="asc" if order == "asc" else "desc",
        compare=compare,
        compare_start=other[0] if other else None,
        compare_end=other[1] if other else None,
        status=_status(entities, measure),
    )
    return Reading(query, names, defaulted, unknown=unknown, ambiguous=ambiguous)


def _current_like(
    other: tuple[dt.date, dt.date], today: dt.date, fy_start: int
) -> tuple[dt.date, dt.date, str]:
    """The current period of the same kind as ``other`` (a month, quarter, year), so far."""
    days = (other[1] - other[0]).days + 1
    grain = "year" if days >= 360 else "quarter" if days >= 88 else "week" if days == 7 else "month"
    current = extract_dates(f"this {grain}", today=today, fiscal_year_start_month=fy_start).period
    if current is None or current.start > today:  # pragma: no cover - "this <grain>" always reads
        return today.replace(day=1), today, "this month so far"
    return current.start, current.end, f"this {grain} so far"  # the engine cuts at today


def _status(entities: dict[str, Any], measure: str = "") -> str | None:
    status = entities.get("status")
    if status == "paid" and measure in ("receipts", "supplier_payments"):
        return None  # "customers paid us": the measure's own word, not an invoice status
    if measure in ("open_orders", "open_pos"):
        return None  # "waiting to be delivered": what they count, not the status named
    if status == "overdue":
        return "overdue"  # open and past due as of today (the engine's, not a stored status)
    if status in _OPEN_NOW and measure in ("open_ar", "open_ap", "open_invoices"):
        return None  # what they count already
    if status in _OPEN_NOW and measure == "invoice_count":
        return "unpaid"  # "open invoices from October": still open, not every one issued
    # "open" and "all" are what the measures count already, not one status.
    if not isinstance(status, str) or status in ("", "open", "all", "active"):
        return None
    return {"pending": "pending_approval"}.get(status, status)


def _filters(
    entities: dict[str, Any],
) -> tuple[
    dict[str, int],
    dict[str, str],
    tuple[str, str, tuple[str, ...]] | None,
    tuple[str, tuple[str, ...]] | None,
]:
    filters: dict[str, int] = {}
    names: dict[str, str] = {}
    unknown = ambiguous = None
    for key, dim in _ENTITY_FILTER.items():
        value = entities.get(key)
        if not isinstance(value, dict):
            continue
        if value.get("id") is not None:
            filters[dim] = int(value["id"])
            names[dim] = str(value.get("name") or value.get("text"))
        elif value.get("candidates") and ambiguous is None:
            ambiguous = (key, tuple(str(c["name"]) for c in value["candidates"][:5]))
        elif value.get("text") and unknown is None:
            close = tuple(str(s["name"]) for s in value.get("suggestions") or [])[:5]
            unknown = (key, str(value["text"]), close)
    return filters, names, unknown, ambiguous


def _last_12_months(today: dt.date) -> dt.date:
    try:
        return today.replace(year=today.year - 1) + dt.timedelta(days=1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28) + dt.timedelta(days=1)


def _follow_up(
    text: str,
    entities: dict[str, Any],
    previous: dict[str, Any],
    today: dt.date,
    fy_start: int,
) -> Reading | Refusal | None:
    """'now by month', 'only Sylhet Depot', 'what about last year?', 'top 3' on the last one."""
    query = AnalyticsQuery.model_validate(previous["query"])
    names = dict(previous.get("names") or {})
    changes: dict[str, Any] = {}
    by, unknown_by = _dimensions(text, entities)
    if unknown_by is not None:
        return _no_dimension(query.measure, unknown_by)
    if by:
        changes["by"] = by
    filters, new_names, unknown, ambiguous = _filters(entities)
    if filters:
        kept = {k: v for k, v in query.filters.items() if k not in filters}
        changes["filters"] = {**kept, **filters}
        names = {k: v for k, v in names.items() if k not in filters} | new_names
    period = entities.get("period")
    if isinstance(period, dict) and period.get("start"):
        changes["start"] = dt.date.fromisoformat(str(period["start"]))
        changes["end"] = dt.date.fromisoformat(str(period["end"]))
        if changes["start"] > today:
            return _refusal("forecast", query.measure, entities, today)
    elif _BEFORE.search(text) and query.start is not None and query.end is not None:
        # "what about the month before?": the same length of time just before the last one
        # (a year before for "the year before"), not a period of its own.
        said = _BEFORE.search(text)
        unit = ((said.group(1) or said.group(2)) if said else "").lower()
        shift = "last_year" if unit == "year" else "previous_period"
        start, end = compared_period(
            query.model_copy(update={"compare": shift}), query.start, query.end
        )
        if query.end >= today and start.day == 1:  # "this month so far": the whole month before
            months = (query.end.year - query.start.year) * 12 + query.end.month - query.start.month
            last = (start.month - 1 + months) % 12 + 1
            year = start.year + (start.month - 1 + months) // 12
            end = dt.date(year, last, calendar.monthrange(year, last)[1])
        changes["start"], changes["end"] = start, end
    top, order = _top(text, by)
    if _TOP.search(text):
        changes["top"], changes["order"] = top, order
    elif query.top is not None and (rank := _ordinal(text, query.top)) is not None:
        # "and the second?" after the top one: the ranking down to that place.
        changes["top"] = min(max(rank, query.top), MAX_TOP)
    compare, other = _comparison(text, today, fy_start)
    if compare is not None:
        changes["compare"] = compare
        if other:
            changes["compare_start"], changes["compare_end"] = other
    if not changes and unknown is None and ambiguous is None:
        return None
    return Reading(
        query.model_copy(update=changes),
        names,
        None if "start" in changes else previous.get("defaulted"),
        follow_up=True,
        unknown=unknown,
        ambiguous=ambiguous,
    )


_BEFORE = re.compile(
    r"\b(?:the\s+)?(?:(month|quarter|year|week|period|day)\s+(?:before|earlier|prior)"
    r"|(?:previous|prior|preceding)\s+(month|quarter|year|week|period|day))\b",
    re.IGNORECASE,
)

_ORDINALS = {"second": 2, "third": 3, "fourth": 4, "fifth": 5, "2nd": 2, "3rd": 3, "4th": 4}
_ORDINAL = re.compile(
    r"\b(?:(second|third|fourth|fifth|2nd|3rd|4th)|(next)(?:\s+one)?"
    r"|(?:top|first)\s+(\d{1,3}))\b",
    re.IGNORECASE,
)


def _ordinal(text: str, shown: int) -> int | None:
    """The place a follow-up asks about ("the second", "the next one"), or None."""
    found = _ORDINAL.search(text)
    if found is None:
        return None
    word, following, count = found.groups()
    if word:
        return _ORDINALS[word.lower()]
    if following:
        return shown + 1
    return int(count)


def remembered(reading: Reading) -> dict[str, Any]:
    """What the conversation keeps of an ad-hoc answer for its follow-ups."""
    return {
        "query": reading.query.model_dump(mode="json"),
        "names": reading.names,
        "defaulted": reading.defaulted,
    }
