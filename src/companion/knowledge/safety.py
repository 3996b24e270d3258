"""Safe context: instructions planted in documents reach people and models only as quoted data.

A company document (or a memory) is data, not instructions. Text that tries to steer a
model or the reader's browser (override phrases, new personas, chat role markers, commands
to approve or pay everything, requests for the system prompt, script and event-handler
markup), in English, German, French, Spanish, Bangla or Banglish, is found in the folded
text (``normalise.fold``: zero-width and bidi controls, look-alike letters, entities and
accents undone), and every sentence it touches is replaced by an inert, visible label; the
rest of that line goes too, because an instruction's later sentences carry no marker of
their own. Each replacement is counted so it can be reported, and ``quotable`` tells the
answer builders which sentences must never be quoted as an answer.

Figures on the labelled set (eval/injection.yml): bench/injection_eval.py.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from companion.knowledge.normalise import fold, squash, visible

MARKER = "[neutralised:"
_GAP = r"[^.!?\n]{0,40}?"  # a few words, within one sentence
_SHORT = r"[^.!?\n]{0,30}?"
# A unit's start: the text's or a line's start, or just after a sentence's end.
_START = r"(?:^|(?<=[.!?;:\n])|(?<=[.!?;:\n] ))"

# --- English -----------------------------------------------------------------------------
_EN_VERB = (
    r"(?:ignore|disregard|forget|overlook|override|overrule|discard|abandon|neglect|set aside"
    r"|pay no (?:attention|heed) to|stop (?:following|obeying)|(?:do not|don't|dont|no longer)"
    r" (?:follow|obey)|throw away)"
)
_EN_QUALIFIER = (
    r"(?:previous|prior|above|earlier|preceding|original|initial|old|system|all|any|your"
    r"|every|these|those|the)"
)
_EN_TARGET = (
    r"(?:instructions?|prompts?|rules|directions?|directives?|guidelines?|guidance|context"
    r"|commands?|constraints|restrictions|programming|training|guardrails|safeguards)"
)
_AI = (
    r"(?:ai|a\.i\.|artificial intelligence|assistant|chatbot|chat bot|bot|llm|language model"
    r"|model|copilot|gpt|chatgpt|companion|agent|ki|ki-assistent(?:en)?|assistent(?:en)?|ia"
    r"|assistante|modele|asistente|modelo)"
)
_URGENT = (
    r"(?:now|immediately|right away|at once|automatically|regardless|instantly|asap"
    r"|unconditionally|no matter|without (?:any )?(?:review|reviewing|checking|asking|approval"
    r"|confirmation|verification|question|questions|delay|exception|receipts|looking))"
)
_CONDITION = r"(?:if|when|once|provided|unless|upon|on receipt|after)"
_TRIGGER = (
    r"(?:you|your|ignore|disregard|forget|approve|always|never|do not|don't|must|respond"
    r"|answer|reply|say|tell|output|print|reveal|act|pretend|obey|override|execute|send|pay"
    r"|transfer|wire|delete|grant|raise|disable|enable|mark)"
)
_ADDRESSED_VERB = (
    r"(?:you\b|ignore|disregard|forget|approve|wire|pay|grant|delete|the user|reply|respond"
    r"|answer)"
)
_HTML_EVENTS = (
    r"(?:error|load|click|dblclick|mouse\w+|focus\w*|blur|submit|change|input|key\w+"
    r"|animation\w+|transition\w+|toggle|pointer\w+|begin|end|show|wheel|copy|paste|drag\w*"
    r"|drop|play|pause|message|unload|beforeunload|resize|scroll|pageshow|hashchange)"
)

_RULES: tuple[tuple[str, str, bool, str], ...] = (
    # (label, pattern over folded text, whether a negation just before it disarms it, words
    # of which the folded text must hold one for the pattern to be tried, "/"-separated)
    (
        "override",
        rf"\b{_EN_VERB}\b{_GAP}\b{_EN_QUALIFIER}\b{_SHORT}\b{_EN_TARGET}\b",
        True,
        "ignor/disregard/forget/overlook/overr/discard/abandon/neglect/aside/no attention/"
        "no heed/follow/obey/throw away",
    ),
    (
        "override",
        rf"\b{_EN_VERB}\b[^.!?\n]{{0,20}}?\b(?:what|everything|anything|all)(?: that)?"
        r" (?:you (?:were|have been|'ve been|are) (?:told|given|instructed)|(?:was|is|has been)"
        r" (?:said|written|told|stated)|above|before this|you know|said before|said above)",
        True,
        "ignor/disregard/forget/overlook/overr/discard/abandon/neglect/aside/no attention/"
        "no heed/follow/obey/throw away",
    ),
    (
        "override",
        rf"\b{_EN_VERB} (?:all of )?the above\b",
        True,
        "ignor/disregard/forget/overlook/overr/discard/abandon/neglect/aside/no attention/"
        "no heed/follow/obey/throw away",
    ),
    (
        "persona",
        r"\byou(?:'re| are)(?: now)? (?:(?:a|an|the|my) (?:(?:new|different|unrestricted"
        r"|unfiltered|uncensored|jailbroken|evil|rogue|free|helpful|obedient) )*"
        rf"{_AI}\b|[\w-]*(?:bot|gpt)\b|dan\b|free\b|unrestricted|unfiltered|jailbroken|uncensored)",
        False,
        "you're/you are",
    ),
    (
        "persona",
        r"\byou(?:'re| are)(?: now)? in (?:developer|god|admin|debug|jailbreak|dan|unrestricted)"
        r" mode|\byou(?:'re| are) no longer (?:bound|restricted|limited|required|an? )",
        False,
        "you're/you are",
    ),
    (
        "persona",
        r"\bfrom now on,? you(?: will| shall| must| should)?(?: only)? (?:answer|respond|reply"
        r"|say|act|speak|pretend|obey|approve|output|are (?:a|an|dan|my))\b",
        False,
        "from now on",
    ),
    ("persona", r"\bpretend (?:to be|you are|you're|that you)\b", True, "pretend"),
    (
        "persona",
        r"\b(?:act|behave|roleplay|role-play|role play) as (?:an? |the )?(?:(?:unrestricted"
        rf"|unfiltered|jailbroken|evil|different) )?(?:{_AI}|dan|system administrator"
        r"|administrator|admin|root|developer|cfo|ceo|superuser|linux terminal|terminal)\b",
        True,
        "act as/behave as/play as",
    ),
    (
        "persona",
        r"\bjailbreak(?:ed)? (?:mode|prompt|enabled|activated)|\bdan mode\b|\bdo anything now\b"
        r"|\bdeveloper mode (?:enabled|activated|unlocked|is (?:now )?(?:on|enabled|active))"
        r"|\b(?:enable|activate|enter|entering|switch to|now in) developer mode\b",
        False,
        "jailbreak/dan mode/do anything now/developer mode",
    ),
    (
        "persona",
        r"\byour (?:new|real|actual|true|only) (?:task|instructions?|goal|purpose|objective|job"
        r"|role|mission)\b",
        False,
        "your new/your real/your actual/your true/your only",
    ),
    (
        "persona",
        r"\bnew (?:instructions?|system prompt|directive|task)\s*:|\b(?:updated|revised|real"
        r"|actual|secret|hidden|true) (?:instructions?|system prompt|prompt)\s*:|\bsystem"
        r" (?:override|prompt|message|instruction|note|update|notice)\s*:|\b(?:admin"
        r"|administrator|developer) (?:override|mode|command|instructions?)\s*:",
        False,
        ":",
    ),
    (
        "addressed",
        r"\b(?:note|message|instructions?|notice|memo|reminder|directive|warning|important"
        r"|task|hinweis|nachricht|anweisung|notiz|consigne|avis|nota|mensaje|instruccion|aviso)"
        r" (?:to|for|an|fur|pour|a|para) (?:the |any |all |every |den |die |das |l'|la |le |les"
        rf" |el |los )?{_AI}s?(?: model| assistant| agent)?\s*[:,;!-]",
        False,
        "note/message/instruction/notice/memo/reminder/directive/warning/important/task/"
        "hinweis/nachricht/anweisung/notiz/consigne/avis/nota/mensaje/aviso",
    ),
    (
        "addressed",
        r"\b(?:attention|attn|dear|hey|hi|hello|hallo|liebe[rs]?|cher|chere|querido|querida"
        rf"|estimad[oa])[,:]? (?:the |an? )?{_AI}s?(?: model| assistant| agent)?"
        rf"\s*(?:[:,;!]|-)\s*{_ADDRESSED_VERB}",
        False,
        "attention/attn/dear/hey/hi /hello/hallo/liebe/cher/querid/estimad",
    ),
    (
        "addressed",
        # The assistant named at a sentence's start, then told what to do.
        rf"(?:(?<![^.!?;:\n])|(?<=[.!?;:\n] ))\s*{_AI}s?(?: model| assistant| agent)?"
        rf"\s*(?:[:,;!]|-)\s*{_ADDRESSED_VERB}",
        False,
        "you/ignore/disregard/forget/approve/wire/pay/grant/delete/the user/reply/respond/answer",
    ),
    (
        "addressed",
        r"\b(?:dear|hey|hi|hello|attention|attn)[,:]? (?:the |an? )?(?:ai|assistant|chatbot"
        r"|companion|llm|gpt|chatgpt)(?: model| assistant| agent)?\s*[:,;!-]",
        False,
        "dear/hey/hi/hello/attention/attn",
    ),
    (
        "addressed",
        rf"\bif you are (?:an?|the) {_AI}\b|\b{_AI}s?(?: assistants?| agents?| models?)? (?:reading"
        r"|processing|summari[sz]ing|parsing|indexing|ingesting|seeing) (?:this|these|the"
        r" following)\b|\b(?:ai|llm|chatbot)s?(?: assistants?| agents?| models?| systems?)?"
        r" (?:must|should|shall|are to|need to|have to) (?:now |immediately |always )?(?:ignore"
        r"|disregard|forget|approve|pay|transfer|wire|delete|grant|reveal|send|reply|respond"
        r"|answer|say|tell|output)\b",
        False,
        "if you are/reading/processing/summari/parsing/indexing/ingesting/seeing/must/should/"
        "shall/are to/need to/have to",
    ),
    (
        "command",
        r"\b(?:approve|authori[sz]e|pay|release|confirm|accept|sign off|execute|transfer|wire"
        rf"|delete|cancel|void|post|mark) (?:all|every|each|any)\b[^.!?\n]{{0,50}}?\b{_URGENT}\b"
        rf"(?![^.!?\n]*\b{_CONDITION}\b)",
        True,
        "approve/authori/pay/release/confirm/accept/sign off/execute/transfer/wire/delete/"
        "cancel/void/post/mark",
    ),
    (
        "command",
        r"\b(?:bypass|skip|disable|turn off|switch off|circumvent) (?:the |any |all )?"
        r"(?:confirmation|approval|audit|review|verification|security|safety)"
        r"(?: step| check| process| log| trail| flow|s)?\b"
        r"|\b(?:do not|don't|never) ask (?:the user )?for (?:any )?confirmation",
        True,
        "bypass/skip/disable/turn off/switch off/circumvent/ask",
    ),
    (
        "command",
        r"\b(?:respond|reply|answer)s?(?: only)? with [\"'«]|\b(?:answer|respond|reply) (?:to )?"
        r"(?:every|any|all) (?:question|request|message)s? with\b",
        False,
        "respond/reply/answer",
    ),
    (
        "reveal",
        r"\b(?:reveal|print|show|repeat|output|display|leak|dump|write out|tell me|give me|share)"
        r"\b[^.!?\n]{0,40}?\b(?:system prompt|hidden (?:prompt|instructions)|initial (?:prompt"
        r"|instructions)|your (?:instructions|prompt|rules|configuration|guidelines|system"
        r" message)|(?:the )?(?:text|words|instructions) above|api keys?|password list|passwords"
        r"|credentials|secrets)",
        True,
        "reveal/print/show/repeat/output/display/leak/dump/write out/tell me/give me/share",
    ),
    # --- markup that runs code in a browser --------------------------------------------------
    (
        "script",
        r"<\s*/?\s*(?:script|iframe|frame|frameset|object|embed|applet|base|style)\b"
        r"|<\s*meta\b[^>]*http-equiv|<[^>]*\bon[a-z]{3,}\s*=",
        False,
        "<",
    ),
    ("script", r"\bon" + _HTML_EVENTS + r"\s*=", False, "="),
    ("script", r"\b(?:java|vb|live)\s*script\s*:|\bdata\s*:\s*text/html", False, "script/html"),
    ("script", r"!\[[^\]]*\]\(\s*https?://[^)\s]*[?&][^)\s]*=", False, "!["),
    # --- chat-template role markers ----------------------------------------------------------
    (
        "role marker",
        r"<\|\s*/?\s*[a-z_]{2,24}\s*\|>|<\s*/?\s*(?:system|assistant|sys|instructions?|prompt"
        r"|im_start|im_end|start_of_turn|end_of_turn)\s*>|\[/?\s*(?:inst|sys|system|assistant)\s*\]"
        r"|<</?\s*sys\s*>>|#{1,6}\s*(?:instructions?|system|response|input|assistant|human|user"
        r"|system prompt)\s*:",
        False,
        "</[/#",
    ),
    (
        "role marker",
        rf"\b(?:system|developer|sys)\s*:\s*(?:[a-z'-]+ ){{0,2}}{_TRIGGER}\b",
        False,
        "sys/developer",
    ),
    (
        "role marker",
        r"(?:^|(?<=\n))\s*(?:human|user|assistant|ai)\s*:\s*(?:sure|ok|okay|yes|certainly"
        rf"|absolutely|understood|of course|i will|i'll|here is|{_TRIGGER})\b",
        False,
        "human:/user:/assistant:/ai:/human :/user :/assistant :/ai :",
    ),
    # --- German --------------------------------------------------------------------------------
    (
        "override",
        r"\b(?:ignorier(?:e|en sie|t)?|vergiss|vergessen sie|vergesst|missachte|missachten sie"
        r"|verwirf|verwerfen sie|uberspring(?:e|en sie)?)\b"
        rf"{_GAP}\b(?:vorherig|bisherig|obig|fruher|vorangegangen|alle|deine|ihre|samtlich)\w*\b"
        r"[^.!?\n]{0,30}?\b(?:anweisung|instruktion|befehl|regel|vorgabe|richtlinie|anordnung"
        r"|prompt|kontext|einschrankung)\w*"
        r"|\b(?:vergiss|vergessen sie|ignoriere)\b[^.!?\n]{0,10}?\balles\b[^.!?\n]{0,25}?"
        r"\b(?:gesagt|befohlen|mitgeteilt|gegeben|oben)\b",
        True,
        "ignorier/vergiss/vergess/missacht/verwirf/verwerf/uberspring",
    ),
    (
        "persona",
        r"\bdu bist (?:jetzt|nun|ab sofort|ab jetzt|von nun an)\b|\bab (?:jetzt|sofort) bist du\b"
        r"|\b(?:sie sind|ihr seid) (?:jetzt|nun|ab sofort) (?:ein|eine|der|die) (?:ki|assistent"
        r"|chatbot|bot|modell|agent)|\btu so,? als\b|\bspiel(?:e)? die rolle\b",
        False,
        "du bist/bist du/sie sind/ihr seid/tu so/die rolle",
    ),
    (
        "command",
        r"\b(?:genehmige|bewillige|zahle|uberweise|gib|losche)\b (?:sofort |jetzt |umgehend )?"
        r"(?:alle|samtliche|jede[nrs]?)\b|\b(?:genehmigen|bewilligen|zahlen|uberweisen|geben"
        r"|loschen) sie\b[^.!?\n]{0,20}?\b(?:alle|samtliche|jede[nrs]?)\b[^.!?\n]{0,40}?"
        r"\b(?:sofort|jetzt|umgehend|unverzuglich|ohne (?:prufung|ruckfrage|bestatigung))\b"
        r"|\b(?:genehmigen|bewilligen|zahlen|uberweisen|geben|loschen) sie (?:sofort|jetzt"
        r"|umgehend|unverzuglich) (?:alle|samtliche|jede[nrs]?)\b",
        True,
        "genehmig/bewillig/zahle/uberweis/gib/losche/geben",
    ),
    # --- French --------------------------------------------------------------------------------
    (
        "override",
        r"\b(?:ignore[zsr]?|oublie[zsr]?|neglige[zr]?|outrepasse[zr]?|ne (?:tiens|tenez)"
        r" (?:plus |pas )+compte|fai(?:s|tes) abstraction)\b"
        rf"{_GAP}\b(?:precedent|anterieur|toutes|tous|les|tes|vos|ci-dessus|des|de)\w*\b"
        r"[^.!?\n]{0,30}?\b(?:instructions?|consignes?|directives?|regles?|ordres?|prompts?"
        r"|indications?|contexte)\b",
        True,
        "ignor/oubli/neglig/outrepass/compte/abstraction",
    ),
    (
        "persona",
        r"\btu es (?:maintenant|desormais|a present|dorenavant)\b|\bvous etes (?:maintenant"
        r"|desormais|a present|dorenavant) (?:un|une|le|la) (?:ia|assistant|assistante|chatbot"
        r"|bot|modele|agent|robot)\b|\b(?:a partir de maintenant|desormais|dorenavant),? tu"
        r" (?:es|vas|dois|reponds|repondras|seras|approuves)\b|\bfais semblant d'etre\b"
        r"|\bjoue le role\b",
        False,
        "tu es/vous etes/maintenant/desormais/dorenavant/semblant/le role",
    ),
    (
        "command",
        rf"{_START}\s*(?:approuve[zr]?|valide[zr]?|paye[zr]?|accepte[zr]?)\b (?:immediatement "
        r"|maintenant )?(?:toutes|tous|tout)\b|\b(?:approuve[zr]?|valide[zr]?|paye[zr]?"
        r"|accepte[zr]?) (?:toutes|tous)\b[^.!?\n]{0,50}?\b(?:maintenant|immediatement|tout de"
        r" suite|sans (?:verification|controle|validation|confirmation|exception))\b",
        True,
        "approuv/valide/paye/accepter/acceptez/accepte ",
    ),
    # --- Spanish -------------------------------------------------------------------------------
    (
        "override",
        r"\b(?:ignora[dr]?|ignoren|olvida[dr]?|olvide[n]?|descarta|omite|desobedece|(?:haz|hagan)"
        r" caso omiso (?:a|de)|no (?:hagas|hagan|haga) caso (?:a|de))\b"
        rf"{_GAP}\b(?:anterior|previa|previo|todas|todos|las|los|tus|sus|de)\w*\b"
        r"[^.!?\n]{0,30}?\b(?:instrucciones|instruccion|indicaciones|ordenes|reglas|directrices"
        r"|normas|contexto|prompt)\b|\b(?:olvida|olvide|ignora)\b[^.!?\n]{0,10}?\blo que"
        r" (?:te|le|se) (?:dijeron|dije|han dicho|ha dicho|dijo|indicaron)\b",
        True,
        "ignor/olvid/descarta/omite/desobedece/caso",
    ),
    (
        "persona",
        r"\b(?:ahora|a partir de ahora|desde ahora|de ahora en adelante),? (?:eres|seras|actuas"
        r"|responderas) (?:un|una|el|la|[\w-]*(?:bot|gpt))\b|\beres ahora\b|\bfinge (?:ser"
        r"|que eres)\b|\bactua como (?:un |una |el |la )?(?:ia|asistente|dan|modelo|chatbot"
        r"|administrador|bot)\b",
        False,
        "eres/finge/actua como",
    ),
    (
        "command",
        rf"{_START}\s*(?:aprueba|apruebe|aprueben|autoriza|autorice|paga|pague|transfiere"
        r"|transfiera)\b (?:ya |ahora |inmediatamente )?(?:todas|todos|todo)\b|\b(?:aprueba"
        r"|apruebe|aprueben|autoriza|autorice|paga|pague) (?:todas|todos)\b[^.!?\n]{0,50}?"
        r"\b(?:ahora|ya|inmediatamente|de inmediato|enseguida|sin (?:revisar|verificar|revision"
        r"|verificacion|confirmacion|preguntar|excepcion))\b",
        True,
        "aprueb/autoriz/paga/pague/transfier",
    ),
    # --- Bangla --------------------------------------------------------------------------------
    (
        "override",
        r"(?:আগের|আগে|পূর্ববর্তী|পূর্বের|উপরের|সব|সমস্ত|সকল|তোমার|আপনার|তোমাকে|আপনাকে)"
        r"[^।.!?\n]{0,40}?(?:নির্দেশ|আদেশ|নিয়ম|ইনস্ট্রাকশন|যা বলা)[^।.!?\n]{0,30}?"
        r"(?:(?:উপেক্ষা|অগ্রাহ্য) কর(?:ো|ুন|)(?![া-ৌ])|ভুলে যা(?:ও|ন)|বাদ দা(?:ও|ন)|মেনো না"
        r"|মানবে না|মানতে হবে না|মানার দরকার নেই)",
        False,
        "উপেক্ষা/অগ্রাহ্য/ভুলে/বাদ দা/মেনো না/মানবে না/মানতে হবে না/মানার দরকার",
    ),
    (
        "persona",
        r"এখন থেকে তুমি|তুমি এখন(?: থেকে)? (?:একজন|একটি|এক|আর)"
        r"|এখন থেকে আপনি (?:একজন|একটি) (?:এআই|সহকারী|বট|মডেল)",
        False,
        "তুমি/আপনি",
    ),
    (
        "command",
        r"(?:সব|সমস্ত|সকল)[^।.!?\n]{0,40}?(?:অনুমোদন|এপ্রুভ|approve|পাস) কর(?:ো|ে দাও|ে দিন"
        r"|ে ফেলো|ে ফেল)|(?:সব|সমস্ত|সকল)[^।.!?\n]{0,40}?(?:এখনই|এক্ষুনি|তাড়াতাড়ি|যাচাই ছাড়া"
        r"|না দেখে)[^।.!?\n]{0,20}?(?:অনুমোদন|এপ্রুভ|approve|পাস) করুন",
        False,
        "অনুমোদন/এপ্রুভ/approve/পাস",
    ),
    # --- Banglish (Bangla in Latin letters) ----------------------------------------------------
    (
        "override",
        r"\b(?:ager|agher|age|aage|purber|purbo|uporer|shob|sob|shobgulo|sobgulo|tomar|apnar"
        r"|tomake|apnake)\b[^.!?\n]{0,40}?\b(?:nirdesh\w*|instructions?|niyom|niom|adesh"
        r"|command\w*|rules?|ja bola|je bola)\b[^.!?\n]{0,30}?\b(?:(?:upekkha|upeksha|uppekha"
        r"|ignore|agrahya) (?:koro|korun|kor)\b|(?:bhule|vule) (?:jao|jan|ja)\b|(?:baad|bad)"
        r" (?:dao|din)\b|manbe na\b|mana lagbe na\b|manar dorkar (?:nai|nei)\b)",
        False,
        "upekkha/upeksha/uppekha/ignore/agrahya/bhule/vule/baad/bad /manbe na/mana lagbe/"
        "manar dorkar",
    ),
    (
        "persona",
        r"\b(?:ekhon|akhon) theke tumi\b|\btumi (?:ekhon|akhon)(?: theke)? (?:ekjon|ekta|ar)\b"
        r"|\b(?:ekhon|akhon) theke apni (?:ekjon|ekta) (?:ai|bot|assistant|model)\b",
        False,
        "theke/tumi",
    ),
    (
        "command",
        r"\b(?:sob|shob|sokol|shokol|somosto|shomosto|all)\b[^.!?\n]{0,40}?\b(?:approve|onumodon"
        r"|anumodan|onumodan|pass) (?:kore dao|kore din|kore felo|koro|kor)\b|\b(?:sob|shob|sokol"
        r"|shokol|somosto|shomosto)\b[^.!?\n]{0,40}?\b(?:ekhoni|ekhuni|ekkhuni|jaldi|taratari"
        r"|check chara|na dekhe)\b[^.!?\n]{0,20}?\b(?:approve|onumodon) korun\b",
        False,
        "approve/onumodon/anumodan/onumodan/pass",
    ),
)
# On the letters alone (``squash``): the classic phrases, however they are spaced or spelt.
_SQUASHED: tuple[tuple[str, str], ...] = (
    (
        "override",
        r"(?:ignore|disregard|forget)(?:all|any|the|your)*(?:previous|prior|above|earlier)"
        r"(?:instructions?|prompts|rules|directions)",
    ),
    ("persona", r"youarenow(?:dan|an?unrestricted|unrestricted|jailbroken|indevelopermode)"),
)
# A negation just before an override or command ("must never ignore safety instructions").
_NEGATION = re.compile(
    r"(?:\b(?:not|never|cannot|nobody|no one|nie|niemals|nicht|jamais|nunca|no)\b|n't|\bn')"
    r"(?:\s+\S+){0,3}\s*$"
)


def _form(text: str) -> str:
    # The folded text is in NFC after NFKD; literal Bangla in a pattern must be the same.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFKD", text))


_COMPILED = tuple(
    (label, re.compile(_form(p), re.MULTILINE), negatable, tuple(_form(words).split("/")))
    for label, p, negatable, words in _RULES
)
_COMPILED_SQUASHED = tuple((label, re.compile(p)) for label, p in _SQUASHED)


@dataclass(frozen=True)
class Finding:
    """One instruction-like span of a text: its kind and where it is in the original."""

    label: str
    start: int
    end: int


@dataclass(frozen=True)
class Neutralised:
    """A passage after neutralisation, with how many instruction-like spans were replaced."""

    text: str
    count: int
    kinds: tuple[str, ...]


def find_instructions(text: str) -> list[Finding]:
    """The instruction-like spans of ``text`` (original offsets), in order, overlaps merged."""
    folded, origin = fold(text)
    if not folded:
        return []
    found: list[tuple[int, int, str]] = []
    for label, pattern, negatable, words in _COMPILED:
        if not any(word in folded for word in words):
            continue  # a substring test is far cheaper than trying the pattern everywhere
        for match in pattern.finditer(folded):
            if match.end() == match.start():
                continue
            if negatable and _NEGATION.search(folded, max(0, match.start() - 30), match.start()):
                continue
            found.append((match.start(), match.end(), label))
    squashed, where = squash(folded, list(range(len(folded))))
    for label, pattern in _COMPILED_SQUASHED:
        for match in pattern.finditer(squashed):
            found.append((where[match.start()], where[match.end() - 1] + 1, label))
    findings: list[Finding] = []
    for start, end, label in sorted(found):
        first, last = origin[start], origin[end - 1] + 1
        if findings and first < findings[-1].end:
            previous = findings[-1]
            labels = previous.label.split(", ")
            merged = ", ".join(labels + ([label] if label not in labels else []))
            findings[-1] = Finding(merged, previous.start, max(previous.end, last))
        else:
            findings.append(Finding(label, first, last))
    return findings


def looks_like_instructions(text: str) -> bool:
    """Whether ``text`` contains anything ``neutralise`` would replace."""
    return bool(find_instructions(text))


_UNIT_END = re.compile(r"[ \t]*\n[ \t]*|(?<=[.!?।])[\"'”’)\]]*[ \t]+")


def _units(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, starts a line) of each sentence or line of ``text``, blanks excluded."""
    units: list[tuple[int, int, bool]] = []
    start, new_line = 0, True
    for match in _UNIT_END.finditer(text):
        if match.start() > start:
            units.append((start, match.start(), new_line))
        new_line = "\n" in match.group(0)
        start = match.end()
    if start < len(text):
        units.append((start, len(text), new_line))
    return units


@lru_cache(maxsize=4096)
def neutralise(text: str) -> Neutralised:
    """Replace each sentence holding instruction-like text (and the rest of its line)."""
    findings = find_instructions(text)
    if not findings:
        return Neutralised(text=visible(text), count=0, kinds=())
    units = _units(text)
    flagged = [any(f.start < end and f.end > start for f in findings) for start, end, _ in units]
    for i in range(1, len(units)):
        if flagged[i - 1] and not units[i][2]:
            flagged[i] = True  # the rest of the line follows the instruction it continues
    # Runs of flagged units within a line become one label, replaced from the end backwards.
    runs: list[tuple[int, int]] = []
    for i, (start, end, new_line) in enumerate(units):
        if not flagged[i]:
            continue
        if runs and flagged[i - 1] and not new_line:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    out = text
    for start, end in reversed(runs):
        labels = [f.label for f in findings if f.start < end and f.end > start]
        kinds = list(dict.fromkeys(", ".join(labels).split(", "))) or ["instruction"]
        out = f"{out[:start]}{MARKER} {', '.join(kinds)}]{out[end:]}"
    kinds_all = tuple(dict.fromkeys(", ".join(f.label for f in findings).split(", ")))
    return Neutralised(text=visible(out), count=len(findings), kinds=kinds_all)


_MARKED = re.compile(r"[ \t]*\[neutralised:[^\]\n]*\][ \t]*")


def quoted_data(text: str) -> str:
    """``text`` neutralised, with each neutralised span dropped (a line break in its place)."""
    return _MARKED.sub("\n", neutralise(text).text).strip("\n")


@lru_cache(maxsize=8192)
def quotable(sentence: str) -> bool:
    """Whether ``sentence`` may be quoted as an answer: not neutralised, not an instruction."""
    return MARKER not in sentence and not looks_like_instructions(sentence)
