"""The demo companies' policy documents, shipped as Markdown inside the package.

Each company has the same five kinds of document with different rules and figures; each
document carries a phrase (``marker``) found nowhere in the other company's documents,
so an answer that quotes one tenant's policy to the other is easy to spot.
"""

from __future__ import annotations

from importlib import resources

from companion.demo.schemas import PolicyDocument

KINDS = ("travel", "expenses", "leave", "procurement", "credit-and-collections")

_DOCUMENTS: tuple[tuple[str, str, str, str], ...] = (
    ("acme", "travel", "Acme Trading travel policy", "Motijheel travel desk"),
    ("acme", "expenses", "Acme Trading expense approval policy", "green claim voucher (Form AE-7)"),
    ("acme", "leave", "Acme Trading leave policy", "Boishakhi bonus day"),
    ("acme", "procurement", "Acme Trading procurement policy", "Tejgaon purchase committee"),
    (
        "acme",
        "credit-and-collections",
        "Acme Trading credit and collections policy",
        "red-flag hold",
    ),
    ("globex", "travel", "Globex travel policy", "Lakeshore mileage rule"),
    ("globex", "expenses", "Globex expense approval policy", "Blue Heron expense portal"),
    ("globex", "leave", "Globex paid time off and leave policy", "Founders' Friday"),
    ("globex", "procurement", "Globex procurement policy", "Columbus sourcing board"),
    (
        "globex",
        "credit-and-collections",
        "Globex credit and collections policy",
        "Net 30 Plus program",
    ),
)


def policy_documents(company: str | None = None) -> list[PolicyDocument]:
    """The shipped documents, of one company (slug) or of both."""
    return [
        PolicyDocument(slug, kind, title, f"demo/documents/{slug}/{kind}.md", marker)
        for slug, kind, title, marker in _DOCUMENTS
        if company is None or slug == company
    ]


def read_document(document: PolicyDocument) -> str:
    """The Markdown text of a shipped document."""
    return resources.files("companion").joinpath(document.resource).read_text(encoding="utf-8")
