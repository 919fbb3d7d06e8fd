"""What a student's file may not use, checked from its source (the AST), before anything runs.

A lab may forbid importing selectchat's own implementation of what it asks
(``forbid_imports`` in ``rubric.toml``; its README says so).  Every lab also
forbids what would reach into the test run itself -- pytest, the grader,
the garbage collector, ctypes, dynamic imports and ``exec`` -- which no lab
needs.  This is checked on the source, so it is a bar, not a wall: see
docs/labs.md on grading in a container.
"""

import ast

ALWAYS_FORBIDDEN = ("pytest", "_pytest", "pluggy", "selectchat.grading", "gc", "ctypes", "importlib",
                    "inspect", "faulthandler")
FORBIDDEN_CALLS = ("__import__", "exec", "eval", "compile", "breakpoint")


def _matches(module, forbidden):
    return any(module == name or module.startswith(name + ".") for name in forbidden)


def forbidden_uses(source, forbidden_modules, filename="<file>"):
    """The sentences that say what ``source`` uses and may not; [] if nothing."""
    forbidden = (*ALWAYS_FORBIDDEN, *forbidden_modules)
    try:
        tree = ast.parse(source, filename)
    except SyntaxError:
        return []          # the tests will say so, with the line
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
            found.append(f"{filename}, line {node.lineno}: calls {node.func.id}(), which the labs do not allow")
            continue
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _matches(node.value, forbidden):
            modules = [node.value]     # a module name in a string: a dynamic import in the making
        else:
            continue
        bad = next((m for m in modules if _matches(m, forbidden)), None)
        if bad:
            why = ("this lab asks you to write it yourself" if _matches(bad, forbidden_modules)
                   else "it reaches into the test run")
            found.append(f"{filename}, line {node.lineno}: uses {bad}, which this lab forbids ({why})")
    return found
