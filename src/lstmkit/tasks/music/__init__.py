"""Polyphonic music: ``lstmkit train music`` and ``lstmkit compose``."""
