"""The layers import only what docs/architecture.md allows.

Read from the source (``ast``), so a forbidden import anywhere in a module
-- even inside a function -- fails here.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "selectchat"

# layer -> (modules it must never import, selectchat layers it must never import)
RULES = {
    "net": ({"matplotlib", "ipywidgets"}, {"irc", "chat", "server", "client", "trace", "bench", "grading"}),
    "irc": ({"socket", "select", "selectors", "time"}, {"chat", "server", "client", "trace", "bench", "grading"}),
    "chat": ({"socket", "select", "selectors", "time", "os", "threading"}, {"server", "client", "trace", "bench",
                                                                            "grading", "launch"}),
    "server": (set(), {"client", "trace", "bench", "grading"}),
    "trace": (set(), {"server", "client", "bench", "grading", "launch"}),
}


def imports_of(path):
    """(top-level module names, selectchat layers) that ``path`` imports."""
    tree = ast.parse(path.read_text(), str(path))
    depth = len(path.relative_to(PACKAGE).parts) - 1  # how deep inside selectchat/
    outside, layers = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                outside.add(alias.name.split(".")[0])
                if alias.name.startswith("selectchat."):
                    layers.add(alias.name.split(".")[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                outside.add((node.module or "").split(".")[0])
                if (node.module or "").startswith("selectchat."):
                    layers.add(node.module.split(".")[1])
            elif node.level > depth:  # from ..x import y: a sibling layer of selectchat
                target = (node.module or "").split(".")[0]
                layers.update([target] if target else [alias.name for alias in node.names])
    return outside, layers


# The command line of `selectchat server` wires the trace recorder in for --trace.
ALLOWED = {("server", "command.py"): {"trace"}}


@pytest.mark.parametrize("layer", sorted(RULES))
def test_each_layer_imports_only_what_it_may(layer):
    banned_modules, banned_layers = RULES[layer]
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        outside, layers = imports_of(path)
        layers -= ALLOWED.get((layer, path.name), set())
        assert not outside & banned_modules, f"{path.name} imports {outside & banned_modules}"
        assert not layers & banned_layers, f"{path.name} imports selectchat.{layers & banned_layers}"


def test_the_core_package_needs_only_the_standard_library():
    import sys
    stdlib = set(sys.stdlib_module_names) | {"selectchat", ""}
    for layer in ("net", "irc", "chat", "server"):
        for path in (PACKAGE / layer).rglob("*.py"):
            outside, _ = imports_of(path)
            assert outside <= stdlib, f"{path} imports {outside - stdlib}"


def test_the_rules_above_catch_a_forbidden_import(tmp_path, monkeypatch):
    # The checker itself must fail on a core module that reads the clock.
    fake = PACKAGE / "chat" / "core.py"
    source = fake.read_text() + "\nimport time\nfrom ..server import Server\n"
    copy = tmp_path / "selectchat" / "chat" / "core.py"
    copy.parent.mkdir(parents=True)
    copy.write_text(source)
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path / "selectchat")
    outside, layers = imports_of(copy)
    assert "time" in outside and "server" in layers
