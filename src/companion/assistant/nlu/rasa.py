"""Rasa 3.x NLU training data: ``nlu.yml`` (intents, inline entities, synonyms, lookups, regexes)
and ``domain.yml`` (intents, entities), read into one ``TrainingData``.

Teams coming from Rasa can point the loader at their own files or folders; anything outside
the NLU part (stories, rules, responses, slots) is ignored, malformed NLU data is an error
that names the file and the item.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from companion.errors import ValidationFailed

# [text](entity) | [text](entity:value) | [text]{"entity": ..} | [text][{"entity": ..}, ..]
_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)"
    r"|(?P<dict>\{[^}]+?\})"
    r"|\[(?P<dicts>\{.*?\}(?:\s*,\s*\{.*?\})*)\])"
)


class TrainingDataError(ValidationFailed):
    """Training data that cannot be read as Rasa NLU data."""

    code = "invalid_training_data"


@dataclass(frozen=True)
class EntitySpan:
    """An annotated entity: character offsets into the plain example text."""

    start: int
    end: int
    text: str
    entity: str
    value: str
    role: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Example:
    """One training utterance, annotations removed, with its intent and entity spans."""

    text: str
    intent: str
    entities: tuple[EntitySpan, ...] = ()


@dataclass
class TrainingData:
    """Everything the loader read; merged across files."""

    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)
    lookups: dict[str, list[str]] = field(default_factory=dict)
    regexes: dict[str, list[str]] = field(default_factory=dict)
    domain_intents: list[str] = field(default_factory=list)
    domain_entities: list[str] = field(default_factory=list)

    @property
    def intents(self) -> list[str]:
        """Intents that have examples, sorted."""
        return sorted({e.intent for e in self.examples})

    def examples_of(self, intent: str) -> list[Example]:
        """The examples of one intent, in file order."""
        return [e for e in self.examples if e.intent == intent]

    def merge(self, other: TrainingData) -> TrainingData:
        """A new TrainingData holding both (the other's synonyms win on a clash)."""
        lookups = {k: list(v) for k, v in self.lookups.items()}
        for name, items in other.lookups.items():
            lookups.setdefault(name, []).extend(items)
        regexes = {k: list(v) for k, v in self.regexes.items()}
        for name, items in other.regexes.items():
            regexes.setdefault(name, []).extend(items)
        return TrainingData(
            examples=[*self.examples, *other.examples],
            synonyms={**self.synonyms, **other.synonyms},
            lookups=lookups,
            regexes=regexes,
            domain_intents=_unique([*self.domain_intents, *other.domain_intents]),
            domain_entities=_unique([*self.domain_entities, *other.domain_entities]),
        )

    def fingerprint(self) -> str:
        """sha256 of everything that affects training, stable across runs and file order."""
        payload = {
            "examples": sorted([e.intent, e.text] for e in self.examples),
            "synonyms": sorted(self.synonyms.items()),
            "lookups": sorted((k, sorted(v)) for k, v in self.lookups.items()),
        }
        blob = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def load_rasa_nlu(paths: Path | str | Iterable[Path | str]) -> TrainingData:
    """Read Rasa YAML files or folders (``*.yml``/``*.yaml``, recursively) into TrainingData."""
    if isinstance(paths, str | Path):
        paths = [paths]
    data = TrainingData()
    seen_any = False
    for path in _expand(paths):
        seen_any = True
        data = data.merge(_load_file(path))
    if not seen_any:
        raise TrainingDataError(
            "no Rasa YAML files found", details={"paths": [str(p) for p in paths]}
        )
    return data


def parse_rasa_nlu_text(text: str, *, source: str = "<string>") -> TrainingData:
    """Read one Rasa YAML document given as text."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TrainingDataError(
            f"{source}: not valid YAML: {exc}", details={"file": source}
        ) from exc
    if document is None:
        return TrainingData()
    if not isinstance(document, Mapping):
        raise TrainingDataError(
            f"{source}: expected a mapping at the top", details={"file": source}
        )
    data = TrainingData()
    if "nlu" in document:
        data = _read_nlu(document["nlu"], source)
    if "intents" in document or "entities" in document:
        data.domain_intents = _names(document.get("intents") or [], source, "intents")
        data.domain_entities = _names(document.get("entities") or [], source, "entities")
    return data


def parse_annotated(line: str, intent: str) -> Example:
    """One example line: inline annotations removed, their spans kept."""
    plain: list[str] = []
    spans: list[EntitySpan] = []
    cursor = 0
    length = 0
    for match in _ANNOTATION.finditer(line):
        before = line[cursor : match.start()]
        plain.append(before)
        length += len(before)
        text = match.group("text")
        start, end = length, length + len(text)
        for spec in _annotation_specs(match):
            entity = str(spec.get("entity", "")).strip()
            if not entity:
                raise TrainingDataError(
                    f"annotation without an entity name in {line!r}", details={"example": line}
                )
            value = spec.get("value")
            spans.append(
                EntitySpan(
                    start=start,
                    end=end,
                    text=text,
                    entity=entity,
                    value=str(value) if value is not None else text,
                    role=_opt_str(spec.get("role")),
                    group=_opt_str(spec.get("group")),
                )
            )
        plain.append(text)
        length = end
        cursor = match.end()
    plain.append(line[cursor:])
    return Example(text="".join(plain).strip(), intent=intent, entities=tuple(spans))


def _annotation_specs(match: re.Match[str]) -> list[dict[str, Any]]:
    if match.group("entity") is not None:
        spec: dict[str, Any] = {"entity": match.group("entity")}
        if match.group("value") is not None:
            spec["value"] = match.group("value")
        return [spec]
    raw = match.group("dict") or f"[{match.group('dicts')}]"
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise TrainingDataError(
            f"entity annotation {raw!r} is not valid JSON", details={"annotation": raw}
        ) from exc
    specs = parsed if isinstance(parsed, list) else [parsed]
    if not all(isinstance(s, dict) for s in specs):
        raise TrainingDataError(
            f"entity annotation {raw!r} must be an object", details={"annotation": raw}
        )
    return specs


def _read_nlu(items: Any, source: str) -> TrainingData:
    if not isinstance(items, list):
        raise TrainingDataError(f"{source}: 'nlu' must be a list", details={"file": source})
    data = TrainingData()
    for index, item in enumerate(items):
        where = f"{source}: nlu item {index + 1}"
        if not isinstance(item, Mapping):
            raise TrainingDataError(f"{where} is not a mapping", details={"file": source})
        lines = _example_lines(item.get("examples"), where)
        if "intent" in item:
            intent = str(item["intent"]).strip()
            for line in lines:
                try:
                    example = parse_annotated(line, intent)
                except TrainingDataError as exc:
                    raise TrainingDataError(f"{where}: {exc.message}", details=exc.details) from exc
                if example.text:
                    data.examples.append(example)
                    for span in example.entities:
                        if span.value != span.text:
                            data.synonyms[span.text.lower()] = span.value
        elif "synonym" in item:
            canonical = str(item["synonym"])
            for line in lines:
                data.synonyms[line.lower()] = canonical
        elif "lookup" in item:
            data.lookups.setdefault(str(item["lookup"]), []).extend(lines)
        elif "regex" in item:
            name = str(item["regex"])
            for pattern in lines:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise TrainingDataError(
                        f"{where}: regex {pattern!r} does not compile: {exc}",
                        details={"file": source, "regex": name},
                    ) from exc
            data.regexes.setdefault(name, []).extend(lines)
        else:
            raise TrainingDataError(
                f"{where} needs one of intent, synonym, lookup or regex",
                details={"file": source, "keys": sorted(map(str, item))},
            )
    return data


def _example_lines(examples: Any, where: str) -> list[str]:
    if examples is None:
        return []
    if isinstance(examples, str):
        lines = []
        for raw in examples.splitlines():
            stripped = raw.strip()
            if not stripped:
                continue
            if not stripped.startswith("-"):
                raise TrainingDataError(
                    f"{where}: example line {stripped!r} must start with '- '", details={}
                )
            lines.append(stripped[1:].strip())
        return lines
    if isinstance(examples, list):
        # Rasa's long form: a list of {text: ..., metadata: ...}.
        lines = []
        for entry in examples:
            text = entry.get("text") if isinstance(entry, Mapping) else entry
            if not isinstance(text, str):
                raise TrainingDataError(f"{where}: example {entry!r} has no text", details={})
            lines.extend(t.strip() for t in text.splitlines() if t.strip())
        return lines
    raise TrainingDataError(f"{where}: examples must be a block string or a list", details={})


def _names(entries: Any, source: str, key: str) -> list[str]:
    if not isinstance(entries, list):
        raise TrainingDataError(f"{source}: '{key}' must be a list", details={"file": source})
    names = []
    for entry in entries:
        if isinstance(entry, str):
            names.append(entry)
        elif isinstance(entry, Mapping) and len(entry) == 1:
            names.append(str(next(iter(entry))))
        else:
            raise TrainingDataError(
                f"{source}: cannot read {key} entry {entry!r}", details={"file": source}
            )
    return names


def _expand(paths: Iterable[Path | str]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml")))
        elif path.is_file():
            out.append(path)
        else:
            raise TrainingDataError(f"{path} does not exist", details={"path": str(path)})
    return out


def _load_file(path: Path) -> TrainingData:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainingDataError(f"cannot read {path}: {exc}", details={"file": str(path)}) from exc
    return parse_rasa_nlu_text(text, source=str(path))


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
