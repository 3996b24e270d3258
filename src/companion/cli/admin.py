"""``serve``, ``migrate``, ``users`` and ``audit`` commands."""
