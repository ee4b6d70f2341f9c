"""Hit/no-hit: ask a partner "do you hold this person?" without sending the person's details.

persons.py (who is asked about: store or file -> names, birth dates, documents) -> keys.py (the key of a pair of
nodes, from their X25519 keys) -> encode.py (keyed Bloom-filter encodings) -> match.py (blocking, scores, the
hit rule) -> exchange.py (query and answer files, signed and encrypted to the pair; audit) ; cli.py.
See docs/hitcheck.md for what a query reveals and to whom.
"""
