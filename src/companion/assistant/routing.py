"""The routing of a chat turn as named rules, in order: what the message means, then who answers.

``READING`` turns the NLU's reading into the turn's route: a pick of an offered choice or a
follow-up to the last question, a memory request (and a memory reading without a word of
memory: out of scope), an ad-hoc breakdown, the page's document and remembered records, one
named document, a how-to question, an action in progress, and last a question naming another
company than the active one (said, not answered with this company's figures).
``answering`` then tries, in order, the documents-or-data weighing, a model choosing the tool
for an unsure reading, and the route's skill. Each rule says when it ``applies`` and what it
does (``run``); a rule that applies may still leave the route as it is (no ad-hoc reading).
What a rule needs from the database or a model comes in as a function of the ``Message``
(``Answerer``), so each rule is unit-tested on its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from companion.assistant import adhoc, followup
from companion.assistant.memory import phrases as memory_phrases
from companion.assistant.nlu.classifier import OUT_OF_SCOPE
from companion.assistant.nlu.guard import mentions_memory, reaches_someone
from companion.assistant.page import with_page_record
from companion.assistant.skills import actions as action_skill
from companion.assistant.skills.base import Answer, Skill, skill_for
from companion.assistant.skills.data_query import one_document_intent
from companion.assistant.skills.refusals import asks_outside_figure
from companion.assistant.state import ConversationState

# Intents a model is never asked to second-guess, however unsure the NLU is.
NO_TOOL_CHOICE = frozenset(
    {"greet", "goodbye", "confirm", "cancel", "help", "remember", "explain_policy"}
)

AdhocReading = tuple[adhoc.Answerable, dict[str, Any]]


def _no_adhoc() -> AdhocReading | None:
    return None


def _same(entities: dict[str, Any]) -> dict[str, Any]:
    return entities


def _unclaimed(resolved: followup.Resolved) -> bool:
    return False


def _no_other_company(entities: dict[str, Any]) -> str | None:
    return None


@dataclass(frozen=True)
class Message:
    """What the reading rules read: the words, the NLU's reading, the conversation's state."""

    text: str
    intent: str
    confidence: float
    entities: dict[str, Any]
    state: ConversationState
    data_intents: frozenset[str]
    record: str | None = None  # the document on the page the user asks from
    # What the assistant reads for a rule (the database, the NLU's master data):
    read_adhoc: Callable[[], AdhocReading | None] = _no_adhoc
    recall: Callable[[dict[str, Any]], dict[str, Any]] = _same
    claims: Callable[[followup.Resolved], bool] = _unclaimed
    # What to say when the words name another company than the active one (its entities in):
    other_company: Callable[[dict[str, Any]], str | None] = _no_other_company


@dataclass(frozen=True)
class Route:
    """Where a turn goes: its reading, and what the rules found on the way."""

    resolved: followup.Resolved
    remembering: bool = False  # "remember that ...", "remind me ..."
    how_to: bool = False  # "how do I ...?": the help pages, not the action
    claimed: bool = False  # the actions skill takes the turn
    adhoc: adhoc.Answerable | None = None
    taken: tuple[str, ...] = ()  # the rules that changed the route, in order
    elsewhere: bool = False  # the words name another company: said, nothing weighed or chosen

    def skill(self) -> Skill:
        """The skill that answers the route (the actions skill when it claims the turn)."""
        intent = action_skill.ACTION_INTENTS[0] if self.claimed else self.resolved.intent
        found = skill_for(intent) or skill_for("out_of_scope")
        assert found is not None  # out_of_scope always has a skill
        return found

    def by(self, rule: str, **changes: Any) -> Route:
        return dataclasses.replace(self, taken=(*self.taken, rule), **changes)


class ReadingRule(Protocol):
    name: str

    def applies(self, message: Message, route: Route) -> bool: ...

    def run(self, message: Message, route: Route) -> Route: ...


class FollowUp:
    """A pick of a choice the last answer offered, or a refinement of the last question."""

    name = "follow_up"

    def applies(self, message: Message, route: Route) -> bool:
        state = message.state
        return state.offer is not None or state.intent in message.data_intents

    def run(self, message: Message, route: Route) -> Route:
        resolved = followup.resolve(
            message.state,
            message.text,
            message.intent,
            message.confidence,
            route.resolved.entities,
            data_intents=message.data_intents,
        )
        return route.by(self.name, resolved=resolved) if resolved.follow_up else route


class MemoryRequest:
    """ "remember that ...", "remind me to ... tomorrow": kept, whatever else the words name."""

    name = "memory_request"

    def applies(self, message: Message, route: Route) -> bool:
        return memory_phrases.is_memory_request(message.text)

    def run(self, message: Message, route: Route) -> Route:
        resolved = followup.Resolved("remember", 1.0, dict(message.entities), False)
        return route.by(self.name, resolved=resolved, remembering=True)


def _out_of_scope(route: Route, rule: str) -> Route:
    """The route turned out of scope by ``rule``, its entities dropped: the refusal then says
    what can't be done."""
    resolved = followup.Resolved(OUT_OF_SCOPE, 1.0 - route.resolved.confidence, {}, False)
    return route.by(rule, resolved=resolved)


class NotMemory:
    """A "remember" reading of words that neither keep anything nor ask what is kept: "will
    the price of steel go up next month?" sits close to "note down that Padma Cement raised
    prices", and the memory skill would answer "I don't remember anything for you yet". Out
    of scope instead, so the refusal says what can't be done. A refinement of the last
    question ("only for Dhaka Traders") has been taken by ``FollowUp`` before."""

    name = "not_memory"

    def applies(self, message: Message, route: Route) -> bool:
        resolved = route.resolved
        return (
            resolved.intent == "remember"
            and not resolved.follow_up
            and not route.remembering
            and not mentions_memory(message.text)
        )

    def run(self, message: Message, route: Route) -> Route:
        return _out_of_scope(route, self.name)


class OutsideFigure:
    """A data reading of a question for a figure no company's books hold: an exchange rate,
    a price or rate predicted ("will copper prices fall next week?" read as the items below
    their reorder level, "how much is one US dollar in taka?" as the cash balance). Out of
    scope, so the refusal says what Companion can't do instead of answering another question.
    A refinement of the last question has been taken by ``FollowUp`` before."""

    name = "outside_figure"

    def applies(self, message: Message, route: Route) -> bool:
        resolved = route.resolved
        return (
            (resolved.intent in message.data_intents or resolved.intent == adhoc.INTENT)
            and not resolved.follow_up
            and asks_outside_figure(message.text)
        )

    def run(self, message: Message, route: Route) -> Route:
        return _out_of_scope(route, self.name)


class AdHoc:
    """A breakdown, ranking or comparison the fixed queries don't give."""

    name = "adhoc"

    def applies(self, message: Message, route: Route) -> bool:
        # "write a letter to Bengal Foods about their payment" asks for no figures either.
        return not route.remembering and not reaches_someone(message.text)

    def run(self, message: Message, route: Route) -> Route:
        reading = message.read_adhoc()
        if reading is None:
            return route
        found, entities = reading
        follow_up = isinstance(found, adhoc.Reading) and found.follow_up
        resolved = followup.Resolved(adhoc.INTENT, 1.0, entities, follow_up=follow_up)
        return route.by(self.name, resolved=resolved, adhoc=found)


class Awaited:
    """ "Which purchase orders are still waiting to be received?": the open ones, not those
    with the status the words name (received)."""

    name = "awaited"

    def applies(self, message: Message, route: Route) -> bool:
        status = route.resolved.entities.get("status")
        return (
            route.resolved.intent in _OPEN_STATUS_INTENTS
            and isinstance(status, str)
            and status.lower() in _AWAITED_STATUSES
            and adhoc.asks_awaited(message.text)
        )

    def run(self, message: Message, route: Route) -> Route:
        return _with_entities(route, self.name, {**route.resolved.entities, "status": "open"})


# Fixed queries whose status words include "open" (still to be received or delivered).
_OPEN_STATUS_INTENTS = frozenset({"purchase_orders"})
_AWAITED_STATUSES = frozenset({"received", "delivered", "shipped", "dispatched"})


class PageRecord:
    """ "approve this PO" on a purchase order's page: the page's document."""

    name = "page_record"

    def applies(self, message: Message, route: Route) -> bool:
        return bool(message.record)

    def run(self, message: Message, route: Route) -> Route:
        entities = with_page_record(route.resolved.entities, message.text, message.record)
        return _with_entities(route, self.name, entities)


class Recall:
    """ "the customer I mentioned", "my usual warehouse": the record a memory names."""

    name = "recall"

    def applies(self, message: Message, route: Route) -> bool:
        return True

    def run(self, message: Message, route: Route) -> Route:
        return _with_entities(route, self.name, message.recall(route.resolved.entities))


class OneDocument:
    """A list question naming one document asks the single-document query."""

    name = "one_document"

    def applies(self, message: Message, route: Route) -> bool:
        resolved = route.resolved
        return one_document_intent(resolved.intent, resolved.entities) != resolved.intent

    def run(self, message: Message, route: Route) -> Route:
        single = one_document_intent(route.resolved.intent, route.resolved.entities)
        return route.by(self.name, resolved=dataclasses.replace(route.resolved, intent=single))


class HowTo:
    """ "How do I create an invoice?" is answered from the help pages, not done."""

    name = "how_to"

    def applies(self, message: Message, route: Route) -> bool:
        return action_skill.asks_how_to(message.text, route.resolved.intent)

    def run(self, message: Message, route: Route) -> Route:
        resolved = dataclasses.replace(route.resolved, intent="help")
        return route.by(self.name, resolved=resolved, how_to=True)


class ActionInProgress:
    """An action in progress takes its answers, corrections and "yes"/"no", but not a pick of
    what the last answer offered: that answers the last question asked."""

    name = "action_in_progress"

    def applies(self, message: Message, route: Route) -> bool:
        return not route.how_to and not route.remembering and route.resolved.picked != "choice"

    def run(self, message: Message, route: Route) -> Route:
        return route.by(self.name, claimed=True) if message.claims(route.resolved) else route


class OtherCompany:
    """ "What's Acme's cash balance?" asked in Globex: every figure would be Globex's, so the
    turn says whose records it answers from instead of answering (kept: a memory request, a
    how-to question)."""

    name = "other_company"

    def applies(self, message: Message, route: Route) -> bool:
        return not route.remembering and not route.how_to

    def run(self, message: Message, route: Route) -> Route:
        said = message.other_company(route.resolved.entities)
        if said is None:
            return route
        resolved = followup.Resolved(adhoc.INTENT, 1.0, route.resolved.entities, False)
        refusal = adhoc.Refusal(said)
        return route.by(self.name, resolved=resolved, adhoc=refusal, claimed=False, elsewhere=True)


READING: tuple[ReadingRule, ...] = (
    FollowUp(),
    MemoryRequest(),
    NotMemory(),
    OutsideFigure(),
    AdHoc(),
    Awaited(),
    PageRecord(),
    Recall(),
    OneDocument(),
    HowTo(),
    ActionInProgress(),
    OtherCompany(),
)


def route(message: Message, rules: tuple[ReadingRule, ...] = READING) -> Route:
    """The route ``rules`` give the message, starting from the NLU's reading."""
    found = Route(
        followup.Resolved(message.intent, message.confidence, message.entities, follow_up=False)
    )
    for rule in rules:
        if rule.applies(message, found):
            found = rule.run(message, found)
    return found


def _with_entities(route: Route, rule: str, entities: dict[str, Any]) -> Route:
    if entities is route.resolved.entities:
        return route
    return route.by(rule, resolved=dataclasses.replace(route.resolved, entities=entities))


class Answerer(Protocol):
    """The ways a turn can be answered, bound to one turn by the assistant."""

    def documents_or_data(self) -> tuple[Answer, str] | None:
        """The documents' answer (or both) to a ledger-sounding question, and its intent."""
        ...

    def choose_tool(self) -> tuple[Answer, followup.Resolved] | None:
        """The answer of the tool a model chooses, and the reading it implies."""
        ...

    def handle(self) -> Answer:
        """The route's skill's answer."""
        ...


Answered = tuple[Answer, followup.Resolved]


class AnswerRule(Protocol):
    name: str

    def applies(self, route: Route) -> bool: ...

    def run(self, answerer: Answerer, route: Route) -> Answered | None: ...


class DocumentsOrData:
    """A data question with words of its own may be about the company's documents."""

    name = "documents_or_data"

    def applies(self, route: Route) -> bool:
        return (
            not route.claimed and not route.how_to and not route.remembering and not route.elsewhere
        )

    def run(self, answerer: Answerer, route: Route) -> Answered | None:
        weighed = answerer.documents_or_data()
        if weighed is None:
            return None
        answer, intent = weighed
        return answer, dataclasses.replace(route.resolved, intent=intent)


@dataclass(frozen=True)
class ToolChoice:
    """A model chooses the tool when the NLU's reading is weak (below ``below``)."""

    below: float
    name = "tool_choice"

    def applies(self, route: Route) -> bool:
        return (
            not route.claimed
            and not route.how_to
            and not route.elsewhere
            and unsure(route.resolved, self.below)
        )

    def run(self, answerer: Answerer, route: Route) -> Answered | None:
        return answerer.choose_tool()


class RouteSkill:
    """The route's own skill answers: always applies, so a turn is always answered."""

    name = "skill"

    def applies(self, route: Route) -> bool:
        return True

    def run(self, answerer: Answerer, route: Route) -> Answered | None:
        return answerer.handle(), route.resolved


def answering(tool_choice_below: float) -> tuple[AnswerRule, ...]:
    """The answering rules in order, with the assistant's tool-choice threshold."""
    return (DocumentsOrData(), ToolChoice(tool_choice_below), RouteSkill())


def answer(rules: tuple[AnswerRule, ...], answerer: Answerer, route: Route) -> Answered:
    """The first answer a rule that applies gives."""
    for rule in rules:
        if rule.applies(route):
            answered = rule.run(answerer, route)
            if answered is not None:
                return answered
    raise AssertionError("the last answering rule always answers")  # pragma: no cover


def unsure(resolved: followup.Resolved, below: float) -> bool:
    """Whether the NLU's reading is weak enough for a model to choose the tool instead."""
    if resolved.follow_up or resolved.intent in NO_TOOL_CHOICE:
        return False
    return resolved.intent == "out_of_scope" or resolved.confidence < below
