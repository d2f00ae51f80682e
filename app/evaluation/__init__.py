"""Scripted evaluation of answer accuracy: ``ragqa eval``."""
