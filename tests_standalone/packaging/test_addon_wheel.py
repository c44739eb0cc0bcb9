"""The addon's wheel, built per Odoo series from one checkout: the addon only, with the right Odoo dependency.

Builds through pip and the repository's own PEP 517 backend (build_backend.py around whool), as a user
would: `pip wheel . -C odoo-series=19.0`.
"""
import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PREFIX = 'odoo/addons/quickbooks_online/'
# Development files of the repository: never in the addon wheel.
NOT_IN_ADDON = {'.ci', 'scripts', 'tests_standalone', 'emulator', 'bridges', 'build_backend.py', 'pyproject.toml',
                'requirements-dev.txt', '.pre-commit-config.yaml', '.editorconfig', '.gitignore'}
# What an Odoo addon folder may hold at its top level (besides plain Python modules such as const.py).
ADDON_LAYOUT = {'__init__.py', '__manifest__.py', 'README.rst', 'controllers', 'data', 'demo', 'i18n',
                'migrations', 'models', 'report', 'security', 'static', 'tests', 'tools', 'views', 'wizard'}


@pytest.fixture(scope='module', params=['18.0', '19.0'])
def wheel(request, tmp_path_factory):
    series = request.param
    out = tmp_path_factory.mktemp(f'wheel-{series}')
    # --no-build-isolation: whool comes from the test environment (requirements-dev.txt), no index needed.
    res = subprocess.run([sys.executable, '-m', 'pip', 'wheel', str(ROOT), '--no-deps', '--no-build-isolation',
                          '-q', '-C', f'odoo-series={series}', '-w', str(out)],
                         cwd=str(out), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    wheels = list(out.glob('*.whl'))
    assert len(wheels) == 1, wheels
    return series, wheels[0]


def _tracked_addon_files():
    files = subprocess.run(['git', 'ls-files'], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return {f for f in files if f.split('/')[0] not in NOT_IN_ADDON}


def test_wheel_is_named_and_versioned_for_its_series(wheel):
    series, path = wheel
    assert path.name.startswith(f'odoo_addon_quickbooks_online-{series}.1.0.0'), path.name
    with zipfile.ZipFile(path) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith('.dist-info/METADATA'))
        metadata = zf.read(meta_name).decode()
    assert 'Name: odoo-addon-quickbooks_online\n' in metadata
    assert f'Version: {series}.1.0.0' in metadata
    # whool derives the Odoo dependency from the series; account and web are Odoo core addons.
    requires = [line for line in metadata.splitlines() if line.startswith('Requires-Dist:')]
    assert requires == [f'Requires-Dist: odoo=={series}.*'], requires
    assert f'Framework :: Odoo :: {series}' in metadata


def test_wheel_holds_the_addon_and_only_the_addon(wheel):
    _series, path = wheel
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if not n.split('/')[0].endswith('.dist-info')]
        manifest_in_wheel = zf.read(PREFIX + '__manifest__.py').decode()
    assert names and all(n.startswith(PREFIX) for n in names), [n for n in names if not n.startswith(PREFIX)]
    files = {n[len(PREFIX):] for n in names}
    top = {f.split('/')[0] for f in files}
    assert not top & NOT_IN_ADDON, sorted(top & NOT_IN_ADDON)
    assert all(t in ADDON_LAYOUT or (t.endswith('.py') and '/' not in t) for t in top), sorted(top - ADDON_LAYOUT)
    # Exactly the git-tracked files of the addon: nothing missing, nothing untracked (.venv, .build, .demo).
    assert files == _tracked_addon_files(), sorted(files ^ _tracked_addon_files())
    # Every data file the manifest loads is shipped, and the manifest is the checkout's.
    manifest = ast.literal_eval(manifest_in_wheel)
    assert manifest_in_wheel == (ROOT / '__manifest__.py').read_text()
    assert set(manifest['data']) <= files, sorted(set(manifest['data']) - files)
