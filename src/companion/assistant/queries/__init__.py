"""Data queries: one function per data-query intent, registered in ``registry``."""
