"""Avellino resolve area."""
