"""Thin HTTP layers: one module per blueprint; what they share lives in common.py and below."""
