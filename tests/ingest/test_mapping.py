"""Mapping files: every unknown key or wrong kind of value is an error with a suggestion, never an empty import."""

from __future__ import annotations

from pathlib import Path

import pytest

from avellino.errors import ConfigError
from avellino.ingest.mapping import load_mapping

GOOD = """\
originator: UK-NCA
country: GB
source: {format: csv, delimiter: ";", encoding: cp1252}
markings: {handling_code: H2, tlp: AMBER, evaluation: B2, subject_category: suspect, retention_review: {days: 30}}
entities:
  person:
    schema: Person
    keys: [ref]
    properties:
      name: {column: full_name}
      birthDate: {column: dob, format: "%d/%m/%Y"}
      gender: {column: sex, map: {M: male}}
  call:
    schema: Call
    keys: [call_id]
    properties:
      caller: {entity: person}
"""


def _problems(tmp_path: Path, text: str) -> str:
    path = tmp_path / "m.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    return str(info.value)


def test_the_documented_example_loads(tmp_path: Path) -> None:
    (tmp_path / "m.yml").write_text(GOOD)
    mapping = load_mapping(tmp_path / "m.yml")
    assert [e.name for e in mapping.entities] == ["person", "call"]
    assert mapping.options == {"delimiter": ";", "encoding": "cp1252"}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    properties:\n      name",
            "    propertes:\n      name",
            "entities.person: unknown key 'propertes' (did you mean 'properties'?)",
        ),
        ("markings:", "marking:", "(top level): unknown key 'marking' (did you mean 'markings'?)"),
        ("delimiter", "delimeter", "source: unknown key 'delimeter' (did you mean 'delimiter'?)"),
        ("tlp: AMBER", "tlp: AMBR", "markings.tlp: 'AMBR' is not a valid tlp (did you mean 'AMBER'?)"),
        ("evaluation: B2", "evaluaton: B2", "markings: unknown key 'evaluaton' (did you mean 'evaluation'?)"),
        (
            "{column: full_name}",
            "{colum: full_name}",
            "entities.person.properties.name: unknown key 'colum' (did you mean 'column'?)",
        ),
        ("birthDate:", "birthdate:", "schema Person has no property 'birthdate' (did you mean 'birthDate'?)"),
        ("schema: Call", "schema: Cal", "entities.call.schema: unknown schema 'Cal' (did you mean 'Call'?)"),
        ("{entity: person}", "{entity: persn}", "no entity named 'persn' (did you mean 'person'?)"),
        ("{days: 30}", "{day: 30}", "markings.retention_review: unknown key 'day' (did you mean 'days'?)"),
        ("{days: 30}", "soon", "markings.retention_review: 'soon' is not a date"),
        ("{days: 30}", "{days: 99999999}", "markings.retention_review.days: expected a whole number of days"),
        ('"%d/%m/%Y"', '"%d/%m/%"', "entities.person.properties.birthDate.format: '%d/%m/%' is not a date format"),
        ("encoding: cp1252", "encoding: cp9999", "source.encoding: 'cp9999' is not an encoding"),
        ('delimiter: ";"', 'delimiter: ";;"', "source.delimiter: expected one character"),
        ("keys: [ref]", "keys: {ref: 1}", "entities.person.keys: list the columns"),
        ("{M: male}", "[M, male]", "entities.person.properties.gender.map: expected a mapping of partner codes"),
        ("country: GB", "country: [GB]", "country: expected a two-letter country code"),
        (
            "format: csv",
            "format: cvs",
            "source.format 'cvs' is not one of csv, ftm, json, jsonl, xlsx (did you mean 'csv'?)",
        ),
    ],
)
def test_unknown_keys_and_wrong_values_are_errors_with_suggestions(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in GOOD
    assert expected in _problems(tmp_path, GOOD.replace(old, new, 1))


def test_misspelt_properties_section_no_longer_imports_empty_people(tmp_path: Path) -> None:
    # issue 14, point 9: "propertes:" used to be ignored, giving Person entities with no name
    text = _problems(tmp_path, GOOD.replace("    properties:\n      name", "    propertes:\n      name"))
    assert text.count("\n  - ") == 1


@pytest.mark.parametrize(
    "text",
    ["entities: [a, b]", "entities: {p: [1]}", "source: csv", "markings: [H1]", "originator: [UK]", "- 1", "a: [",
     "when: 2024-02-30", "entities: {p: {schema: [Person]}}", "entities: {p: {schema: Person, properties: [name]}}",
     "entities: {p: {schema: Person, keys: [ref], properties: {name: {literal: [x]}}}}"],
)  # fmt: skip
def test_any_shape_of_yaml_is_a_config_error(tmp_path: Path, text: str) -> None:
    _problems(tmp_path, text)
