"""Online adverts for smuggling, fake jobs and forged documents: ingest posts, classify them, extract selectors,
cluster campaigns (docs/content.md)."""
