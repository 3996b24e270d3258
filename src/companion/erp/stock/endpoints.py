"""HTTP endpoints of the stock domain (tenant-scoped, permission-checked)."""

from fastapi import APIRouter

router = APIRouter()
