"""Questions are not orders: a question the classifier puts on an action is read as data.

"PO-2026-0042 ki approve hoyeche?" (has it been approved?), "supplier der payment koto
baki?" (how much is still to pay suppliers?) and "did Rahim Traders pay yet?" are about an
action's subject, and a sentence model hears "approve" or "payment" in them. A message that
asks (a question mark, a question word: "how much", "which", "koto", "kon", "কত", "কী"; or
"show", "list", "display" first: to be shown something) and
holds no request to do something (an imperative: "approve PO-…", "kore dao", "করো"; or a
polite "can you …" with an action verb) is never read as an action. It gets the reading the
classifier ranks best among the data intents and policy/help, or, for a document number, the
data intent of that document (a PO's question is about purchase orders). How-to questions
in English are left to the assistant, which answers them from the help pages; in Banglish
and Bangla ("kivabe …", "কীভাবে …") they are read as help here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from typing import Any

from companion.assistant.nlu.classifier import OUT_OF_SCOPE
from companion.assistant.nlu.entities.script import BANGLA

# The data intent of a question about one document, by its prefix.
DOCUMENT_INTENTS = {"PO": "purchase_orders", "INV": "invoice_status", "SO": "order_status"}
# Readings a question never gets: the actions, and replies that only make sense to a proposal.
_NOT_AN_ANSWER = frozenset({"confirm", "cancel", "greet", "goodbye", "remember"})

_TOKEN = re.compile(rf"(?:[^\W_]|[{BANGLA}])+|\?")
_FILLERS = frozenset(
    "ok okay so and but then also just now hi hey hello pls please plz kindly bhai vai".split()
)
_EN_QUESTION_START = frozenset(
    "what whats which who whom whose when where why how hw wat wats wht whts whr "
    "is are was were has have had any anything".split()
)
# "show me the invoices for X", "list POs over 2 lakh": asking to be shown, never to do.
_EN_SHOW_START = frozenset("show list display".split())
# "invoices above 80,000", "bills from Penang": documents named first, a noun phrase that asks
# for them; the plural is never the verb's imperative ("invoice Rahim for 5 bags").
_DOCUMENT_PLURALS = frozenset("invoices bills orders pos receipts payments".split())
_PRONOUNS = frozenset("we i you u they he she it our".split())
_ASKING_WORDS = frozenset(
    # Banglish: how much/many, what/whether, where, when, why, which, who, or not, how
    "koto kto koyta koita koiti koyti kotojon koyjon ki kii kothay kothai koi kobe keno kno "
    "kon konta kongula kara naki kemon kivabe kibhabe kemne "
    # Bangla
    "কত কয়টা কয়টি কতজন কী কি কোথায় কবে কেন কোন কোনগুলো কোনটা কারা নাকি কেমন কীভাবে কিভাবে".split()
)
# Banglish verb forms after an English verb that make it a noun or a past: "approve korar" (of
# approving), "approve korte hobe" (needs approving), "approve hoyeche" (has been approved).
_VERBAL_NOUNS = frozenset(
    "kora korar korte hoise hoyeche hoy hobe hoini hoyni korsi korechi korbo koreche".split()
)
_HOW_TO_WORDS = frozenset("kivabe kibhabe kemne কীভাবে কিভাবে".split())
_HOW_MUCH = re.compile(r"\b(?:how|hw)\s+(?:much|mch|mich|many|mny)\b", re.IGNORECASE)
_EN_HOW_TO = re.compile(
    r"^\W*(?:(?:and|so|but|ok|okay|please|hi|hello)\b\W*)*"
    r"(?:how\s+(?:do|can|could|should|would|does|will|must)\s+(?:i|we|you|one|someone)\b"
    r"|how\s+to\b)",
    re.IGNORECASE,
)
_POLITE = re.compile(
    r"\b(?:can|could|would|will)\s+(?:you|u)\b|\b(?:please|pls|plz|kindly)\b", re.IGNORECASE
)
# Banglish and Bangla requests to do something (not "dekhao"/"bolo": show, tell).
_DOING = re.compile(
    r"\b(?:koro|korun|koren|korio|kore\s+(?:dao|din|den|felo|felun|rakho|rakhen|diba|dibe|diben)"
    r"|diye\s+(?:dao|din|den)|banao|baniye|pathao|pathiye|tulo|tule|rakho|barao|komao|khulo|nao"
    r"|nin|uthiye|(?:bad|baad)\s+(?:dao|din)|(?:entry|approval|order)\s+(?:dao|din|den))\b"
    rf"|(?<![{BANGLA}])(?:করো|করুন|করেন|করিও|করে\s+(?:দাও|দিন|ফেলো|ফেলুন|রাখো)|দিয়ে\s+(?:দাও|দিন)"
    rf"|বানাও|পাঠাও|তোলো|কমাও|বাড়াও|বাদ\s+(?:দাও|দিন)|খোলো|নাও|নিন)(?![{BANGLA}])",
    re.IGNORECASE,
)
# "status" and its common typos, Banglish and Bangla; the documents it is asked of.
_STATUS_NOUN = re.compile(
    r"\b(?:status|staus|stauts|statsu|sttus|satus|stat|halat|obostha|abostha)\b|অবস্থা"
)
_DOCUMENT_NOUNS = ("invoice", "bill", "order", "receipt", "payment")
# SQL statements: keyword pairs nobody writes in a question, and ones that need their
# punctuation or capitals to be SQL ("select the cement from the list" is English).
_SQL_STRONG = re.compile(
    r"\b(?:union\s+(?:all\s+)?select|drop\s+(?:table|database|schema|view|index)|alter\s+table"
    r"|create\s+(?:table|database)|truncate\s+table|insert\s+into\s+\w+\s*(?:\(|values))",
    re.IGNORECASE,
)
_SQL = re.compile(
    r"\b(?:select\s+(?:\*|[\w.,\s()]+?)\s+from|delete\s+from|update\s+\w+\s+set)\b", re.IGNORECASE
)
_SQL_CAPS = re.compile(r"\b(?:SELECT|DELETE|UPDATE|INSERT)\b.*\b(?:FROM|SET|INTO|WHERE)\b")
_SQL_PUNCT = re.compile(r"[;*=()']|--")
# Marks of code: a statement end before a comment or quote, tautologies, tags, arrows, defs.
_CODE_MARKS = re.compile(
    r";\s*(?:--|#|/\*|$)|'\s*;|\b(?:or|and)\s+'?\d+'?\s*=\s*'?\d+|\b1\s*=\s*1\b|/\*|\*/"
    r"|</?\s*(?:script|div|img|iframe|html|body)\b|=>|\bdef\s+\w+\s*\(|\bfunction\s*\w*\s*\("
    r"|\bprint\s*\(|\beval\s*\(|\$\{|\{\{|\bos\.system|\bexec\s*\("
)
ACTION_VERBS = frozenset(
    "approve reject decline create make add ad post record log enter adjust void cancel raise "
    "issue book place register invoice bill pay receive rcvd recd write reduce increase "
    "decrease correct reverse nullify sign authorise authorize release buy order generate put "
    "deduct remove delete undo scrap purchase sell charge submit transfer deposit settle mark "
    "set update change".split()
)
# Common words one letter away from an action verb, which the typo allowance would take for
# it: "will the price go up?" is not "bill", "tell me" is not "sell", "look up" is not "book".
_NEAR_VERBS = frozenset(
    "will well tell till still look took most cost past must avoid chance remote white older "
    "sing".split()
)
# Ways of reaching someone, which no action of Companion's does: "send an email to Dhaka
# Traders about their overdue invoice", "call Rahim Traders", "remind Bengal Foods to pay".
# The classifier hears the ledger words after them (invoice, payment, balance) and would start
# another action or show a figure. "send an invoice to ..." (post it) and "send PO-... back"
# (reject it) name what an action does, so "send" counts only with a message as its object.
_MEDIUM = (
    r"(?:e-?mails?|mails?|messages?|texts?|sms|whats\s?app|letters?|fax(?:es)?|memos?"
    r"|reminders?|notifications?|notices?|calls?|meetings?|invit(?:es?|ations?)|newsletters?)"
)
# Not the nouns: "call off", "email address", "phone number", "contact details", "text of".
_NOUN_AFTER = (
    r"(?!\s+(?:off|of|me|address\w*|ids?|numbers?|no|details?|info\w*|person|list|logs?)\b)"
)
_REACH = re.compile(
    r"^(?:(?:send|write|draft|compose|forward|drop|shoot|prepare)\s+(?:\w+\s+){0,3}?"
    rf"{_MEDIUM}\b"
    r"|(?:e-?mail|mail|text|sms|whatsapp|message|call|phone|ring|dial|fax|notify|contact|remind"
    rf"|chase|ping)\b{_NOUN_AFTER})",
    re.IGNORECASE,
)
# Handling a document outside the ledger: never an action ("print INV-2026-0042" is not
# posting it), though "share the sales figures" or "export the client list" asks for figures.
_HANDLE = re.compile(
    rf"^(?:print|download|export|share|forward|tweet|translate|schedule)\b{_NOUN_AFTER}",
    re.IGNORECASE,
)
_REQUEST_LEAD = re.compile(
    r"^(?:(?:ok|okay|so|and|but|then|also|just|now|hi|hey|hello|pls|please|plz|kindly)\b[\s,!]*)*"
    r"(?:(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+|pls\s+|kindly\s+)?"
    r"|i(?:\s+(?:want|need|would\s+like)|'d\s+like)\s+(?:you\s+)?to\s+)?"
    r"(?:please\s+|pls\s+|kindly\s+)?",
    re.IGNORECASE,
)
# Words of keeping something or of what is kept: a "remember" reading needs one ("will the
# price of steel go up next month?" has none, however close it sits to "note down that Padma
# Cement raised prices"). Typos ("rmbr", "remeber"), Banglish and Bangla included.
_MEMORY = re.compile(
    r"(?:^|(?<=\W))(?:r[ei]?m+[ei]?m*b*[ei]?r\w*|remind\w*|memor\w*|memo|notes?|noted"
    r"|reminders?|forg[eo]t\w*|recall\w*|keep\s+in\s+mind|sav(?:e|ed|ing)|stor(?:e|ed|ing)"
    r"|pref\w*|from\s+now\s+on|always|usual\w*|default|favou?rite|mone\s+r[ae]kh\w*"
    r"|pochond\w*)\b|/(?:remember|remind|note)\b|মনে\s*র[\u09be\u09c7]খ|পছন্দ",
    re.IGNORECASE,
)


def requests(text: str) -> bool:
    """Whether ``text`` asks for something to be done: an imperative or a polite request.

    "approve PO-…", "kore dao", "করো", "can you post …"; not "approve korar kichu ache?"
    (anything to approve?), where the verb is a noun.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    words = [t for t in _TOKEN.findall(folded) if t != "?"]
    if not words:
        return False
    lead = next((w for w in words if w not in _FILLERS), "")
    second = _second(words, lead)
    # "purchase orders in Q3" names documents; "purchase 50 bags" asks to buy.
    noun = lead == "purchase" and second in ("order", "orders", "requisition", "requisitions")
    if is_action_verb(lead) and second not in _VERBAL_NOUNS and not noun:
        return True
    if _DOING.search(folded):
        return True
    return bool(_POLITE.search(folded)) and any(is_action_verb(w) for w in words)


def reaches_someone(text: str) -> bool:
    """Whether ``text`` asks to contact someone, which no action does.

    "please send an email to Dhaka Traders about their overdue invoice", "call Rahim Traders
    about the payment", "remind Bengal Foods to pay": the verb says what is wanted, whatever
    ledger words follow it. "send an invoice to Lotus Pharma" and "remind me to ..." are not.
    """
    return bool(_REACH.match(_request(text)))


def requests_elsewhere(text: str) -> bool:
    """Whether ``text`` asks for something no action does: to contact someone
    (``reaches_someone``) or to handle a document outside the ledger ("print INV-...",
    "forward PO-... to the supplier")."""
    said = _request(text)
    return bool(_REACH.match(said) or _HANDLE.match(said))


def _request(text: str) -> str:
    """The request without the words in front that ask nothing ("please", "can you")."""
    folded = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return _REQUEST_LEAD.sub("", folded, count=1)


def mentions_memory(text: str) -> bool:
    """Whether ``text`` has a word of keeping something or of what is kept ("remember", "note
    that", "remind me", "from now on", "mone rakho"), as every request to the memory has."""
    return bool(_MEMORY.search(unicodedata.normalize("NFKC", text)))


def describes(text: str, entities: Mapping[str, Any]) -> bool:
    """Whether ``text`` is a noun phrase over a period with no request: a question.

    "new customers last quarter", "sales orders this month": no imperative, nothing to
    record (no amount, quantity or price) and a period of more than one day, so they ask
    what happened in it. "Rahim paid 5,000 yesterday" records a payment (an amount), and
    "new customer Rahim Traders" names no period. A document's number with "status"
    ("invoce INV-2026-0045 staus") asks for that status too.
    """
    if any(entities.get(k) is not None for k in ("amount", "quantity", "unit_price")):
        return False
    folded = unicodedata.normalize("NFKC", text).casefold()
    if entities.get("document_ref") and _STATUS_NOUN.search(folded):
        # "invoce INV-2026-0045 staus": a document's status, its kind written before it.
        lead = next((w for w in _TOKEN.findall(folded) if w not in _FILLERS), "")
        if not requests(folded) or any(_one_edit(lead, w) for w in _DOCUMENT_NOUNS):
            return True
    period = entities.get("period")
    if not isinstance(period, dict) or period.get("start") == period.get("end"):
        return False
    return not requests(folded)


def looks_like_code(text: str) -> bool:
    """Whether ``text`` is a SQL statement or program code rather than a question.

    A SQL statement ("DROP TABLE invoices; --", "'; DELETE FROM customers WHERE 1=1; --",
    "select * from invoices") or at least two marks of code (a statement end followed by a
    comment, "1=1", a tag, "=>", a function definition). "delete INV-2026-0045" and "update
    the customer's phone" are requests, not code: they have no such marks.
    """
    normal = unicodedata.normalize("NFKC", text)
    folded = normal.casefold()
    marks = len(_CODE_MARKS.findall(folded))
    # Capital keywords among lower-case words are SQL; a message all in capitals is shouting.
    caps = _SQL_CAPS.search(normal) and any(ch.islower() for ch in normal)
    if _SQL_STRONG.search(normal) or caps:
        return True
    if _SQL.search(normal) and (marks or _SQL_PUNCT.search(normal)):
        return True
    return marks >= 2


def asks(text: str) -> bool:
    """Whether ``text`` asks a question without asking for anything to be done."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    tokens = _TOKEN.findall(folded)
    words = [t for t in tokens if t != "?"]
    if not words or _EN_HOW_TO.match(folded):
        return False
    if requests(folded):
        return False
    lead = next((w for w in words if w not in _FILLERS), "")
    return (
        "?" in tokens
        or lead in _EN_QUESTION_START
        or lead in _EN_SHOW_START
        or lead in _DOCUMENT_PLURALS
        or lead in ("did", "does")
        or (lead == "do" and _second(words, lead) in _PRONOUNS)  # not "do a stock count"
        or bool(_HOW_MUCH.search(folded))
        or any(w in _ASKING_WORDS for w in words)
    )


def reading_for_question(
    text: str,
    probabilities: Mapping[str, float],
    entities: Mapping[str, Any],
    *,
    actions: Collection[str],
) -> tuple[str, float]:
    """The intent and confidence of a question the classifier put on one of ``actions``.

    The confidence is the reading's share of what the classifier gave the intents a question
    may have: how sure it is of this reading, given that the message is not an action.
    """
    allowed = {
        name: p
        for name, p in probabilities.items()
        if name not in actions and name not in _NOT_AN_ANSWER
    }
    total = sum(allowed.values())
    if not allowed:  # a training set of actions only: nothing else to read it as
        return OUT_OF_SCOPE, 0.0
    folded = unicodedata.normalize("NFKC", text).casefold()
    if "help" in allowed and any(w in _HOW_TO_WORDS for w in _TOKEN.findall(folded)):
        target = "help"
    else:
        ref = entities.get("document_ref")
        prefix = ref.get("prefix") if isinstance(ref, dict) else None
        target = DOCUMENT_INTENTS.get(str(prefix), "")
        if target not in allowed:  # no document, or a training set without that intent
            target = max(allowed, key=allowed.__getitem__)
    share = allowed.get(target, 0.0) / total if total > 0 else 0.0
    return target, share


def is_action_verb(word: str) -> bool:
    """An action verb, inflected ("approved") or mistyped by a letter ("aprove", "rejct")."""
    if word in _DOCUMENT_PLURALS or word in _NEAR_VERBS:
        return False
    if word in ACTION_VERBS:
        return True
    for suffix in ("s", "d", "ed", "ing"):
        if word.endswith(suffix) and word[: -len(suffix)] in ACTION_VERBS:
            return True
    return len(word) >= 4 and any(
        abs(len(word) - len(verb)) <= 1 and _one_edit(word, verb) for verb in ACTION_VERBS
    )


def _second(words: list[str], lead: str) -> str:
    if lead not in words:  # nothing but fillers ("ok so")
        return ""
    index = words.index(lead)
    return words[index + 1] if index + 1 < len(words) else ""


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` is ``b`` with one letter added, dropped, changed or two swapped."""
    if a == b:
        return True
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i, j = diff if len(diff) == 2 else (0, 0)
        return j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
