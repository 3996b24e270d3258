"""Per-use-case model policies from YAML: shipped defaults, deployment and company overrides.

Every file is validated on its own, so an error names that file and the line at fault
(from YAML's node marks); files are then overlaid in order, later files winning.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from companion.llm.errors import PolicyFileInvalid

USE_CASES = (
    "chat",
    "knowledge_answer",
    "tool_choice",
    "summarize",
    "draft_email",
    "score_customer",
)
UseCase = Literal[
    "chat", "knowledge_answer", "tool_choice", "summarize", "draft_email", "score_customer"
]
BUILTIN_PROVIDERS = ("default", "none")
DEFAULT_FILE = "default.yml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UseCasePolicy(_Strict):
    """How one use case calls a model."""

    enabled: bool = True
    provider: str = "default"
    model: str | None = None
    fallback: tuple[str, ...] = ()
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(default=256, ge=1, le=32_768)
    timeout_s: float = Field(default=20.0, gt=0.0, le=600.0)
    latency_budget_ms: int = Field(default=3000, ge=1)
    cache_ttl_s: int = Field(default=0, ge=0)
    stream: bool = False
    truncate: Literal["drop_oldest", "error"] = "drop_oldest"

    def chain(self) -> tuple[str, ...]:
        """The provider, then its fallbacks, each once."""
        return tuple(dict.fromkeys((self.provider, *self.fallback)))


class HealthPolicy(_Strict):
    """When a provider counts as degraded or unhealthy."""

    window: int = Field(default=20, ge=1, le=10_000)
    failure_threshold: int = Field(default=3, ge=1)
    cooldown_s: float = Field(default=30.0, gt=0.0)
    degraded_error_rate: float = Field(default=0.2, gt=0.0, le=1.0)


class ProviderSpec(_Strict):
    """A named provider a policy may use besides ``default`` and ``none``."""

    kind: Literal["llamacpp", "openai_compat", "none"]
    model_path: Path | None = None
    base_url: str | None = None
    model: str | None = None
    api_keys_env: str | None = None
    n_ctx: int = Field(default=2048, ge=128)
    n_threads: int | None = Field(default=None, ge=1)
    context_size: int = Field(default=4096, ge=128)
    timeout_s: float = Field(default=30.0, gt=0.0)
    # External (a cloud API, a server run by another party): prompts reach it with their
    # personal data replaced by placeholders (llm.privacy), put back in its replies when
    # restore_pii is on.
    external: bool = False
    restore_pii: bool = True


class _PartialUseCase(_Strict):
    """A use case in one file: only the fields it sets (validated like the full policy)."""

    enabled: bool | None = None
    provider: str | None = None
    model: str | None = None
    fallback: tuple[str, ...] | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1, le=32_768)
    timeout_s: float | None = Field(default=None, gt=0.0, le=600.0)
    latency_budget_ms: int | None = Field(default=None, ge=1)
    cache_ttl_s: int | None = Field(default=None, ge=0)
    stream: bool | None = None
    truncate: Literal["drop_oldest", "error"] | None = None


class _UseCases(_Strict):
    chat: _PartialUseCase | None = None
    knowledge_answer: _PartialUseCase | None = None
    tool_choice: _PartialUseCase | None = None
    summarize: _PartialUseCase | None = None
    draft_email: _PartialUseCase | None = None
    score_customer: _PartialUseCase | None = None


class _CompanyOverlay(_Strict):
    defaults: _PartialUseCase | None = None
    use_cases: _UseCases | None = None


class _PolicyFile(_Strict):
    version: Literal[1] = 1
    health: HealthPolicy | None = None
    providers: dict[str, ProviderSpec] | None = None
    defaults: _PartialUseCase | None = None
    use_cases: _UseCases | None = None
    companies: dict[str, _CompanyOverlay] | None = None


class _Layer:
    """One validated file, kept as the raw values it set."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def use_case(self, name: str) -> dict[str, Any]:
        """What this file sets for ``name``: its defaults, then the use case's own values."""
        merged = dict(self.data.get("defaults") or {})
        merged.update((self.data.get("use_cases") or {}).get(name) or {})
        return merged


def _key_matches(key: yaml.Node, part: int | str) -> bool:
    """Whether a mapping key node is the one an error location names (``off`` is False)."""
    if str(key.value) == str(part):
        return True
    if isinstance(key, yaml.ScalarNode) and not isinstance(part, str):
        return bool(yaml.safe_load(yaml.serialize(key)) == part)
    return False


def _line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the deepest YAML node along a pydantic error location."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if _key_matches(key, part):
                    # The key's line: where an unknown or invalid entry is written.
                    child, line = value, key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                child = node.value[part]
                line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _parse(text: str, path: str) -> tuple[dict[str, Any], yaml.Node | None]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise PolicyFileInvalid(
            f"not valid YAML: {exc.problem or exc}",
            path=path,
            line=mark.line + 1 if mark else None,
        ) from exc
    finally:
        loader.dispose()
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyFileInvalid("the file must be a mapping", path=path, line=1)
    return data, node


def _validate(
    data: dict[str, Any], node: yaml.Node | None, path: str, model: type[BaseModel]
) -> None:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise PolicyFileInvalid(
            f"{where}: {error['msg']}" if where else str(error["msg"]),
            path=path,
            line=_line_of(node, error["loc"]),
        ) from exc


def _check_references(
    data: dict[str, Any],
    node: yaml.Node | None,
    path: str,
    known: set[str],
    prefix: tuple[str, ...],
) -> None:
    """Every provider a policy names must exist by the time this file is read."""
    sections: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    if data.get("defaults"):
        sections.append(((*prefix, "defaults"), data["defaults"]))
    for name, values in (data.get("use_cases") or {}).items():
        if values:
            sections.append(((*prefix, "use_cases", name), values))
    for loc, values in sections:
        names: list[tuple[tuple[str | int, ...], Any]] = [(("provider",), values.get("provider"))]
        names += [(("fallback", i), n) for i, n in enumerate(values.get("fallback") or [])]
        for field, name in names:
            if name is not None and name not in known:
                field_loc = (*loc, *field)
                raise PolicyFileInvalid(
                    f"{'.'.join(map(str, field_loc))}: unknown provider {name!r} "
                    f"(known: {', '.join(sorted(known))})",
                    path=path,
                    line=_line_of(node, field_loc),
                )


def load_file(path: Path, *, known_providers: set[str], company: bool = False) -> dict[str, Any]:
    """A policy file, validated; errors name the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyFileInvalid(
            f"cannot read the file ({exc.strerror})", path=str(path), line=None
        ) from exc
    return load_text(text, str(path), known_providers=known_providers, company=company)


def load_text(
    text: str, path: str, *, known_providers: set[str], company: bool = False
) -> dict[str, Any]:
    """Policy YAML text, validated; ``company`` files may set only defaults and use cases."""
    data, node = _parse(text, path)
    _validate(data, node, path, _CompanyOverlay if company else _PolicyFile)
    known = known_providers | set(data.get("providers") or {})
    _check_references(data, node, path, known, ())
    for name, overlay in (data.get("companies") or {}).items():
        _check_references(overlay or {}, node, path, known, ("companies", str(name)))
    return data


class PolicyBook:
    """The effective policies: shipped defaults, then the deployment's, then a company's."""

    def __init__(
        self,
        layers: Sequence[dict[str, Any]],
        *,
        company_layers: Mapping[str, Sequence[dict[str, Any]]] | None = None,
    ) -> None:
        self._layers = [_Layer(d) for d in layers]
        # A company's overlays: the `companies:` sections of the files above (in file order,
        # later winning), then the company's own file (<slug>.yml), which wins over them.
        self._company_sections: dict[str, list[_Layer]] = {}
        self._company_files = {
            str(k): [_Layer(d) for d in v] for k, v in (company_layers or {}).items()
        }
        health: dict[str, Any] = {}
        providers: dict[str, Any] = {}
        for layer in self._layers:
            health.update(layer.data.get("health") or {})
            providers.update(layer.data.get("providers") or {})
            for company, overlay in (layer.data.get("companies") or {}).items():
                self._company_sections.setdefault(str(company), []).append(_Layer(overlay or {}))
        self.health = HealthPolicy.model_validate(health)
        self.providers = {n: ProviderSpec.model_validate(s) for n, s in providers.items()}
        self._cache: dict[tuple[str | None, str], UseCasePolicy] = {}

    @classmethod
    def load(
        cls, deployment_file: Path | None = None, *, company_dir: Path | None = None
    ) -> PolicyBook:
        """The shipped defaults, overlaid by the deployment file and per-company files."""
        known = set(BUILTIN_PROVIDERS)
        shipped = files("companion.llm").joinpath("policies", DEFAULT_FILE)
        layers = [load_text(shipped.read_text("utf-8"), str(shipped), known_providers=known)]
        if deployment_file is not None:
            layers.append(load_file(deployment_file, known_providers=known))
        for layer in layers:
            known |= set(layer.get("providers") or {})
        companies: dict[str, list[dict[str, Any]]] = {}
        if company_dir is not None:
            for path in sorted(Path(company_dir).glob("*.yml")):
                overlay = load_file(path, known_providers=known, company=True)
                companies[path.stem] = [overlay]
        return cls(layers, company_layers=companies)

    def known_providers(self) -> set[str]:
        """Every provider name a policy may use."""
        return set(BUILTIN_PROVIDERS) | set(self.providers)

    def policy(self, use_case: str, company: str | int | None = None) -> UseCasePolicy:
        """The effective policy of ``use_case`` for ``company`` (None: the deployment's)."""
        if use_case not in USE_CASES:
            raise KeyError(f"unknown use case {use_case!r}; known: {', '.join(USE_CASES)}")
        key = (None if company is None else str(company), use_case)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        merged: dict[str, Any] = {}
        layers = self._layers + (self._company_overlays(key[0]) if key[0] else [])
        for layer in layers:
            merged.update(layer.use_case(use_case))
        policy = UseCasePolicy.model_validate(merged)
        self._cache[key] = policy
        return policy

    def _company_overlays(self, company: str) -> list[_Layer]:
        return self._company_sections.get(company, []) + self._company_files.get(company, [])

    def company_file_values(self, company: str) -> dict[str, Any]:
        """What the company's own file sets (a copy; empty when it has none)."""
        layers = self._company_files.get(company) or []
        return copy.deepcopy(layers[-1].data) if layers else {}

    def replace_company_file(self, company: str, overlay: dict[str, Any]) -> None:
        """Use ``overlay`` (already validated) as the company's file from now on."""
        files = dict(self._company_files)
        files[company] = [_Layer(overlay)]
        self._company_files = files
        self._cache = {}

    def policies(self, company: str | int | None = None) -> dict[str, UseCasePolicy]:
        """Every use case's effective policy for ``company``."""
        return {name: self.policy(name, company) for name in USE_CASES}
