"""The engine that runs the heavy steps: DuckDB in this process (the default) or Apache Spark (``spark.py``).

Only the computation moves; the results land in the same store tables either way, so every reader (CLI,
briefing, workbench) is unchanged.
"""
