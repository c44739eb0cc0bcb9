"""PEP 517 backend: whool, but with the addon name fixed to ``quickbooks_online``.

Why: this repository's git root *is* the addon, and whool (1.3) has no setting for the
addon name: it takes it from the name of the folder being built (manifestoo-core's
``metadata_from_addon_dir`` uses ``addon_dir.absolute().name``). A clone in ``main/``
would therefore build ``odoo_addon_main-*.whl`` with the files under ``odoo/addons/main/``.

How: whool is pointed at a symlink named ``quickbooks_online`` (in a temporary folder)
to the checkout. ``absolute()`` keeps the symlink's name, while git still sees the real
checkout, so whool's behaviour is otherwise unchanged: only git-tracked files are
packed (``.venv/``, ``.build/``, ``.demo/`` are git-ignored), the version comes from
the manifest plus git history. The symlink is needed because whool's public hooks
build ``Path.cwd()``, which is always the resolved path; so the helpers below call
whool's internal ``_build_wheel``/``_build_sdist``/``_get_metadata`` (whool is pinned
to 1.x in pyproject.toml for that reason). This file is left out of the wheel.
"""

import contextlib
import tempfile
from pathlib import Path

from whool import buildapi as _whool

ADDON_NAME = "quickbooks_online"
_THIS_FILE = Path(__file__).name


@contextlib.contextmanager
def _addon_dir():
    """Yield a path named ADDON_NAME that points to the checkout."""
    root = Path.cwd()
    if root.name == ADDON_NAME:
        yield root
        return
    with tempfile.TemporaryDirectory() as tmp:
        link = Path(tmp) / ADDON_NAME
        link.symlink_to(root, target_is_directory=True)
        yield link


_copy_to = _whool._copy_to


def _copy_to_without_this_file(addon_dir, dst):
    _copy_to(addon_dir, dst)
    _whool._ensure_absent([dst / _THIS_FILE])


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with _addon_dir() as addon_dir:
        _whool._copy_to = _copy_to_without_this_file
        try:
            return _whool._build_wheel(addon_dir, Path(wheel_directory), editable=False)
        finally:
            _whool._copy_to = _copy_to


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    root = Path.cwd()
    with _addon_dir() as addon_dir:
        name = _whool._build_wheel(addon_dir, Path(wheel_directory), editable=True)
    # whool links build/__editable__/odoo/addons/<addon> to the (now gone) temporary
    # symlink; point it at the checkout itself.
    link = root / "build" / "__editable__" / "odoo" / "addons" / ADDON_NAME
    if link.is_symlink() and link.resolve() != root.resolve():
        link.unlink()
        link.symlink_to(root.resolve(), target_is_directory=True)
    return name


def build_sdist(sdist_directory, config_settings=None):
    with _addon_dir() as addon_dir:
        return _whool._build_sdist(addon_dir, Path(sdist_directory))


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    with _addon_dir() as addon_dir:
        return _whool._make_dist_info(_whool._get_metadata(addon_dir), Path(metadata_directory))


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel
