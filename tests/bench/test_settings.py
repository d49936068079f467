"""The bench is a tool beside the product: its own settings and URLconf, imported by nothing the
product ships, importing nothing from the tests, and left out of the Docker image."""

import ast
import importlib
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

from accounts.models import User

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parent.parent.parent


def imported_modules(folder: Path) -> set[str]:
    """Every module any file under `folder` imports (absolute imports, top-level or nested)."""
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    return found


def product_packages() -> list[Path]:
    return [
        path.parent
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"bench", "tests"} and not path.parent.name.startswith(".")
    ]


def test_bench_settings_are_the_projects_plus_the_bench_urlconf() -> None:
    product = importlib.import_module("saas.settings")
    bench = importlib.import_module("bench.settings")
    names = {name for name in dir(product) if name.isupper()}

    assert bench.ROOT_URLCONF == "bench.urls"
    assert {name for name in dir(bench) if name.isupper()} == names
    assert [n for n in names if n != "ROOT_URLCONF" and getattr(bench, n) != getattr(product, n)] == []
    assert product.ROOT_URLCONF == "saas.urls"


def test_the_bench_collects_static_files_outside_the_checkout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Other test workers' WhiteNoise scans the checkout's `staticfiles/`: a collectstatic writing
    there at the same time made one of them fail on a file that vanished under it."""
    monkeypatch.setenv("BENCH_STATIC_ROOT", str(tmp_path))
    bench = importlib.reload(importlib.import_module("bench.settings"))
    try:
        assert tmp_path == bench.STATIC_ROOT
    finally:
        monkeypatch.delenv("BENCH_STATIC_ROOT")
        importlib.reload(bench)
    assert bench.STATIC_ROOT == importlib.import_module("saas.settings").STATIC_ROOT


def test_the_bare_view_is_routed_by_the_bench_urlconf_only() -> None:
    assert resolve("/__bench__/bare/", urlconf="bench.urls").url_name == "bench_bare"
    with pytest.raises(Resolver404):
        resolve("/__bench__/bare/")  # the product's URLconf


def test_the_signed_in_floor_is_routed_by_the_bench_urlconf_only() -> None:
    assert resolve("/__bench__/signed-in/", urlconf="bench.urls").url_name == "bench_signed_in"
    with pytest.raises(Resolver404):
        resolve("/__bench__/signed-in/")


@pytest.mark.urls("bench.urls")
def test_the_signed_in_floor_loads_the_sessions_user_and_refuses_without_one(
    client: Client, user: User
) -> None:
    assert client.get("/__bench__/signed-in/").status_code == 403  # a bench without a session fails

    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/__bench__/signed-in/")

    assert response.status_code == 200
    assert "Signed in as ann@example.com (Ann)." in response.content.decode()
    assert any("accounts_user" in query["sql"] for query in queries.captured_queries)


def test_the_product_imports_nothing_from_the_bench() -> None:
    packages = product_packages()
    assert {"saas", "core", "accounts"} <= {path.name for path in packages}

    for package in packages:
        bench_imports = {m for m in imported_modules(package) if m == "bench" or m.startswith("bench.")}
        assert bench_imports == set(), f"{package.name}/ imports {bench_imports}"


def names_of_the_tests(folder: Path) -> set[str]:
    """String constants naming the tests package or a path in it (`-m tests.x`, `ROOT / "tests"`)."""
    return {
        node.value
        for path in folder.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (node.value == "tests" or node.value.startswith(("tests.", "tests/")))
    }


def test_the_bench_uses_nothing_from_the_tests() -> None:
    modules = imported_modules(ROOT / "bench")

    assert {m for m in modules if m == "tests" or m.startswith("tests.")} == set()
    assert names_of_the_tests(ROOT / "bench") == set()  # neither run as a module nor read as a file


def test_the_docker_image_leaves_the_bench_out() -> None:
    ignored = {line.strip().strip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}

    assert "bench" in ignored
