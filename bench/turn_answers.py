"""The answers of a fixed question list, to check a change to the chat turn changes none.

    .venv/bin/python bench/turn_answers.py --database-url URL --out answers.json [--user finance]
    .venv/bin/python bench/turn_answers.py --compare before.json after.json

The questions: every NLU training example of the data intents, the questions of
``tests/e2e/chat/analytics_questions.yml`` (answerable, unanswerable, shapes), and a few
follow-ups asked in the conversation of the question before them. Each is asked in process
(``Assistant.turn``) as ``--user`` in ``--company``; what is kept of an answer is the whole
response but its ids and its latency. Run it on a fresh copy of one database per code
version (turns are recorded); ``--compare`` says how many answers are identical, with the
clock's time of day ("as of ... 22:37 UTC" in a provenance) left out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from companion.assistant.nlu.rasa import load_rasa_nlu
from companion.assistant.nlu.understanding import DATA_QUERIES, default_data_dir
from companion.assistant.schemas import ChatRequest
from companion.auth.service import context_for_user
from companion.bootstrap import bootstrap
from companion.config import RateLimitSettings, Settings
from companion.kit.db import session_scope

ROOT = Path(__file__).resolve().parent.parent
ANALYTICS = ROOT / "tests/e2e/chat/analytics_questions.yml"
# (question, follow-up asked in its conversation)
FOLLOW_UPS = [
    ("sales last month", "what about the month before?"),
    ("sales last month", "and last month?"),
    ("top 5 customers this year", "and last year?"),
    ("show me the receivables aging", "only for Dhaka Traders"),
    ("sales by customer last month", "and by item?"),
    ("profit and loss for last quarter", "what about this quarter?"),
]


def questions() -> list[tuple[str, str | None]]:
    """(question, None) or (follow-up, the question before it), in a fixed order."""
    data = load_rasa_nlu([default_data_dir()])
    asked: list[tuple[str, str | None]] = [
        (e.text, None) for e in data.examples if e.intent in DATA_QUERIES
    ]
    sets = yaml.safe_load(ANALYTICS.read_text(encoding="utf-8"))
    for name in ("answerable", "unanswerable", "shapes"):
        asked += [(str(item["q"]), None) for item in sets.get(name, [])]
    asked += [(follow, first) for first, follow in FOLLOW_UPS]
    return asked


def kept(response: Any) -> dict[str, Any]:
    """The response as JSON without what differs between runs (ids, latency)."""
    out: dict[str, Any] = response.model_dump(mode="json")
    out.pop("conversation_id")
    out.pop("message_id")
    out["usage"].pop("latency_ms", None)
    return out


def ask_all(url: str, user: str, company: str, today: dt.date) -> list[dict[str, Any]]:
    # One user asks every question: the chat rate limit would refuse most of them.
    off = RateLimitSettings(enabled=False)
    settings = Settings(database_url=url, demo_mode=True, today=today, rate_limits=off)
    container = bootstrap(settings)
    assistant = container.assistant()

    def ask(text: str, conversation_id: str | None = None) -> Any:
        with session_scope(container.session_factory) as session:
            ctx = context_for_user(session, user, company)
            request = ChatRequest(message=text, conversation_id=conversation_id)
            return assistant.turn(session, ctx, request)

    answers = []
    started = time.perf_counter()
    for text, before in questions():
        conversation = ask(before).conversation_id if before else None
        answers.append({"q": text, "after": before, "answer": kept(ask(text, conversation))})
    print(f"{len(answers)} questions in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    container.engine.dispose()
    return answers


# "as of 2026-11-20 22:37 UTC" in a figure's provenance: the clock's time of day, which
# the fixed ``--today`` does not fix.
_TIME_OF_DAY = re.compile(r"\b\d{2}:\d{2} UTC\b")


def _steady(value: Any) -> Any:
    """``value`` with the time of day of every string replaced by ``HH:MM``."""
    if isinstance(value, dict):
        return {k: _steady(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_steady(v) for v in value]
    if isinstance(value, str):
        return _TIME_OF_DAY.sub("HH:MM UTC", value)
    return value


def compare(before_path: str, after_path: str) -> int:
    before = _steady(json.loads(Path(before_path).read_text(encoding="utf-8")))
    after = _steady(json.loads(Path(after_path).read_text(encoding="utf-8")))
    if [a["q"] for a in before] != [a["q"] for a in after]:
        print("the two files ask different questions")
        return 2
    differ = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    for a, b in differ[:20]:
        keys = sorted(k for k in a["answer"] if a["answer"].get(k) != b["answer"].get(k))
        print(f"DIFFERS {a['q']!r}: {keys}")
        for k in keys:
            print(f"  before {k}: {json.dumps(a['answer'].get(k))[:300]}")
            print(f"  after  {k}: {json.dumps(b['answer'].get(k))[:300]}")
    print(f"{len(before) - len(differ)} of {len(before)} identical")
    return 1 if differ else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--out")
    parser.add_argument("--user", default="finance")
    parser.add_argument("--company", default="acme")
    parser.add_argument("--today", default="2026-11-20", help="the demo's today")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        raise SystemExit(compare(*args.compare))
    if not (args.database_url and args.out):
        parser.error("--database-url and --out are needed to ask")
    answers = ask_all(args.database_url, args.user, args.company, dt.date.fromisoformat(args.today))
    Path(args.out).write_text(json.dumps(answers, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
