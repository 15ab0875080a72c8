"""The README's Python snippets run as written, and its layout names files that exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_every_python_snippet_in_the_readme_runs(capsys):
    snippets = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert snippets
    for code in snippets:
        exec(compile(code, "README.md", "exec"), {})
    assert "yumpus" in capsys.readouterr().out


def test_the_readme_is_short_and_its_links_exist():
    assert len(README.splitlines()) <= 200
    for link in re.findall(r"\]\((docs/[^)]+)\)", README):
        assert (ROOT / link).is_file(), link
