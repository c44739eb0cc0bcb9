"""The demo command's network exposure (issue 24, point 7): Odoo and the emulator listen on loopback only.

The demo has a known admin password and fake QuickBooks credentials: scripts/demo must bind both servers
to 127.0.0.1 unless an address is asked for. Its address logic is run here in bash, as the script runs it.
"""
import os
import re
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DEMO = os.path.join(ROOT, 'scripts', 'demo')


def _addresses(env):
    """ODOO_IFACE, EMU_IFACE and ODOO_BASE as scripts/demo computes them for `env`."""
    with open(DEMO, encoding='utf-8') as f:
        script = f.read()
    wanted = [line for line in script.splitlines()
              if re.match(r'(PORT|ODOO_IFACE|EMU_IFACE|ODOO_HOST|EMU_HOST)=|local_host\(\)|case "\$ODOO_HOST"', line)]
    assert len(wanted) == 7, wanted
    out = subprocess.run(['bash', '-c', '\n'.join(wanted + ['echo "$ODOO_IFACE $EMU_IFACE $ODOO_BASE"'])],
                         env=dict({'PATH': os.environ['PATH']}, **env), capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_demo_listens_on_loopback_unless_asked():
    assert _addresses({}) == ['127.0.0.1', '127.0.0.1', 'http://localhost:8069']
    # Every address only when asked; the browser and the emulator still reach it on loopback.
    assert _addresses({'QBO_DEMO_INTERFACE': '0.0.0.0'}) == ['0.0.0.0', '127.0.0.1', 'http://localhost:8069']
    assert _addresses({'QBO_DEMO_INTERFACE': '192.0.2.5'}) == ['192.0.2.5', '127.0.0.1', 'http://192.0.2.5:8069']


def test_demo_passes_the_address_to_both_servers():
    with open(DEMO, encoding='utf-8') as f:
        script = f.read()
    assert re.search(r'odoo-bin"[^\n]*\\\n\s*--http-interface "\$ODOO_IFACE"', script)
    assert '-m qbo_emulator --host "$EMU_IFACE"' in script, "the emulator's address"
