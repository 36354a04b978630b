"""ARCHITECTURE.md's layers, checked against the package's imports.

The table "Layers" in ARCHITECTURE.md assigns every module of the package to a layer, by path
patterns under ``sklearn_lambda3/`` (the longest matching pattern wins). A module may import
modules of its own layer and of the layers below, never above; and from another module it
imports only public names (a private module is fine, a private name inside it is not), so no
module depends on a sibling's internals. Imports inside functions count: a lazy import is still
a dependency. The tests read the sources of the checkout they lie in (not an installed copy) and
its ARCHITECTURE.md.
"""

import ast
import fnmatch
import re
import sys
from pathlib import Path

REPOSITORY = next(p for p in Path(__file__).resolve().parents if (p / "ARCHITECTURE.md").exists())
PACKAGE = REPOSITORY / "sklearn_lambda3"
ARCHITECTURE = REPOSITORY / "ARCHITECTURE.md"


def layer_patterns():
    """``[(layer number, pattern)]`` from the rows ``| N name | `pattern`, … | … |`` of the table."""
    patterns = []
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*(\d+)\s[^|]*\|([^|]*)\|", line)
        if match:
            for pattern in re.findall(r"`([^`]+)`", match.group(2)):
                patterns.append((int(match.group(1)), pattern))
    return patterns


def module_paths():
    return sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py"))


def layer_of(path, patterns):
    matches = [(len(pattern), layer) for layer, pattern in patterns if fnmatch.fnmatchcase(path, pattern)]
    return max(matches)[1] if matches else None


def module_name(path):
    parts = ["sklearn_lambda3", *path[: -len(".py")].split("/")]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def path_of(name):
    """The source path (relative to the package) of a module name, or None if it is not one."""
    relative = name.split(".")[1:]
    for candidate in ("/".join(relative) + ".py", "/".join([*relative, "__init__.py"])):
        if relative and (PACKAGE / candidate).exists():
            return candidate
    if not relative:
        return "__init__.py"
    return None


def package_imports(path):
    """``(imported module, imported name or None, line)`` for each import of the package's own modules."""
    name = module_name(path)
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    tree = ast.parse((PACKAGE / path).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                if path_of(f"{source}.{alias.name}") is not None:
                    found.append((f"{source}.{alias.name}", None, node.lineno))
                else:
                    found.append((source, alias.name, node.lineno))
    return [item for item in found if item[0].split(".")[0] == "sklearn_lambda3"]


def test_every_module_has_one_layer():
    patterns = layer_patterns()
    assert patterns, "ARCHITECTURE.md has no layer table"
    unplaced = [path for path in module_paths() if layer_of(path, patterns) is None]
    assert not unplaced, f"modules in no layer of ARCHITECTURE.md: {unplaced}"
    stale = [pattern for _, pattern in patterns if not fnmatch.filter(module_paths(), pattern)]
    assert not stale, f"ARCHITECTURE.md names modules that do not exist: {stale}"


def test_no_module_imports_a_higher_layer():
    patterns = layer_patterns()
    upward = []
    for path in module_paths():
        own = layer_of(path, patterns)
        for target, _, line in package_imports(path):
            target_path = path_of(target)
            if target_path is None:
                continue
            target_layer = layer_of(target_path, patterns)
            if target_layer > own:
                upward.append(f"{path}:{line} imports {target} (layer {target_layer} > {own})")
    assert not upward, "\n".join(upward)


def test_no_module_imports_a_private_name_of_another():
    private = []
    for path in module_paths():
        for target, imported, line in package_imports(path):
            if imported is not None and imported.startswith("_") and not imported.startswith("__"):
                private.append(f"{path}:{line} imports {imported} from {target}")
    assert not private, "\n".join(private)


def test_the_checker_sees_a_violation(tmp_path, monkeypatch):
    # The rules above are only as good as the import parser: a planted upward, private import
    # must be found.
    fake = tmp_path / "sklearn_lambda3"
    (fake / "sub").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "low.py").write_text("def f():\n    from .high import _secret\n")
    (fake / "high.py").write_text("_secret = 1\n")
    (fake / "sub" / "__init__.py").write_text("from ..low import f\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert package_imports("low.py") == [("sklearn_lambda3.high", "_secret", 2)]
    assert package_imports("sub/__init__.py") == [("sklearn_lambda3.low", "f", 1)]
    assert layer_of("sub/__init__.py", [(1, "*"), (2, "sub/*")]) == 2
