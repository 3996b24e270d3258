"""The ONNX embedder gives its memory back after a big batch (issue 21, F5).

onnxruntime's memory arena kept every buffer a run had needed: embedding a large document
left the server hundreds of MB bigger, for good. Measured in a fresh process, so that
nothing else the test run loaded moves its RSS.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from companion.llm.embeddings.onnx import BATCH_CHARS, OnnxEmbedder, _batches

PROBE = """
import ctypes, gc, json
from pathlib import Path
from companion.llm.embeddings.onnx import OnnxEmbedder

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

embedder = OnnxEmbedder()
embedder.embed(["warm up"])
gc.collect(); ctypes.CDLL("libc.so.6").malloc_trim(0)
before = rss()
window = "Drivers sign the bay log before and after each shift, and report damage. " * 12
texts = [f"Rule {n}. {window}" for n in range(64)]
for _ in range(2):
    embedder.embed_spans(texts, [[(0, 40)] for _ in texts])
gc.collect(); ctypes.CDLL("libc.so.6").malloc_trim(0)
print(json.dumps({"before": before, "after": rss()}))
"""


@pytest.mark.slow
def test_embedding_64_long_windows_leaves_the_process_no_bigger() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=600, check=True
    )
    rss = json.loads(done.stdout.strip().splitlines()[-1])
    # With the arena (and 32 windows per run) the same work left it 300-450 MB bigger.
    assert rss["after"] - rss["before"] < 40, rss


def test_long_texts_run_in_smaller_batches_with_the_same_vectors() -> None:
    short = [f"overdue invoice {n}" for n in range(40)]
    long = [
        f"Section {n}. " + "The depot gate opens at seven in the morning. " * 20 for n in range(12)
    ]
    batches = list(_batches(short + long))
    assert sorted(i for b in batches for i in b) == list(range(52))
    assert max(len(b) for b in batches) == 32  # short texts still share a run
    for batch in batches:
        texts = [(short + long)[i] for i in batch]
        assert len(batch) == 1 or sum(len(t) for t in texts) <= BATCH_CHARS
    embedder = OnnxEmbedder()
    together = embedder.embed(short + long)
    alone = np.vstack([embedder.embed([t]) for t in long[:3]])
    np.testing.assert_allclose(together[40:43], alone, atol=1e-5)
    assert not embedder._session.get_session_options().enable_cpu_mem_arena
