"""HTTP endpoints of the ledger domain (tenant-scoped, permission-checked)."""

from fastapi import APIRouter

router = APIRouter()
