"""The addons of this repository: the core addon (the repository root) and the bridge addons under bridges/.

A bridge joins the core to an optional Odoo app (hr_timesheet, purchase...): it depends on both and is
auto-installed when both are. Shared by scripts/odoo_suite.py and scripts/demo_setup.py.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = 'quickbooks_online'


def bridges():
    """Names of the bridge addons (folders of bridges/ with a manifest), sorted."""
    return sorted(path.parent.name for path in (ROOT / 'bridges').glob('*/__manifest__.py'))


def addons():
    """The core addon, then the bridges."""
    return [CORE, *bridges()]


def manifest(name):
    """The manifest of one of this repository's addons."""
    path = ROOT / '__manifest__.py' if name == CORE else ROOT / 'bridges' / name / '__manifest__.py'
    return ast.literal_eval(path.read_text(encoding='utf-8'))
