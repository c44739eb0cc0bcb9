"""PEP 517 backend of every bridge addon: the repository's own (``../build_backend.py``), which reads the
addon's name from the bridge's pyproject.toml (``[tool.qbo] addon-name``) and builds one wheel per Odoo series.

Each bridge's ``build_backend.py`` is a symbolic link to this file (PEP 517's ``backend-path`` must stay
inside the bridge's folder, and one shim serves them all).
"""
import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "qbo_build_backend", Path(__file__).resolve().parents[1] / "build_backend.py")
_backend = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_backend)

build_wheel = _backend.build_wheel
build_editable = _backend.build_editable
build_sdist = _backend.build_sdist
prepare_metadata_for_build_wheel = _backend.prepare_metadata_for_build_wheel
prepare_metadata_for_build_editable = _backend.prepare_metadata_for_build_editable
