"""Ledger reads for outreach: what a customer owes and has paid, and late purchase orders."""
