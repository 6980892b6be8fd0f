"""Runnable examples of the worker library (``python -m workers.examples.<name>``)."""
