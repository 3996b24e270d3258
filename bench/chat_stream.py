"""Generated knowledge answers over SSE: time to first token and to the final answer.

    .venv/bin/python bench/chat_stream.py [--database-url URL] [--runs 3] [--model PATH]

Starts ``companion serve`` on a free 127.0.0.1 port with the default language model (the
bundled SmolLM2, or ``--model`` GGUF), generated knowledge answers on and the response
cache off, logs in as ``finance``
(Acme) and sends each answerable Acme question of the demo retrieval set to
``POST /api/v1/ai/chat/stream`` ``--runs`` times. Reported: time to the first ``token``
event, time to the ``final`` event (end to end, as the client sees it), p50 and p95; how many
answers were kept as generated and why the others fell back. Baseline in the same run: a
data question (no model) over the same stream, time to its ``final`` event.
Target: generated knowledge answers end to end p95 < 3 s on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx

sys.path.insert(0, os.path.dirname(__file__))

from common import DEMO_TODAY, demo_database, p  # noqa: E402
from http_load import bearer, free_port, wait_until_ready  # noqa: E402

from companion.knowledge.evaluation import load_set  # noqa: E402

# Cache off; generated answers on (the shipped policy leaves them off for the small model).
POLICIES = "defaults: {cache_ttl_s: 0}\nuse_cases:\n  knowledge_answer: {enabled: true}\n"


def events(response: httpx.Response) -> Iterator[tuple[str, dict[str, object]]]:
    kind, data = "message", ""
    for line in response.iter_lines():
        if not line:
            if data:
                yield kind, json.loads(data)
            kind, data = "message", ""
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()


def ask(
    client: httpx.Client, base: str, headers: dict[str, str], question: str
) -> tuple[float | None, float, dict[str, object]]:
    """(ms to the first token or None, ms to the final event, the final response)."""
    started = time.perf_counter()
    first: float | None = None
    body = {"message": question}
    with client.stream("POST", f"{base}/api/v1/ai/chat/stream", json=body, headers=headers) as r:
        r.raise_for_status()
        for kind, data in events(r):
            if kind == "token" and first is None:
                first = (time.perf_counter() - started) * 1000
            elif kind in ("final", "error"):
                return first, (time.perf_counter() - started) * 1000, data
    raise RuntimeError("the stream ended without a final event")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", help="a GGUF file (default: the bundled SmolLM2)")
    args = parser.parse_args()
    url = demo_database(args.database_url)
    questions = [
        q.text
        for q in load_set().answerable
        if q.company == "acme" and not (q.document or "").startswith("help:")
    ]
    policies = Path(tempfile.mkdtemp()) / "policies.yml"
    policies.write_text(POLICIES)
    port = free_port()
    env = {
        **os.environ,
        "COMPANION_DATABASE_URL": url,
        "COMPANION_DEMO_MODE": "true",
        "COMPANION_TODAY": DEMO_TODAY.isoformat(),
        "COMPANION_LOG_LEVEL": "WARNING",
        "COMPANION_LLM__POLICIES_FILE": str(policies),
    }
    if args.model:
        env |= {"COMPANION_LLM__PROVIDER": "llamacpp", "COMPANION_LLM__MODEL_PATH": args.model}
    companion = os.path.join(os.path.dirname(sys.executable), "companion")
    server = subprocess.Popen([companion, "serve", "--port", str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, 240)
        headers = bearer(base)
        load = os.getloadavg()[0]
        print(f"{platform.machine()}, {os.cpu_count()} cores, load {load:.1f}")
        with httpx.Client(timeout=180) as client:
            ask(client, base, headers, questions[0])  # loads the model, the NLU, the index
            data_question = "what's our cash balance?"
            baseline = [ask(client, base, headers, data_question)[1] for _ in range(10)]
            firsts: list[float] = []
            totals: list[float] = []
            outcomes: Counter[str] = Counter()
            slowest: list[tuple[float, float | None, str, str]] = []
            for _ in range(args.runs):
                for question in questions:
                    first, total, final = ask(client, base, headers, question)
                    usage = final.get("usage") or {}
                    llm = usage.get("llm") if isinstance(usage, dict) else None
                    if not isinstance(llm, dict):
                        outcomes["no model asked"] += 1
                        continue
                    totals.append(total)
                    slowest.append((total, first, str(llm.get("fallback_reason")), question))
                    if first is not None:
                        firsts.append(first)
                    reason = llm.get("fallback_reason")
                    outcomes["generated" if llm.get("generated") else f"fallback:{reason}"] += 1
        print(f"{len(questions)} questions x {args.runs} runs; load now {os.getloadavg()[0]:.1f}")
        print(
            f"baseline: data question over SSE, final  p50 {statistics.median(baseline):8.1f} ms"
            f"   p95 {p(baseline, 95):8.1f} ms"
        )
        if firsts:
            print(
                f"knowledge: first token                  p50 {statistics.median(firsts):8.1f} ms"
                f"   p95 {p(firsts, 95):8.1f} ms"
            )
        if totals:
            print(
                f"knowledge: final answer (end to end)    p50 {statistics.median(totals):8.1f} ms"
                f"   p95 {p(totals, 95):8.1f} ms"
            )
        print("outcomes: " + ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))
        for total, first, reason, question in sorted(slowest, reverse=True)[:5]:
            shown = f"{first:.0f}" if first is not None else "-"
            print(f"  slowest: {total:7.0f} ms (first token {shown} ms, {reason}): {question}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
