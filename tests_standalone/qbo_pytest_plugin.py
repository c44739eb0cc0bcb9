"""pytest plugin for the standalone suite: treat the addon's root as a plain directory.

The repository root is the Odoo addon, so it has an __init__.py that imports Odoo. pytest (>= 8)
would collect the root as a Python package and import that __init__.py, named after whatever the
checkout folder is called. Loaded with `-p qbo_pytest_plugin` (see scripts/test), so that it
applies before the root is collected; it lives outside the package for the same reason.
"""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_collect_directory(path, parent):
    if Path(path).resolve() == ROOT:
        return pytest.Dir.from_parent(parent, path=path)
    return None
