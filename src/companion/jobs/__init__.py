"""Background jobs: recorded in the database, run in-process after the request commits."""
