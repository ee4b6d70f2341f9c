"""``avellino jit``: joint investigation teams: create and sign the agreement, exchange it, see the case, leave or
end it (``share/jit.py``)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from avellino.commands import WorkspaceOpt, err, out
from avellino.errors import ConfigError
from avellino.share.cli import NodeDirOpt, _node

if TYPE_CHECKING:
    from avellino.share.jit_case import CaseView

jit_app = typer.Typer(
    help="Joint investigation teams: a signed agreement between members; facts shared inside stay inside.",
    no_args_is_help=True,
)


def _day(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{option} {text!r}: give a day as YYYY-MM-DD") from exc


def _copy(path: Path, output: Path | None) -> None:
    if output is not None:
        shutil.copyfile(path, output)
        err.print(f"agreement written to {output}: give it to the other members (avellino jit import)")


@jit_app.command("create")
def jit_create(
    name: str = typer.Argument(..., help="The JIT's name, e.g. JIT-CHANNEL."),
    members: str = typer.Option(..., "--members", help="Member nodes, comma separated (this node among them)."),
    until: str = typer.Option(..., "--until", help="Last day of the term, YYYY-MM-DD."),
    purpose: list[str] = typer.Option(..., "--purpose", help="A purpose members may share for (repeatable)."),
    h1_evidence: bool = typer.Option(False, "--h1-evidence", help="H1 facts may serve as evidence inside it."),
    on_end: str = typer.Option("delete", "--on-end", help="Contributions when access ends: return, keep, delete."),
    output: Path = typer.Option(None, "--out", "-o", help="Also write the agreement here, to send to members."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Write a JIT agreement signed by this node. It takes effect when every member has signed it.

    Example:  avellino jit create JIT-CHANNEL --members UK-NCA,FR-OCRIEST --until 2027-06-30
    --purpose investigation -o jit.json -w uk-ws
    """
    from avellino.share import jit

    node = _node(workspace, node_dir)
    agreement = jit.create(node, name, members.split(","), _day(until, "--until"), purpose, h1_evidence, on_end)
    err.print(f"[green]JIT {agreement.name}[/] created: {agreement.state(node, dt.date.today())}")
    _copy(jit.path_of(node, agreement.name), output)


@jit_app.command("sign")
def jit_sign(
    agreement: str = typer.Argument(..., help="An agreement file from a member, or the name of one held here."),
    output: Path = typer.Option(None, "--out", "-o", help="Also write the signed agreement here."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Add this node's signature to a JIT agreement (a file is first checked and imported).

    Example:  avellino jit sign jit.json -o jit-signed.json -w fr-ws
    """
    from avellino.share import jit

    node = _node(workspace, node_dir)
    path = Path(agreement)
    held = jit.merge(node, jit.read_file(path), str(path)) if path.is_file() else jit.load(node, agreement)
    jit.sign(node, held)
    err.print(f"[green]JIT {held.name}[/] signed by {node.name}: {held.state(node, dt.date.today())}")
    _copy(jit.path_of(node, held.name), output)


@jit_app.command("import")
def jit_import(
    agreement: Path = typer.Argument(..., help="An agreement file from a member."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Take a member's copy of an agreement: its signatures and end events that verify are added. An end (or
    this node's leaving) applies the agreement to the contributions this node holds.

    Example:  avellino jit import jit-signed.json -w uk-ws
    """
    from avellino.share import jit
    from avellino.store import open_store

    node = _node(workspace, node_dir)
    held = jit.merge(node, jit.read_file(agreement), str(agreement))
    with open_store(workspace) as store:
        gone = jit.follow_agreement(store, node, held)
        _audit_end(store, held.name, gone)
    err.print(
        f"JIT {held.name}: {held.state(node, dt.date.today())}" + (f"; {gone:,} statements deleted" if gone else "")
    )


def _audit_end(store: object, name: str, gone: int) -> None:
    if gone:
        from avellino.share.audit import Touched, record

        record(store, purpose=f"JIT {name}: access ended", action=f"jit purge {name}", touched=Touched(count=gone))  # type: ignore[arg-type]


def _event(kind: str, name: str, output: Path | None, workspace: Path | None, node_dir: Path | None) -> None:
    from avellino.share import jit
    from avellino.store import open_store

    node = _node(workspace, node_dir)
    held = jit.load(node, name)
    jit.add_event(node, held, kind, dt.date.today())
    with open_store(workspace) as store:
        gone = jit.follow_agreement(store, node, held)
        _audit_end(store, held.name, gone)
    err.print(
        f"JIT {held.name}: {held.state(node, dt.date.today())}; contributions: {held.on_end}"
        + (f" ({gone:,} statements deleted here)" if gone else "")
    )
    _copy(jit.path_of(node, held.name), output)


@jit_app.command("leave")
def jit_leave(
    name: str = typer.Argument(..., help="The JIT's name."),
    output: Path = typer.Option(None, "--out", "-o", help="Also write the agreement (with the leave) here."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Leave a JIT: this node's access ends and what it received inside follows the agreement (return or delete:
    deleted here). Give the written agreement to the other members (jit import).

    Example:  avellino jit leave JIT-CHANNEL -o jit-left.json -w fr-ws
    """
    from avellino.share.jit import LEAVE

    _event(LEAVE, name, output, workspace, node_dir)


@jit_app.command("end")
def jit_end(
    name: str = typer.Argument(..., help="The JIT's name."),
    output: Path = typer.Option(None, "--out", "-o", help="Also write the agreement (with the end) here."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """End a JIT for every member (for example when its term is over): nothing more is shared inside it and the
    contributions follow the agreement at each member once it imports the ended agreement.

    Example:  avellino jit end JIT-CHANNEL -o jit-ended.json -w uk-ws
    """
    from avellino.share.jit import END

    _event(END, name, output, workspace, node_dir)


@jit_app.command("send")
def jit_send(
    name: str = typer.Argument(..., help="The JIT's name."),
    to: list[str] = typer.Option(None, "--to", help="A member to send it to (repeatable; default: every other)."),
    output: Path = typer.Option(..., "--out", "-o", help="The bundle file to write."),
    to_outbox: bool = typer.Option(False, "--outbox", help="Also leave a copy in each member's outbox (serve)."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Send this node's copy of the agreement (signatures, leave and end events) to members as a signed,
    encrypted bundle: deliver it with `share push` or leave it in the outbox; the member's `share receive` (or
    its server) takes it like `jit import`.

    Example:  avellino jit send JIT-CHANNEL -o jit.avb -w uk-ws
    """
    from avellino.share import jit
    from avellino.share.withdraw import to_outbox as leave

    node = _node(workspace, node_dir)
    held = jit.load(node, name)
    names = list(dict.fromkeys(to or [m for m in held.members if m != node.name]))
    partners = [node.partner(n) for n in names]
    bundle_id = jit.write_bundle(node, held, partners, output)
    if to_outbox:
        for n in names:
            leave(node, n, output, bundle_id)
    err.print(f"[green]agreement {held.name}[/] -> {output} for {', '.join(names)}")


@jit_app.command("list")
def jit_list(workspace: Path = WorkspaceOpt, node_dir: Path = NodeDirOpt) -> None:
    """The JITs this node holds, with their state.

    Example:  avellino jit list -w uk-ws
    """
    from avellino.share import jit

    node = _node(workspace, node_dir)
    table = Table("JIT", "members", "until", "state")
    for a in jit.load_all(node):
        table.add_row(a.name, ", ".join(a.members), str(a.until), a.state(node, dt.date.today()))
    out.print(table)


@jit_app.command("show")
def jit_show(
    name: str = typer.Argument(..., help="The JIT's name."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object (the case network's nodes and links too)."),
    to: Path = typer.Option(None, "--to", help="Also write the case network as .graphml or .gexf, with markings."),
    purpose: str = typer.Option(None, "--purpose", help="Why you read the case (a purpose of the JIT; default: its "
                                "first). Checked by the sharing policy and recorded in the audit log."),
    top: int = typer.Option(5, "--top", min=0, help="Links listed per originator (most events first)."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:  # fmt: skip
    """The case: members and their signatures, term, purposes, state, contributions by originator (statements
    and entities received in the JIT's bundles, and what this node sent inside it), the persons resolved
    across members (clusters with records of at least two members; ids only), and the case network: the ties
    among the JIT's facts and this node's records resolved into them, as the sharing policy lets this member
    see them (nothing once the JIT has ended or this node left). Protected people (victims, witnesses,
    informants) are flagged, never ranked among the top links. The read is audited.

    Example:  avellino jit show JIT-CHANNEL -w uk-ws --to case.graphml
    """
    from avellino.network.export import GRAPH_SUFFIXES, check_output_path
    from avellino.share import jit
    from avellino.share.audit import Touched, record
    from avellino.share.jit_case import case, write_graph_file
    from avellino.store import open_store

    if to is not None:
        check_output_path(to, GRAPH_SUFFIXES)
    node = _node(workspace, node_dir)
    held = jit.load(node, name)
    with open_store(workspace, read_only=True) as store:
        found = case(store, node, held, purpose)
        view = found.view
        touched = Touched(count=view.network.statements, counts={f"withheld: {k}": v for k, v in
                                                                 view.network.withheld.items()})  # fmt: skip
        record(store, purpose=view.purpose, action=f"jit show {held.name}" + (f" --to {to}" if to else ""),
               touched=touched)  # fmt: skip
    if to is not None:
        written = write_graph_file(found, to)
        err.print(f"case network -> {to} ({written:,} nodes and links)")
    if as_json:
        out.print_json(json.dumps(view.as_dict()))
        return
    _print_case(view, top)


def _print_case(view: CaseView, top: int) -> None:
    out.print(f"[bold]{view.name}[/]  {view.state}  term {view.term[0]} to {view.term[1]}")
    out.print(f"purposes: {', '.join(view.purposes)}; H1 as evidence inside: {'yes' if view.h1_evidence else 'no'}; "
              f"contributions at the end: {view.on_end}")  # fmt: skip
    members = Table("member", "signature")
    for m, state in view.members.items():
        members.add_row(m, state)
    out.print(members)
    table = Table("originator", "entities", "statements", title="Contributions")
    for c in view.contributions:
        table.add_row(str(c["originator"]), f"{c['entities']:,}", f"{c['statements']:,}")
    out.print(table)
    out.print(f"persons resolved across members: {len(view.resolved_persons)}")
    for cid in view.resolved_persons:
        out.print(f"  {cid}")
    net = view.network
    out.print(
        f"[bold]case network[/] (read for {view.purpose!r}): {len(net.nodes):,} nodes, {len(net.links):,} links "
        f"({len(net.cross_member_links()):,} across members), {net.components:,} components (largest "
        f"{net.largest_component:,}), from {net.statements:,} statements"
    )
    if net.withheld:
        withheld = Table("withheld by the sharing policy", "statements")
        for reason, n in sorted(net.withheld.items(), key=lambda kv: -kv[1]):
            withheld.add_row(reason, f"{n:,}")
        out.print(withheld)
    labels = {n.id: n.label for n in net.nodes}
    if top:
        links = Table("originator", "from", "to", "kind", "events", "across members", title="Top links by originator")
        for originator, listed in net.top_links(top).items():
            for link in listed:
                links.add_row(originator, labels.get(link.source, link.source), labels.get(link.target, link.target),
                              link.kind, f"{link.events:,}", "yes" if link.cross_member else "")  # fmt: skip
        out.print(links)
    flags = net.safeguarding()
    if flags:
        safe = Table("protected person", "why", "links", title="Safeguarding (never targets)")
        for f in flags:
            safe.add_row(str(f["label"]), str(f["reason"]), str(f["links"]))
        out.print(safe)
