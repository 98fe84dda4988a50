"""The package reads like a map and its layers point one way: checked on the source itself, so a change that breaks a
rule fails here (issue 15's rules: no private cross-module import, data below carbon, package data by
importlib.resources, no duration asserts in tests)."""
from __future__ import annotations

import ast
import re

from _paths import REPO

CODE = [p for d in ("seal", "app_pages") for p in (REPO / d).rglob("*.py")] + [REPO / "app.py"]


def _module(path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)


def test_no_private_name_is_imported_or_used_across_modules():
    found = []
    for path in CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        here = _module(path)
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("seal"):
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__") and node.module != here:
                        found.append(f"{path.relative_to(REPO)}:{node.lineno} imports {node.module}.{a.name}")
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("seal"):
                        aliases[a.asname or a.name.split(".")[0]] = a.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases \
                    and node.attr.startswith("_") and not node.attr.startswith("__"):
                found.append(f"{path.relative_to(REPO)}:{node.lineno} uses {node.value.id}.{node.attr}")
    assert not found, found


def test_the_data_layer_never_imports_carbon_ui_or_the_app():
    found = []
    for path in (REPO / "seal" / "data").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            found += [f"{path.name}:{node.lineno} {n}" for n in names
                      if n.startswith(("seal.carbon", "seal.ui", "seal.stream", "seal.api", "app_pages"))]
    assert not found, found


def test_no_path_is_built_by_walking_up_from_a_file():
    hits = [f"{p.relative_to(REPO)}:{i}" for d in ("seal", "app_pages", "tests") for p in (REPO / d).rglob("*.py")
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if "parents[" in line
            and p.name != "test_layout.py"]
    assert not hits, hits


def test_no_test_asserts_a_duration_or_sleeps():
    # an upper bound on a measured time (elapsed, wall, perf_counter ...) or a sleep; "wall_s > 0" is no timing assert
    # spelt in parts, so these lines are no hit themselves
    sleep = "time" + r"\.sleep\("
    timer = r"(elapsed|duration|perf_counter|monotonic|time\.time|wall)\w*\)? *<"
    pattern = re.compile("ass" + r"ert .*" + timer + "|" + sleep)
    hits = [f"{p.name}:{i}" for p in (REPO / "tests").glob("*.py")
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert not hits, hits


def test_the_layout_the_docs_describe_is_the_tree():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Project layout"):readme.index("## Licences")]
    text = layout + (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"\b((?:seal|app_pages|bench|tests)/[\w./-]*\w)", text))
    assert len(paths) > 20
    missing = sorted(p for p in paths if not (REPO / p).exists())
    assert not missing, missing
    top = {p.name for p in (REPO / "seal").iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert top <= {m.rstrip("/").split("/")[1] for m in re.findall(r"seal/\w+/", layout)}, top   # every package named


def test_every_function_in_the_package_is_under_60_lines():
    # a function that long holds several ideas; split it into named steps (CONTRIBUTING.md "Naming rules")
    long = [f"{p.relative_to(REPO)}:{n.lineno} {n.name} ({n.end_lineno - n.lineno + 1} lines)"
            for p in (REPO / "seal").rglob("*.py") for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 >= 60]
    assert not long, long
