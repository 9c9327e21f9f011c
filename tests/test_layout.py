"""The shape of the package (README, Layout) that import-linter cannot check."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "rnnatlas"
MAX_LINES = 400
LONG_REASON = "Long because"  # a module over MAX_LINES says why in its docstring


def _modules():
    return sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_private_name_is_imported_across_modules():
    offences = []
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rnnatlas"):
                private = [a.name for a in node.names if a.name.startswith("_")]
                if private and node.module != _module_name(path):
                    offences.append(f"{path.relative_to(PACKAGE)}: {node.module} {private}")
    assert not offences, "private names imported across modules:\n" + "\n".join(offences)


def test_long_modules_say_why():
    offences = []
    for path in _modules():
        lines = path.read_text().count("\n")
        if lines > MAX_LINES:
            docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
            if LONG_REASON not in docstring:
                offences.append(f"{path.relative_to(PACKAGE)}: {lines} lines")
    assert not offences, (
        f"modules over {MAX_LINES} lines without '{LONG_REASON} ...' in their docstring:\n"
        + "\n".join(offences)
    )


def test_every_registered_paper_has_its_package_and_rule_files():
    from rnnatlas.papers.registry import PAPERS

    rules = PACKAGE.parents[1] / "workflow" / "rules"
    for paper in PAPERS:
        package = PACKAGE / "papers" / paper.name
        for module in ("steps", "claims", "checks", "section", "reference"):
            assert (package / f"{module}.py").exists(), f"{paper.name}: {module}.py missing"
        for rule_file in (f"{paper.name}.smk", f"{paper.name}_files.smk"):
            assert (rules / rule_file).exists(), f"{paper.name}: {rule_file} missing"


def test_no_rule_runs_a_shell():
    # every rule reaches Python through workflow/scripts/step.py: no config value is ever
    # pasted into a command line
    workflow = PACKAGE.parents[1] / "workflow"
    offenders = [
        f"{path.relative_to(workflow)}:{number}"
        for path in sorted(workflow.rglob("*.smk"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if line.strip().startswith(("shell:", "run:"))
    ]
    assert not offenders, f"rules with shell:/run: {offenders}"
    scripts = {
        line.strip()
        for path in workflow.rglob("*.smk")
        for line in path.read_text().splitlines()
        if line.strip().startswith('"../scripts/')
    }
    assert scripts == {'"../scripts/step.py"'}
