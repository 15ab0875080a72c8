"""Figures of thoughts on the question graph and of search trees (latentsearch.probe.figures)."""

from __future__ import annotations

import io
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("networkx")

from latentsearch.probe.figures import search_tree, thoughts_on_graph  # noqa: E402

SVG_TEXT = "{http://www.w3.org/2000/svg}text"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def svg_texts(svg: bytes) -> list[str]:
    """Every text element's string (fails if the SVG is not well-formed XML)."""
    root = ET.fromstring(svg)
    return ["".join(el.itertext()) for el in root.iter(SVG_TEXT)]


def assert_png(png: bytes) -> None:
    from matplotlib import image

    assert png.startswith(PNG_MAGIC)
    pixels = image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels[..., :3].var() > 1e-3  # not a blank page


def no_open_figures() -> bool:
    import matplotlib.pyplot as plt

    return plt.get_fignums() == []


@pytest.fixture
def graph():
    """Tom -> wumpus -> {zumpus, dumpus}; zumpus -> rempus (distractor); dumpus -> vumpus (target);
    wumpus -> yumpus; impus, felpus, sterpus unreachable (they point into the graph)."""
    names = ["Tom", "wumpus", "zumpus", "dumpus", "yumpus", "rempus", "vumpus", "impus", "felpus", "sterpus"]
    edges = [[0, 1], [1, 2], [1, 3], [1, 4], [2, 5], [3, 6], [7, 2], [8, 7], [9, 4], [0, 4]]
    return {"symbols": names, "edges": edges, "root": 0, "candidates": [6, 5], "target": 6,
            "frontiers": [[0], [1, 4], [2, 3], [5, 6]]}


def probs(graph, k_peak: int) -> list[float]:
    """Most of the mass on the BFS frontier at depth k_peak, a little everywhere else."""
    n = len(graph["symbols"])
    frontier = graph["frontiers"][k_peak] if k_peak < len(graph["frontiers"]) else []
    p = [1e-5 * (v + 1) for v in range(n)]
    for v in frontier:
        p[v] = 0.8 / len(frontier)
    return p


@pytest.fixture
def thoughts(graph):
    return [probs(graph, k) for k in (1, 2, 3)]


def make_tree(n: int) -> tuple[dict, list[str], list[int]]:
    """A tree of n nodes: node i's parent is (i - 1) // 3, scores falling with depth and index; the
    chosen path follows the first child down to the deepest node."""
    parent = [-1] + [(i - 1) // 3 for i in range(1, n)]
    logprob = [0.0] + [-0.01 * i - 0.5 for i in range(1, n)]
    expanded = [3 * i + 1 < n for i in range(n)]
    chosen = [0]
    while 3 * chosen[-1] + 1 < n:
        chosen.append(3 * chosen[-1] + 1)
    labels = [f"n{i}" for i in range(n)]
    return ({"parent": parent, "token": list(range(n)), "score": logprob, "expanded": expanded,
             "merged_into": {}}, labels, chosen)


# ----------------------------------------------------------------------------- thoughts_on_graph


def test_graph_svg_has_names_and_panel_titles(graph, thoughts):
    svg = thoughts_on_graph(graph, thoughts, [0, 1, 3, 6], title="a test question")
    assert len(svg) > 20_000
    texts = svg_texts(svg)
    for name in graph["symbols"]:
        assert name in texts
    assert "thought 1: mass on F1 0.80" in texts
    assert any(t.startswith("thought 2: mass on F2") for t in texts)
    assert any(t.startswith("thought 3: mass on F3") for t in texts)
    assert "a test question" in texts
    assert any("log scale" in t for t in texts)  # the colour bar says which norm
    assert {"true frontier F_k", "answer path", "target (true answer)", "distractor"} <= set(texts)
    assert no_open_figures()


def test_graph_png_is_an_image(graph, thoughts):
    assert_png(thoughts_on_graph(graph, thoughts, [0, 1, 3, 6], fmt="png"))
    assert no_open_figures()


def test_graph_many_thoughts_wrap_and_empty_frontiers(graph):
    thoughts = [probs(graph, k) for k in range(1, 9)]  # beyond the graph's depth: F_k empty
    texts = svg_texts(thoughts_on_graph(graph, thoughts, []))
    assert "thought 8: F8 is empty" in texts
    assert sum(t.startswith("thought ") for t in texts) == 8


def test_graph_without_candidates_or_unreachable_nodes():
    graph = {"symbols": ["Ann", "a$b", "c"], "edges": [[0, 1], [1, 2]], "root": 0, "candidates": [],
             "target": None, "frontiers": [[0], [1], [2]]}
    texts = svg_texts(thoughts_on_graph(graph, [[0.1, 0.8, 0.1]], []))
    assert "a$b" in texts  # a dollar sign is not read as maths
    assert "distractor" not in texts and "unreachable" not in texts


def test_graph_rejects_bad_input(graph, thoughts):
    with pytest.raises(ValueError, match="no thoughts to draw"):
        thoughts_on_graph(graph, [], [0, 1])
    with pytest.raises(ValueError, match="thought 2 has 3 probabilities but the graph has 10 nodes"):
        thoughts_on_graph(graph, [thoughts[0], [0.1, 0.2, 0.3]], [])
    with pytest.raises(ValueError, match="outside"):
        thoughts_on_graph(graph, thoughts, [0, 42])
    with pytest.raises(ValueError, match="fmt"):
        thoughts_on_graph(graph, thoughts, [], fmt="jpg")
    assert no_open_figures()


# ----------------------------------------------------------------------------------- search_tree


def test_small_tree_svg():
    tree, labels, chosen = make_tree(13)
    tree["merged_into"] = {"12": 11}  # JSON turns keys into strings
    svg = search_tree(tree, labels, chosen, title="beam search")
    assert len(svg) > 10_000
    texts = svg_texts(svg)
    for i in range(13):
        assert f"n{i}" in texts
    assert "-0.51" in texts  # node 1's score, 2 decimals
    assert "beam search" in texts
    assert any(t.startswith("all 13 nodes") for t in texts)
    assert "merged into (dashed arrow)" in texts
    assert not any(t.startswith("showing") for t in texts)
    assert no_open_figures()


def test_large_tree_is_cut_with_a_note():
    tree, labels, chosen = make_tree(300)
    texts = svg_texts(search_tree(tree, labels, chosen))
    assert any(t.startswith("showing 60 of 300 nodes: the chosen path and the top-scoring branches")
               for t in texts)
    for node in chosen:
        assert labels[node] in texts
    shown = [t for t in texts if t.startswith("n") and t[1:].isdigit()]
    assert len(shown) == 60
    # every shown node's parent is shown too
    ids = {int(t[1:]) for t in shown}
    assert all(tree["parent"][i] in ids for i in ids if i)


def test_cut_keeps_the_chosen_path_even_over_max_nodes():
    tree, labels, chosen = make_tree(300)
    texts = svg_texts(search_tree(tree, labels, chosen, max_nodes=3))
    assert any(t.startswith(f"showing {len(chosen)} of 300 nodes") for t in texts)


def test_large_tree_png():
    tree, labels, chosen = make_tree(300)
    assert_png(search_tree(tree, labels, chosen, fmt="png"))
    assert no_open_figures()


def test_tree_rejects_bad_input():
    root_only = {"parent": [-1], "token": [-1], "score": [0.0], "expanded": [False], "merged_into": {}}
    with pytest.raises(ValueError, match="only the root"):
        search_tree(root_only, ["root"], [0])
    tree, labels, chosen = make_tree(5)
    with pytest.raises(ValueError, match="4 labels for 5 nodes"):
        search_tree(tree, labels[:4], chosen)
    with pytest.raises(ValueError, match="chosen node 9"):
        search_tree(tree, labels, [0, 9])
    with pytest.raises(ValueError, match="parent"):
        search_tree({**tree, "parent": [-1, 0, 3, 0, 0]}, labels, chosen)
    assert no_open_figures()


def test_import_needs_neither_matplotlib_nor_networkx():
    code = ("import sys, latentsearch.probe.figures; "
            "print('matplotlib' in sys.modules or 'networkx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
