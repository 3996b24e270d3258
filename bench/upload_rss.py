"""Knowledge uploads against a real ``companion serve``: time per size, and the server's RSS.

    .venv/bin/python bench/upload_rss.py                      # sizes 16..256 KB, then 2 MB
    .venv/bin/python bench/upload_rss.py --sizes 64 --big-kb 2048 --max-sync-bytes 4194304

Each upload is a fresh Markdown document of prose (headings, paragraphs); the server has
no language model. RSS is read from /proc/<pid>/status (VmRSS) after each step has settled.
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
from companion.kit import migrate
from companion.kit.db import make_engine, make_session_factory, session_scope
from companion.tenancy.models import Company

SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuv"
PASSWORD = "bench password 123"
WORDS = (
    "employee leave policy travel expense approval manager receipt reimbursement overtime "
    "holiday notice contract supplier payment invoice warehouse safety training laptop "
    "security password access request review quarter budget customer refund shipping "
    "return warranty office remote schedule benefit insurance claim audit record"
).split()


def document(size: int, seed: int) -> bytes:
    """Markdown prose of about ``size`` bytes: a heading every few paragraphs."""
    rng = random.Random(seed)
    parts: list[str] = []
    total = 0
    section = 0
    while total < size:
        if section % 4 == 0:
            parts.append(f"## Section {section // 4 + 1}: {rng.choice(WORDS).title()}\n")
        sentences = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 18))).capitalize() + "."
            for _ in range(rng.randint(3, 6))
        ]
        parts.append(" ".join(sentences) + "\n")
        section += 1
        total += len(parts[-1]) + (len(parts[-2]) if section % 4 == 1 else 0)
    return "\n".join(parts).encode()[:size]


def rss_mb(pid: int) -> float:
    """The process's resident set size in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


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
        user = auth_service.create_user(session, username="kb", password=PASSWORD)
        auth_service.set_membership(session, user.id, company.id, ["admin"])
    engine.dispose()


def upload(http: httpx.Client, name: str, data: bytes) -> tuple[int, float]:
    """Upload and wait until it is stored (polling a background job); status and seconds."""
    started = time.perf_counter()
    files = {"file": (name, data, "text/markdown")}
    response = http.post("/api/v1/ai/knowledge", files=files, data={"title": name})
    if response.status_code == 202:
        url = response.json()["status_url"]
        while True:
            job = http.get(url).json()
            if job["status"] in ("done", "failed"):
                assert job["status"] == "done", job
                document = http.get(f"/api/v1/ai/knowledge/{job['result']['document_id']}")
                print(f"  job {job['result']['status']}: {document.json()['chunk_count']} chunks")
                break
            time.sleep(0.2)
    else:
        assert response.status_code in (200, 201), response.text
    return response.status_code, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[16, 32, 64, 128, 256])
    parser.add_argument("--big-kb", type=int, default=2048)
    parser.add_argument("--max-sync-bytes", type=int, default=None)
    parser.add_argument("--settle-s", type=float, default=5.0)
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
        with httpx.Client(base_url=base, timeout=600) as http:
            login = {"username": "kb", "password": PASSWORD}
            token = http.post("/api/v1/auth/login", json=login).json()["access_token"]
            http.headers["Authorization"] = f"Bearer {token}"
            upload(http, "warmup.md", document(4096, 0))  # loads the embedder and the index
            time.sleep(args.settle_s)
            print(f"RSS after warm-up: {rss_mb(server.pid):.0f} MB")
            for seed, kb in enumerate(args.sizes, start=1):
                status, seconds = upload(http, f"doc-{kb}k.md", document(kb * 1024, seed))
                print(f"{kb:>5} KB: {status} in {seconds:6.2f} s ({kb / seconds:6.1f} KB/s)")
            time.sleep(args.settle_s)
            before = rss_mb(server.pid)
            print(f"RSS before the big upload: {before:.0f} MB")
            status, seconds = upload(http, "big.md", document(args.big_kb * 1024, 99))
            peak_hint = rss_mb(server.pid)
            print(
                f"{args.big_kb:>5} KB: {status} in {seconds:6.2f} s; RSS at once {peak_hint:.0f} MB"
            )
            time.sleep(args.settle_s)
            after = rss_mb(server.pid)
            change = 100 * (after - before) / before
            print(f"RSS {args.settle_s:.0f} s after: {after:.0f} MB ({change:+.1f}%)")
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # still indexing: the figures above are what counts
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
