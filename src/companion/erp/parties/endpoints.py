"""HTTP endpoints of the parties domain (tenant-scoped, permission-checked)."""

from fastapi import APIRouter

router = APIRouter()
