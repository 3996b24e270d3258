"""Data imports: master data and opening balances from CSV/XLSX, validated, then committed."""
