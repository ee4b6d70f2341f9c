"""``avellino money`` and ``avellino supply``: follow the money and the boat-equipment supply chain.

Workspace commands read the store's statements once (``ledger.from_store``: payments over resolved entities,
the network's canonical map and who is protected). ``money amlsim`` reads an AMLSim export instead, with no
workspace, and scores the detectors against its labels. Every list leaves through the protection rules:
victims, witnesses, informants and migrant pilots are never collectors, organisers, asset holders or buyers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from avellino.commands import WorkspaceOpt, err, out

if TYPE_CHECKING:
    from avellino.store.base import Store
    from avellino.trace.ledger import Ledger

money_app = typer.Typer(
    help="Follow the money: fee collectors, fan-in/out, pass-through, layering, cycles, structuring, "
    "time-respecting paths from migrants' payments, asset candidates.",
    no_args_is_help=True,
)
supply_app = typer.Typer(
    help="The boat-equipment supply chain: suspicious buyers of hulls, engines and kit, with their features.",
    no_args_is_help=True,
)
JsonOpt = typer.Option(False, "--json", help="Print JSON instead of a table.")
TopOpt = typer.Option(20, "--top", help="How many rows to show.")
PurposeOpt = typer.Option(
    "analysis", "--purpose", envvar="AVELLINO_PURPOSE", help="Why you read it (recorded in the audit log)."
)


@contextmanager
def _reading(workspace: Path | None) -> Iterator[tuple[Store, Ledger]]:
    """The workspace's store (open read-only, kept open so the command can write its audit entry before it
    prints anything) and its ledger."""
    from avellino.errors import AvellinoError
    from avellino.store import open_store
    from avellino.trace.ledger import from_store

    with open_store(workspace, read_only=True) as store:
        with err.status("Reading payments from the store..."):
            ledger = from_store(store)
        if ledger.graph is None or not (ledger.graph.nodes["kind"] == "party").any():
            raise AvellinoError(
                f"The workspace {workspace or 'workspace'} holds no persons or organisations yet: "
                "ingest partner files first (avellino ingest --manifest ...)."
            )
        yield store, ledger


def _audit(store: Store, purpose: str, action: str, ids: Iterable[str], **counts: int) -> None:
    """One audit entry for what the command is about to show (the ids it names): written before the output,
    so no entry means no output (share/audit.py)."""
    from avellino.share import audit

    touched = audit.Touched(counts={k: int(v) for k, v in counts.items()})
    audit.record(store, purpose=purpose, action=action, touched=touched.update(ids))


def _findings_table(shown: list[Any], labels: dict[str, str], top: int) -> Table:
    table = Table(title="Money findings (evidence: transactions; markings of the facts they rest on)")
    for col in ("pattern", "subject", "role", "note", "tx", "amount", "period", "flagged payers", "markings"):
        table.add_column(col)
    for f in shown[:top]:
        table.add_row(
            f.pattern, labels.get(f.subject, f.subject), f.role, f.note, str(len(f.transactions)),
            f"{f.amount:,.0f}", f"{f.first} .. {f.last}", str(len(f.flagged_payers)), "; ".join(f.markings[:3]),
        )  # fmt: skip
    return table


@money_app.command()
def flows(
    workspace: Path | None = WorkspaceOpt,
    pattern: list[str] = typer.Option([], "--pattern", "-p", help="Only these patterns (repeatable)."),
    threshold: float = typer.Option(10_000.0, "--threshold", help="Reporting threshold for structuring."),
    top: int = TopOpt,
    as_json: bool = JsonOpt,
    purpose: str = PurposeOpt,
) -> None:
    """Find money patterns in the workspace's payments, each with its transactions and markings.

    Patterns: fee_collection (paid by 3+ distinct migrants), fan_in / fan_out (5+ counterparties in 30 days),
    pass_through (80-105 % passed on within 3 days, 3+ times), layering (3+ such steps through distinct
    accounts), cycle (a layering chain back to its start), structuring (3+ amounts in 30 days just under the
    threshold), hawala_settlement (matched opposite flows between two accounts within 90 days; left out when
    both are recorded in one country), cash_courier (cash received and 80-105 % paid on in cash within 14 days,
    2+ times). A finding that
    would accuse a protected person is withheld and listed as a safeguarding flag; migrants appear only as
    flagged payers.

    Examples:

      avellino money flows --workspace ops/channel

      avellino money flows --workspace ops/channel --pattern fee_collection --json
    """
    from avellino.trace import follow, patterns
    from avellino.trace.findings import release

    chosen = tuple(pattern) or (*patterns.PATTERNS, "fee_collection")
    unknown = set(chosen) - {*patterns.PATTERNS, "fee_collection"}
    if unknown:
        raise typer.BadParameter(
            f"unknown pattern(s) {sorted(unknown)}; known: {[*patterns.PATTERNS, 'fee_collection']}"
        )
    with _reading(workspace) as (store, ledger):
        found = patterns.detect(
            ledger.tx, patterns.Rules(threshold=threshold), chosen, ledger.countries, ledger.travels
        )
        if "fee_collection" in chosen:
            found += follow.fee_collectors(ledger)
        rel = release(found, ledger.protection)
        listed = rel.shown if as_json else rel.shown[:top]
        _audit(store, purpose, "money flows", (a for f in listed for a in f.accused), withheld=len(rel.withheld))
    if as_json:
        print(json.dumps({"findings": [f.to_json(ledger.labels) for f in rel.shown], "safeguarding": rel.withheld}))
        return
    out.print(_findings_table(rel.shown, ledger.labels, top))
    out.print(f"{len(rel.shown)} findings over {len(ledger)} payments; {len(rel.withheld)} withheld (protected).")


@money_app.command()
def trace(
    workspace: Path | None = WorkspaceOpt, top: int = TopOpt, as_json: bool = JsonOpt, purpose: str = PurposeOpt
) -> None:
    """Follow migrants' payments forward in time: who their money reaches, in how many hops, with a path.

    Money moves along a payment only if it is made on or after the day the money reached the payer. People
    are ranked by how many migrants' money reaches them; protected people are never ranked.

    Example:

      avellino money trace --workspace ops/channel --top 10
    """
    from avellino.trace.follow import trace as follow_money

    with _reading(workspace) as (store, ledger):
        reached = follow_money(ledger)
        _audit(store, purpose, "money trace", (r.node for r in reached[:top]))
    if as_json:
        print(json.dumps([r.to_json(ledger.labels) for r in reached[:top]]))
        return
    table = Table(title="Where migrants' money goes (time-respecting paths)")
    for col in ("person", "migrants", "hops", "paid in", "example path (tx)"):
        table.add_column(col)
    for r in reached[:top]:
        table.add_row(ledger.label(r.node), str(r.migrants), str(r.hops), f"{r.amount_in:,.0f}", " > ".join(r.path))
    out.print(table)


@money_app.command()
def assets(
    workspace: Path | None = WorkspaceOpt, top: int = TopOpt, as_json: bool = JsonOpt, purpose: str = PurposeOpt
) -> None:
    """Rank accounts, vehicles, vessels and businesses of the people the money leads to, for seizure.

    Score: the migrants whose money reaches each holder (plus those who paid them directly). Never an asset
    held by a victim, witness, informant or migrant pilot.

    Example:

      avellino money assets --workspace ops/channel --json
    """
    from avellino.trace.assets import candidates
    from avellino.trace.follow import fee_collectors
    from avellino.trace.follow import trace as follow_money

    with _reading(workspace) as (store, ledger):
        assert ledger.statements is not None
        found = candidates(ledger, ledger.statements, follow_money(ledger), fee_collectors(ledger))
        _audit(store, purpose, "money assets", (x for a in found[:top] for x in (a.asset, *a.holders)))
    if as_json:
        print(json.dumps([a.to_json(ledger.labels) for a in found[:top]]))
        return
    table = Table(title="Asset candidates (by the money behind their holders)")
    for col in ("asset", "kind", "score", "holders", "link", "evidence tx"):
        table.add_column(col)
    for a in found[:top]:
        holders = ", ".join(ledger.label(h) for h in a.holders)
        table.add_row(a.label, a.schema, f"{a.score:g}", holders, "; ".join(a.links), str(len(a.evidence)))
    out.print(table)


@money_app.command()
def amlsim(
    folder: Path = typer.Argument(..., help="AMLSim export folder (transactions.csv, alert_*.csv).", file_okay=False),
    as_json: bool = JsonOpt,
) -> None:
    """Run the detectors on an AMLSim export (no workspace) and score them against its alerts.

    Precision against the accounts of any alert, recall against the alerts of the pattern's own typology
    (null when the export has none); the thresholds are the fixed rules, not tuned on AMLSim.

    Example:

      avellino money amlsim ../shared/data/aml/amlsim_exports_v2 --json
    """
    from avellino.trace import amlsim as loader
    from avellino.trace import evaluate, patterns

    ledger = loader.load(folder)
    found = patterns.detect(ledger.tx, countries=ledger.countries)
    scored = evaluate.score_amlsim(ledger.tx, found, loader.labels(folder), patterns.PATTERNS)
    if as_json:
        print(json.dumps(scored))
        return
    table = Table(title=f"Detectors on {folder.name} ({len(ledger)} transactions)")
    for col in ("pattern", "findings", "accounts P", "accounts R", "tx P", "tx R"):
        table.add_column(col)
    for p in patterns.PATTERNS:
        s = scored[p]
        table.add_row(
            p, str(s["findings"]), _f(s["accounts"]["precision"]), _f(s["accounts"]["recall"]),
            _f(s["transactions"]["precision"]), _f(s["transactions"]["recall"]),
        )  # fmt: skip
    out.print(table)
    rec = scored["alerts_recovered"]
    out.print(f"Labelled alerts whose hub a finding of their typology names: {rec['recovered']} of {rec['alerts']}")


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


@supply_app.command()
def buyers(
    workspace: Path | None = WorkspaceOpt, top: int = TopOpt, as_json: bool = JsonOpt, purpose: str = PurposeOpt
) -> None:
    """Score every buyer of boats, engines and kit with documented features (see docs/trace.md).

    linked to the network (3), hawala (2), boat kit, bulk hulls/engines, cash, delivery at a departure place,
    repeat buying, buying within 14 days before a crossing (1 each): their sum is `points`. The ranking
    `score` weighs each sign by how rare it is among this workspace's buyers (a sign nearly every buyer shows
    says little). Protected people are never listed.

    Example:

      avellino supply buyers --workspace ops/channel --top 20
    """
    from avellino.trace.buyers import score

    with _reading(workspace) as (store, ledger):
        assert ledger.graph is not None and ledger.statements is not None
        ranked = score(ledger.graph, ledger.statements)
        _audit(store, purpose, "supply buyers", (b.buyer for b in ranked[:top]))
    if as_json:
        print(json.dumps([b.to_json() for b in ranked[:top]]))
        return
    table = Table(title="Suspicious buyers (transparent additive score)")
    for col in ("buyer", "score", "points", "features", "purchases"):
        table.add_column(col)
    for b in ranked[:top]:
        feats = ", ".join(k for k, v in b.features.items() if v)
        table.add_row(b.label, f"{b.score:.2f}", str(b.points), feats, str(len(b.purchases)))
    out.print(table)


@supply_app.command()
def sellers(
    workspace: Path | None = WorkspaceOpt, top: int = TopOpt, as_json: bool = JsonOpt, purpose: str = PurposeOpt
) -> None:
    """Profile every seller: buyers, purchases, items, and the share of its sales to suspicious buyers
    (score 6 or more in `supply buyers`), most exposed first: who to warn first.

    Example:

      avellino supply sellers --workspace ops/channel --top 10
    """
    from avellino.trace.buyers import score, suppliers

    with _reading(workspace) as (store, ledger):
        assert ledger.graph is not None and ledger.statements is not None
        profiles = suppliers(ledger.graph, ledger.statements, score(ledger.graph, ledger.statements))
        _audit(store, purpose, "supply sellers", (p.seller for p in profiles[:top]))
    if as_json:
        print(json.dumps([p.to_json() for p in profiles[:top]]))
        return
    table = Table(title="Supplier profiles (share of sales to suspicious buyers)")
    for col in ("seller", "buyers", "purchases", "suspicious buyers", "share", "items"):
        table.add_column(col)
    for p in profiles[:top]:
        items = ", ".join(f"{k} {v:g}" for k, v in p.items.items())
        table.add_row(p.label, str(p.buyers), str(p.purchases), str(p.suspicious_buyers),
                      f"{p.suspicious_share:.0%}", items)  # fmt: skip
    out.print(table)


@supply_app.command("legit-sample")
def legit_sample(
    folder: Path = typer.Argument(..., help="A sample folder written by `avellino sample`.", file_okay=False),
) -> None:
    """Add legitimate buyers (fishermen, clubs, dealers, rentals), their payments and truth/buyers.csv to a
    sample operation; ingest the two new files listed in its manifest.json like the others.

    Example:

      avellino supply legit-sample op
    """
    from avellino.errors import ConfigError
    from avellino.sample.legit import add_legitimate

    manifest = folder / "manifest.json"
    if not manifest.exists():
        raise ConfigError(f"{manifest}: not found; make the sample first (avellino sample --out {folder})")
    data = json.loads(manifest.read_text())
    counts = add_legitimate(folder, int(data["seed"]), int(data["scale"]))
    out.print(f"Added {counts['buyers']} legitimate buyers, {counts['sales']} sales, {counts['payments']} payments.")


@supply_app.command()
def warn(
    seller: str = typer.Argument(..., help="The seller's id (the `seller` column of `supply sellers --json`)."),
    workspace: Path | None = WorkspaceOpt,
    out_dir: Path = typer.Option(Path("."), "--out", help="Folder for the notice file.", file_okay=False),
    agency: str = typer.Option(..., "--agency", help="Your agency (this node's name, if it has one)."),
    contact: str = typer.Option(..., "--contact", help="Where the supplier reports suspicious sales."),
    community: bool = typer.Option(False, "--community", help="The supplier is in your TLP:GREEN community."),
    purpose: str = PurposeOpt,
) -> None:
    """Write a warning for one supplier: the signs of a suspicious purchase, and its own sales to suspicious
    buyers, as far as the sharing policy lets each fact go to a recipient outside law enforcement.

    The notice never names a buyer and never holds a purchase about or naming a victim, witness or informant;
    what the screen withheld is counted on screen. The audit entry is written before the file.

    Example:

      avellino supply warn cl-1a2b3c --workspace ops/channel --agency FR-OCRIEST
        --contact ocriest@example.org --out notices
    """
    from avellino.content.referrals import sender_node
    from avellino.trace import notices
    from avellino.trace.buyers import score

    with _reading(workspace) as (store, ledger):
        assert ledger.graph is not None and ledger.statements is not None
        ranked = score(ledger.graph, ledger.statements)
        node = sender_node(workspace, agency)  # the workspace's node, or one named after the agency
        warning = notices.build(store, ledger.graph, ledger.statements, ranked, seller, agency, contact, purpose,
                                community=community, node=node)  # fmt: skip
        path = notices.write(store, warning, out_dir, purpose)
    sales = len(warning.notice["sales"])
    out.print(f"Wrote {path}: {sales} sales to suspicious buyers, TLP:{warning.notice['tlp']}.")
    for reason, n in sorted(warning.withheld.items()):
        out.print(f"[yellow]Withheld {n} statements: {reason}[/]")
