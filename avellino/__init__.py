"""Avellino: an open-source intelligence platform against migrant smuggling.

Data flows one way: ingest -> store -> resolve -> analyse -> act -> share.
"""

__version__ = "0.1.0"
