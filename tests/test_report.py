"""The HTML report: built from a probe folder, then rendered by headless Chromium and checked in the DOM."""

import json
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from latentsearch.cli import main
from latentsearch.data.schema import save_records
from latentsearch.data.tokenizer import Codec
from latentsearch.models import checkpoint as ckpt
from latentsearch.models.factory import ModelConfig, build_model

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Elements(HTMLParser):
    """Counts of (tag, id-or-class) pairs and the parents' ids of every element, from serialized DOM."""

    def __init__(self):
        super().__init__()
        self.stack, self.found = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.found.append((tag, attrs, [a.get("id") for _, a in self.stack]))
        if tag not in ("img", "meta", "br"):
            self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def inside(self, tag, ancestor_id):
        return [a for t, a, parents in self.found if t == tag and ancestor_id in parents]


@pytest.fixture(scope="module")
def report(tmp_path_factory, small_records):
    folder = tmp_path_factory.mktemp("report")
    codec = Codec.build("symbolic")
    model = build_model(ModelConfig(d_model=32, n_head=2), len(codec), codec.pad_id, codec.eos_id, seed=0)
    ckpt.save_checkpoint(folder / "c", model, codec, {"method": "coconut", "stage": 7})
    save_records(small_records[:5], folder / "q.json")
    assert main(["probe", str(folder / "c"), str(folder / "q.json"), "--thoughts", "3", "-o", str(folder / "p")]) == 0
    assert main(["report", str(folder / "p"), "-o", str(folder / "report.html"), "--question", "1"]) == 0
    return folder / "report.html"


def test_report_is_self_contained(report):
    text = report.read_text()
    assert 'src="data:image/png;base64,' in text and "http" not in text.replace("http-equiv", "")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium(report, tmp_path):
    browser = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]
    dom = subprocess.run([*browser, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120).stdout
    page = Elements()
    page.feed(dom)
    assert len(page.inside("tr", "thoughts")) == 1 + 3  # the header, then one row per thought, built by the script
    assert len(page.inside("span", "thoughts")) == 3 * 5  # top-5 tokens of each thought
    assert len(page.inside("tr", "frontier")) == 1 + 3 and len(page.inside("tr", "path-classes")) == 1 + 4
    assert len(page.inside("tr", "hmm-reading")) == 1 + 3
    for figure in ("graph-figure", "tree-figure"):  # the thoughts on the graph, the search tree: drawn, decoded
        images = page.inside("img", figure)
        assert len(images) == 1 and images[0]["src"].startswith("data:image/svg+xml;base64,"), figure
        assert int(images[0]["data-width"]) > 300, figure  # decoded, at a readable size
    pngs = [a for t, a, _ in page.found if t == "img" and a["src"].startswith("data:image/png")]
    assert len(pngs) == 2 and all(int(a["data-width"]) > 0 for a in pngs)
    texts = [a for t, a, _ in page.found if t == "p" and a.get("id") == "question-verdict"]
    assert texts and "the true answer is" in dom
    shot = tmp_path / "shot.png"
    subprocess.run([*browser, "--window-size=1280,2400", f"--screenshot={shot}", report.as_uri()], capture_output=True,
                   timeout=120)
    from matplotlib.image import imread

    pixels = imread(str(shot))
    assert pixels.shape[1] == 1280 and pixels[:1200].std() > 0.05  # readable at 1280 px, the top not blank


def test_figures_in_the_report_are_drawn_not_empty(report):
    import base64
    import re

    text = report.read_text()
    for figure in ("graph-figure", "tree-figure"):
        data = re.search(rf'id={figure}><img alt="[^"]*" src="data:image/svg\+xml;base64,([^"]+)"', text).group(1)
        svg = base64.b64decode(data).decode()
        assert svg.count("<path") > 20, figure


def test_report_errors_are_clear(tmp_path, capsys):
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 2
    assert "no probe.json" in capsys.readouterr().err


@pytest.mark.parametrize("damage, message", [
    (lambda q: q.pop("graph"), '"graph" is missing or not an object'),
    (lambda q: q.pop("question"), '"question" is missing or not a string'),
    (lambda q: q["thoughts"][0].update(top=None), 'thought 1: "top" is missing or not a list'),
    (lambda q: q["node_probs"].pop(), '"node_probs" must hold one list per thought'),
    (lambda q: q["graph"].update(root="Tom"), 'graph: "root" is missing or not an integer'),
])
def test_a_damaged_question_in_probe_json_is_one_clear_line(report, damage, message, tmp_path, capsys):
    probe = json.loads((report.parent / "p" / "probe.json").read_text())
    damage(probe["questions"][0])
    (tmp_path / "probe.json").write_text(json.dumps(probe))
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "question 0" in err and message in err, err
    assert not (tmp_path / "r.html").exists()


def test_a_question_that_is_not_an_object_is_one_clear_line(report, tmp_path, capsys):
    probe = json.loads((report.parent / "p" / "probe.json").read_text())
    probe["questions"] = [None]
    (tmp_path / "probe.json").write_text(json.dumps(probe))
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 2
    assert "question 0: must be a JSON object, not NoneType" in capsys.readouterr().err
