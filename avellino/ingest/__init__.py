"""Ingest: partner exports (CSV, XLSX, JSON/JSONL, FtM JSONL) -> marked statements, one atomic batch per file."""
