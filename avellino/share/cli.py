"""``avellino node``, ``avellino partner``, ``avellino share`` and ``avellino serve``: this agency's node, the
partners it knows, bundles sent and received, withdrawals and corrections, and the node server."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from avellino.commands import WorkspaceOpt, err, out
from avellino.errors import ConfigError

if TYPE_CHECKING:
    from avellino.share.node import Node
    from avellino.store.base import Store

NodeDirOpt = typer.Option(
    None,
    "--node-dir",
    help="Folder of this node's keys and partners (default: $AVELLINO_NODE_DIR, else WORKSPACE/node; required "
    "for a PostgreSQL workspace).",
)

node_app = typer.Typer(help="This agency's node: its keys and public card.", no_args_is_help=True)
partner_app = typer.Typer(help="Partner nodes this node shares with (their cards).", no_args_is_help=True)
share_app = typer.Typer(
    help="Send and receive signed, encrypted bundles under the originators' conditions; withdraw and correct.",
    no_args_is_help=True,
)


def _node(workspace: Path | None, node_dir: Path | None) -> Node:
    from avellino.share.node import load_node
    from avellino.share.node import node_dir as where

    return load_node(where(workspace, node_dir))


def _opener(workspace: Path | None, read_only: bool = False) -> Callable[[], Store]:
    from avellino.store import open_store

    return lambda: open_store(workspace, read_only=read_only)


def audit(store: Store, purpose: str, action: str, touched: object) -> None:
    """Append one entry to the workspace's hash-chained audit log (``share/audit.py``)."""
    from avellino.share.audit import record

    record(store, purpose=purpose, action=action, touched=touched)  # type: ignore[arg-type]


# -- node ---------------------------------------------------------------------------------------------------


@node_app.command("init")
def node_init(
    name: str = typer.Option(..., "--name", help="This agency's node name, e.g. UK-NCA (the originator name)."),
    country: str = typer.Option(..., "--country", help="ISO 3166 two-letter country code, e.g. GB."),
    not_law_enforcement: bool = typer.Option(
        False, "--not-law-enforcement", help="The node is a platform, NGO or other body outside law enforcement."
    ),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Create this node's signing (Ed25519) and encryption (X25519) keys. The private keys are readable by
    their owner only (0600, folder 0700) and never enter the database.

    Example:  avellino node init --name UK-NCA --country GB -w uk-ws
    """
    from avellino.share.node import init_node, short
    from avellino.share.node import node_dir as where

    node = init_node(where(workspace, node_dir), name, country, law_enforcement=not not_law_enforcement)
    err.print(f"[green]node {node.name}[/] created in {node.dir}; fingerprint {short(node.card.fingerprint)}")


@node_app.command("card")
def node_card(
    output: Path = typer.Option(..., "--out", "-o", help="File to write the public card to (JSON)."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Write this node's public card (name, country, law-enforcement flag, public keys, fingerprint), to give to
    partners; read the fingerprint to them by another channel before they trust it.

    Example:  avellino node card -o uk.json -w uk-ws
    """
    from avellino.share.node import short

    node = _node(workspace, node_dir)
    output.write_text(json.dumps(node.card_json(), indent=2) + "\n", encoding="utf-8")
    err.print(f"card of {node.name} written to {output}; fingerprint {short(node.card.fingerprint)}")


@node_app.command("show")
def node_show(workspace: Path = WorkspaceOpt, node_dir: Path = NodeDirOpt) -> None:
    """This node's name, country, teams and full fingerprint.

    Example:  avellino node show -w uk-ws
    """
    node = _node(workspace, node_dir)
    c = node.card
    out.print(f"{c.name} ({c.country}, {'law enforcement' if c.law_enforcement else 'outside law enforcement'})")
    out.print(f"fingerprint {c.fingerprint}")
    out.print(f"teams: {', '.join(sorted(node.teams)) or 'none'}")


# -- partners -----------------------------------------------------------------------------------------------


@partner_app.command("add")
def partner_add(
    card: Path = typer.Argument(..., help="The partner's card (from its `avellino node card`)."),
    community: bool = typer.Option(False, "--community", help="Part of this node's TLP:GREEN community."),
    team: list[str] = typer.Option(None, "--team", help="A joint investigation team both belong to (repeatable)."),
    url: str = typer.Option(None, "--url", help="The partner's node server, e.g. https://node.example:8443."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Register a partner from its card (checked: self-signed, fingerprint matching its keys). Adding the same
    card again updates its flags; a card with other keys under a known name is refused.

    Example:  avellino partner add fr.json -w uk-ws --team JIT-CHANNEL
    """
    from avellino.share.node import Partner, check_team, read_card, short

    node = _node(workspace, node_dir)
    teams = frozenset(check_team(t) for t in team or [])
    partner = node.add_partner(Partner(read_card(card), community, teams, url))
    err.print(f"[green]partner {partner.name}[/] registered; fingerprint {short(partner.card.fingerprint)}")


@partner_app.command("list")
def partner_list(workspace: Path = WorkspaceOpt, node_dir: Path = NodeDirOpt) -> None:
    """The registered partners: country, law enforcement, community, teams, fingerprint.

    Example:  avellino partner list -w uk-ws
    """
    from avellino.share.node import short

    node = _node(workspace, node_dir)
    table = Table("partner", "country", "law enforcement", "community", "teams", "url", "fingerprint")
    for p in node.partners().values():
        c = p.card
        table.add_row(c.name, c.country, "yes" if c.law_enforcement else "no", "yes" if p.community else "no",
                      ", ".join(sorted(p.teams)), p.url or "", short(c.fingerprint))  # fmt: skip
    out.print(table)


# -- share --------------------------------------------------------------------------------------------------


def _ids(values: list[str] | None) -> list[str]:
    return [i.strip() for v in values or [] for i in v.split(",") if i.strip()]


@share_app.command("send")
def share_send(
    to: list[str] = typer.Option(..., "--to", help="A registered partner (repeatable: the bundle goes to all)."),
    purpose: str = typer.Option(..., "--purpose", help="Why these facts are shared (logged; H3 notes check it)."),
    entities: list[str] = typer.Option(None, "--entities", help="Entity ids (comma separated, repeatable)."),
    everything: bool = typer.Option(False, "--all", help="Every fact the policy allows."),
    output: Path = typer.Option(..., "--out", "-o", help="The bundle file to write."),
    to_outbox: bool = typer.Option(False, "--outbox", help="Also leave a copy in each recipient's outbox (serve)."),
    jit: str = typer.Option(None, "--jit", help="Send inside this joint investigation team (see avellino jit)."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Write a bundle holding only the facts the sharing policy lets go to ALL the recipients, signed by this
    node and encrypted to them; print what was withheld, counted by reason. With --jit the bundle is sent inside
    a JIT in force: every recipient must be a member, and the facts stay inside the JIT at the receivers.

    Example:  avellino share send --to FR-OCRIEST --purpose "investigation JIT-CHANNEL" --all -o to-fr.avb -w uk-ws
    """
    from avellino.share.send import send_bundle
    from avellino.share.withdraw import to_outbox as leave
    from avellino.store import open_store

    wanted = _ids(entities)
    if bool(wanted) == everything:
        raise ConfigError("Give either --entities IDS or --all")
    node = _node(workspace, node_dir)
    partners = [node.partner(name) for name in dict.fromkeys(to)]
    with open_store(workspace, read_only=True) as store:  # other readers go on; the audit entry reopens briefly
        from avellino.store.id_migration import outside_namespace, unmigrated_message

        old_ids, _refs = outside_namespace(store)
        if old_ids:  # every receiver would refuse them: say how to fix it instead of withholding them all
            raise ConfigError(unmigrated_message(workspace or "WORKSPACE", old_ids))
        result = send_bundle(store, node, partners, purpose, output, wanted or None, jit=jit)
        from avellino.share.audit import Touched

        touched = Touched(count=result.statements, counts={f"withheld: {k}": v for k, v in result.withheld.items()})
        audit(store, purpose, f"share send {result.bundle_id} to {', '.join(result.recipients)}", touched)
    if to_outbox:
        for name in result.recipients:
            leave(node, name, output, result.bundle_id)
    err.print(
        f"[green]bundle {result.bundle_id[:8]}[/] -> {output}: {result.statements:,} statements of "
        f"{result.entities:,} entities for {', '.join(result.recipients)}"
    )
    print_withheld(result.withheld)


def print_withheld(withheld: dict[str, int]) -> None:
    """What the sharing policy held back, by reason (send and export print it alike)."""
    if not withheld:
        err.print("withheld: nothing")
        return
    table = Table("withheld because", "statements", title="Withheld")
    for reason, n in sorted(withheld.items(), key=lambda kv: -kv[1]):
        table.add_row(reason, f"{n:,}")
    err.print(table)


@share_app.command("receive")
def share_receive(
    bundle: Path = typer.Argument(..., help="A bundle file (from a partner's `share send` or `share fetch`)."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Verify a bundle's signature against the registered sender, decrypt it, check every fact (originator,
    namespace, markings, what the sender may pass on) and import it as one atomic batch. A bundle failing any
    check is refused and nothing is written. Withdrawals are applied and forwarded to whoever this node passed
    those facts on to (see the partners' outboxes).

    Example:  avellino share receive to-fr.avb -w fr-ws
    """
    from avellino.share.receive import receive_bundle

    node = _node(workspace, node_dir)
    result = receive_bundle(_opener(workspace), node, bundle)
    report(result)


def report(result: object) -> None:
    from avellino.share.receive import ReceiveResult

    assert isinstance(result, ReceiveResult)
    if result.skipped:
        err.print(f"[yellow]unchanged[/] bundle {result.bundle_id[:8]} from {result.sender} was already received")
        return
    if result.kind == "facts":
        err.print(
            f"[green]received[/] bundle {result.bundle_id[:8]} from {result.sender}: {result.statements:,} "
            f"statements -> {result.added:,} new"
        )
        return
    if result.kind == "jit":
        err.print(
            f"[green]agreement[/] from {result.sender} taken"
            + (f"; {result.withdrawn:,} statements received inside the JIT deleted" if result.withdrawn else "")
        )
        return
    err.print(
        f"[green]applied[/] notices from {result.sender}: {result.withdrawn:,} statements withdrawn, "
        f"{result.added:,} corrected statements added"
    )
    for name, path in result.forwarded.items():
        err.print(f"forwarded to {name}: {path}")


def _notice_command(kind: str, entities: list[str] | None, statements: list[str] | None, to: list[str] | None,
                    purpose: str, reason: str, output: Path, workspace: Path | None, node_dir: Path | None,
                    outbox: bool) -> None:  # fmt: skip
    from avellino.share.send import who_received
    from avellino.share.withdraw import CORRECTION, correction_facts, make_notice, to_outbox, write_notices
    from avellino.store import open_store

    node = _node(workspace, node_dir)
    ents, stmts = _ids(entities), _ids(statements)
    if to:
        names = list(dict.fromkeys(to))
    else:
        names = sorted(who_received(node, node.name, ents, stmts))
        if not names:
            raise ConfigError(
                f"The sent log of {node.name} shows none of these facts sent to anyone; name partners with --to"
            )
    partners = [node.partner(n) for n in names]
    facts = None
    if kind == CORRECTION:
        if stmts:
            raise ConfigError("A correction names whole entities (--entities); withdraw single statements instead")
        with open_store(workspace, read_only=True) as store:
            facts = correction_facts(store, node, partners, purpose, ents, dt.date.today())
    notice = make_notice(node, kind, ents, stmts, facts, reason)
    bundle_id = write_notices(node, partners, [notice], output, purpose)
    if outbox:
        for name in names:
            to_outbox(node, name, output, bundle_id)
    extra = f" with {len(facts):,} corrected statements" if facts is not None else ""
    err.print(f"[green]{kind} {notice.notice_id[:8]}[/]{extra} -> {output} for {', '.join(names)}")


@share_app.command("withdraw")
def share_withdraw(
    entities: list[str] = typer.Option(None, "--entities", help="This node's entity ids to withdraw."),
    statements: list[str] = typer.Option(None, "--statements", help="Statement ids to withdraw."),
    to: list[str] = typer.Option(None, "--to", help="Partners to tell (default: all the sent log names)."),
    reason: str = typer.Option("", "--reason", help="Why (travels with the withdrawal)."),
    output: Path = typer.Option(..., "--out", "-o", help="The withdrawal bundle to write."),
    outbox: bool = typer.Option(False, "--outbox", help="Also leave a copy in each recipient's outbox."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Withdraw facts this node originated from every partner that received them (by the sent log). The
    withdrawal is signed by this node; partners that passed the facts on forward it.

    Example:  avellino share withdraw --entities uk-nca--0a1b2c --reason "source retracted" -o w.avb -w uk-ws
    """
    _notice_command("withdrawal", entities, statements, to, "withdrawal", reason, output, workspace, node_dir, outbox)


@share_app.command("correct")
def share_correct(
    entities: list[str] = typer.Option(..., "--entities", help="This node's entity ids to correct."),
    purpose: str = typer.Option(..., "--purpose", help="Why the corrected facts are shared."),
    to: list[str] = typer.Option(None, "--to", help="Partners to tell (default: all the sent log names)."),
    reason: str = typer.Option("", "--reason", help="Why (travels with the correction)."),
    output: Path = typer.Option(..., "--out", "-o", help="The correction bundle to write."),
    outbox: bool = typer.Option(False, "--outbox", help="Also leave a copy in each recipient's outbox."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Replace what partners hold of these entities with this workspace's current statements (re-import the
    corrected file first). Partners delete the old statements and take the new ones the policy allows.

    Example:  avellino share correct --entities uk-nca--0a1b2c --purpose investigation -o c.avb -w uk-ws
    """
    _notice_command("correction", entities, None, to, purpose, reason, output, workspace, node_dir, outbox)


@share_app.command("sent")
def share_sent(workspace: Path = WorkspaceOpt, node_dir: Path = NodeDirOpt) -> None:
    """What this node sent to whom (the sent log withdrawals follow).

    Example:  avellino share sent -w uk-ws
    """
    from avellino.share.send import sent_log

    table = Table("bundle", "kind", "sent", "to", "purpose", "statements", "withheld")
    for line in sent_log(_node(workspace, node_dir)):
        held = sum(line.get("withheld", {}).values())
        table.add_row(line["bundle_id"][:8], line["kind"], line["created"], ", ".join(line["recipients"]),
                      line["purpose"], f"{line['statements']:,}", f"{held:,}")  # fmt: skip
    out.print(table)


@share_app.command("push")
def share_push(
    bundle: Path = typer.Argument(..., help="A bundle, or a hit/no-hit query or answer file, to deliver."),
    to: str = typer.Option(..., "--to", help="The partner whose node server receives it."),
    url: str = typer.Option(None, "--url", help="Its server (default: the url registered with partner add)."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """POST a bundle to a partner's node server (`avellino serve`), signed with this node's key. A hit/no-hit
    query or answer (`avellino hitcheck ask/answer -o FILE`) goes the same way; the partner finds it with
    `avellino hitcheck inbox`.

    Example:  avellino share push to-fr.avb --to FR-OCRIEST -w uk-ws
    """
    from avellino.share.client import push

    node = _node(workspace, node_dir)
    answer = push(node, node.partner(to), bundle, url)
    err.print(f"[green]delivered[/] to {to}: {answer}")


@share_app.command("fetch")
def share_fetch(
    source: str = typer.Option(..., "--from", help="The partner whose outbox to read."),
    url: str = typer.Option(None, "--url", help="Its server (default: the url registered with partner add)."),
    receive: bool = typer.Option(True, help="Receive each fetched bundle into the workspace."),
    inbox: Path = typer.Option(None, "--inbox", help="Folder for fetched bundles (default: NODE_DIR/inbox)."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Download the bundles waiting for this node in a partner's outbox (and receive them), and the hit/no-hit
    queries and answers left there (kept for `avellino hitcheck inbox`).

    Example:  avellino share fetch --from UK-NCA -w fr-ws
    """
    from avellino.share.client import fetch
    from avellino.share.receive import receive_bundle

    node = _node(workspace, node_dir)
    paths = fetch(node, node.partner(source), inbox or node.dir / "inbox", url)
    bundles = [p for p in paths if p.suffix == ".avb"]
    hitcheck = f", {len(paths) - len(bundles)} hit/no-hit file(s) (avellino hitcheck inbox)" if paths != bundles else ""
    err.print(f"fetched {len(bundles)} bundle(s) from {source}{hitcheck}")
    if receive:
        for path in bundles:
            report(receive_bundle(_opener(workspace), node, path))
