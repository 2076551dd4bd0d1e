"""Sequence to sequence with attention: ``lstmkit train seq2seq`` and ``lstmkit translate``."""
