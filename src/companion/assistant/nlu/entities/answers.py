"""Yes and no to a proposal, as people say them in English, Banglish and Bangla.

A reply made only of yes words ("haa", "ji korun", "ঠিক আছে, করো") or only of no words
("na thak", "lagbe na", "না, বাতিল করো"), with fillers such as "bhai" or "please", is a
confirmation or a refusal whatever the classifier makes of the few letters. Anything else
("no, the other warehouse", "yes but make it 20") is left to the classifier.
"""

from __future__ import annotations

import re
import unicodedata

from companion.assistant.nlu.entities.script import BANGLA

_YES = """
yes yeah yep yup ya ok okay okk sure confirm proceed go|ahead do|it
hae haa ha haan han hya hyan ji jee jii ji|ha thik thikache thik|ache accha acha achha
koro korun koren kore|dao kore|din kore|den kore|felo kore|felun egiye|jao egiye|jan cholo
হ্যাঁ হ্যা হাঁ হুঁ জি জ্বি জী জি|হ্যাঁ ঠিক ঠিক|আছে আচ্ছা ওকে অবশ্যই করো করুন করেন
করে|দাও করে|দিন করে|ফেলো এগিয়ে|যাও এগিয়ে|যান
"""
_NO = """
no nope nah na naa stop cancel cancel|koro not|now thak thaak bad|dao baad|dao bad|din
lagbe|na dorkar|nai dorkar|nei korio|na koro|na korben|na korbo|na ekhon|na batil batil|koro
না থাক বাদ|দাও বাদ|দিন লাগবে|না দরকার|নেই দরকার|নাই করো|না করবেন|না করিও|না এখন|না
বাতিল বাতিল|করো বাতিল|করুন
"""
_FILLER = "bhai vai apu please pls plz sir boss eta ota ekhon hmm ভাই আপু প্লিজ এটা এখন"

YES_WORDS = frozenset(w.replace("|", " ") for w in _YES.split())
NO_WORDS = frozenset(w.replace("|", " ") for w in _NO.split())
FILLERS = frozenset(_FILLER.split())
_TOKEN = re.compile(rf"(?:[^\W_]|[{BANGLA}])+")
_LONGEST = max(len(p.split()) for p in YES_WORDS | NO_WORDS)
# Longer replies say more than yes or no.
MAX_WORDS = 6


def yes_or_no(text: str) -> str | None:
    """ "yes", "no", or None when the reply is not only yes or only no words."""
    words = _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())
    if not words or len(words) > MAX_WORDS:
        return None
    said: set[str] = set()
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            phrase = " ".join(words[i : i + size])
            if phrase in NO_WORDS or phrase in YES_WORDS:
                said.add("no" if phrase in NO_WORDS else "yes")
                i += size
                break
        else:
            if words[i] not in FILLERS:
                return None
            i += 1
    return next(iter(said)) if len(said) == 1 else None
