"""Shared data of the NLU tests, unit and integration (imported by name: the test folders are
not packages)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from companion.assistant.nlu import MasterData

TODAY = dt.date(2026, 11, 23)
REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"

TINY_NLU = """
version: "3.1"
nlu:
- intent: cash_balance
  examples: |
    - what is our cash balance
    - how much cash do we have in the bank
    - bank balance please
    - cash in [City Bank](bank_account)
    - show cash position
    - how much money is in the bank
- intent: overdue_invoices
  examples: |
    - which invoices are [overdue](status)
    - list [past due]{"entity": "status", "value": "overdue"} invoices
    - invoices not paid on time
    - overdue invoices for [Rahim Traders](customer)
    - show late invoices
    - unpaid invoices past due date
- intent: approve_purchase_order
  examples: |
    - approve [PO-2026-0042](document_ref)
    - approve purchase order [po 42](document_ref)
    - please approve the purchase order
    - sign off [PO-2026-0017](document_ref)
    - give approval to purchase order [17](document_ref)
    - approve it, [PO-2026-0005](document_ref)
- intent: greet
  examples: |
    - hi
    - hello
    - good morning
    - hey there
    - hello companion
    - hiya
- intent: out_of_scope
  examples: |
    - what is the weather today
    - tell me a joke
    - who won the football match
    - recipe for chocolate cake
    - play some music
    - book a flight to london
- synonym: overdue
  examples: |
    - past due
    - late
"""

MASTER = MasterData.build(
    customers=[(1, "Rahim Traders Ltd", "CUST-0001"), (2, "Bengal Foods", "CUST-0002")],
    suppliers=[(11, "Karim Steel", "SUP-0001"), (12, "Padma Cement", "SUP-0002")],
    products=[(21, "Cement", "ITEM-0001"), (22, "LED Bulb", "ITEM-0002")],
    warehouses=[(31, "Dhaka Warehouse", "WH-01")],
    bank_accounts=[(41, "City Bank", "BA-01")],
)
