"""HTTP endpoints of the invoicing domain (tenant-scoped, permission-checked)."""

from fastapi import APIRouter

router = APIRouter()
