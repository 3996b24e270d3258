"""Models behind small ports: sentence embeddings now; chat models and providers later."""
