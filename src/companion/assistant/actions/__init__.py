"""Actions in chat: two-phase confirmation, executed exactly once."""
