"""all-MiniLM-L6-v2 (int8 ONNX) through onnxruntime and ``tokenizers``: no torch needed."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from companion.llm.embeddings import assets
from companion.llm.embeddings.base import (
    EmbeddingModelUnavailable,
    Span,
    Vectors,
    empty_vectors,
    l2_normalise,
)

DIM = 384
# sentence-transformers' max_seq_length for this model; longer inputs are truncated there too.
MAX_TOKENS = 256
# Texts per model run, and characters per run. A run's attention buffers grow with
# texts x tokens squared: 32 windows of 256 tokens took ~300 MB per run. About 9 such
# windows (short texts still 32) embed as fast and need a quarter of it (issue 21, F5).
BATCH_SIZE = 32
BATCH_CHARS = 8 * 1024


class OnnxEmbedder:
    """Mean-pooled, normalised all-MiniLM-L6-v2 sentence vectors from the int8 ONNX export."""

    name = "onnx:all-MiniLM-L6-v2-int8"
    dim = DIM

    def __init__(
        self,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        *,
        threads: int = 1,
    ) -> None:
        try:
            import onnxruntime as ort  # type: ignore[import-untyped]
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbeddingModelUnavailable(
                "the onnx embedder needs onnxruntime and tokenizers: "
                "pip install onnxruntime tokenizers",
                details={"missing": str(exc)},
            ) from exc
        model = model_path or assets.onnx_model_path()
        tok_file = tokenizer_path or assets.tokenizer_path()
        self._tokenizer = Tokenizer.from_file(str(tok_file))
        # The shipped tokenizer pads every input to 128 tokens; pad to the batch's longest.
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # One intra-op thread by default (0: one a core). On two shared cores a pool's threads
        # only add hand-offs: a question's embedding took 5.5 ms of CPU with the pool against
        # 4.3-4.7 without, 1,500 texts in batches 6.4 against 5.7-6.0 s (no slower in wall
        # time at load 8-15), and the vectors are the same bit for bit.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # No memory arena: onnxruntime's arena keeps every buffer a run ever needed, so the
        # server's RSS rose by hundreds of MB with each big upload and never came down
        # (issue 21, F5). Freed buffers go back to malloc, at no measurable cost per run.
        options.enable_cpu_mem_arena = False
        # Spinning pool threads fight numpy's BLAS threads for 2 cores right after each run.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session: Any = ort.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {i.name for i in self._session.get_inputs()}
        # The last single text this thread embedded, and its vector: a knowledge question is
        # embedded by the intent classifier and then by retrieval in the same turn (and
        # thread); the second costs a model run (~5 ms of CPU) for the same vector.
        self._last = threading.local()
        output = self._session.get_outputs()[0]
        if output.shape[-1] != DIM:
            raise EmbeddingModelUnavailable(
                f"{model} outputs {output.shape[-1]}-dimensional vectors, expected {DIM}",
                details={"path": str(model)},
            )

    def embed(self, texts: list[str]) -> Vectors:
        """Unit vectors, one row per text, in input order."""
        if not texts:
            return empty_vectors(DIM)
        if len(texts) == 1 and getattr(self._last, "text", None) == texts[0]:
            vector: Vectors = self._last.vector.copy()
            return vector
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for chunk in _batches(texts):
            out[chunk] = self._embed_batch([texts[i] for i in chunk])
        if len(texts) == 1:
            self._last.text, self._last.vector = texts[0], out.copy()
        return out

    def embed_spans(
        self, texts: list[str], spans: Sequence[Sequence[Span]]
    ) -> tuple[Vectors, list[Vectors]]:
        """Each text's vector and, from the same model pass, a vector per character span of it.

        A span's vector is the mean of the token states inside it ("late chunking"): the
        tokens have read the whole text, so a sentence costs no pass of its own. A span the
        256-token limit cut off is embedded on its own instead.
        """
        if len(spans) != len(texts):
            raise ValueError("one list of spans per text")
        out = np.empty((len(texts), DIM), dtype=np.float32)
        span_out = [np.zeros((len(s), DIM), dtype=np.float32) for s in spans]
        cut_off: list[tuple[int, int]] = []
        for chunk in _batches(texts):
            encodings, hidden, mask = self._run([texts[i] for i in chunk])
            out[chunk] = _pool(hidden, mask)
            for row, i in enumerate(chunk):
                starts = np.array([a for a, _ in encodings[row].offsets])
                ends = np.array([b for _, b in encodings[row].offsets])
                real = (mask[row] > 0) & (ends > starts)  # not [CLS], [SEP] or padding
                for j, (lo, hi) in enumerate(spans[i]):
                    inside = real & (starts >= lo) & (ends <= hi)
                    if inside.any():
                        span_out[i][j] = hidden[row][inside].mean(axis=0)
                    else:
                        cut_off.append((i, j))
        if cut_off:
            alone = self.embed([texts[i][spans[i][j][0] : spans[i][j][1]] for i, j in cut_off])
            for (i, j), vector in zip(cut_off, alone, strict=True):
                span_out[i][j] = vector
        return out, [l2_normalise(m) for m in span_out]

    def _embed_batch(self, texts: list[str]) -> Vectors:
        _, hidden, mask = self._run(texts)
        return _pool(hidden, mask)

    def _run(
        self, texts: list[str]
    ) -> tuple[list[Any], np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        return encodings, hidden, mask


def _batches(texts: Sequence[str]) -> Iterator[list[int]]:
    """Indexes of ``texts`` by length (little padding), at most BATCH_SIZE or BATCH_CHARS a run."""
    batch: list[int] = []
    chars = 0
    for i in sorted(range(len(texts)), key=lambda i: len(texts[i])):
        if batch and (len(batch) >= BATCH_SIZE or chars + len(texts[i]) > BATCH_CHARS):
            yield batch
            batch, chars = [], 0
        batch.append(i)
        chars += len(texts[i])
    if batch:
        yield batch


def _pool(hidden: np.ndarray[Any, Any], mask: np.ndarray[Any, Any]) -> Vectors:
    weights = mask[:, :, None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    return l2_normalise(pooled)
