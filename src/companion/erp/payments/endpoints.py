"""HTTP endpoints of the payments domain (tenant-scoped, permission-checked)."""

from fastapi import APIRouter

router = APIRouter()
