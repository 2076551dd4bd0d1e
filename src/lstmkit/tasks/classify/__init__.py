"""Sequence classification: ``lstmkit train classify`` and ``lstmkit predict``."""
