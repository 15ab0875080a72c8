"""`latentsearch report RUN_DIR -o report.html`: one self-contained page from a probe folder.

Reads RUN_DIR/probe.json (from `latentsearch probe`), its figures, and, when present,
RUN_DIR/search.json (rows of algorithm, accuracy, forward passes, e.g. from
benchmarks/latent_search_prosqa.py --json). Figures are embedded as data URIs; the chosen
question's thoughts and search tree are drawn in the page by a small script from embedded JSON,
so the file needs nothing beside it.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from latentsearch.io import atomic_write_text
from latentsearch.probe.frontier import CANDIDATES, CLASSES, PATH_CLASSES

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{max-width:100%}
.tok{display:inline-block;margin-right:.6em}.frontier{color:#c00;font-weight:600}
ul.tree{font-family:monospace;font-size:13px}.note{color:#555}
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
function grow(list, node) {
  const item = document.createElement('li');
  item.textContent = node.label;
  list.appendChild(item);
  if (node.children.length) {
    const sub = document.createElement('ul');
    node.children.forEach(child => grow(sub, child));
    item.appendChild(sub);
  }
}
if (data.tree) grow(document.getElementById('tree'), data.tree);
"""


def build_report(run_dir: str | Path, question: int = 0) -> str:
    run_dir = Path(run_dir)
    if not (run_dir / "probe.json").is_file():
        raise FileNotFoundError(f"{run_dir}: no probe.json (run `latentsearch probe ... -o {run_dir}` first)")
    probe = json.loads((run_dir / "probe.json").read_text())
    if not 0 <= question < len(probe["questions"]):
        raise ValueError(f"--question must be in [0, {len(probe['questions'])}), got {question}")
    search = json.loads((run_dir / "search.json").read_text()) if (run_dir / "search.json").is_file() else []
    chosen = probe["questions"][question]
    payload = {"question": chosen, "frontiers": chosen.get("frontier_tokens", {}), "tree": chosen.get("tree")}
    parts = [
        f"<h1>latentsearch report</h1><p class=note>{probe['n']} questions, {probe['thoughts']} continuous "
        f"thoughts, accuracy {probe['accuracy']:.1%}.</p>",
        _search_section(search, run_dir),
        "<h2>Where each thought puts its probability</h2>",
        _frontier_table(probe), _image(run_dir / "frontier_mass.png", "frontier mass by thought"),
        "<h2>Path classes when language is forced after k thoughts</h2>",
        _path_table(probe), _image(run_dir / "path_classes.png", "path classes by k"),
        f"<h2>Question {question}</h2><p id=question-text></p><p id=question-verdict></p>",
        "<table id=thoughts><thead><tr><th>thought</th><th>top tokens through the LM head "
        "(red: on the BFS frontier)</th><th>entropy</th><th>frontier mass</th></tr></thead><tbody></tbody></table>",
        "<h3>Latent beam tree</h3>" + ("<ul id=tree class=tree></ul>" if payload["tree"] else
                                        "<p class=note>(no tree kept for this question: see probe --trees)</p>"),
        f"<script type=application/json id=question-data>{_json_for_script(payload)}</script>",
        f"<script>{SCRIPT}</script>",
    ]
    return f"<!doctype html><html><head><meta charset=utf-8><title>latentsearch report</title><style>{STYLE}</style>" \
           f"</head><body>{''.join(parts)}</body></html>"


def write_report(run_dir: str | Path, output: str | Path, question: int = 0) -> Path:
    atomic_write_text(output, build_report(run_dir, question))
    return Path(output)


def _json_for_script(value) -> str:
    return json.dumps(value).replace("</", "<\\/")  # a string holding </script> must not end the block


def _image(path: Path, alt: str) -> str:
    if not path.is_file():
        return f"<p class=note>({path.name} not drawn: matplotlib missing or --no-plots)</p>"
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _table(header: list[str], rows: list[list[str]], table_id: str) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table id={table_id}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _number(value, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def _frontier_table(probe: dict) -> str:
    rows = [[f"thought {k}"] + [_number(e["mass_per_node"][c], ".4f") for c in CLASSES]
            + [_number(e["frontier_over_unreachable"], ".1f")] + [_number(e["mass"][c], ".3f") for c in CANDIDATES]
            for k, e in enumerate(probe["frontier"], 1)]
    header = ["", *[f"{c} (per node)" for c in CLASSES], "frontier / unreachable", *[f"{c} (mass)" for c in CANDIDATES]]
    return _table(header, rows, "frontier")


def _path_table(probe: dict) -> str:
    classes = probe["path_classes"]
    rows = [[f"k = {k}"] + [f"{classes[k][c]:.0%}" for c in PATH_CLASSES] for k in sorted(classes, key=int)]
    return _table(["", *PATH_CLASSES], rows, "path-classes")


def _search_section(search: list[dict], run_dir: Path) -> str:
    if not search:
        return ""
    rows = [[r["algorithm"], f"{r['accuracy']:.1%}", f"{r['forward_passes']:.1f}"] for r in search]
    table = _table(["algorithm", "accuracy", "forward passes / question"], rows, "search")
    figure = ""
    if (run_dir / "accuracy_vs_passes.png").is_file():
        figure = _image(run_dir / "accuracy_vs_passes.png", "accuracy against forward passes")
    return f"<h2>Search: accuracy against forward passes</h2>{table}{figure}"
