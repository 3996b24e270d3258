"""HTTP endpoints of the sales domain (tenant-scoped, permission-checked)."""

from fastapi import APIRouter

router = APIRouter()
