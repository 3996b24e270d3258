"""Proactive alerts: explainable detectors, their delivery and the daily briefing."""
