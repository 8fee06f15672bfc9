"""The plugin's structure ([structure]): no import cycle between its source files, no function
over 80 lines outside the registration tables (plugins/mptcp/README.md says why and how the layers
go).

A file A depends on B when A's object file uses a symbol that B's object file defines (nm on the
objects of the test build); the graph must have no cycle. Function lengths come from the sources:
the house style puts a function's name at column 0 and its closing brace at column 0.
"""
import re
import subprocess
from pathlib import Path

from conftest import BUILD, REPO

SRC = REPO / "plugins" / "mptcp"
MAX_LINES = 80


def _objects(plugin_build):
    objs = sorted(Path(plugin_build).rglob("mptcp.dir/*.c.o"))
    assert objs, f"no object files of the plugin under {plugin_build}"
    return objs


def _symbols(obj, flag):
    out = subprocess.run(["nm", flag, str(obj)], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def dependency_graph(objs):
    defined = {o: _symbols(o, "--defined-only") for o in objs}
    owner = {s: o for o, syms in defined.items() for s in syms}
    graph = {}
    for o in objs:
        used = _symbols(o, "--undefined-only")
        graph[o.name[:-4]] = {owner[s].name[:-4] for s in used if s in owner and owner[s] != o}
    return graph


def cycles(graph):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def long_functions(path):
    """(name, lines) of the functions over MAX_LINES lines, registration functions aside."""
    lines = path.read_text().splitlines()
    found, start, name = [], None, None
    for i, line in enumerate(lines):
        m = re.match(r"([A-Za-z_]\w*)\(", line)
        if m and start is None:
            start, name = i, m.group(1)
        elif line.startswith("}") and start is not None:
            n = i - start + 1
            if n > MAX_LINES and "register" not in name:
                found.append((name, n))
            start = None
        elif start is not None and (line.endswith(";") and not line.startswith(" ")):
            start = None                # a prototype, not a definition
    return found


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_long_function_finder(tmp_path):
    f = tmp_path / "x.c"
    f.write_text("static int\nshort_one(void)\n{\n    return 0;\n}\n\nvoid\nlong_one(void)\n{\n" +
                 "    ;\n" * 90 + "}\nint proto(void);\n")
    assert long_functions(f) == [("long_one", 93)]   # from its name line to its closing brace


def test_no_import_cycle(plugin_build):
    graph = dependency_graph(_objects(plugin_build))
    assert len(graph) > 10
    assert "mptcp-pkt" in graph and "packet-mptcp" in graph
    assert cycles(graph) == []


def test_model_layer_calls_nothing_above_it(plugin_build):
    """mptcp-pkt.c (the per-packet result) and the pure helpers call no analysis or render file."""
    graph = dependency_graph(_objects(plugin_build))
    pure = {"mptcp-optparse", "mptcp-ranges", "mptcp-crypto", "mptcp-util", "mptcp-epan"}
    assert graph["mptcp-pkt"] <= pure
    for f in pure:
        assert graph.get(f, set()) <= pure, f


def test_no_function_over_80_lines():
    found = {p.name: long_functions(p) for p in sorted(SRC.glob("*.c"))}
    assert {k: v for k, v in found.items() if v} == {}
