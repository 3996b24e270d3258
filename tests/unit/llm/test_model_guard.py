"""The unit tier's guard (tests/unit/conftest.py): loading any real model fails loudly."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from companion.assistant.nlu import NLU
from companion.llm.embeddings import load_embedder
from companion.llm.embeddings.onnx import OnnxEmbedder
from companion.llm.embeddings.sbert import SentenceTransformerEmbedder
from companion.llm.locate import resolve_model_path
from companion.llm.providers.base import ModelRequestsBlocked
from companion.llm.providers.llamacpp import LlamaCppProvider, LlamaModels


@pytest.fixture(scope="module")
def load_in_a_module_fixture() -> ModelRequestsBlocked:
    """Wider-scoped fixtures are set up before function-scoped ones: the guard covers them."""
    with pytest.raises(ModelRequestsBlocked) as caught:
        load_embedder("onnx")
    return caught.value


def test_a_module_scoped_fixture_cannot_load_a_model(
    load_in_a_module_fixture: ModelRequestsBlocked,
) -> None:
    assert "ONNX embedder" in str(load_in_a_module_fixture)


def test_the_onnx_embedder_is_refused_directly_and_through_the_registry() -> None:
    with pytest.raises(ModelRequestsBlocked, match="tests/integration"):
        OnnxEmbedder()
    with pytest.raises(ModelRequestsBlocked):
        load_embedder("onnx")
    with pytest.raises(ModelRequestsBlocked):
        load_embedder()  # the default


def test_the_shipped_nlu_is_refused_before_any_training() -> None:
    with pytest.raises(ModelRequestsBlocked, match="ONNX embedder"):
        NLU.load()


def test_llama_cpp_is_refused_even_with_the_model_on_disk() -> None:
    assert resolve_model_path(None).is_file()
    with pytest.raises(ModelRequestsBlocked, match="llama.cpp"):
        LlamaCppProvider(resolve_model_path(None), models=LlamaModels(), n_threads=1)


def test_the_torch_embedder_is_refused_when_its_libraries_are_there(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Stand-ins for torch and sentence-transformers (not installed here): the guard must
    # stop the adapter after its import check, before it reads any weights.
    loaded: list[str] = []
    fake_st = types.ModuleType("sentence_transformers")
    fake_st.SentenceTransformer = lambda *args, **kwargs: loaded.append("weights")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", types.ModuleType("torch"))
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake_st)
    with pytest.raises(ModelRequestsBlocked, match="sentence-transformers"):
        SentenceTransformerEmbedder(model_dir=tmp_path)
    assert loaded == []
