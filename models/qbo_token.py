from odoo import fields, models

from . import qbo_compat


class QboToken(models.Model):
    """OAuth tokens of a QuickBooks connection, in their own system-only table.

    Why a separate model: the access token is refreshed (and the refresh token rotated) in a
    short transaction of its own, under a row lock, and committed at once so that a rotated refresh
    token is never lost. Keeping the tokens out of the `qbo_connection` row means that refresh never
    conflicts with a caller's transaction that writes the connection (status, company info).
    Only administrators (base.group_system) have any access to this model.
    """
    _name = 'qbo.token'
    _description = 'QuickBooks Online OAuth tokens'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True)
    # The database that connected (database.uuid/name): a copy never refreshes nor revokes the tokens.
    database_uuid = fields.Char('Connected from database', copy=False)
    # A pending token set belongs to a consent for a *different* realm that the admin must confirm.
    is_pending = fields.Boolean(default=False)
    realm_id = fields.Char(required=True)
    access_token = fields.Char(copy=False)
    access_token_expiry = fields.Datetime(copy=False)
    refresh_token = fields.Char(copy=False)
    refresh_token_expiry = fields.Datetime(copy=False)
    refresh_token_hard_expiry = fields.Datetime(copy=False)

    _connection_pending_uniq = qbo_compat.Constraint(
        'unique(connection_id, is_pending)',
        'A QuickBooks connection has one active and at most one pending token set.')


class QboOAuthNonce(models.Model):
    """The single-use nonce of a Connect in progress, carried (signed) in the OAuth `state`.

    Created by the Connect button, deleted by the callback before the authorization code is
    exchanged (see `qbo.connection._qbo_verify_state`): a callback URL opened again finds no
    nonce and is refused. A row of its own, not a field of the connection: the callback consumes
    it on a cursor of its own, which must not wait for a transaction that wrote the connection
    (settings saved, then Connect). Only administrators have any access to this model.
    """
    _name = 'qbo.oauth.nonce'
    _description = 'QuickBooks Online OAuth nonce'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True)
    nonce = fields.Char(required=True, copy=False)
