"""Provider adapters behind the ``LLMProvider`` port (``base``)."""
