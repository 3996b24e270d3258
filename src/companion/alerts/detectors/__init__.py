"""The detectors: each module registers the detectors it defines (``base.register``)."""
