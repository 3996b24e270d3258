"""Memory in chat: reading "remember ..." requests, recalling what was said, purge stores."""
