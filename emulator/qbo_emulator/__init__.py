"""Local emulator of QuickBooks Online (Intuit OAuth 2.0 + Accounting API v3).

Standard library only; the distribution ``qbo-emulator`` (``emulator/`` in the connector's
repository), imported as the top-level package ``qbo_emulator``. See ``emulator/README.rst``.

    from qbo_emulator import EmulatorServer
    srv = EmulatorServer(host='127.0.0.1', port=0, client_id='ID', client_secret='SECRET',
                         redirect_uris=['http://localhost:8069/cb'], state_file=None)
    srv.start(); ...; srv.stop()
"""
from .server import EmulatorServer
from .emulator import Emulator, SEED_REALM

__all__ = ['EmulatorServer', 'Emulator', 'SEED_REALM']
