"""Imports every table so that ``Base.metadata`` is complete (Alembic, tests)."""

from companion.alerts.models import Alert
from companion.assistant.actions.models import AiAction, AiActionSetting
from companion.assistant.learning.models import (
    Dataset,
    FinetuneRun,
    MessageFeedback,
    NluModel,
    TelemetryEvent,
    TrainingExample,
)
from companion.assistant.models import Conversation, Message
from companion.audit.models import AuditEntry, AuditHead
from companion.auth.models import ApiKey, User
from companion.demo.models import DemoAnomaly
from companion.erp.invoicing.models import Invoice, InvoiceLine, SalesMonth
from companion.erp.items.models import Item, Warehouse
from companion.erp.ledger.models import Account, BankAccount, JournalLine, JournalVoucher
from companion.erp.numbering.models import DocumentSequence
from companion.erp.parties.models import Customer, Supplier
from companion.erp.payments.models import Payment, PaymentAllocation
from companion.erp.purchasing.models import (
    ApprovalLevel,
    ApprovalTask,
    PurchaseOrder,
    PurchaseOrderLine,
)
from companion.erp.sales.models import SalesOrder, SalesOrderLine
from companion.erp.stock.models import StockLevel, StockMove
from companion.governance.memory.models import GlobalMemory, Memory, MemoryPolicy, PurgeReceipt
from companion.governance.usage.models import UsageCounter, UsageEvent
from companion.jobs.imports.models import DataImport, DataImportEvent
from companion.jobs.models import Job, JobLease
from companion.kit.db import Base
from companion.knowledge.models import KnowledgeChunk, KnowledgeDocument
from companion.tenancy.models import Company, Membership

__all__ = [
    "Dataset",
    "FinetuneRun",
    "MessageFeedback",
    "NluModel",
    "TelemetryEvent",
    "TrainingExample",
    "Account",
    "AiAction",
    "AiActionSetting",
    "Alert",
    "ApiKey",
    "ApprovalLevel",
    "ApprovalTask",
    "AuditEntry",
    "AuditHead",
    "BankAccount",
    "DemoAnomaly",
    "Base",
    "User",
    "Company",
    "Conversation",
    "Customer",
    "DataImport",
    "DataImportEvent",
    "DocumentSequence",
    "GlobalMemory",
    "Invoice",
    "InvoiceLine",
    "SalesMonth",
    "Item",
    "Job",
    "JobLease",
    "JournalLine",
    "JournalVoucher",
    "KnowledgeChunk",
    "KnowledgeDocument",
    "Memory",
    "MemoryPolicy",
    "Membership",
    "Message",
    "Payment",
    "PaymentAllocation",
    "PurgeReceipt",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "SalesOrder",
    "SalesOrderLine",
    "StockLevel",
    "StockMove",
    "Supplier",
    "UsageCounter",
    "UsageEvent",
    "Warehouse",
]
