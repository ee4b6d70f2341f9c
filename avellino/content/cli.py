"""``avellino content``: posts from platforms, their classification, selectors and campaigns (docs/content.md)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

app = typer.Typer(
    help=(
        "Online adverts: ingest platform posts, classify them (smuggling offer, fake job lure, document forgery, "
        "benign), extract selectors, cluster campaigns. See docs/content.md."
    ),
    no_args_is_help=True,
)

WorkspaceOpt = typer.Option(
    None, "--workspace", "-w", help="Workspace folder (default: $AVELLINO_WORKSPACE or ./workspace)."
)


@app.command("ingest")
def ingest_posts(
    files: list[Path] = typer.Argument(
        ...,
        help="Post files: JSON lines or CSV with text, url and optionally platform, account, time, language, caption.",
    ),
    originator: str = typer.Option(..., "--originator", "-o", help="The agency that collected the posts."),
    handling_code: str = typer.Option("H1", "--handling-code", help="H0-H3 for every statement."),
    tlp: str = typer.Option("AMBER", "--tlp", help="CLEAR, GREEN, AMBER, AMBER+STRICT or RED."),
    evaluation: str = typer.Option("C3", "--evaluation", help="Source reliability A-X and credibility 1-4."),
    subject_category: str = typer.Option(
        "potential_offender", "--subject-category", help="Who the posts' authors are to the agency."
    ),
    save_mapping: Path = typer.Option(
        None, "--save-mapping", help="Also write the mapping used (to import with `avellino ingest` later)."
    ),
    phones: bool = typer.Option(
        True, "--phones/--no-phones", help="Also give each Advert the phone numbers found in its text (E.164)."
    ),
    region: str = typer.Option("GB", "--region", help="Country for numbers written without a country code."),
    workspace: Path = WorkspaceOpt,
) -> None:
    """Import collected posts as Advert entities (with the accounts that posted them), marked like any partner
    file: each file is one atomic batch, every bad row is listed with its row and column, and nothing is written
    from a file with a bad row. Re-importing a file does nothing. Times are ISO 8601 (2026-03-01T10:22:00).
    The phone numbers found in each post's text and caption are added to its Advert (E.164) as a second batch,
    so the network links the advert to whoever else carries the number (--no-phones to skip).

    Example:

      avellino content ingest posts.jsonl --originator UK-NCA --tlp AMBER -w ws
    """
    from avellino.content.posts import PostMarkings, write_mapping
    from avellino.ingest.cli import Tally, _report
    from avellino.ingest.run import ingest_file
    from avellino.store import open_store

    marks = PostMarkings(originator, handling_code, tlp, evaluation, subject_category)
    tally = Tally(total=len(files))
    with tempfile.TemporaryDirectory(prefix="avellino-posts-") as tmp, open_store(workspace) as store:
        for i, path in enumerate(files):
            folder = Path(tmp) / str(i)
            folder.mkdir()
            mapping = write_mapping(path, marks, folder)
            if save_mapping is not None:
                save_mapping.write_text(mapping.read_text(encoding="utf-8"), encoding="utf-8")
            from avellino.errors import InputRejected

            try:
                tally.add(_report(path, ingest_file(store, path, mapping)))
            except InputRejected as exc:
                tally.add(_report(path, exc))
                continue
            if phones:
                from avellino.content.posts import write_phones

                companion = write_phones(path, marks, folder, region)
                if companion is not None:
                    # a second batch: the same Advert ids with the numbers found in their text
                    _report(companion[0], ingest_file(store, companion[0], companion[1]))
    tally.finish()


@app.command("mapping")
def show_mapping() -> None:
    """Print the mapping post files are imported with (docs/mappings.md), to copy and adapt.

    Example:

      avellino content mapping > posts.yml
    """
    from avellino.content.posts import template

    typer.echo(template(), nl=False)


@app.command("classify")
def classify(
    input: Path = typer.Option(..., "--input", "-i", help="Posts: JSON lines or CSV."),
    text_field: str = typer.Option("text", "--text-field", help="The field or column holding the post's text."),
    id_field: str = typer.Option(None, "--id-field", help="The field giving each post's id (default: its row)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per line on stdout."),
    model_path: Path = typer.Option(None, "--model", help="A model from `avellino content train` (default: shipped)."),
    no_evidence: bool = typer.Option(False, "--no-evidence", help="Skip the evidence (faster on big files)."),
) -> None:
    """Classify posts as smuggling_offer, fake_job_lure, document_forgery or benign, with calibrated
    probabilities (p_harmful = 1 - p(benign)) and the evidence: the character n-grams that pushed the post towards
    its label and the documented patterns that fired. Needs no workspace. The file is checked whole first: a bad
    row is named and nothing is printed.

    Example:

      avellino content classify --input posts.jsonl --text-field text --id-field id --json
    """
    import json

    from avellino.content.classify import check_file, classify_file, load_model

    check_file(input, text_field, id_field)
    model = load_model(model_path)
    verdicts = classify_file(model, input, text_field, id_field, evidence=not no_evidence)
    if json_out:
        for v in verdicts:
            typer.echo(json.dumps(v.as_json(), ensure_ascii=False))
        return
    from rich.table import Table

    table = Table("id", "label", "p_harmful", "evidence")
    for v in verdicts:
        ev = ", ".join(v.evidence.get("words", [])[:4] + [p["name"] for p in v.evidence.get("patterns", [])])
        colour = "red" if v.label != "benign" else "green"
        table.add_row(v.id, f"[{colour}]{v.label}[/]", f"{v.p_harmful:.2f}", ev)
    out.print(table)


@app.command("train")
def train_cmd(
    out_path: Path = typer.Option(
        None, "--out", "-o", help="Where to write the model (default: the shipped data/model.npz, no labels only)."
    ),
    labels: Path = typer.Option(
        None,
        "--labels",
        help="The agency's labelled posts: JSON lines or CSV with text and label (empty label: "
        "a weak label from the documented patterns, or left out).",
    ),
    generated: int = typer.Option(20_000, "--generated", help="Generated posts to train on beside the labels."),
    seed: int = typer.Option(0, "--seed", help="The generator's seed."),
) -> None:
    """Build the classifier. Without --labels it rebuilds the shipped model exactly (20,000 generated posts,
    seed 0; about 30 s). With --labels the agency's posts are added (write the model with --out and use it with
    `classify --model`).

    Examples:

      avellino content train --labels our_labels.jsonl --out our-model.npz

      avellino content train --generated 2000 --out small-model.npz
    """
    from avellino.content.classify import shipped_model_path
    from avellino.content.train import train

    if out_path is None:
        if labels is not None:
            raise typer.BadParameter("give --out for a model trained on your labels (the shipped one stays as built)")
        out_path = shipped_model_path()
    model, data = train(out_path, labels, generated, seed)
    weak = f" ({data.weak} weak labels from patterns, {data.skipped} unlabelled left out)" if labels else ""
    err.print(
        f"[green]trained[/] {out_path}: {len(data.texts):,} posts, {data.from_file:,} from {labels or 'no file'}"
        f"{weak}; {len(model.vocabulary):,} n-grams, classes {', '.join(model.classes)}"
    )


@app.command("review")
def review(
    input: Path = typer.Option(..., "--input", "-i", help="Posts not yet labelled: JSON lines or CSV."),
    text_field: str = typer.Option("text", "--text-field"),
    id_field: str = typer.Option(None, "--id-field"),
    limit: int = typer.Option(20, "--limit", "-n", help="How many posts to list."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per line."),
    model_path: Path = typer.Option(None, "--model"),
) -> None:
    """The review queue for active learning: the posts the model is least sure of first (smallest gap between
    its two likeliest labels). Label those, add them to your labels file and retrain: each label then teaches the
    model the most.

    Example:

      avellino content review --input posts.jsonl --id-field id -n 10
    """
    import json

    import numpy as np

    from avellino.content.classify import check_file, classify_file, load_model, uncertainty

    check_file(input, text_field, id_field)
    model = load_model(model_path)
    verdicts = list(classify_file(model, input, text_field, id_field, evidence=False))
    if not verdicts:
        return
    scores = np.array([[v.scores[c] for c in model.classes] for v in verdicts])
    unsure = uncertainty(scores)
    order = np.argsort(-unsure, kind="stable")[:limit]
    texts = {}
    from avellino.content.classify import read_records

    wanted = {verdicts[i].id for i in order}
    for rec in read_records(input, text_field, id_field):
        if rec.id in wanted:
            texts[rec.id] = rec.text
    if json_out:
        for i in order:
            v = verdicts[i]
            typer.echo(
                json.dumps(
                    {**v.as_json(), "uncertainty": round(float(unsure[i]), 4), "text": texts[v.id]}, ensure_ascii=False
                )
            )
        return
    from rich.table import Table

    table = Table("id", "uncertainty", "label", "runner-up", "text")
    for i in order:
        v = verdicts[i]
        ranked = sorted(v.scores.items(), key=lambda kv: -kv[1])
        table.add_row(
            v.id,
            f"{unsure[i]:.2f}",
            f"{ranked[0][0]} {ranked[0][1]:.2f}",
            f"{ranked[1][0]} {ranked[1][1]:.2f}",
            texts[v.id][:80],
        )
    out.print(table)


@app.command("evaluate")
def evaluate_cmd(
    dataset: str = typer.Option(
        ...,
        "--set",
        help="generated, weak (the patterns' weak labels), sms, emscad, emscad-cv (models trained and scored on "
        "held-out EMSCAD folds) or real (quoted real posts).",
    ),
    input: Path = typer.Option(
        None,
        "--input",
        "-i",
        help="The data file (sms: SMSSpamCollection.tsv; emscad: a CSV "
        "with EMSCAD's columns). Default: ../shared/data/text.",
    ),
    model_path: Path = typer.Option(None, "--model", help="emscad, real: the model to score with (default: shipped)."),
    n_train: int = typer.Option(12_000, "--train", help="generated: posts to train on."),
    retrain: bool = typer.Option(
        False, "--retrain", help="emscad-cv: also retrain the shipped pipeline per fold (minutes)."
    ),
) -> None:
    """Print the classifier's figures as JSON (docs/content.md, "What the figures mean"): on generated posts with
    held-out phrasings, on the SMS Spam Collection (its own split: a pipeline smoke test), on real EMSCAD job
    postings the model never trained on, or on smugglers' posts quoted in public reports beside official warnings
    and news (--set real: the shipped data/real_posts.csv, never trained on).

    Examples:

      avellino content evaluate --set sms

      avellino content evaluate --set real

      avellino content evaluate --set emscad-cv --input fj_small.csv

      avellino content evaluate --set emscad --input fj_small.csv
    """
    import json

    from avellino.content import evaluate as ev
    from avellino.settings import shared_data_dir

    def data(rel: str) -> Path:
        if input is not None:
            return input
        base = shared_data_dir()
        if base is None:
            raise typer.BadParameter(f"give --input (../shared/data/{rel} is not here)")
        return base / rel

    if dataset == "generated":
        result = ev.generated(n_train=n_train)
    elif dataset == "weak":
        result = ev.weak()
    elif dataset == "sms":
        result = ev.sms(data("text/sms_spam_collection/SMSSpamCollection.tsv"))
    elif dataset == "emscad":
        from avellino.content.classify import load_model

        result = ev.emscad(data("text/emscad_small/fj_small.csv"), load_model(model_path))
    elif dataset == "emscad-cv":
        result = ev.emscad_cv(data("text/emscad_small/fj_small.csv"), pipeline_repeats=2 if retrain else 0)
    elif dataset == "real":
        from avellino.content.classify import load_model

        result = ev.real(input or ev.real_posts_path(), load_model(model_path))
    else:
        raise typer.BadParameter(f"--set {dataset!r}: use generated, weak, sms, emscad, emscad-cv or real")
    typer.echo(json.dumps(result, indent=1))


@app.command("selectors")
def selectors_cmd(
    input: Path = typer.Option(..., "--input", "-i", help="Posts: JSON lines or CSV."),
    text_field: str = typer.Option("text", "--text-field"),
    id_field: str = typer.Option(None, "--id-field"),
    region: str = typer.Option("GB", "--region", help="Country for numbers written without a country code."),
    workspace: Path = typer.Option(
        None, "--workspace", "-w", help="Link each phone and handle to the workspace entities that carry it."
    ),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per post."),
) -> None:
    """Extract selectors from posts: phone numbers as E.164 (also written with dots, in Arabic or Persian digits,
    as emoji keycaps or as words), WhatsApp, Telegram and Signal handles and links, prices with currencies,
    places and routes, dates. With --workspace each phone and handle is linked to the entities that carry it
    after resolution (protected people are never named).

    Examples:

      avellino content selectors --input posts.jsonl --id-field id --json

      avellino content selectors --input posts.jsonl -w ws
    """
    import json

    from avellino.content.classify import check_file, read_records
    from avellino.content.selectors import extract

    check_file(input, text_field, id_field)
    index = None
    if workspace is not None:
        from avellino.content.links import build_index
        from avellino.store import open_store

        with open_store(workspace, read_only=True) as store:
            index = build_index(store)
    rows: list[tuple[str, list[dict[str, Any]]]] = []
    for rec in read_records(input, text_field, id_field):
        found: list[dict[str, Any]] = []
        for sel in extract(rec.text, region):
            item: dict[str, Any] = {"kind": sel.kind, "value": sel.value, "text": sel.text}
            if index is not None and sel.kind in {"phone", "whatsapp", "signal", "telegram"}:
                item["links"] = index.links(sel)
            found.append(item)
        rows.append((rec.id, found))
    if json_out:
        for ident, found in rows:
            typer.echo(json.dumps({"id": ident, "selectors": found}, ensure_ascii=False))
        return
    from rich.table import Table

    table = Table("id", "kind", "value", "linked to")
    for ident, found in rows:
        for item in found:
            links = item.get("links") or []
            shown = ", ".join(
                "a protected record" if ln.get("protected") else f"{ln['schema']} {ln['name'] or ln['canonical_id']}"
                for ln in links
            )
            table.add_row(ident, str(item["kind"]), str(item["value"]), shown)
    out.print(table)


@app.command("campaigns")
def campaigns_cmd(
    input: Path = typer.Option(..., "--input", "-i", help="Posts: JSON lines or CSV."),
    text_field: str = typer.Option("text", "--text-field"),
    id_field: str = typer.Option(None, "--id-field"),
    threshold: float = typer.Option(0.6, "--threshold", help="Estimated Jaccard similarity of 5-gram sets to join."),
    truth_field: str = typer.Option(
        None, "--truth-field", help="A field naming each post's true campaign: print purity and completeness."
    ),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per campaign."),
) -> None:
    """Group near-duplicate posts into campaigns (MinHash LSH): one advert reposted by many accounts with small
    edits is one case, listed with the accounts and platforms behind it, largest first.

    Examples:

      avellino content campaigns --input posts.jsonl --id-field id

      avellino content campaigns --input posts.jsonl --truth-field campaign --json
    """
    import json

    from avellino.content.campaigns import cluster, purity_completeness
    from avellino.content.classify import check_file, read_records

    check_file(input, text_field, id_field)
    records = list(read_records(input, text_field, id_field))
    found = cluster([r.text for r in records], threshold)
    rows = []
    for c in found:
        members = [records[i] for i in c.members]
        rows.append(
            {
                "campaign": c.id,
                "posts": [r.id for r in members],
                "accounts": sorted({str(r.fields["account"]) for r in members if r.fields.get("account")}),
                "platforms": sorted({str(r.fields["platform"]) for r in members if r.fields.get("platform")}),
                "text": members[0].text,
            }
        )
    if truth_field:
        truth = [str(r.fields[truth_field]) if r.fields.get(truth_field) else None for r in records]
        err.print(json.dumps(purity_completeness(truth, found)))
    if json_out:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    from rich.table import Table

    table = Table("campaign", "posts", "accounts", "platforms", "first post")
    for row in rows:
        table.add_row(
            str(row["campaign"]),
            str(len(row["posts"])),
            ", ".join(row["accounts"][:4]),
            ", ".join(row["platforms"]),
            str(row["text"])[:60],
        )
    out.print(table)
    err.print(f"{len(rows)} campaign(s) among {len(records)} post(s)")


@app.command("generate")
def generate_cmd(
    out_path: Path = typer.Option(..., "--out", "-o", help="JSON lines file to write."),
    n: int = typer.Option(1000, "-n", help="Posts (with --campaigns: campaigns)."),
    seed: int = typer.Option(0, "--seed"),
    held_out: bool = typer.Option(False, "--held-out", help="Only the phrasings training never sees."),
    with_campaigns: bool = typer.Option(False, "--campaigns", help="Reposted campaigns among background posts."),
) -> None:
    """Write synthetic labelled posts (the training data's generator): text, label, language, platform, account,
    url, and the true campaign with --campaigns. They are not real posts (docs/content.md).

    Example:

      avellino content generate -n 200 --held-out --out posts.jsonl
    """
    import json

    from avellino.content.generate import campaigns, generate, iter_jsonl

    posts = campaigns(n, seed) if with_campaigns else generate(n, seed, held_out)
    with out_path.open("w", encoding="utf-8") as fh:
        for rec in iter_jsonl(posts):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    err.print(f"wrote {len(posts):,} posts to {out_path}")


@app.command("refer")
def refer_cmd(
    platform: str = typer.Option(..., "--platform", help="The platform to notify, as the posts name it (TikTok)."),
    agency: str = typer.Option(..., "--agency", help="This agency (the notifier and the policy's sender)."),
    contact: str = typer.Option(..., "--contact", help="The notifier's contact (an e-mail address)."),
    ground: str = typer.Option(..., "--ground", help="The legal ground: the law the content breaks."),
    explanation: str = typer.Option(..., "--explanation", help="Why the content is illegal (Art. 16(2)(a))."),
    purpose: str = typer.Option(..., "--purpose", help="Why it is sent (recorded in the audit log)."),
    out_dir: Path = typer.Option(Path("referrals"), "--out", "-o", help="Folder for the notice files."),
    advert: list[str] = typer.Option(None, "--advert", help="Only these Advert ids (default: all on the platform)."),
    trusted_flagger: bool = typer.Option(
        False, "--trusted-flagger", help="The agency is a DSA Art. 22 trusted flagger."
    ),
    community: bool = typer.Option(False, "--community", help="The platform is registered in the TLP:GREEN community."),
    min_p: float = typer.Option(0.8, "--min-p", help="Refer adverts whose text scores p_harmful at least this."),
    model_path: Path = typer.Option(None, "--model", help="The classifier to score with (default: shipped)."),
    workspace: Path = WorkspaceOpt,
) -> None:
    """Write a DSA notice (Art. 16; Art. 22 for a trusted flagger) for a platform: the URLs of its adverts in the
    workspace that the classifier finds harmful (--min-p; or the --advert ids chosen) and that the sharing screen
    (share/screen.py, as for any partner) lets go to a recipient outside law enforcement (TLP:CLEAR, H2/H3
    conditions), the legal ground, the explanation and the notifier. No post text, no selector, no person; an
    advert holding or naming data about a victim, witness or informant is never referred. Audited before the
    file is written; each referred advert is then kept as a Referral entity (status sent).

    Example:

      avellino content refer --platform TikTok --agency UK-NCA --contact referrals@nca.example
      --ground "Immigration Act 1971 s.25" --explanation "Offers illegal Channel crossings"
      --purpose "platform referral" -w ws
    """
    from avellino.content.referrals import Notifier, build, send, sender_node
    from avellino.store import open_store

    node = sender_node(workspace, agency)
    with open_store(workspace) as store:
        package = build(
            store,
            platform,
            Notifier(agency, contact, trusted_flagger),
            ground,
            explanation,
            purpose,
            advert or None,
            community,
            min_p=min_p,
            model_path=model_path,
            node=node,
        )
        path = send(store, package, out_dir, purpose, agency=agency)
    held = ", ".join(f"{n} {r}" for r, n in sorted(package.withheld.items()))
    err.print(f"[green]wrote[/] {path}: {len(package.items)} URL(s)" + (f"; withheld: {held}" if held else ""))
    typer.echo(package.reference)


@app.command("referral-status")
def referral_status_cmd(
    reference: str = typer.Argument(..., help="The referral (REF-...)."),
    status: str = typer.Option(..., "--status", help="acknowledged, removed, refused or reappeared."),
    url: str = typer.Option(None, "--url", help="Only this URL of the referral (default: all of them)."),
    note: str = typer.Option("", "--note", help="What the platform said."),
    at: str = typer.Option(
        None,
        "--at",
        help="When: ISO 8601 with Z or an offset (2026-12-04T09:00:00Z); no offset means UTC; default now.",
    ),
    workspace: Path = WorkspaceOpt,
) -> None:
    """Record what became of a referral: acknowledged, removed, refused, or reappeared after removal. The event
    is added to each Referral entity's history (a new batch, like any import).

    Example:

      avellino content referral-status REF-20261203-ABCDEF1234 --status removed --at 2026-12-04T09:00:00Z -w ws
    """
    import datetime as dt

    from avellino.content.referrals import parse_utc, update, utc_iso
    from avellino.errors import ConfigError
    from avellino.store import open_store

    try:
        when = parse_utc(at) if at else dt.datetime.now(dt.UTC)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from exc
    with open_store(workspace) as store:
        n = update(store, reference, status, url, note, when)
    err.print(f"{reference}: {n} URL(s) now {status} at {utc_iso(when)}")


@app.command("referrals")
def referrals_cmd(
    json_out: bool = typer.Option(False, "--json", help="One JSON object per referred URL, with its history."),
    workspace: Path = WorkspaceOpt,
) -> None:
    """List the Referral entities: each referred URL with its notice, latest status (sent, acknowledged, removed,
    refused, reappeared), when it was sent and the hours from sending to removal. Times are UTC (ISO 8601, Z).

    Example:

      avellino content referrals -w ws
    """
    import json

    from avellino.content.referrals import summary
    from avellino.store import open_store

    with open_store(workspace, read_only=True) as store:
        rows = summary(store)
    if json_out:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    from rich.table import Table

    table = Table("reference", "platform", "url", "status", "sent", "hours to removal", "events")
    for row in rows:
        hours = "" if row["hours_to_removal"] is None else str(row["hours_to_removal"])
        table.add_row(row["reference"], row["platform"], row["url"], row["status"], row["sent"], hours,
                      str(len(row["history"])))  # fmt: skip
    out.print(table)
