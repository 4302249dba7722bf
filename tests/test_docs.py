"""docs/ARCHITECTURE.md matches the code: every module it names exists, every package is named there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
_NAME = re.compile(r"[\w.]+(\.py|/)")


def tree_paths(text: str) -> set[str]:
    """Paths named by the indented file tree(s) in ``` blocks: 'autodrag/drag/session.py', 'autodrag/gui/', ...

    A tree line starts with comma-separated names (`x.py` or `dir/`), indented two spaces per level,
    then two or more spaces and a description; lines that start otherwise continue a description.
    """
    found: set[str] = set()
    for block in re.findall(r"```\n(.*?)```", text, flags=re.S):
        stack: list[tuple[int, str]] = []  # (indent, directory) of the enclosing folders
        for line in block.splitlines():
            stripped = line.lstrip(" ")
            indent = len(line) - len(stripped)
            head = re.split(r"\s{2,}", stripped.rstrip())[0]
            names = [n.strip() for n in head.split(",")]
            if not stripped or not all(_NAME.fullmatch(n) for n in names):
                continue
            while stack and stack[-1][0] >= indent:
                stack.pop()
            prefix = "".join(d for _, d in stack)
            for name in names:
                found.add(prefix + name)
            if len(names) == 1 and names[0].endswith("/"):
                stack.append((indent, names[0]))
    return found


def prose_paths(text: str) -> set[str]:
    """Module paths written out in backticks, e.g. `autodrag/landmarks/heatmap_net.py`."""
    return set(re.findall(r"`((?:autodrag|stylegan_ops|tests|scripts)/[\w/]+\.py)`", text))


def packages() -> set[str]:
    """Every package: a folder with __init__.py under autodrag/ or stylegan_ops/, as 'autodrag/drag/'."""
    return {
        init.parent.relative_to(ROOT).as_posix() + "/"
        for top in ("autodrag", "stylegan_ops")
        for init in (ROOT / top).rglob("__init__.py")
    }


def test_the_tree_parser_nests_folders_and_skips_descriptions():
    text = "```\nstylegan_ops/   ops\n  fma.py   a*b+c\n             more words, fma.py\nautodrag/\n  a.py, b.py   x\n  gui/   y\n    panels/   z\n  c.py   w\n```\n"
    assert tree_paths(text) == {
        "stylegan_ops/",
        "stylegan_ops/fma.py",
        "autodrag/",
        "autodrag/a.py",
        "autodrag/b.py",
        "autodrag/gui/",
        "autodrag/gui/panels/",
        "autodrag/c.py",
    }


def test_every_module_named_in_architecture_exists():
    text = ARCHITECTURE.read_text()
    named = tree_paths(text) | prose_paths(text)
    assert len(named) > 40, "the tree parser found too few names"
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"docs/ARCHITECTURE.md names files that do not exist: {', '.join(missing)}"


def test_every_package_is_named_in_architecture():
    named = tree_paths(ARCHITECTURE.read_text())
    missing = sorted(packages() - named)
    assert not missing, f"docs/ARCHITECTURE.md does not name these packages: {', '.join(missing)}"
