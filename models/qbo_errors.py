"""The connection's errors that people act on: both are UserErrors, so that a button shows them as they are.

Apart from qbo_connection.py so that the engine and the feeds can raise and catch them without
importing the connection's model file (it is defined after the abstract models composing it).
"""
from odoo.exceptions import UserError


class QboReconnectNeeded(UserError):
    """The refresh token is dead (invalid_grant, revoked, hard expiry): an admin must reconnect.

    A UserError so that a button shows it as is; the cron catches it and stops that connection
    without marking any record failed.
    """


class QboDatabaseCopy(QboReconnectNeeded):
    """The tokens were issued to another database: this one is a copy and must not use them.

    Raised before any token leaves this database (API call, refresh or revoke), so that a copy
    never writes to, refreshes at, nor disconnects the original's QuickBooks company.
    """
