"""The system of record: one package per domain. Knows nothing about AI."""
