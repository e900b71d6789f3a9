"""lib is the foundation: it imports no app of the portal (only Django, the standard library, third parties)."""

import ast
import pathlib

APPS = {"cells", "meetings", "scoring", "reports", "demo", "config", "bench"}


def test_lib_imports_no_app():
    root = pathlib.Path(__file__).resolve().parents[2] / "lib"
    found = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            found += [f"{path.name}: {name}" for name in names if name.split(".")[0] in APPS]
    assert found == []
