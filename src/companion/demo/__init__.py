"""The deterministic demo: two companies, a year of history, policy documents.

``companion.demo.service.build_demo`` builds it through the ERP services; everything it
decides comes from ``plan`` (pure, seeded), so the same "today" gives the same data.
"""
