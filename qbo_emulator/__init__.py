"""Local emulator of QuickBooks Online (Intuit OAuth 2.0 + Accounting API v3).

Standard library only; imported both as top-level ``qbo_emulator`` and as
``odoo.addons.quickbooks_online.qbo_emulator`` (relative imports only).

    from qbo_emulator import EmulatorServer
    srv = EmulatorServer(host='127.0.0.1', port=0, client_id='ID', client_secret='SECRET',
                         redirect_uris=['http://localhost:8069/cb'], state_file=None)
    srv.start(); ...; srv.stop()
"""
from .server import EmulatorServer
from .emulator import Emulator, SEED_REALM

__all__ = ['EmulatorServer', 'Emulator', 'SEED_REALM']
