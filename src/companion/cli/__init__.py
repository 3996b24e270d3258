"""The ``companion`` command line (typer)."""
