"""Request and response shapes of the learning loop's API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from companion.assistant.nlu.understanding import ACTIONS, DATA_QUERIES, DIALOGUE
from companion.kit.fields import Id, Text

INTENTS = frozenset(DATA_QUERIES | ACTIONS | DIALOGUE)
_MAX_ENTITIES = 20


def _known_intent(value: str | None) -> str | None:
    if value is not None and value not in INTENTS:
        raise ValueError(f"unknown intent {value!r}; it must be one of the contract's intents")
    return value


def _small_entities(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if len(value) > _MAX_ENTITIES:
        raise ValueError(f"at most {_MAX_ENTITIES} entities")
    for key, item in value.items():
        if not key or len(key) > 64:
            raise ValueError("entity names are 1 to 64 characters")
        if len(str(item)) > 500:
            raise ValueError(f"entity {key!r} is longer than 500 characters")
    return value


def _one_of_given(*names: str, non_empty: tuple[str, ...] = ()) -> dict[str, Any]:
    """JSON Schema for "at least one of ``names`` is given (not null; ``non_empty`` not {})"."""
    return {
        "anyOf": [
            {
                "required": [name],
                "properties": {
                    name: {"not": {"type": "null"}}
                    | ({"minProperties": 1} if name in non_empty else {})
                },
            }
            for name in names
        ]
    }


def _correction_schema(schema: dict[str, Any]) -> None:
    # The validators' rules, stated in the OpenAPI: a known intent, a few entities, one given.
    props = schema["properties"]
    for option in props["intent"].get("anyOf", []):
        if option.get("type") == "string":
            option["enum"] = sorted(INTENTS)
    for option in props["entities"].get("anyOf", []):
        if option.get("type") == "object":
            option["maxProperties"] = _MAX_ENTITIES
            option["propertyNames"] = {"minLength": 1, "maxLength": 64}
    schema.update(_one_of_given("intent", "answer", "entities", non_empty=("entities",)))


class Correction(BaseModel):
    """What the answer should have been: the right intent, answer, or entities."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_correction_schema)

    intent: str | None = Field(default=None, max_length=64)
    answer: Text | None = Field(default=None, min_length=1, max_length=4000)
    entities: dict[str, Any] | None = None

    _intent = field_validator("intent")(_known_intent)
    _entities = field_validator("entities")(_small_entities)

    @model_validator(mode="after")
    def _something(self) -> Correction:
        if self.intent is None and self.answer is None and not self.entities:
            raise ValueError("a correction names the right intent, answer or entities")
        return self


class FeedbackIn(BaseModel):
    """Thumbs up/down, a 1-5 score and an optional correction on one assistant answer."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=_one_of_given("rating", "score", "correction")
    )

    rating: Literal["up", "down"] | None = None
    score: int | None = Field(default=None, ge=1, le=5)
    comment: Text | None = Field(default=None, max_length=2000)
    correction: Correction | None = None

    @model_validator(mode="after")
    def _something(self) -> FeedbackIn:
        if self.rating is None and self.score is None and self.correction is None:
            raise ValueError("feedback needs a rating, a score or a correction")
        return self


class FeedbackOut(BaseModel):
    message_id: str
    rating: Literal["up", "down"] | None
    comment: str | None
    score: int | None = None
    correction: dict[str, Any] | None = None
    example_id: int | None = None


class ExampleOut(BaseModel):
    id: int
    message_id: str | None
    text: str
    predicted_intent: str | None
    intent: str | None
    entities: dict[str, Any] | None
    answer: str | None
    kinds: list[str]
    status: str
    reviewer_id: int | None
    reviewer_notes: str | None
    reviewed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ReviewIn(BaseModel):
    """A reviewer's decision on one example; edits apply before the decision."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject", "edit"]
    notes: Text | None = Field(default=None, max_length=2000)
    intent: str | None = Field(default=None, max_length=64)
    answer: Text | None = Field(default=None, max_length=4000)
    entities: dict[str, Any] | None = None

    _intent = field_validator("intent")(_known_intent)
    _entities = field_validator("entities")(_small_entities)


class BulkReviewIn(BaseModel):
    """One decision for many examples (edits are one at a time)."""

    model_config = ConfigDict(extra="forbid")

    ids: list[Id] = Field(min_length=1, max_length=500)
    decision: Literal["approve", "reject"]
    notes: Text | None = Field(default=None, max_length=2000)


class BulkReviewOut(BaseModel):
    decision: str
    count: int
    ids: list[int]


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=200, ge=1, le=5000)


class DatasetOut(BaseModel):
    id: int
    version: int
    created_at: dt.datetime
    count: int
    sha256: str
    manifest: dict[str, Any]


class DatasetFiles(DatasetOut):
    chat_jsonl: str
    rasa_yaml: str


class ModelOut(BaseModel):
    version: int
    status: str
    created_at: dt.datetime
    promoted_at: dt.datetime | None
    examples: int
    parameters: dict[str, Any]
    gate: dict[str, Any]
    train_seconds: float


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # 0 is the shipped model (no company examples).
    version: int = Field(ge=0, le=2_147_483_647)


class FinetuneIn(BaseModel):
    """A LoRA fine-tune made here or elsewhere, on one of the company's dataset versions."""

    model_config = ConfigDict(extra="forbid")

    dataset_version: int = Field(ge=1, le=2_147_483_647)
    base_model: Text = Field(min_length=1, max_length=200)
    adapter: Text = Field(min_length=1, max_length=300)
    status: Literal["planned", "running", "done", "failed"] = "done"
    parameters: dict[str, Any] = Field(default_factory=dict)
    evaluation: dict[str, Any] = Field(default_factory=dict)
    notes: Text | None = Field(default=None, max_length=4000)

    @field_validator("parameters", "evaluation")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(value) > 100 or len(str(value)) > 20_000:
            raise ValueError("at most 100 keys and 20,000 characters")
        return value


class FinetuneOut(BaseModel):
    id: int
    dataset_id: int
    dataset_version: int
    base_model: str
    adapter: str
    status: str
    parameters: dict[str, Any]
    evaluation: dict[str, Any]
    notes: str | None
    created_at: dt.datetime


class EventOut(BaseModel):
    id: int
    kind: str
    at: dt.datetime
    user_id: int | None
    duration_ms: float | None
    message_id: str | None
    data: dict[str, Any]
