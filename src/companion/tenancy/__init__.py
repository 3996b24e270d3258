"""Companies, memberships, the permission catalogue and the request context."""
