"""The bridge addons of bridges/: each its own wheel per Odoo series, depending on the core addon's wheel and on
the Odoo app it bridges to, holding its addon only; and the core addon never depends on a bridged app.

Built through pip and the repository's backend (bridges/<addon>/build_backend.py loads ../../build_backend.py),
as a user would: `pip wheel bridges/<addon> -C odoo-series=19.0`.
"""
import ast
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BRIDGES = sorted(path.parent.name for path in (ROOT / 'bridges').glob('*/__manifest__.py'))
BUILD_FILES = {'build_backend.py', 'pyproject.toml'}
# Odoo apps the core addon must never pull in (the bridges do, when the user installs them).
BRIDGED_APPS = ('hr', 'project', 'purchase', 'sale', 'timesheet')


def _manifest(path):
    return ast.literal_eval(Path(path).read_text(encoding='utf-8'))


@pytest.fixture(scope='module', params=[(b, s) for b in BRIDGES for s in ('18.0', '19.0')],
                ids=lambda p: f'{p[0]}-{p[1]}')
def wheel(request, tmp_path_factory):
    bridge, series = request.param
    out = tmp_path_factory.mktemp(f'{bridge}-{series}')
    res = subprocess.run([sys.executable, '-m', 'pip', 'wheel', str(ROOT / 'bridges' / bridge), '--no-deps',
                          '--no-build-isolation', '-q', '-C', f'odoo-series={series}', '-w', str(out)],
                         cwd=str(out), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    wheels = list(out.glob('*.whl'))
    assert len(wheels) == 1, wheels
    return bridge, series, wheels[0]


def test_there_is_a_bridge():
    assert 'quickbooks_online_hr_timesheet' in BRIDGES


@pytest.mark.parametrize('bridge', BRIDGES)
def test_bridge_manifest(bridge):
    """auto_install, on the core addon and the optional app only."""
    manifest = _manifest(ROOT / 'bridges' / bridge / '__manifest__.py')
    assert manifest['auto_install'] is True
    assert 'quickbooks_online' in manifest['depends'] and len(manifest['depends']) >= 2
    assert manifest['version'].count('.') == 2, "x.y.z: the series is prefixed at build time"


def test_bridge_wheel(wheel):
    bridge, series, path = wheel
    prefix = f'odoo/addons/{bridge}/'
    assert path.name.startswith(f'odoo_addon_{bridge}-{series}.1.0.0'), path.name
    with zipfile.ZipFile(path) as zf:
        metadata = zf.read(next(n for n in zf.namelist() if n.endswith('.dist-info/METADATA'))).decode()
        names = [n for n in zf.namelist() if not n.split('/')[0].endswith('.dist-info')]
    assert f'Version: {series}.1.0.0' in metadata
    requires = sorted(line for line in metadata.splitlines() if line.startswith('Requires-Dist:'))
    # The core addon's wheel (its own distribution), Odoo of the series; hr_timesheet is an Odoo core addon.
    assert f'Requires-Dist: odoo-addon-quickbooks_online=={series}.*' in requires, requires
    assert f'Requires-Dist: odoo=={series}.*' in requires, requires
    assert names and all(n.startswith(prefix) for n in names), names
    files = {n[len(prefix):] for n in names}
    assert not files & BUILD_FILES
    tracked = subprocess.run(['git', 'ls-files'], cwd=ROOT / 'bridges' / bridge, capture_output=True, text=True,
                             check=True).stdout.split()
    assert files == set(tracked) - BUILD_FILES, sorted(files ^ (set(tracked) - BUILD_FILES))


def test_core_wheel_leaves_the_bridges_out():
    """The core's build_backend leaves bridges/ out of the core addon's wheel (each bridge is its own)."""
    sys.path.insert(0, str(ROOT))
    try:
        import build_backend  # noqa: PLC0415
    finally:
        sys.path.pop(0)
    assert 'bridges' in build_backend.NOT_IN_ADDON
    assert build_backend.addon_name(ROOT) == 'quickbooks_online'
    assert build_backend.addon_name(ROOT / 'bridges' / BRIDGES[0]) == BRIDGES[0]


@pytest.mark.parametrize('odoo_src', ['/opt/odoo18', '/opt/odoo19'])
def test_core_addon_alone_pulls_in_no_bridged_app(odoo_src):
    """Installing quickbooks_online installs no HR, project, sales or purchase app (the manifests' closure)."""
    addons = Path(os.environ.get('ODOO_SRC' if odoo_src.endswith('18') else 'ODOO19_SRC', odoo_src)) / 'addons'
    if not addons.is_dir():
        pytest.skip(f'no Odoo tree at {addons.parent}')
    closure, todo = set(), list(_manifest(ROOT / '__manifest__.py')['depends'])
    while todo:
        name = todo.pop()
        if name in closure:
            continue
        closure.add(name)
        for folder in (addons, addons.parent / 'odoo' / 'addons'):
            if (folder / name / '__manifest__.py').is_file():
                todo.extend(_manifest(folder / name / '__manifest__.py').get('depends', []))
                break
    assert 'account' in closure
    assert not {name for name in closure if name.startswith(BRIDGED_APPS)}, sorted(closure)
