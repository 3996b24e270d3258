"""HTTP endpoints of the purchasing domain (tenant-scoped, permission-checked)."""

from fastapi import APIRouter

router = APIRouter()
