"""``avellino resolve``: cross-agency entity resolution."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(
    help="Find the records that describe the same person, company, phone or vessel across partners.",
    no_args_is_help=True,
)


@app.command()
def evaluate(
    input: Path = typer.Option(..., "--input", help="A .csv or .parquet file of records with a truth column."),
    id_column: str = typer.Option(..., "--id-column", help="Column with a unique record id."),
    truth_column: str = typer.Option(..., "--truth-column", help="Column saying which real entity a row is."),
    columns: str = typer.Option(
        ...,
        "--columns",
        help="ROLE=COLUMN pairs, comma-separated. Roles: given_name, middle_name, surname, full_name, dob, "
        "nationality, sex, place_of_birth, address, city, postcode, country, phone, passport, id_number, iban, "
        "imo, mmsi, plate, email. Only names are required.",
    ),
    source_column: str | None = typer.Option(
        None, "--source-column", help="Column naming the file/partner: link across sources only."
    ),
    truth_regex: str | None = typer.Option(
        None, "--truth-regex", help="Regex with one group that extracts the entity from the truth column."
    ),
    threshold: float | None = typer.Option(
        None, "--threshold", help="Match probability threshold (default 0.5, the model's own decision point)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Score Avellino's matching and a plain Splink baseline on a file whose true matches are known.

    Metrics are pairwise: precision, recall and F1 over every true pair, so pairs that blocking never
    compared count as misses.

    Examples:

      avellino resolve evaluate --input people.csv --id-column id --truth-column person \\
          --columns given_name=first,surname=last,dob=birth_date --json

      avellino resolve evaluate --input febrl4.csv --id-column rec_id --truth-column rec_id \\
          --truth-regex 'rec-(\\d+)-' --source-column file \\
          --columns given_name=given_name,surname=surname,dob=date_of_birth,postcode=postcode --json
    """
    from rich.console import Console

    from avellino.resolve.evaluate import evaluate as run_evaluate
    from avellino.resolve.evaluate import read_table
    from avellino.resolve.features import parse_roles

    roles = parse_roles(columns)
    df = read_table(input)
    err = Console(stderr=True)
    with err.status("Training and scoring both models..."):
        result = run_evaluate(df, id_column, truth_column, roles, source_column, truth_regex, threshold)
    if as_json:
        typer.echo(json.dumps(result))
        return
    from rich.table import Table

    table = Table("model", "precision", "recall", "F1", "pairs compared", "seconds", "peak MB")
    for name, s in result.items():
        table.add_row(
            name,
            f"{s['precision']:.4f}",
            f"{s['recall']:.4f}",
            f"{s['f1']:.4f}",
            str(s["pairs_compared"]),
            str(s["wall_s"]),
            str(s["peak_mb"]),
        )
    Console().print(table)
