"""Make the addon's Odoo-free parts importable without Odoo.

`tools/` and `const.py` use package-relative imports (`from .. import const`); register a bare
`quickbooks_online` package pointing at the repository root - without running its __init__.py,
which imports Odoo - so that `quickbooks_online.tools.qbo_client` imports as it does inside Odoo.
"""
import os
import sys
import types

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
if 'quickbooks_online' not in sys.modules:
    package = types.ModuleType('quickbooks_online')
    package.__path__ = [ROOT]
    sys.modules['quickbooks_online'] = package
