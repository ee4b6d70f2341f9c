"""Avellino flows area."""
