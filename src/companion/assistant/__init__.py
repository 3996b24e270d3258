"""The assistant: one chat turn is context -> understand (nlu) -> skill -> answer -> record."""
