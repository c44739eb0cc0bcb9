"""Make the addon's Odoo-free parts and the emulator importable without Odoo.

`tools/` and `const.py` use package-relative imports (`from .. import const`); register a bare
`quickbooks_online` package pointing at the repository root - without running its __init__.py,
which imports Odoo - so that `quickbooks_online.tools.qbo_client` imports as it does inside Odoo.
"""
import os
import sys
import types

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
# The emulator is its own distribution (emulator/, top-level package `qbo_emulator`); scripts/test puts
# it on PYTHONPATH, this covers a bare `pytest` run from the checkout.
for path in (os.path.join(ROOT, 'emulator'), ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)
if 'quickbooks_online' not in sys.modules:
    package = types.ModuleType('quickbooks_online')
    package.__path__ = [ROOT]
    sys.modules['quickbooks_online'] = package
