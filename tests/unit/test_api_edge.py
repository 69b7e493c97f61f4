"""The HTTP edge stays an edge: api/ calls db/ but never the UI, and nothing below it
(db/, components/, pages/) imports api/."""

from tests.unit.test_import_graph import graph


def test_api_imports_no_ui_and_only_app_py_imports_api() -> None:
    edges = graph()
    ui = [
        f"{source} -> {target}"
        for source, targets in edges.items()
        if source.startswith("api")
        for target in targets
        if target.startswith(("components", "pages"))
    ]
    assert ui == []
    importers = {
        source
        for source, targets in edges.items()
        if not source.startswith("api") and any(t.startswith("api") for t in targets)
    }
    assert importers == {"app"}
