"""The emulator is its own distribution: its wheel holds the package only, installs, and runs from it."""
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT, hreq


def _pip(*args, cwd):
    # --no-build-isolation: build with the setuptools already installed (no index needed)
    return subprocess.run([sys.executable, '-m', 'pip', *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp('wheels')
    # setuptools writes build/ and *.egg-info next to pyproject.toml: build a copy, not the checkout
    src = tmp_path_factory.mktemp('src') / 'emulator'
    shutil.copytree(os.path.join(ROOT, 'emulator'), src,
                    ignore=shutil.ignore_patterns('build', '*.egg-info', '__pycache__', '*.pyc'))
    res = _pip('wheel', str(src), '--no-deps', '--no-build-isolation', '-q', '-w', str(out), cwd=str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    wheels = list(out.glob('qbo_emulator-*.whl'))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_holds_the_package_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = {n for n in names if n.split('/')[0].endswith('.dist-info')}
    package = set(names) - dist_info
    assert package and all(n.startswith('qbo_emulator/') and n.endswith('.py') for n in package), sorted(package)
    assert 'qbo_emulator/__main__.py' in package and 'qbo_emulator/testing.py' in package
    assert not any('test_' in n or 'conftest' in n for n in names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in dist_info if n.endswith('/METADATA'))).decode()
    assert 'Name: qbo-emulator' in metadata and 'Requires-Python: >=3.10' in metadata
    assert 'Requires-Dist' not in metadata                      # standard library only
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in dist_info if n.endswith('/entry_points.txt')))
    assert b'qbo-emulator = qbo_emulator.__main__:main' in entry_points


@pytest.mark.parametrize('how', ['console_script', 'module'])
def test_installed_wheel_runs(wheel, tmp_path, how):
    target = tmp_path / 'site'
    res = _pip('install', '--no-deps', '--no-index', '-q', '--target', str(target), str(wheel), cwd=str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    # only the installed copy is importable: no checkout on the path, run from elsewhere
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['PYTHONPATH'] = str(target)
    cmd = [str(target / 'bin' / 'qbo-emulator')] if how == 'console_script' else [sys.executable, '-m', 'qbo_emulator']
    p = subprocess.Popen(cmd + ['--port', '0', '--client-id', 'ID', '--redirect-uri', 'http://localhost/cb',
                                '--latency-ms', '5', '--webhook-url', 'http://127.0.0.1:9/hook',
                                '--webhook-verifier-token', 'tok', '--webhook-format', 'legacy'],
                         cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = p.stdout.readline().split()[-1]
        assert url.startswith('http://127.0.0.1:'), (url, p.stderr.read() if p.poll() is not None else '')
        assert hreq(url, 'GET', '/_emulator/health').json() == {'ok': True}
        assert hreq(url, 'GET', '/_emulator/settings').json()['latency_ms'] == 5
        hook = hreq(url, 'GET', '/_emulator/apps/ID/webhook').json()['webhook']
        assert hook == {'url': 'http://127.0.0.1:9/hook', 'format': 'legacy', 'enabled': True, 'realm_ids': None,
                        'verifier_token_set': True}
        code = ('import qbo_emulator, sys; sys.stdout.write(qbo_emulator.__file__)')
        where = subprocess.run([sys.executable, '-c', code], cwd=str(tmp_path), env=env, capture_output=True,
                               text=True, timeout=60).stdout
        assert where.startswith(str(target)), where
    finally:
        p.terminate()
        p.wait(10)
