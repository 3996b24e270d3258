"""The NLU's intents are the registries' (actions, data queries) plus the conversational ones."""

from __future__ import annotations

from companion.assistant import adhoc
from companion.assistant.actions.base import all_actions
from companion.assistant.nlu import ACTIONS, DATA_QUERIES, DIALOGUE, load_rasa_nlu
from companion.assistant.nlu.understanding import default_data_dir
from companion.assistant.queries.registry import all_queries
from companion.assistant.skills.actions import ACTION_INTENTS, ACTION_LABELS
from companion.assistant.skills.base import _SKILLS


def test_the_nlu_domain_is_the_registries_intents_plus_the_conversational_ones() -> None:
    domain = load_rasa_nlu(default_data_dir() / "domain.yml").domain_intents
    actions, queries = set(all_actions()), set(all_queries())
    assert len(domain) == len(set(domain))
    assert set(domain) == actions | queries | DIALOGUE
    assert not (actions & queries) and not (DIALOGUE & (actions | queries))
    # The NLU's own lists and the actions skill's agree with the registries.
    assert ACTIONS == actions and DATA_QUERIES == queries
    assert set(ACTION_INTENTS) == actions == set(ACTION_LABELS)
    # The conversational intents are exactly those a skill answers beside the registries'
    # (and the ad-hoc reading's, which the NLU never gives).
    skills = set(_SKILLS.names())
    assert skills - actions - queries == DIALOGUE | {adhoc.INTENT}
