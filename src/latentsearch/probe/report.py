"""`latentsearch report RUN_DIR -o report.html`: one self-contained page from a probe folder.

Reads RUN_DIR/probe.json (from `latentsearch probe`), its figures, and, when present,
RUN_DIR/search.json (rows of algorithm, accuracy, forward passes, e.g. from the latent-search
benchmark). The page shows, before any table, the chosen question's graph lit by each thought and
its latent search tree drawn as a tree; then the frontier and path-class tables and figures, and the
thoughts' top tokens. Figures are embedded as data URIs, and the question's data as JSON that a
small script reads, so the file needs nothing beside it.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from latentsearch.io import atomic_write_text
from latentsearch.probe.frontier import CANDIDATES, CLASSES

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{max-width:100%;height:auto}
.tok{display:inline-block;margin-right:.6em}.frontier{color:#c00;font-weight:600}.note{color:#555}
figure{margin:1em 0}figcaption{color:#555;font-size:13px}
"""

SCRIPT = """
const data = JSON.parse(document.getElementById('question-data').textContent);
const q = data.question;
document.getElementById('question-text').textContent = q.question;
document.getElementById('question-verdict').textContent =
  `answer ${q.predicted || '(none)'}; the true answer is ${q.answer} (${q.correct ? 'correct' : 'wrong'})`;
const body = document.querySelector('#thoughts tbody');
q.thoughts.forEach((t, i) => {
  const row = body.insertRow();
  row.insertCell().textContent = `thought ${i + 1}`;
  const cell = row.insertCell();
  t.top.forEach((tok, j) => {
    const span = document.createElement('span');
    span.className = 'tok' + (data.frontiers[i + 1] && data.frontiers[i + 1].includes(tok) ? ' frontier' : '');
    span.textContent = `${tok} ${t.probs[j].toFixed(2)}`;
    cell.appendChild(span);
  });
  row.insertCell().textContent = t.entropy.toFixed(2);
  row.insertCell().textContent = (t.mass.frontier).toFixed(3);
});
window.addEventListener('load', () => document.querySelectorAll('img').forEach(img => {
  img.dataset.width = img.naturalWidth;  // 0 when a figure failed to decode (checked by the browser test)
}));
"""


class ReportError(ValueError):
    """A probe folder that cannot be turned into a report."""


def build_report(run_dir: str | Path, question: int = 0) -> str:
    run_dir = Path(run_dir)
    probe = _read_probe(run_dir)
    if not 0 <= question < len(probe["questions"]):
        raise ValueError(f"--question must be in [0, {len(probe['questions'])}), got {question}")
    search = _read_json(run_dir / "search.json") if (run_dir / "search.json").is_file() else []
    chosen = _checked_question(probe["questions"][question], run_dir / "probe.json", question)
    payload = {"question": chosen, "frontiers": chosen.get("frontier_tokens", {})}
    parts = [
        f"<h1>latentsearch report</h1><p class=note>{probe['n']} {html.escape(probe.get('task', 'prosqa'))} "
        f"questions, {probe['thoughts']} continuous thoughts, accuracy {probe['accuracy']:.1%}.</p>",
        f"<h2>Question {question}: the thoughts walking through its graph</h2>"
        "<p id=question-text></p><p id=question-verdict></p>",
        _graph_figure(chosen, question),
        _tree_section(chosen.get("tree")),
        _search_section(search, run_dir),
        "<h2>Where each thought puts its probability (all questions)</h2>",
        _frontier_table(probe), _image(run_dir / "frontier_mass.png", "frontier mass by thought"),
        _hmm_table(probe),
        _path_section(probe, run_dir),
        f"<h2>Question {question}: each thought's top tokens</h2>"
        "<table id=thoughts><thead><tr><th>thought</th><th>top tokens through the LM head "
        "(red: on the BFS frontier)</th><th>entropy</th><th>frontier mass</th></tr></thead><tbody></tbody></table>",
        f"<script type=application/json id=question-data>{_json_for_script(payload)}</script>",
        f"<script>{SCRIPT}</script>",
    ]
    return "<!doctype html><html><head><meta charset=utf-8><meta name=viewport content='width=device-width'>" \
           f"<title>latentsearch report</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>"


def write_report(run_dir: str | Path, output: str | Path, question: int = 0) -> Path:
    atomic_write_text(output, build_report(run_dir, question))
    return Path(output)


QUESTION_FIELDS = {"question": str, "answer": str, "predicted": str, "thoughts": list, "node_probs": list,
                   "graph": dict}
THOUGHT_FIELDS = {"top": list, "probs": list, "entropy": (int, float), "mass": dict}
GRAPH_FIELDS = {"symbols": list, "root": int, "path": list}
TYPE_NAMES = {str: "a string", list: "a list", dict: "an object", int: "an integer"}


def _checked_question(question, path: Path, index: int) -> dict:
    """The question the page shows, with every field the page and its figures read, of the right type."""
    where = f"{path}, question {index}"
    _check_fields(question, QUESTION_FIELDS, where)
    _check_fields(question["graph"], GRAPH_FIELDS, f"{where}, graph")
    for k, thought in enumerate(question["thoughts"], 1):
        _check_fields(thought, THOUGHT_FIELDS, f"{where}, thought {k}")
        if not isinstance(thought["mass"].get("frontier"), (int, float)):
            raise ReportError(f"{where}, thought {k}: \"mass\" lacks a number for \"frontier\"")
    if len(question["node_probs"]) != len(question["thoughts"]):
        raise ReportError(f"{where}: \"node_probs\" must hold one list per thought")
    return question


def _check_fields(value, fields: dict, where: str) -> None:
    if not isinstance(value, dict):
        raise ReportError(f"{where}: must be a JSON object, not {type(value).__name__}")
    for key, kind in fields.items():
        if not isinstance(value.get(key), kind) or isinstance(value.get(key), bool) and kind is not bool:
            raise ReportError(f"{where}: \"{key}\" is missing or not {TYPE_NAMES.get(kind, 'a number')}")


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        raise ReportError(f"{path}: not a JSON file ({type(err).__name__})") from None


def _read_probe(run_dir: Path) -> dict:
    path = run_dir / "probe.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir}: no probe.json (run `latentsearch probe ... -o {run_dir}` first)")
    probe = _read_json(path)
    needed = ("n", "thoughts", "accuracy", "frontier", "path_classes", "questions")
    missing = [k for k in needed if not isinstance(probe, dict) or k not in probe]
    if missing or not probe["questions"]:
        raise ReportError(f"{path}: not written by `latentsearch probe` (missing {', '.join(missing) or 'questions'})")
    return probe


def _json_for_script(value) -> str:
    """JSON that no string inside can break out of: every <, > and & escaped (</script>, <!--)."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _data_uri(data: bytes, kind: str) -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def _image(path: Path, alt: str) -> str:
    if not path.is_file():
        return f"<p class=note>({path.name} not drawn: matplotlib missing or --no-plots)</p>"
    return f'<img alt="{html.escape(alt)}" src="{_data_uri(path.read_bytes(), "image/png")}">'


def _figure(draw, alt: str, caption: str, figure_id: str) -> str:
    """An SVG drawn now (matplotlib and networkx), embedded; a note when they are not installed."""
    try:
        svg = draw()
    except ImportError:
        return f"<p class=note>({alt} not drawn: matplotlib and networkx are needed)</p>"
    return (f'<figure id={figure_id}><img alt="{html.escape(alt)}" src="{_data_uri(svg, "image/svg+xml")}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _graph_figure(question: dict, index: int) -> str:
    from latentsearch.probe.figures import thoughts_on_graph

    graph = question["graph"]
    caption = ("Each panel is the question's graph, laid out by distance from the root (left); a node's colour is "
               "the probability that thought k puts on it through the LM head; the true frontier F_k is outlined "
               "in red, the answer path in orange.")
    return _figure(lambda: thoughts_on_graph(graph, question["node_probs"], graph["path"]),
                   f"the graph of question {index} lit by each thought", caption, "graph-figure")


def _tree_section(tree: dict | None) -> str:
    if not tree:
        return "<p class=note>(no latent search tree kept for this question: see probe --trees)</p>"
    from latentsearch.probe.figures import search_tree

    ranked_by = tree.get("ranked_by", "how surely each path answers")
    caption = ("Latent beam search over thought sequences: every node has two children, the plain next thought and "
               f"a continuation with gaussian noise on the fed-back thought, ranked by {ranked_by}; the "
               "number under a move is its score (the change of value); the chosen path in orange, pruned nodes "
               "hollow.")
    figure = _figure(lambda: search_tree(tree["tree"], tree["labels"], tree["chosen"]),
                     "the latent beam search tree", caption, "tree-figure")
    note = f"<p class=note id=tree-note>{html.escape(tree['note'])}</p>" if tree.get("note") else ""
    return f"<h2>Its latent search tree (answer: {html.escape(str(tree.get('answer')))})</h2>{figure}{note}"


def _table(header: list[str], rows: list[list[str]], table_id: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table id={table_id}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _number(value, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def _frontier_table(probe: dict) -> str:
    rows = [[f"thought {k}"] + [_number(e["mass_per_node"][c], ".4f") for c in CLASSES]
            + [_number(e["frontier_over_unreachable"], ".1f")] + [_number(e["mass"][c], ".3f") for c in CANDIDATES]
            + [_number(e.get("cosine_to_previous"), ".2f")]  # older probes lack it
            for k, e in enumerate(probe["frontier"], 1)]
    header = ["", *[f"{c} (per node)" for c in CLASSES], "frontier / unreachable", *[f"{c} (mass)" for c in CANDIDATES],
              "cosine to the thought before"]
    return _table(header, rows, "frontier")


def _hmm_table(probe: dict) -> str:
    """Total variation between each thought's node distribution and three readings of BFS."""
    if not probe["frontier"] or "tv" not in probe["frontier"][0]:
        return ""
    rows = [[f"thought {k}"] + [_number(e["tv"][r], ".3f") for r in ("frontier", "walk", "reachable")]
            for k, e in enumerate(probe["frontier"], 1)]
    header = ["", "uniform on F_k", "random walk from the root (HMM forward message)", "uniform on R_k (reached by k)"]
    return ("<h3>Which picture of BFS fits a thought? Total variation to each (0 = the same, 1 = disjoint)</h3>"
            + _table(header, rows, "hmm-reading"))


def _path_section(probe: dict, run_dir: Path) -> str:
    classes = probe["path_classes"]
    if not classes:
        return ""
    names = list(next(iter(classes.values())))
    rows = [[f"k = {k}"] + [f"{classes[k][c]:.0%}" for c in names] for k in sorted(classes, key=int)]
    table = _table(["", *names], rows, "path-classes")
    return ("<h2>Path classes when language is forced after k thoughts</h2>" + table
            + _image(run_dir / "path_classes.png", "path classes by k"))


def _search_section(search: list[dict], run_dir: Path) -> str:
    if not search:
        return ""
    rows = [[r["algorithm"], f"{r['accuracy']:.1%}", f"{r['forward_passes']:.1f}"] for r in search]
    table = _table(["algorithm", "accuracy", "forward passes / question"], rows, "search")
    figure = ""
    if (run_dir / "accuracy_vs_passes.png").is_file():
        figure = _image(run_dir / "accuracy_vs_passes.png", "accuracy against forward passes")
    return f"<h2>Search: accuracy against forward passes</h2>{table}{figure}"
