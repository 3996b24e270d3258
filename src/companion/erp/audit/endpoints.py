"""HTTP endpoints of the audit domain (tenant-scoped, permission-checked)."""

from fastapi import APIRouter

router = APIRouter()
