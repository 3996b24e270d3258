"""``companion demo``: build the deterministic demo and start the server."""
