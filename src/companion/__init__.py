"""Companion: a self-hosted AI companion for a multi-company ERP."""

__version__ = "0.1.0"
