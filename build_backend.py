"""PEP 517 backend: whool, with the addon name fixed, one Odoo series per build, and the addon only.

Three things whool (1.3) cannot be told, done here around its internals:

* **The addon name** is ``quickbooks_online`` whatever the checkout folder is called (a bridge addon under
  ``bridges/`` names its own: ``[tool.qbo] addon-name`` of the pyproject.toml being built). whool takes it
  from the folder being built (manifestoo-core's ``metadata_from_addon_dir`` uses
  ``addon_dir.absolute().name``), so it is pointed at a symlink of that name (in a temporary folder)
  to the checkout. ``absolute()`` keeps the symlink's name while git still sees the real checkout.
  whool's public hooks build ``Path.cwd()``, always the resolved path, hence the calls to its
  internal ``_build_wheel``/``_build_sdist``/``_get_metadata`` (whool is pinned to 1.x for that).
* **The Odoo series.** One main serves 18.0 and 19.0: the manifest's version is ``x.y.z`` (Odoo
  prefixes the running series itself), and the series of a build is chosen with the config setting
  ``odoo-series`` (``pip wheel . -C odoo-series=18.0``) or the environment variable
  ``QBO_ODOO_SERIES``; default :data:`DEFAULT_SERIES`. It is passed to manifestoo-core as
  ``odoo_series_override`` (so the wheel requires ``odoo==<series>.*``) and prefixed to the version:
  ``19.0.1.0.0`` (plus whool's ``.N`` commit counter after the last version change).
* **The addon only.** whool packs every git-tracked file; the development files of this repository
  (:data:`NOT_IN_ADDON`: scripts, CI, the standalone tests, the emulator's own distribution, build
  and lint configuration) are left out of the wheel. The sdist keeps the build files it needs.
"""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

from manifestoo_core.metadata import metadata_from_addon_dir
from whool import buildapi as _whool
from whool.utils import load_pyproject_toml

ADDON_NAME = "quickbooks_online"  # the repository root's addon; bridges name theirs in [tool.qbo] addon-name
SUPPORTED_SERIES = ("18.0", "19.0")
DEFAULT_SERIES = "19.0"
SERIES_SETTING = "odoo-series"
SERIES_ENV = "QBO_ODOO_SERIES"
#: Build files: in the sdist (to rebuild it), never in the wheel.
BUILD_FILES = ("build_backend.py", "pyproject.toml")
#: Top-level entries of the repository that are not part of the addon.
NOT_IN_ADDON = (
    ".ci", "scripts", "tests_standalone", "emulator", "requirements-dev.txt",
    ".pre-commit-config.yaml", ".editorconfig", ".gitignore",
    "bridges",  # the bridge addons: each its own wheel (bridges/<addon>/pyproject.toml)
)


def odoo_series(config_settings=None):
    """The Odoo series to build for: config setting, environment, else the default."""
    series = ((config_settings or {}).get(SERIES_SETTING) or os.environ.get(SERIES_ENV) or DEFAULT_SERIES).strip()
    if "." not in series:
        series += ".0"
    if series not in SUPPORTED_SERIES:
        raise ValueError(f"unsupported Odoo series {series!r} ({SERIES_SETTING} / {SERIES_ENV}); "
                         f"supported: {', '.join(SUPPORTED_SERIES)}")
    return series


def _metadata_for(series):
    """whool's ``_get_metadata`` for one series (see the module docstring)."""

    def get_metadata(addon_dir):
        pkg_info = addon_dir / "PKG-INFO"
        options = load_pyproject_toml(addon_dir).get("tool", {}).get("whool", {})
        strategy = os.getenv("WHOOL_POST_VERSION_STRATEGY_OVERRIDE")
        if strategy:
            options["post_version_strategy_override"] = strategy
        own_series = series
        if pkg_info.is_file():  # building from our sdist: its version already names the series
            version = _whool._get_pkg_info_metadata(addon_dir)["Version"]
            own_series = ".".join(version.split(".")[:2])
        options["odoo_series_override"] = own_series
        metadata = metadata_from_addon_dir(addon_dir, options, precomputed_metadata_file=pkg_info)
        version = metadata["Version"]
        if not version.startswith(own_series + "."):
            metadata.replace_header("Version", f"{own_series}.{version}")
        return metadata

    return get_metadata


def _copy_for(leave_out):
    """whool's ``_copy_to`` (git-tracked files), then remove the top-level entries ``leave_out``."""
    copy_to = _whool._copy_to

    def copy(addon_dir, dst):
        copy_to(addon_dir, dst)
        for name in leave_out:
            path = dst / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()

    return copy


@contextlib.contextmanager
def _whool_for(config_settings, leave_out):
    """Patch whool's metadata and copy helpers for one build; yield the addon dir to build."""
    saved = _whool._get_metadata, _whool._copy_to
    _whool._get_metadata = _metadata_for(odoo_series(config_settings))
    _whool._copy_to = _copy_for(leave_out)
    try:
        with _addon_dir() as addon_dir:
            yield addon_dir
    finally:
        _whool._get_metadata, _whool._copy_to = saved


def addon_name(root=None):
    """The addon built from `root` (default: the current directory): its ``[tool.qbo] addon-name``, else
    :data:`ADDON_NAME`."""
    root = Path(root or Path.cwd())
    return load_pyproject_toml(root).get("tool", {}).get("qbo", {}).get("addon-name") or ADDON_NAME


@contextlib.contextmanager
def _addon_dir():
    """Yield a path named after the addon (see `addon_name`) that points to the checkout."""
    root = Path.cwd()
    name = addon_name(root)
    if root.name == name:
        yield root
        return
    with tempfile.TemporaryDirectory() as tmp:
        link = Path(tmp) / name
        link.symlink_to(root, target_is_directory=True)
        yield link


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with _whool_for(config_settings, NOT_IN_ADDON + BUILD_FILES) as addon_dir:
        return _whool._build_wheel(addon_dir, Path(wheel_directory), editable=False)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    root = Path.cwd()
    with _whool_for(config_settings, ()) as addon_dir:
        name = _whool._build_wheel(addon_dir, Path(wheel_directory), editable=True)
    # whool links build/__editable__/odoo/addons/<addon> to the (now gone) temporary
    # symlink; point it at the checkout itself.
    link = root / "build" / "__editable__" / "odoo" / "addons" / addon_name(root)
    if link.is_symlink() and link.resolve() != root.resolve():
        link.unlink()
        link.symlink_to(root.resolve(), target_is_directory=True)
    return name


def build_sdist(sdist_directory, config_settings=None):
    with _whool_for(config_settings, NOT_IN_ADDON) as addon_dir:
        return _whool._build_sdist(addon_dir, Path(sdist_directory))


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    with _whool_for(config_settings, ()) as addon_dir:
        return _whool._make_dist_info(_whool._get_metadata(addon_dir), Path(metadata_directory))


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel
