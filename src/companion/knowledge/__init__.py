"""The knowledge base: documents, ingestion, chunking, hybrid retrieval and grounded answers."""
