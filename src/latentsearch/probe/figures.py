"""Figures a person can read at a glance: thoughts drawn on the question's graph, and search trees.

Two functions, each taking plain data (as stored in probe.json / a SearchResult's tree) and
returning the figure's bytes (SVG by default, PNG on request) so the caller can embed them in an
HTML page or write them with its own atomic writer:

- `thoughts_on_graph(graph, thought_probs, path)`: small multiples, one panel per continuous
  thought, each the question's graph in the same layered layout (columns by BFS distance from the
  root, unreachable nodes greyed in a last column). A node's fill is the thought's probability on
  it (one shared log colour scale), the true frontier F_k of panel k is outlined in red, the answer
  path's edges are orange, the answer candidates are a star (target) and a square (distractor).
- `search_tree(tree, labels, chosen)`: the explored tree of a search algorithm as a node-link
  diagram, root on the left, one column per depth; every node a box with its move and its score,
  the chosen path in orange, unexpanded (pruned) nodes hollow and grey, merged nodes dashed with a
  dashed arrow to the node they merged into. A large tree is cut to the chosen path and the
  top-scoring branches, with a note saying so.

matplotlib (Agg backend) and networkx are imported only when a figure is drawn; SVG text stays
text (`svg.fonttype: none`), so names and titles can be searched in the page.
"""

from __future__ import annotations

import io
import math

from latentsearch.probe.plots import pyplot

FORMATS = ("svg", "png")
PROB_FLOOR = 1e-4  # the colour scale's lower end: smaller probabilities get the palest colour
MAX_PER_ROW = 6
FRONTIER_RED = "#d62728"
PATH_ORANGE = "#f08c00"
MERGE_PURPLE = "#7048a8"
GREY = "#8a8a8a"
RC = {"svg.fonttype": "none", "svg.hashsalt": "latentsearch", "font.size": 8}


def _to_bytes(fig, fmt: str) -> bytes:
    """The figure's bytes in `fmt`, text kept as text in SVG; the figure is closed."""
    plt = pyplot()
    try:
        buf = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else None
        fig.savefig(buf, format=fmt, dpi=110, metadata=metadata)
        return buf.getvalue()
    finally:
        plt.close(fig)


def _render(draw, fmt: str, title: str, **subplots) -> bytes:
    """draw(fig, axes) on new subplots in the house style, titled; the figure's bytes in `fmt`. The figure
    is closed even when drawing fails, so that a bad input does not leak figures in a long-lived process."""
    plt = pyplot()
    with plt.rc_context(RC):
        fig, axes = plt.subplots(layout="constrained", **subplots)
        try:
            draw(fig, axes)
            if title:
                fig.suptitle(title, fontsize=10)
        except BaseException:
            plt.close(fig)
            raise
        return _to_bytes(fig, fmt)


def _check_fmt(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")


def _short(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, dollar signs escaped (matplotlib would read $..$ as maths)."""
    text = str(text)
    text = text if len(text) <= limit else text[: limit - 1] + "\u2026"
    return text.replace("$", r"\$")


# ---------------------------------------------------------------- thoughts on the question graph


def _check_graph(graph: dict, thought_probs, path) -> int:
    """The number of nodes, after checking the inputs agree with each other."""
    n = len(graph.get("symbols") or [])
    if n == 0:
        raise ValueError("thoughts_on_graph: the graph has no nodes (graph['symbols'] is empty)")
    if len(thought_probs) == 0:
        raise ValueError("thoughts_on_graph: no thoughts to draw (thought_probs is empty)")
    for k, row in enumerate(thought_probs):
        if len(row) != n:
            raise ValueError(f"thoughts_on_graph: thought {k + 1} has {len(row)} probabilities "
                             f"but the graph has {n} nodes")
    nodes = [graph["root"], *(v for e in graph.get("edges", []) for v in e), *path,
             *graph.get("candidates", []), *(v for f in graph.get("frontiers", []) for v in f)]
    bad = [v for v in nodes if not 0 <= int(v) < n]
    if bad:
        raise ValueError(f"thoughts_on_graph: node index {bad[0]} is outside 0..{n - 1}")
    return n


def _layers(graph: dict, n: int) -> list[list[int]]:
    """Columns of nodes: BFS depth 0, 1, ... from the root, then the unreachable nodes (if any)."""
    layers = [list(f) for f in graph.get("frontiers") or [[graph["root"]]]]
    seen = {v for f in layers for v in f}
    unreachable = [v for v in range(n) if v not in seen]
    return layers + [unreachable] if unreachable else layers


def _graph_layout(graph: dict, layers: list[list[int]]):
    """networkx DiGraph and multipartite positions; nodes ordered in each column by the mean
    position of their neighbours in earlier columns (fewer crossings)."""
    import networkx as nx

    place: dict[int, float] = {}
    columns: dict[int, list[int]] = {}
    G = nx.DiGraph()
    neighbours: dict[int, set] = {}
    for a, b in graph.get("edges", []):
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    for d, layer in enumerate(layers):
        def key(v):
            near = [place[u] for u in neighbours.get(v, ()) if u in place]
            return (sum(near) / len(near) if near else math.inf, v)

        columns[d] = sorted(layer, key=key)
        for i, v in enumerate(columns[d]):
            place[v] = i - (len(columns[d]) - 1) / 2
            G.add_node(v)
    G.add_edges_from((a, b) for a, b in graph.get("edges", []))
    # a dict of lists keeps each column's order (a node attribute would be grouped into sets)
    return G, nx.multipartite_layout(G, subset_key=columns, align="vertical")


def _graph_panel(ax, G, pos, graph, probs, k, style) -> None:
    """One thought's panel: edges, answer path, nodes filled by probability, frontier outlined."""
    import networkx as nx
    from matplotlib.transforms import ScaledTranslation

    frontiers = graph.get("frontiers") or []
    frontier = set(frontiers[k]) if k < len(frontiers) else set()
    target, candidates = graph.get("target"), set(graph.get("candidates") or [])
    unreachable = style["unreachable"]
    path_edges = style["path_edges"]
    sizes = {v: 300 if v == target else 130 if v in candidates else 110 for v in G}
    nodelist = list(G)
    common = dict(ax=ax, node_size=[sizes[v] for v in nodelist], nodelist=nodelist, arrowsize=6,
                  connectionstyle="arc3,rad=0.12", min_target_margin=2)
    others = [e for e in G.edges if e not in path_edges]
    nx.draw_networkx_edges(G, pos, edgelist=others, edge_color="#b5b5b5", width=0.6, **common)
    if path_edges:
        P = G.copy()
        P.add_edges_from(path_edges)
        nx.draw_networkx_edges(P, pos, edgelist=path_edges, edge_color=PATH_ORANGE, width=2.2, **common)
    for shape, group in (("o", [v for v in G if v not in candidates]),
                         ("s", [v for v in G if v in candidates and v != target]),
                         ("*", [v for v in G if v == target])):
        for faded in (False, True):
            vs = [v for v in group if (v in unreachable) == faded]
            if not vs:
                continue
            nx.draw_networkx_nodes(
                G, pos, nodelist=vs, ax=ax, node_shape=shape, node_size=[sizes[v] for v in vs],
                node_color=[style["colour"](probs[v]) for v in vs], alpha=0.35 if faded else 1.0,
                edgecolors=[FRONTIER_RED if v in frontier else "#555555" for v in vs],
                linewidths=[2.2 if v in frontier else 0.6 for v in vs])
    # a pale box behind names keeps them legible over edges (path effects would turn SVG text into paths)
    halo = dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.7)
    below = ax.transData + ScaledTranslation(0, -7 / 72, ax.figure.dpi_scale_trans)
    for v in G:
        ax.text(*pos[v], _short(graph["symbols"][v], 12), transform=below, ha="center", va="top",
                fontsize=6, bbox=halo, color=GREY if v in unreachable else "#222222",
                fontweight="bold" if v in candidates else "normal")
    for artist in (*ax.patches, *ax.texts):  # inside the axes' margins: skip them in the layout (faster)
        artist.set_in_layout(False)
    mass = sum(probs[v] for v in frontier)
    ax.set_title(f"thought {k}: mass on F{k} {mass:.2f}" if frontier else f"thought {k}: F{k} is empty",
                 fontsize=8)
    if unreachable:  # a dotted line between the reachable columns and the unreachable one
        x_last = pos[next(iter(unreachable))][0]
        x_prev = max(x for v, (x, _) in pos.items() if v not in unreachable)
        x = (x_last + x_prev) / 2
        ax.axvline(x, color="#cccccc", lw=0.8, ls=":", zorder=0)
        ax.text(x, 0.5, "unreachable", transform=ax.get_xaxis_transform(), rotation=90, ha="center",
                va="center", fontsize=5.5, color=GREY, style="italic", bbox=halo)
    ax.margins(x=0.1, y=0.06)
    ax.set_axis_off()


def _graph_legend(fig, graph: dict, has_unreachable: bool) -> None:
    from matplotlib.lines import Line2D

    mk = dict(ls="", markersize=7, mfc="#dbe7f3", mec="#555555")
    handles = [Line2D([], [], marker="o", mew=2.2, **{**mk, "mec": FRONTIER_RED},
                      label="true frontier F_k"),
               Line2D([], [], color=PATH_ORANGE, lw=2.2, label="answer path")]
    if graph.get("target") is not None:
        handles.append(Line2D([], [], marker="*", **{**mk, "markersize": 11}, label="target (true answer)"))
    if set(graph.get("candidates") or []) - {graph.get("target")}:
        handles.append(Line2D([], [], marker="s", **mk, label="distractor"))
    if has_unreachable:
        handles.append(Line2D([], [], marker="o", alpha=0.35, **mk, label="unreachable from root"))
    ncols = max(1, min(len(handles), int(fig.get_figwidth() // 1.6)))  # wrap rather than overflow
    fig.legend(handles=handles, loc="outside lower center", ncols=ncols, fontsize=7, frameon=False)


def thoughts_on_graph(graph: dict, thought_probs: list[list[float]], path, *, title: str = "",
                      fmt: str = "svg") -> bytes:
    """Small multiples: thought k's probability on each node of the question's graph.

    graph: {"symbols": [names], "edges": [[a, b], ...] (a -> b), "root": int, "candidates": [ints],
    "target": int or None, "frontiers": [[depth-0 nodes], [depth 1], ...] (BFS from the root)}.
    thought_probs[k][v]: thought k+1's probability on node v. path: the answer path's node indices
    (root ... target), may be empty. Returns the figure's bytes in `fmt` ("svg" or "png").
    """
    _check_fmt(fmt)
    path = [int(v) for v in (path if path is not None else [])]
    n = _check_graph(graph, thought_probs, path)
    plt = pyplot()
    from matplotlib import cm, colors

    layers = _layers(graph, n)
    reachable = {v for f in (graph.get("frontiers") or []) for v in f} or {graph["root"]}
    G, pos = _graph_layout(graph, layers)
    norm = colors.LogNorm(vmin=PROB_FLOOR, vmax=1.0, clip=True)
    cmap = plt.get_cmap("YlGnBu")
    style = {"unreachable": set(range(n)) - reachable,
             "path_edges": list(zip(path, path[1:])),
             "colour": lambda p: cmap(norm(max(float(p), PROB_FLOOR)))}

    count = len(thought_probs)
    # ~0.45 in per column keeps neighbouring names apart; a wide graph gets fewer panels per row
    # so that the figure stays about 14 in wide (6-pt names stay legible on a 1280-px page)
    panel_w = min(4.2, max(1.9, 0.45 * len(layers) + 0.45))
    panel_h = min(6.0, max(1.7, 0.27 * max(len(layer) for layer in layers) + 0.6))
    cols = min(MAX_PER_ROW, count, max(1, int(14 // panel_w)))
    rows = math.ceil(count / cols)
    size = (cols * panel_w + 1.2, rows * panel_h + 1.0)

    def draw(fig, axes) -> None:
        for i, ax in enumerate(axes.flat):
            if i < count:
                _graph_panel(ax, G, pos, graph, thought_probs[i], i + 1, style)
            else:
                ax.set_axis_off()
        bar = fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes,
                           shrink=min(0.9, 3.6 / size[1]), aspect=22, pad=0.01)
        bar.set_label(f"probability (log scale; <{PROB_FLOOR:g} as {PROB_FLOOR:g})", fontsize=7)
        bar.ax.tick_params(labelsize=7)
        _graph_legend(fig, graph, bool(style["unreachable"]))

    return _render(draw, fmt, title, nrows=rows, ncols=cols, figsize=size, squeeze=False)


# ---------------------------------------------------------------------------------- search trees


def _check_tree(tree: dict, labels, chosen) -> int:
    parent = list(tree.get("parent") or [])
    n = len(parent)
    if n < 2:
        raise ValueError(f"search_tree: the tree has {n} node(s), only the root at most: "
                         "nothing was explored, so there is nothing to draw")
    if parent[0] != -1 or any(not 0 <= parent[i] < i for i in range(1, n)):
        raise ValueError("search_tree: tree['parent'] must start with -1 (the root) and list "
                         "every other node after its parent")
    for key in ("score", "expanded"):
        if len(tree.get(key) or []) != n:
            raise ValueError(f"search_tree: tree[{key!r}] has {len(tree.get(key) or [])} entries, "
                             f"not {n}")
    if len(labels) != n:
        raise ValueError(f"search_tree: {len(labels)} labels for {n} nodes")
    bad = [c for c in chosen if not 0 <= int(c) < n]
    if bad:
        raise ValueError(f"search_tree: chosen node {bad[0]} is outside 0..{n - 1}")
    return n


def _score(value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return -math.inf
    return -math.inf if math.isnan(x) else x


def _ancestors(parent: list[int], node: int) -> list[int]:
    out = []
    while node >= 0:
        out.append(node)
        node = parent[node]
    return out


def _cut(parent: list[int], scores: list[float], depth: list[int], chosen: set[int],
         max_nodes: int) -> set[int]:
    """The chosen path and its ancestors, then, rank by rank, the best node of each depth (with its
    ancestors) while the total stays within max_nodes."""
    keep = {a for c in chosen for a in _ancestors(parent, c)}
    by_depth: dict[int, list[int]] = {}
    for i in sorted(range(len(parent)), key=lambda i: (-scores[i], i)):
        by_depth.setdefault(depth[i], []).append(i)
    for rank in range(max(len(v) for v in by_depth.values())):
        if len(keep) >= max_nodes:
            break
        for d in sorted(by_depth):
            if rank < len(by_depth[d]):
                new = [a for a in _ancestors(parent, by_depth[d][rank]) if a not in keep]
                if len(keep) + len(new) <= max_nodes:
                    keep.update(new)
    return keep


def _tree_layout(parent, scores, depth, keep, on_path):
    """networkx DiGraph of the kept nodes, inserted depth-first (chosen child first, then by score)
    so each column's order follows its parents' and the tree has no crossings."""
    import networkx as nx

    children: dict[int, list[int]] = {}
    for i in sorted(keep - {0}):
        children.setdefault(parent[i], []).append(i)
    G = nx.DiGraph()
    columns: dict[int, list[int]] = {}
    stack = [0]
    while stack:
        v = stack.pop()
        G.add_node(v)
        columns.setdefault(depth[v], []).append(v)
        if v:
            G.add_edge(parent[v], v)
        kids = sorted(children.get(v, []), key=lambda c: (c not in on_path, -scores[c], c))
        stack.extend(reversed(kids))
    return G, nx.multipartite_layout(G, subset_key=columns, align="vertical")


def _node_style(v: int, expanded: list, on_path: set, merged: dict) -> dict:
    if v in on_path:
        box = dict(fc="#ffe3bf", ec=PATH_ORANGE, lw=1.8)
        colour = "#222222"
    elif expanded[v] or v == 0:
        box = dict(fc="#dbe7f3", ec="#4a78a8", lw=0.8)
        colour = "#222222"
    else:
        box = dict(fc="white", ec="#aaaaaa", lw=0.8)
        colour = "#777777"
    if v in merged:
        box.update(ec=MERGE_PURPLE, ls="--", lw=1.2)
    return dict(bbox=dict(boxstyle="round,pad=0.25", **box), color=colour)


def _tree_legend(ax, merged: bool, cut: bool) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(fc="#ffe3bf", ec=PATH_ORANGE, lw=1.8, label="chosen path"),
               Patch(fc="#dbe7f3", ec="#4a78a8", label="expanded"),
               Patch(fc="white", ec="#aaaaaa", label="not expanded (pruned)")]
    if merged:
        handles.append(Patch(fc="white", ec=MERGE_PURPLE, ls="--", label="merged into (dashed arrow)"))
    if cut:
        handles.append(Patch(fc="none", ec="none", label="(+n): children not shown"))
    ncols = max(1, min(len(handles), int(ax.figure.get_figwidth() // 1.7)))  # wrap rather than overflow
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0), ncols=ncols, fontsize=7,
              frameon=False)


def _draw_tree(ax, G, pos, parent, labels, scores, hidden, style) -> None:
    """Edges (the chosen path thick orange), one box per node with its label and score, and a
    dashed arrow from each merged node to the node it merged into."""
    import networkx as nx
    from matplotlib.patches import FancyArrowPatch

    on_path, merged = style["on_path"], style["merged"]
    path_edges = [(parent[v], v) for v in G if v and v in on_path]
    other_edges = [e for e in G.edges if e not in path_edges]
    for edges, colour, width in ((other_edges, "#a0a0a0", 0.9), (path_edges, PATH_ORANGE, 3.0)):
        nx.draw_networkx_edges(G, pos, edgelist=edges, ax=ax, arrows=False, edge_color=colour, width=width)
    boxes = {}
    for v in G:
        score = "root" if v == 0 else f"{scores[v]:.2f}"
        more = f" (+{hidden[v]})" if hidden[v] else ""
        text = ax.text(*pos[v], f"{_short(labels[v], 14)}\n{score}{more}", ha="center", va="center",
                       fontsize=7, zorder=3, **_node_style(v, style["expanded"], on_path, merged))
        boxes[v] = text.get_bbox_patch()
    for a, b in style["links"]:  # clipped to the boxes, drawn after them (zorder) so they are placed
        ax.add_patch(FancyArrowPatch(pos[a], pos[b], patchA=boxes[a], patchB=boxes[b], arrowstyle="-|>",
                                     mutation_scale=10, ls="--", lw=1.1, color=MERGE_PURPLE,
                                     connectionstyle="bar,armA=45,armB=45,fraction=0", zorder=4,
                                     in_layout=False))


def _tree_figure_size(G, depth, labels) -> tuple[tuple[float, float], int, int]:
    """(figure size, columns, most nodes in one column): ~0.46 in per box row, columns as wide as
    the longest label."""
    columns = max(depth[v] for v in G) + 1
    widest = max(len(_short(labels[v], 14)) for v in G)
    col_w = max(1.0, 0.075 * widest + 0.45)
    per_column = max(sum(1 for v in G if depth[v] == d) for d in range(columns))
    size = (max(5.0, columns * col_w + 0.6), min(40.0, max(2.6, 0.46 * per_column + 1.3)))
    return size, columns, per_column


def search_tree(tree: dict, labels: list[str], chosen: list[int], *, max_nodes: int = 60,
                title: str = "", fmt: str = "svg") -> bytes:
    """A search algorithm's explored tree as a node-link diagram, root on the left.

    tree: {"parent": [-1, 0, 0, 1, ...] (parents before children), "token": [...], "score":
    [score per node], "expanded": [bools], "merged_into": {child_id: kept_id}}. labels[i]: the
    display name of node i's move. chosen: node ids on the chosen path from root to leaf.
    Trees over max_nodes are cut to the chosen path and the top-scoring nodes of each depth.
    Returns the figure's bytes in `fmt` ("svg" or "png").
    """
    _check_fmt(fmt)
    if max_nodes < 1:
        raise ValueError(f"search_tree: max_nodes must be at least 1, not {max_nodes}")
    n = _check_tree(tree, labels, chosen)
    parent = [int(p) for p in tree["parent"]]
    scores = [_score(s) for s in tree["score"]]
    depth = [0] * n
    for i in range(1, n):
        depth[i] = depth[parent[i]] + 1
    on_path = {a for c in chosen for a in _ancestors(parent, int(c))}
    keep = _cut(parent, scores, depth, on_path, max_nodes) if n > max_nodes else set(range(n))
    G, pos = _tree_layout(parent, scores, depth, keep, on_path)
    hidden = dict.fromkeys(G, 0)  # children not shown, per shown node
    for i in range(1, n):
        if i not in keep and parent[i] in hidden:
            hidden[parent[i]] += 1
    merged = {int(a): int(b) for a, b in (tree.get("merged_into") or {}).items()}
    style = {"on_path": on_path, "merged": merged, "expanded": tree["expanded"],
             "links": [(a, b) for a, b in merged.items() if a in G and b in G]}
    size, columns, per_column = _tree_figure_size(G, depth, labels)

    def draw(fig, ax) -> None:
        _draw_tree(ax, G, pos, parent, labels, scores, hidden, style)
        ax.invert_yaxis()  # the first node of each column (the chosen one) on top
        ax.margins(x=0.6 / columns + 0.02, y=0.6 / per_column + 0.02)
        ax.set_axis_off()
        note = (f"showing {len(G)} of {n} nodes: the chosen path and the top-scoring branches"
                if len(G) < n else f"all {n} nodes")
        ax.set_title(f"{note}\nthe number under each move is its score", fontsize=8,
                     color="#555555", loc="left")
        _tree_legend(ax, bool(style["links"]), len(G) < n)

    return _render(draw, fmt, title, figsize=size)
