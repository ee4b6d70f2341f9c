"""The pipeline behind the briefing, as one explicit sequence of the areas' public functions.

``run_pipeline`` is what ``avellino demo`` runs on a fresh workspace: ingest every partner file
(``ingest.run.ingest_files``), resolve (``resolve.store_io.run``: the one step that writes, canonical ids
included), then :func:`analyse`. ``analyse`` only reads, so ``avellino brief`` runs it on any workspace opened
read-only: the holdings, the stored resolution (``resolve.summary``), the network (``network.findings``), the
flows forecasts (``flows.findings``), the online adverts (``content.findings``) and the money and supply chain
(``trace.report``), each returned as a result
object that a pure renderer turns into a section (``report/briefing.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from avellino.report.holdings import Holdings, read_holdings

if TYPE_CHECKING:
    from avellino.content.findings import ContentFindings
    from avellino.flows.findings import FlowsFindings
    from avellino.ingest.run import IngestResult
    from avellino.network.findings import NetworkFindings
    from avellino.resolve.summary import ResolutionSummary
    from avellino.store.base import Store
    from avellino.trace.report import TraceFindings

Log = Callable[[str], None]


@dataclass
class Findings:
    """Everything the briefing shows, one result per area (None: nothing to show for that area).
    ``synthetic``: the workspace is a sample operation (a truth folder is known): every person is invented."""

    holdings: Holdings
    resolution: ResolutionSummary | None
    network: NetworkFindings | None
    flows: FlowsFindings
    synthetic: bool = False
    content: ContentFindings | None = None
    trace: TraceFindings | None = None


def _quiet(_message: str) -> None:
    return None


def ingest(store: Store, files: list[tuple[Path, Path]], log: Log = _quiet) -> list[IngestResult]:
    """Import every (file, mapping) pair, each as one atomic batch; the first rejected file stops the run."""
    from avellino.errors import InputRejected
    from avellino.ingest.run import ingest_files

    results = []
    for path, res in ingest_files(store, files, workers=2):
        if isinstance(res, InputRejected):
            raise res
        log(f"imported {path.name}: {res.rows:,} rows, {res.added:,} statements")
        results.append(res)
    return results


def analyse(
    store: Store, truth_dir: Path | None = None, shared_data: Path | None = None, log: Log = _quiet
) -> Findings:
    """Every area's findings, in pipeline order; reads the store and writes nothing."""
    from avellino.content.findings import content_findings
    from avellino.flows.findings import flows_findings
    from avellino.network.findings import network_findings
    from avellino.resolve.summary import read_resolution
    from avellino.trace.report import trace_findings

    log("holdings")
    holdings = read_holdings(store)
    log("resolution: reading the stored clusters")
    resolution = read_resolution(store, truth_dir)
    log("network: building the graph, roles and key players")
    network = network_findings(store, truth_dir)
    log("flows: forecasting")
    flows = flows_findings(store, shared_data)
    log("content: classifying adverts, campaigns, selectors, referrals")
    content = content_findings(store)
    log("money and supply chain: patterns, collectors, assets, buyers")
    trace = trace_findings(store)
    return Findings(holdings, resolution, network, flows, synthetic=truth_dir is not None, content=content,
                    trace=trace)  # fmt: skip


def run_pipeline(
    store: Store,
    files: list[tuple[Path, Path]],
    truth_dir: Path | None = None,
    shared_data: Path | None = None,
    log: Log = _quiet,
) -> Findings:
    """Ingest -> resolve -> analyse: the demo's whole pipeline on ``store``."""
    from avellino.resolve.store_io import run as resolve_run

    ingest(store, files, log)
    log("resolution: resolving persons and other entities across partners")
    resolve_run(store)
    return analyse(store, truth_dir, shared_data, log)
