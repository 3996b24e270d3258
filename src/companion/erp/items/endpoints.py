"""HTTP endpoints of the items domain (tenant-scoped, permission-checked)."""

from fastapi import APIRouter

router = APIRouter()
