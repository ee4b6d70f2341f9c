"""Files the network area writes: GraphML (igraph's writer) and GEXF 1.3 (written here), for Gephi and i2-style
tools, and the check every output path of the network commands passes before any work.

igraph has no GEXF writer, and pulling networkx in for one file format is not worth a dependency in the
analysis path, so GEXF is written with the standard library's ElementTree (escaping is ElementTree's job).
Both tools of ``avellino network`` write through here: ``network export`` (a network file) and
``network build --to`` (the workspace's network).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from avellino.errors import ConfigError

if TYPE_CHECKING:
    import igraph as ig

_GEXF_NS = "http://gexf.net/1.3"
GRAPH_SUFFIXES = (".graphml", ".gexf")


def check_output_path(path: Path, suffixes: tuple[str, ...], option: str = "--to") -> None:
    """Refuse an output path before any work: a wrong extension or a missing folder."""
    if path.suffix.lower() not in suffixes:
        raise ConfigError(f"{option} must end in {' or '.join(suffixes)}, not {path.name!r}.")
    if not path.parent.is_dir():
        raise ConfigError(f"The folder {path.parent} does not exist: create it first, or write elsewhere.")


def write_graph(graph: ig.Graph, path: Path) -> Path:
    """GraphML or GEXF, by the path's extension (checked first with ``check_output_path``)."""
    return (write_graphml if path.suffix.lower() == ".graphml" else write_gexf)(graph, path)


def write_graphml(graph: ig.Graph, path: Path) -> Path:
    graph.write_graphml(str(path))
    return path


def _gexf_type(values: list[object]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "boolean"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "long"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "double"
    return "string"


def _attributes(parent: ET.Element, cls: str, seq: ig.VertexSeq | ig.EdgeSeq, skip: set[str]) -> list[str]:
    keys = [a for a in seq.attributes() if a not in skip]
    if keys:
        block = ET.SubElement(parent, "attributes", {"class": cls, "mode": "static"})
        for i, key in enumerate(keys):
            ET.SubElement(block, "attribute", {"id": str(i), "title": key, "type": _gexf_type(seq[key])})
    return keys


def _values(parent: ET.Element, keys: list[str], item: ig.Vertex | ig.Edge) -> None:
    present = [(i, item[k]) for i, k in enumerate(keys) if item[k] is not None]
    if present:
        block = ET.SubElement(parent, "attvalues")
        for i, value in present:
            text = str(value).lower() if isinstance(value, bool) else str(value)
            ET.SubElement(block, "attvalue", {"for": str(i), "value": text})


def write_gexf(graph: ig.Graph, path: Path) -> Path:
    """GEXF 1.3 with every vertex and edge attribute; vertex ``name`` becomes the label, ``weight`` the weight."""
    root = ET.Element("gexf", {"xmlns": _GEXF_NS, "version": "1.3"})
    ET.SubElement(ET.SubElement(root, "meta"), "creator").text = "Avellino"
    kind = "directed" if graph.is_directed() else "undirected"
    body = ET.SubElement(root, "graph", {"defaultedgetype": kind, "mode": "static"})
    vkeys = _attributes(body, "node", graph.vs, {"name"})
    ekeys = _attributes(body, "edge", graph.es, {"weight"})
    names = graph.vs["name"] if "name" in graph.vs.attributes() else list(range(graph.vcount()))
    nodes = ET.SubElement(body, "nodes")
    for v in graph.vs:
        node = ET.SubElement(nodes, "node", {"id": str(v.index), "label": str(names[v.index])})
        _values(node, vkeys, v)
    edges = ET.SubElement(body, "edges")
    has_weight = "weight" in graph.es.attributes()
    for e in graph.es:
        attrs = {"id": str(e.index), "source": str(e.source), "target": str(e.target)}
        if has_weight and e["weight"] is not None:
            attrs["weight"] = str(float(e["weight"]))
        _values(ET.SubElement(edges, "edge", attrs), ekeys, e)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path
