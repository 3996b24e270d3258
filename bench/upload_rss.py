"""Big knowledge uploads against a real ``companion serve``: job time and the server's RSS.

    .venv/bin/python bench/upload_rss.py          # two 2 MB manuals, one after the other
    .venv/bin/python bench/upload_rss.py --big-kb 512 --uploads 3 --sizes 8 16

The server runs on a SQLite file with no language model. A warm-up loads the embedder and
the NLU (a small upload and a chat question); RSS (VmRSS of /proc/<pid>/status) is read
once the server's CPU has settled. Each big upload is a different generated policy manual
whose last section alone holds a fact; after the job says ``done`` the fact is asked in
chat at once (``done`` must mean searchable), then RSS is read again once the CPU settles.
``--sizes`` first times small uploads (those under the synchronous limit answer 201).
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from companion.auth import service as auth_service
from companion.auth.passwords import PasswordHasher
from companion.kit import migrate
from companion.kit.db import make_engine, make_session_factory, session_scope
from companion.tenancy.models import Company

SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuv"
PASSWORD = "bench password 123"
TOPICS = (
    "annual leave",
    "sick leave",
    "travel expenses",
    "overtime",
    "remote work",
    "laptops",
    "purchase approvals",
    "supplier payments",
    "customer refunds",
    "warehouse safety",
    "fire drills",
    "visitor access",
    "password resets",
    "petty cash",
    "company vehicles",
)
WHO = (
    "An employee",
    "A line manager",
    "The finance team",
    "A warehouse supervisor",
    "The HR officer",
    "A contractor",
    "The branch accountant",
    "A new joiner",
)
MUST = ("must", "should", "may", "is expected to", "is not allowed to")
DO = (
    "submit a written request",
    "keep the original receipts",
    "inform their manager",
    "record the hours in the attendance system",
    "ask for a second approval",
    "return the equipment",
    "complete the safety briefing",
    "file the claim",
)
WHEN = (
    "within {n} working days",
    "before the end of the month",
    "at least {n} days ahead",
    "on the same day",
    "within {n} hours of the event",
    "before the quarter closes",
)
DEPOTS = ("Savar", "Tongi", "Gazipur", "Ashulia", "Narsingdi", "Bogura", "Cumilla")
# What each manual's last section keeps where: manuals differ in more than the depot's name,
# or the question about one would be answered from another's last section just as well.
ITEMS = ("spare forklift tyres", "fire blankets", "first-aid kits", "welding masks", "ladders")
UNLESS = (
    "unless the amount is under {n},000 taka",
    "unless the director agrees otherwise",
    "except during the year-end stock count",
    "even when working from a branch office",
    "and a copy goes to the payroll team",
    "so that the audit trail stays complete",
)


def manual(size: int, seed: int) -> tuple[bytes, str, str]:
    """A Markdown policy manual of about ``size`` bytes; its last section alone holds a fact.

    Returns the document, a question about that fact and the answer's telling words.
    """
    rng = random.Random(seed)
    depot, item, cage = DEPOTS[seed % len(DEPOTS)], ITEMS[seed % len(ITEMS)], 100 + seed % 900
    fact = f"The {depot} depot keeps its {item} in locked cage {cage}."
    tail = f"\n## Storage at the {depot} depot\n\n{fact}\n"
    parts = [f"# Operations policy manual (edition {seed})\n"]
    total = len(parts[0]) + len(tail)
    chapter = 0
    while total < size:
        chapter += 1
        topic = rng.choice(TOPICS)
        sentences = []
        for _ in range(rng.randint(3, 6)):
            n = rng.randint(2, 30)
            sentence = (
                f"{rng.choice(WHO)} {rng.choice(MUST)} {rng.choice(DO)} for {topic} "
                f"{rng.choice(WHEN)} {rng.choice(UNLESS)}."
            )
            sentences.append(sentence.format(n=n))
        part = (
            f"\n## {chapter // 5 + 1}.{chapter % 5 + 1} {topic.title()}\n\n{' '.join(sentences)}\n"
        )
        parts.append(part)
        total += len(part)
    # Worded as a policy question: "Where does the depot keep ..." reads as stock (the NLU).
    question = f"What does the policy say about {item} at the {depot} depot?"
    return ("".join(parts) + tail).encode(), question, f"cage {cage}"


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """The process's resident set size (or ``VmHWM``, its peak) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def cpu_s(pid: int) -> float:
    """CPU seconds the process (all its threads) has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pid: int, *, idle: float = 0.03, quiet_s: int = 3, limit_s: float = 300) -> float:
    """Wait until the server used under ``idle`` of a core for ``quiet_s`` seconds in a row."""
    started = time.monotonic()
    quiet = 0
    last = cpu_s(pid)
    while quiet < quiet_s and time.monotonic() - started < limit_s:
        time.sleep(1)
        now = cpu_s(pid)
        quiet = quiet + 1 if now - last < idle else 0
        last = now
    return time.monotonic() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        company = Company(slug="acme", name="Acme", base_currency="USD")
        session.add(company)
        session.flush()
        user = auth_service.create_user(session, PasswordHasher(), username="kb", password=PASSWORD)
        auth_service.set_membership(session, user.id, company.id, ["admin"])
    engine.dispose()


def upload(http: httpx.Client, name: str, data: bytes) -> tuple[int, float, int | None]:
    """Upload and wait until it is stored (polling a background job): status, seconds, chunks."""
    started = time.perf_counter()
    files = {"file": (name, data, "text/markdown")}
    response = http.post("/api/v1/ai/knowledge", files=files, data={"title": name})
    if response.status_code != 202:
        assert response.status_code in (200, 201), response.text
        return response.status_code, time.perf_counter() - started, None
    url = response.json()["status_url"]
    while True:
        job = http.get(url).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    assert job["status"] == "done", job
    document = http.get(f"/api/v1/ai/knowledge/{job['result']['document_id']}").json()
    return 202, seconds, int(document["chunk_count"])


def ask(http: httpx.Client, question: str) -> str:
    """The chat answer's text."""
    response = http.post("/api/v1/ai/chat", json={"message": question})
    assert response.status_code == 200, response.text
    return str(response.json()["message"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[], help="small uploads (KB)")
    parser.add_argument("--big-kb", type=int, default=2048)
    parser.add_argument("--uploads", type=int, default=2, help="big uploads, one after another")
    parser.add_argument("--max-sync-bytes", type=int, default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="companion-upload-"))
    url = f"sqlite:///{work / 'companion.db'}"
    prepare(url)
    port = free_port()
    env = {
        **os.environ,
        "COMPANION_DATABASE_URL": url,
        "COMPANION_DATA_DIR": str(work),
        "COMPANION_AUTH__SECRET_KEY": SECRET,
        "COMPANION_LLM__PROVIDER": "none",
        "COMPANION_LOG_LEVEL": "WARNING",
    }
    if args.max_sync_bytes:
        env["COMPANION_RAG__MAX_SYNC_BYTES"] = str(args.max_sync_bytes)
    command = [sys.executable, "-c", "from companion.cli.main import app; app()", "serve"]
    server = subprocess.Popen([*command, "--port", str(port)], env=env, cwd=work)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "no server"
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=1200) as http:
            login = {"username": "kb", "password": PASSWORD}
            token = http.post("/api/v1/auth/login", json=login).json()["access_token"]
            http.headers["Authorization"] = f"Bearer {token}"
            warm, question, _ = manual(4096, 0)
            upload(http, "warmup.md", warm)  # loads the embedder and the index
            ask(http, question)  # loads the NLU
            settle(server.pid)
            before = rss_mb(server.pid)
            print(f"RSS after warm-up, settled: {before:.0f} MB")
            for seed, kb in enumerate(args.sizes, start=1):
                status, seconds, _ = upload(http, f"doc-{kb}k.md", manual(kb * 1024, 100 + seed)[0])
                print(f"{kb:>5} KB: {status} in {seconds:6.2f} s ({kb / seconds:6.1f} KB/s)")
            if args.sizes:
                settle(server.pid)
                before = rss_mb(server.pid)
                print(f"RSS before the big uploads, settled: {before:.0f} MB")
            for number in range(1, args.uploads + 1):
                data, question, answer = manual(args.big_kb * 1024, number)
                cpu_before = cpu_s(server.pid)
                status, seconds, chunks = upload(http, f"manual-{number}.md", data)
                said = ask(http, question)  # at once: done means searchable
                found = answer in said
                cpu = cpu_s(server.pid) - cpu_before
                waited = settle(server.pid)
                after = rss_mb(server.pid)
                print(
                    f"upload {number}: {len(data) / 1024:.0f} KB -> {status}, done in "
                    f"{seconds:.1f} s ({chunks} chunks, {cpu:.0f} CPU s), last section "
                    f"{'found' if found else 'NOT FOUND'} at once; RSS settled after "
                    f"{waited:.0f} s: {after:.0f} MB ({100 * (after - before) / before:+.1f}% "
                    f"of {before:.0f}), peak so far {rss_mb(server.pid, 'VmHWM'):.0f} MB"
                )
                if not found:
                    print(f"  asked {question!r}, answered {said[:200]!r}")
    finally:
        server.terminate()
        stopping = time.monotonic()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        print(f"server stopped in {time.monotonic() - stopping:.1f} s")


if __name__ == "__main__":
    main()
