"""Users, passwords, bearer tokens and API keys."""
