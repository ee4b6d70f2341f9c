"""Read analysts' network files into an undirected igraph Graph.

Two layouts are accepted, because those are what analysts and the published covert-network sets use:

* an **edge list**: one tie per line, ``u v [weight]``, separated by whitespace, tabs, commas or semicolons; an
  optional header row may name the columns (``source,target,weight`` or the JJATT ``ID,Tie_ID`` layout); lines
  starting with ``#`` or ``%`` are comments;
* an **adjacency matrix**: CSV with a header row of column ids and the row id in the first column. A square matrix
  is a one-mode network (any non-zero cell in either direction is a tie); a rectangular one is two-mode (people x
  events) and is projected onto its rows: two people are tied when they share an event.

and the graph files Avellino writes (``network build --to``, ``network export``), so every file-mode command reads
what the others write:

* **GraphML** (igraph's reader) and **GEXF** 1.x (read here with ElementTree: node label or id as the name, the
  declared attributes with their types, ``weight`` on the edge). Node attributes are kept (``protected`` and
  ``safeguarding`` among them: ``protect.Protection.from_graph`` reads them back); a directed multigraph (one
  edge per tie kind) is merged into the undirected analysis graph like the other layouts.

Duplicate pairs and both directions of a tie are merged into one undirected edge whose weight is the sum; self
ties are dropped. Every vertex has a ``name`` (the id as written in the file) and every edge a ``weight``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from avellino.errors import ConfigError, InputRejected, RowProblem

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    import igraph as ig

Format = Literal["auto", "edgelist", "matrix", "graphml", "gexf"]
FORMATS = ("auto", "edgelist", "matrix", "graphml", "gexf")

_SOURCE_NAMES = {"source", "src", "from", "u", "node1", "source_id", "id", "ego", "caller", "payer"}
_TARGET_NAMES = {"target", "dst", "to", "v", "node2", "target_id", "tie_id", "alter", "callee", "payee"}
_WEIGHT_NAMES = {"weight", "w", "value", "count", "calls", "strength", "amount"}


def read_network(path: Path, fmt: Format = "auto") -> ig.Graph:
    """Read ``path`` as an edge list, an adjacency matrix, GraphML or GEXF (``auto`` decides from the file)."""
    text = _read_text(path)
    if fmt == "auto":
        fmt = _xml_format(text) or ("matrix" if _looks_like_matrix(text) else "edgelist")
    if fmt == "graphml":
        return _read_graphml(path)
    if fmt == "gexf":
        return _read_gexf(text, str(path))
    if fmt == "matrix":
        names, pairs = _parse_matrix(text, str(path))
    else:
        names, pairs = _parse_edgelist(text, str(path))
    return graph_from_pairs(names, pairs)


def graph_from_pairs(names: list[str], pairs: Iterable[tuple[str, str, float]]) -> ig.Graph:
    """An undirected simple graph from named pairs: duplicates and reversed pairs summed, self ties dropped."""
    import igraph as ig

    index = {name: i for i, name in enumerate(names)}
    weights: dict[tuple[int, int], float] = {}
    for u, v, w in pairs:
        for name in (u, v):
            if name not in index:
                index[name] = len(index)
        a, b = index[u], index[v]
        if a == b:
            continue
        key = (a, b) if a < b else (b, a)
        weights[key] = weights.get(key, 0.0) + w
    graph = ig.Graph(n=len(index), edges=list(weights), directed=False)
    graph.vs["name"] = list(index)
    graph.es["weight"] = list(weights.values())
    return graph


def _xml_format(text: str) -> Format | None:
    """graphml or gexf when the file is one of those XML documents (by its root element), else None."""
    head = text[:4096].lstrip().lower()
    if not head.startswith("<"):
        return None
    if "<graphml" in head:
        return "graphml"
    if "<gexf" in head:
        return "gexf"
    return None


def _read_graphml(path: Path) -> ig.Graph:
    import igraph as ig

    try:
        graph = ig.Graph.Read_GraphML(str(path))
    except Exception as exc:  # igraph raises its own InternalError with libxml's message
        raise ConfigError(f"{path}: not a readable GraphML file ({exc}).") from exc
    if "name" not in graph.vs.attributes():
        graph.vs["name"] = graph.vs["id"] if "id" in graph.vs.attributes() else [str(i) for i in range(graph.vcount())]
    return analysis_graph(graph, str(path))


def _read_gexf(text: str, file: str) -> ig.Graph:
    import xml.etree.ElementTree as ET

    import igraph as ig

    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as exc:
        raise ConfigError(f"{file}: not a readable GEXF file ({exc}).") from exc
    body = next((e for e in root if _local(e.tag) == "graph"), None)
    if body is None:
        raise ConfigError(f"{file}: a GEXF file needs a <graph> element.")
    declared: dict[tuple[str, str], tuple[str, str]] = {}
    for block in (e for e in body if _local(e.tag) == "attributes"):
        for attr in block:
            declared[(block.get("class", "node"), attr.get("id", ""))] = (attr.get("title") or "", attr.get("type", ""))
    nodes = [e for block in body if _local(block.tag) == "nodes" for e in block if _local(e.tag) == "node"]
    edges = [e for block in body if _local(block.tag) == "edges" for e in block if _local(e.tag) == "edge"]
    index = {n.get("id", ""): i for i, n in enumerate(nodes)}
    graph = ig.Graph(n=len(nodes), directed=body.get("defaultedgetype", "undirected") == "directed")
    graph.vs["name"] = [str(n.get("label") or n.get("id", "")) for n in nodes]
    for title, values in _attvalues(nodes, "node", declared).items():
        graph.vs[title] = values
    problems: list[RowProblem] = []
    pairs: list[tuple[int, int]] = []
    weights: list[float] = []
    for line, e in enumerate(edges, start=1):
        source, target = e.get("source", ""), e.get("target", "")
        if source not in index or target not in index:
            problems.append(RowProblem(file, line, "edge", f"names a node that is not declared ({source}, {target})"))
            continue
        try:
            weights.append(float(e.get("weight", "1")))
        except ValueError:
            problems.append(RowProblem(file, line, "weight", f"{e.get('weight')!r} is not a number"))
            continue
        pairs.append((index[source], index[target]))
    if problems:
        raise InputRejected(file, problems, total_rows=len(edges))
    graph.add_edges(pairs)
    graph.es["weight"] = weights
    return analysis_graph(graph, file)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attvalues(
    elements: list[ET.Element], cls: str, declared: dict[tuple[str, str], tuple[str, str]]
) -> dict[str, list[object]]:
    """Per declared attribute title, the typed value of every element (None where it has none)."""
    columns: dict[str, list[object]] = {
        title: [None] * len(elements) for (c, _), (title, _) in declared.items() if c == cls
    }
    for i, element in enumerate(elements):
        for block in (e for e in element if _local(e.tag) == "attvalues"):
            for item in block:
                title, kind = declared.get((cls, item.get("for", "")), ("", ""))
                if title:
                    columns[title][i] = _typed(item.get("value"), kind)
    return columns


def _typed(value: str | None, kind: str) -> object:
    if value is None:
        return None
    try:
        if kind == "boolean":
            return value.lower() == "true"
        if kind in ("integer", "long"):
            return int(value)
        if kind in ("float", "double"):
            return float(value)
    except ValueError:
        return value
    return value


def analysis_graph(graph: ig.Graph, file: str) -> ig.Graph:
    """A graph file's network as the undirected simple graph the analyses read: parallel and reversed edges
    merged (weights summed; 1 where an edge has none), self ties dropped, vertex attributes kept."""
    weights = graph.es["weight"] if "weight" in graph.es.attributes() else [1.0] * graph.ecount()
    problems = []
    clean: list[float] = []
    for i, w in enumerate(weights):
        try:
            clean.append(1.0 if w is None else float(w))
        except (TypeError, ValueError):
            problems.append(RowProblem(file, i + 1, "weight", f"{w!r} is not a number"))
    if problems:
        raise InputRejected(file, problems, total_rows=graph.ecount())
    out = graph.copy()
    for attr in out.es.attributes():
        del out.es[attr]
    out.es["weight"] = clean
    if out.is_directed():
        out.to_undirected(mode="collapse", combine_edges={"weight": "sum"})
    out.simplify(multiple=True, loops=True, combine_edges={"weight": "sum"})
    out.vs["name"] = [str(n) for n in out.vs["name"]]
    return out


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"Cannot read network file {path}: {exc.strerror or exc}") from exc
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _rows(text: str) -> list[list[str]]:
    """CSV rows with the delimiter guessed from the first data line; comment and blank lines skipped."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith(("#", "%"))]
    if not lines:
        return []
    first = lines[0]
    if "," in first:
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO("\n".join(lines)))]
    for delim in ("\t", ";"):
        if delim in first:
            return [[c.strip() for c in row] for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim)]
    return [ln.split() for ln in lines]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _looks_like_matrix(text: str) -> bool:
    """A matrix: rows as wide as the header, numeric cells, and row ids equal to column ids (or a blank corner)."""
    rows = _rows(text)
    if len(rows) < 2 or len(rows[0]) < 3 or _is_header(rows[0]):
        return False
    width = len(rows[0])
    if not all(len(r) == width and all(_is_number(c) or c in ("", "NA") for c in r[1:]) for r in rows[1:]):
        return False
    square = sorted(r[0] for r in rows[1:]) == sorted(rows[0][1:])
    return square or (rows[0][0] == "" and width > 3)


def _parse_matrix(text: str, file: str) -> tuple[list[str], list[tuple[str, str, float]]]:
    rows = _rows(text)
    if len(rows) < 2:
        raise ConfigError(f"{file}: an adjacency matrix needs a header row and at least one data row.")
    columns = rows[0][1:]
    problems: list[RowProblem] = []
    row_ids: list[str] = []
    cells: list[tuple[str, int, float]] = []
    for r, row in enumerate(rows[1:], start=2):
        if len(row) != len(columns) + 1:
            problems.append(RowProblem(file, r, "*", f"{len(row)} cells, the header has {len(columns) + 1}"))
            continue
        row_ids.append(row[0])
        for c, cell in enumerate(row[1:]):
            if cell in ("", "0", "0.0", "NA"):
                continue
            try:
                value = float(cell)
            except ValueError:
                problems.append(RowProblem(file, r, columns[c], f"{cell!r} is not a number"))
                continue
            if value != 0:
                cells.append((row[0], c, value))
    if problems:
        raise InputRejected(file, problems, total_rows=len(rows) - 1)
    if sorted(row_ids) == sorted(columns):
        return row_ids, [(u, columns[c], w) for u, c, w in cells]
    return row_ids, _project_two_mode(cells)


def _project_two_mode(cells: list[tuple[str, int, float]]) -> list[tuple[str, str, float]]:
    """Rows sharing a column (an event) are tied, once per shared event."""
    by_event: dict[int, list[str]] = {}
    for row_id, col, _ in cells:
        by_event.setdefault(col, []).append(row_id)
    pairs: list[tuple[str, str, float]] = []
    for members in by_event.values():
        for i, u in enumerate(members):
            pairs.extend((u, v, 1.0) for v in members[i + 1 :])
    return pairs


def _parse_edgelist(text: str, file: str) -> tuple[list[str], list[tuple[str, str, float]]]:
    rows = _rows(text)
    src, dst, wcol, start = 0, 1, 2, 0
    if rows and _is_header(rows[0]):
        header = [h.lower() for h in rows[0]]
        src = next((i for i, h in enumerate(header) if h in _SOURCE_NAMES), 0)
        dst = next((i for i, h in enumerate(header) if h in _TARGET_NAMES and i != src), 1)
        wcol = next((i for i, h in enumerate(header) if h in _WEIGHT_NAMES), -1)
        start = 1
    problems: list[RowProblem] = []
    names: list[str] = []
    pairs: list[tuple[str, str, float]] = []
    for r, row in enumerate(rows[start:], start=start + 1):
        if not any(row):
            continue  # a spreadsheet's empty trailing row
        if len(row) <= max(src, dst) or not row[src] or not row[dst]:
            if len(row) == 1 and row[0]:
                names.append(row[0])  # a lone id: an isolated vertex
                continue
            problems.append(RowProblem(file, r, "u v", "needs two ids (u v [weight])"))
            continue
        weight = 1.0
        if 0 <= wcol < len(row) and row[wcol] != "":
            try:
                weight = float(row[wcol])
            except ValueError:
                problems.append(RowProblem(file, r, "weight", f"{row[wcol]!r} is not a number"))
                continue
        pairs.append((row[src], row[dst], weight))
    if problems:
        raise InputRejected(file, problems, total_rows=len(rows) - start)
    if not pairs and not names:
        raise ConfigError(f"{file}: no edges found (expected lines like 'u v [weight]').")
    return names, pairs


def _is_header(row: list[str]) -> bool:
    """A first row naming its columns: a source and a target name, or a non-numeric weight cell."""
    lowered = [c.lower() for c in row]
    if len(row) < 2:
        return False
    has_src = any(c in _SOURCE_NAMES for c in lowered)
    has_dst = any(c in _TARGET_NAMES for c in lowered)
    return (has_src and has_dst) or (len(row) == 3 and lowered[2] in _WEIGHT_NAMES)
