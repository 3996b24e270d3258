"""Action handlers: each module registers its handlers with ``register_action`` on import."""
