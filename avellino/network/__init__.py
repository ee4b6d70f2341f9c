"""Avellino network area."""
