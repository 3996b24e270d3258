"""The ``jobs`` table: one background task, its progress and its outcome."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from companion.kit.db import Base, UTCDateTime, utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATUSES = (QUEUED, RUNNING, DONE, FAILED)


def new_job_id() -> str:
    """A fresh job id (a UUID, so ids do not reveal how many jobs a company ran)."""
    return str(uuid.uuid4())


class Job(Base):
    __tablename__ = "jobs"
    # A periodic run's key (its job name and time slot): a second run of the same slot for
    # the same company is refused by the database, so a retried or doubled tick does nothing.
    __table_args__ = (UniqueConstraint("company_id", "run_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_job_id)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), index=True, nullable=False, default=QUEUED)
    progress: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    done_units: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total_units: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    run_key: Mapped[str | None] = mapped_column(String(160), nullable=True)


class JobLease(Base):
    """A deployment-wide lease: who runs the scheduler, until when (not a tenant table)."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200), nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acquired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
