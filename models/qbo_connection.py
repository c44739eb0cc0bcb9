import logging
import math
import re
import secrets
import threading
import time
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.http import request
from odoo.tools import SQL, consteq
from odoo.tools.misc import hmac as hmac_tool

from .. import const
from ..tools import QboClient, QboError, QboOAuthClient
from ..tools.qbo_client import endpoints_for
from ..tools.qbo_exceptions import QboAuthError, QboForbiddenError, is_auth_failure
from . import qbo_compat
from .qbo_errors import QboDatabaseCopy, QboReconnectNeeded

_logger = logging.getLogger(__name__)

# Access tokens this process obtained by a refresh, {(database, connection id): (token, expiry)}.
# A caller whose transaction started before the refresh committed (on its own cursor) would read
# the old token back; this is where it finds the new one.
_REFRESHED_TOKENS = {}
_REFRESHED_LOCK = threading.Lock()
# No slot in the shared limiter without a 429 pause: the cron tries again after this many seconds.
LOCAL_THROTTLE_RETRY_SECONDS = 10


class QboConnection(models.Model):
    """The link between one Odoo company and one QuickBooks Online company (realm).

    Holds the connection status and what QuickBooks told us about itself (CompanyInfo,
    Preferences). The OAuth tokens live in `qbo.token` (system only). Every API client is built
    by `_qbo_get_client()`, which refreshes the access token first when needed.

    The model is defined here only; its other concerns are abstract models of their own files,
    composed below (`_inherit`), each owning its fields and methods: no file reopens this model.
    They may extend `write` (each calls super); what they add to a method defined here is called
    from it by name (see `_qbo_store_tokens`, `_cron_qbo_after_connect`).
    """
    _name = 'qbo.connection'
    _description = 'QuickBooks Online connection'
    _inherit = [
        'mail.thread', 'mail.activity.mixin',
        'qbo.connection.settings',          # qbo_connection_settings.py: per-connection settings
        'qbo.connection.references',        # qbo_mapping.py: reference data import, default matching
        'qbo.connection.rate.limit',        # qbo_rate_limit.py: the shared limiter, metered reads
        'qbo.connection.inbound',           # qbo_connection_inbound.py: webhooks, keep-alive
        'qbo.connection.change.feed',       # qbo_change_feed.py: CDC polling and catch-up
        'qbo.connection.auto.send',         # qbo_auto_send.py: automatic sending
        'qbo.connection.payment.export',    # account_payment.py: Odoo payments to QuickBooks
        'qbo.connection.match',             # qbo_match.py: the match review of a first connection
        'qbo.connection.dashboard',         # qbo_dashboard.py: the connection's dashboard
        'qbo.connection.mirror',            # qbo_open_document.py: the mirror of QuickBooks' open documents
        'qbo.connection.reconciliation',    # qbo_reconciliation.py: the ledgers compared
    ]
    _check_company_auto = True

    # ------------------------------------------------------------------ fields

    name = fields.Char(compute='_compute_name')
    company_id = fields.Many2one('res.company', required=True, ondelete='cascade',
                                 default=lambda self: self.env.company)
    state = fields.Selection([
        ('disconnected', 'Not connected'),
        ('connected', 'Connected'),
        ('reconnect', 'Reconnection needed'),
    ], default='disconnected', required=True, readonly=True, copy=False, tracking=True)
    environment = fields.Selection([
        ('production', 'Production'),
        ('sandbox', 'Intuit Sandbox'),
        ('custom', 'Custom endpoint'),
    ], default='sandbox', required=True)
    custom_base_url = fields.Char(
        'Custom endpoint URL',
        help="Base URL of a host serving Intuit's OAuth and Accounting API paths (e.g. the bundled emulator).")
    client_id = fields.Char('Client ID', groups='base.group_system', copy=False)
    client_secret = fields.Char(groups='base.group_system', copy=False)

    realm_id = fields.Char('Realm ID', readonly=True, copy=False, tracking=True,
                           help="The QuickBooks company id. Kept after a disconnect, as history.")
    qbo_company_name = fields.Char('QuickBooks company', readonly=True, copy=False)
    qbo_country = fields.Char('QuickBooks country', readonly=True, copy=False)
    qbo_home_currency = fields.Char('QuickBooks home currency', readonly=True, copy=False)
    qbo_company_info = fields.Json(readonly=True, copy=False)
    qbo_preferences = fields.Json(readonly=True, copy=False)
    connected_uid = fields.Many2one('res.users', 'Connected by', readonly=True, copy=False,
                                    help="The holder of the connection: the admin whose consent issued the tokens.")
    connected_date = fields.Datetime('Connected on', readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    throttled_until = fields.Datetime(
        readonly=True, copy=False,
        help="QuickBooks answered 429 (too many requests): exports to this company pause until then.")
    last_test_date = fields.Datetime(readonly=True, copy=False)

    database_copy = fields.Boolean(
        'Copied database', compute='_compute_database_copy',
        help="The tokens were issued to another database (this one is a copy): nothing is sent to QuickBooks.")
    # Pending consent for another realm: the admin must confirm resetting the old links.
    pending_realm_id = fields.Char(readonly=True, copy=False)
    # The QuickBooks company the last connect moved away from (nothing was linked to it): the landing
    # notification says so, in case the consent page's company was not the intended one.
    previous_realm_id = fields.Char(readonly=True, copy=False)
    # Set by the OAuth callback: company info and reference data are read by a cron job afterwards.
    reference_import_pending = fields.Boolean(readonly=True, copy=False)

    access_token_expiry = fields.Datetime(compute='_compute_token_info')
    refresh_token_expiry = fields.Datetime(compute='_compute_token_info')
    refresh_token_hard_expiry = fields.Datetime(compute='_compute_token_info')
    hard_expiry_days_left = fields.Integer('Days left before the 5-year limit', compute='_compute_token_info')
    hard_expiry_warning = fields.Boolean('Reconnect soon', compute='_compute_token_info')

    custom_txn_numbers = fields.Boolean('Custom transaction numbers', compute='_compute_preference_flags')
    class_tracking = fields.Selection(
        [('none', 'Off'), ('txn', 'Per transaction'), ('line', 'Per line')], compute='_compute_preference_flags')
    using_sales_tax = fields.Boolean('Sales tax on', compute='_compute_preference_flags')
    automated_sales_tax = fields.Boolean('Automated sales tax (AST)', compute='_compute_preference_flags')
    qbo_default_tax_code = fields.Char('QuickBooks default tax code', compute='_compute_preference_flags')
    is_us = fields.Boolean('US company', compute='_compute_preference_flags')
    multi_currency = fields.Boolean('Multicurrency', compute='_compute_preference_flags')
    preflight_message = fields.Text(compute='_compute_preflight')

    _company_uniq = qbo_compat.Constraint('unique(company_id)', 'A company has a single QuickBooks Online connection.')

    # ------------------------------------------------------------------ compute

    @api.depends('company_id', 'qbo_company_name')
    def _compute_name(self):
        for connection in self:
            connection.name = _("QuickBooks Online (%s)", connection.company_id.name)

    @api.depends('state')
    def _compute_token_info(self):
        tokens = self.env['qbo.token'].sudo().search([('connection_id', 'in', self.ids), ('is_pending', '=', False)])
        by_connection = {token.connection_id.id: token for token in tokens}
        now = fields.Datetime.now()
        for connection in self:
            token = by_connection.get(connection.id)
            connection.access_token_expiry = token.access_token_expiry if token else False
            connection.refresh_token_expiry = token.refresh_token_expiry if token else False
            hard = token.refresh_token_hard_expiry if token else False
            connection.refresh_token_hard_expiry = hard
            connection.hard_expiry_days_left = (hard - now).days if hard else 0
            connection.hard_expiry_warning = bool(hard) and (hard - now).days <= const.HARD_EXPIRY_WARNING_DAYS

    @api.depends('state')
    def _compute_database_copy(self):
        identity = self._qbo_database_identity()
        tokens = self.env['qbo.token'].sudo().search([('connection_id', 'in', self.ids)])
        copies = {token.connection_id.id for token in tokens
                  if token.database_uuid and token.database_uuid != identity}
        for connection in self:
            connection.database_copy = connection.id in copies

    @api.depends('qbo_preferences', 'qbo_country')
    def _compute_preference_flags(self):
        for connection in self:
            prefs = connection.qbo_preferences or {}
            sales = prefs.get('SalesFormsPrefs') or {}
            accounting = prefs.get('AccountingInfoPrefs') or {}
            tax = prefs.get('TaxPrefs') or {}
            connection.custom_txn_numbers = bool(sales.get('CustomTxnNumbers'))
            if accounting.get('ClassTrackingPerTxnLine'):
                connection.class_tracking = 'line'
            elif accounting.get('ClassTrackingPerTxn'):
                connection.class_tracking = 'txn'
            else:
                connection.class_tracking = 'none'
            connection.using_sales_tax = bool(tax.get('UsingSalesTax'))
            connection.automated_sales_tax = bool(tax.get('PartnerTaxEnabled'))
            connection.qbo_default_tax_code = (tax.get('TaxGroupCodeRef') or {}).get('value') or False
            connection.is_us = (connection.qbo_country or 'US') == 'US'
            connection.multi_currency = bool((prefs.get('CurrencyPrefs') or {}).get('MultiCurrencyEnabled'))

    @api.depends('qbo_home_currency', 'qbo_country', 'company_id.currency_id', 'company_id.country_id')
    def _compute_preflight(self):
        for connection in self:
            connection.preflight_message = '\n'.join(connection._qbo_preflight_issues()) or False

    @api.constrains('environment', 'custom_base_url')
    def _check_custom_endpoint(self):
        """The Custom endpoint receives the Client Secret: only in developer mode or when allowed.

        Checked when the environment or URL is set, not at each call: a connection configured in
        developer mode keeps working (cron included) once developer mode is off.
        """
        if any(connection.environment == 'custom' for connection in self) and not self._qbo_custom_endpoint_allowed():
            raise ValidationError(_(
                "The Custom endpoint environment sends your Intuit Client Secret to the URL you enter. It can be "
                "chosen in developer mode only, or when the system parameter %s is set to True.",
                const.PARAM_ALLOW_CUSTOM_ENDPOINT))

    @api.model
    def _qbo_custom_endpoint_allowed(self):
        param = self.env['ir.config_parameter'].sudo().get_param(const.PARAM_ALLOW_CUSTOM_ENDPOINT)
        if (param or '').strip().lower() in ('1', 'true', 'yes'):
            return True
        return bool(request and request.session.debug)

    # ------------------------------------------------------------------ helpers: access

    def _qbo_check_admin(self):
        """Connection management is for administrators only (they handle the app's secrets)."""
        if not self.env.user.has_group('base.group_system'):
            raise AccessError(_("Only administrators can manage the QuickBooks Online connection."))

    def _qbo_check_manager(self):
        """Test and Import are for accounting managers, who cannot write the connection itself.

        Callers run the action with sudo() after this check: managers never get write access to
        the connection (its endpoint and secrets stay admin-only).
        """
        self.check_access('read')
        if not (self.env.user.has_group('account.group_account_manager')
                or self.env.user.has_group('base.group_system')):
            raise AccessError(_("Only accounting managers can test or import from the QuickBooks Online connection."))

    @api.model
    def _qbo_get_for_company(self, company=None, create=False):
        """Return the connection of a company (created on demand when `create`)."""
        company = company or self.env.company
        connection = self.sudo().search([('company_id', '=', company.id)], limit=1)
        if not connection and create:
            connection = self.sudo().create({'company_id': company.id})
        return connection.sudo(False).with_env(self.env) if connection else connection

    def _qbo_endpoints(self):
        self.ensure_one()
        try:
            return endpoints_for(self.environment, self.custom_base_url)
        except ValueError as exc:
            raise UserError(str(exc)) from None

    def _qbo_redirect_uri(self):
        """The Redirect URI to register in the Intuit app (also shown in the settings)."""
        return self.get_base_url().rstrip('/') + const.OAUTH_CALLBACK_ROUTE

    def _qbo_oauth_client(self, calls=None):
        self.ensure_one()
        conn = self.sudo()
        if not conn.client_id or not conn.client_secret:
            raise UserError(_("Enter the Client ID and Client Secret of your Intuit app first (%s).",
                              self._qbo_where('settings')))
        return QboOAuthClient(self._qbo_endpoints(), conn.client_id, conn.client_secret,
                              on_call=calls.append if calls is not None else None)

    def _qbo_check_credentials(self):
        """Ask Intuit's token endpoint whether it accepts the saved Client ID / Client Secret.

        Run when they are saved: a wrong secret is said at once, not at the next token refresh
        (which only comes an hour later). Refused: the connection says so in Settings, and a
        connected one needs reconnecting (its refreshes would be refused). Unreachable: nothing is
        concluded, the connect flow will tell.

        :return: True (accepted), False (refused) or None (Intuit could not be reached)
        """
        self.ensure_one()
        conn = self.sudo()
        calls = []
        try:
            conn._qbo_oauth_client(calls).check_credentials()
        except QboError as exc:
            self.env['qbo.sync.log']._qbo_create_from_calls(conn, calls)
            if exc.code != 'invalid_client':
                _logger.info("QuickBooks credentials of company %s could not be checked: %s",
                             conn.company_id.name, exc)
                return None
            if conn.state == 'connected':
                conn._qbo_mark_reconnect_needed(exc, wipe_tokens=False)
            conn.last_error = _("Intuit refused the Client ID / Client Secret saved here (invalid_client). Copy both "
                                "again from your Intuit app's Keys & credentials page (Development keys for the "
                                "sandbox, Production keys for production), save, then connect again.")
            return False
        self.env['qbo.sync.log']._qbo_create_from_calls(conn, calls)
        if conn.state != 'reconnect':
            conn.last_error = False
        return True

    # ------------------------------------------------------------------ OAuth: state

    @api.model
    def _qbo_state_signature(self, connection_id, uid, expires, nonce):
        return hmac_tool(self.env(su=True), 'quickbooks_online_oauth', (connection_id, uid, expires, nonce))

    def _qbo_make_state(self):
        """Signed, expiring, single-use OAuth `state` bound to this connection and the current user.

        A new nonce (`qbo.oauth.nonce`) is stored at each Connect, replacing an unused one: the
        callback consumes it before exchanging the code, so a state is accepted once.
        """
        self.ensure_one()
        expires = int(time.time()) + const.OAUTH_STATE_TTL_SECONDS
        nonce = secrets.token_urlsafe(18)
        Nonce = self.env['qbo.oauth.nonce'].sudo()
        Nonce.search([('connection_id', '=', self.id)]).unlink()
        Nonce.create({'connection_id': self.id, 'nonce': nonce})
        signature = self._qbo_state_signature(self.id, self.env.uid, expires, nonce)
        return f"{self.id}.{self.env.uid}.{expires}.{nonce}.{signature}"

    @api.model
    def _qbo_verify_state(self, state):
        """Check an OAuth `state`, consume its nonce and return the connection it was issued for.

        The nonce is consumed on a cursor of its own, committed at once, before anything else
        happens: the authorization code that comes with it is then exchanged at most once, even
        when the callback URL is opened again (reload, history, a leaked link) or twice at once.

        :raise UserError: malformed, forged, expired, issued to another user, for a company the
            user cannot access, or already used (nothing is changed on the connection)
        """
        try:
            connection_id, uid, expires, nonce, signature = (state or '').split('.')
            connection_id, uid, expires = int(connection_id), int(uid), int(expires)
        except ValueError:
            raise UserError(_("The answer from Intuit does not carry a valid state. Start again from "
                              "the Connect button.")) from None
        expected = self._qbo_state_signature(connection_id, uid, expires, nonce)
        # Bytes: consteq refuses str with non-ASCII characters (TypeError, a 500 for a crafted URL).
        if not consteq(expected.encode(), signature.encode('utf-8', 'surrogateescape')):
            raise UserError(_("The answer from Intuit carries a state that this database did not "
                              "issue. Start again from the Connect button."))
        if expires < time.time():
            raise UserError(_("The connection attempt expired (more than %s minutes passed). Start "
                              "again from the Connect button.", const.OAUTH_STATE_TTL_SECONDS // 60))
        if uid != self.env.uid:
            raise UserError(_("This connection attempt was started by another user. Start again "
                              "from the Connect button while logged in as yourself."))
        connection = self.browse(connection_id).exists()
        if not connection or connection.company_id not in self.env.user.company_ids:
            raise UserError(_("The company of this connection attempt is not one of yours."))
        if not connection._qbo_consume_nonce(nonce):
            raise UserError(_("This connection link was already used (a reload, the browser history or a "
                              "shared link) or a newer Connect replaced it. Nothing was changed: the "
                              "QuickBooks connection stays as it was. To connect again, click Connect."))
        return connection

    def _qbo_consume_nonce(self, nonce):
        """Atomically delete this connection's OAuth nonce `nonce`; True when it was there.

        One DELETE on a dedicated cursor, committed at once: of two callbacks carrying the same
        state, only one finds it, and a rollback of the request cannot bring it back. The nonce
        must be committed (the Connect button's request is).
        """
        self.ensure_one()
        self.env['qbo.oauth.nonce'].flush_model()  # tests run both on one transaction
        try:
            with self.env.registry.cursor() as cr:
                cr.execute("DELETE FROM qbo_oauth_nonce WHERE connection_id = %s AND nonce = %s", [self.id, nonce])
                consumed = cr.rowcount == 1
                cr.commit()  # pylint: disable=invalid-commit
        finally:
            self.env['qbo.oauth.nonce'].invalidate_model()
        return consumed

    # ------------------------------------------------------------------ actions

    def action_qbo_connect(self):
        """Send the admin to Intuit's consent page (or first confirm taking over the connection)."""
        self.ensure_one()
        self._qbo_check_admin()
        if (self.state == 'connected' and self.connected_uid and self.connected_uid != self.env.user
                and not self.env.context.get('qbo_takeover_confirmed')):
            return {
                'type': 'ir.actions.act_window',
                'name': _("Take over the QuickBooks connection?"),
                'res_model': 'qbo.connect.wizard',
                'view_mode': 'form',
                'target': 'new',
                'context': {'default_connection_id': self.id, 'default_mode': 'takeover'},
            }
        url = self._qbo_oauth_client().authorization_url(self._qbo_redirect_uri(), self._qbo_make_state())
        return {'type': 'ir.actions.act_url', 'url': url, 'target': 'self'}

    def _qbo_complete_authorization(self, code, realm_id):
        """Exchange the authorization code and store the tokens (called by the OAuth callback).

        Does only that, on a cursor of its own that is committed at once: the code is single-use,
        so the tokens it bought must survive whatever happens to the request afterwards (a rollback,
        a retried request). Company info and reference data are read afterwards by the cron job
        *QuickBooks: finish connecting* (see `_cron_qbo_after_connect`). The caller must not hold a
        write lock on the connection, and sees the new state only in a later transaction.

        :return: 'connected', or 'realm_change' when the consent is for another QuickBooks company
            than the one our records are linked to (the admin must confirm in the settings)
        :raise UserError: the exchange failed (wrong client secret, code expired or reused)
        """
        self.ensure_one()
        self._qbo_check_admin()
        if not code or not realm_id:
            raise UserError(_("Intuit's answer has no authorization code or company id."))
        if not (realm_id.isascii() and realm_id.isdigit()):
            # Intuit's company ids are numbers; anything else would end up in API paths.
            raise UserError(_("Intuit's answer carries an invalid company id. Click Connect to try again."))
        self.env.flush_all()  # the dedicated cursor reads the connection's settings
        try:
            with self.env.registry.cursor() as cr:
                cr.transaction = cr.transaction or qbo_compat.Transaction(self.env.registry)
                return self.with_env(self.env(cr=cr))._qbo_exchange_code(code, realm_id)
        finally:
            # The dedicated cursor changed the connection and its tokens: forget cached values.
            self.invalidate_recordset()
            self.env['qbo.token'].invalidate_model()

    def _qbo_exchange_code(self, code, realm_id):
        """Body of `_qbo_complete_authorization`, on its dedicated cursor (committed here).

        Order matters: a realm another Odoo company uses is refused before the code is spent;
        after the exchange, Intuit must confirm that the new tokens open `realm_id` (the
        callback's `realmId` is only a URL parameter) before anything is stored.
        """
        cr = self.env.cr
        self._qbo_check_realm_free(realm_id)
        calls = []
        try:
            tokens = self._qbo_oauth_client(calls).exchange_code(code, self._qbo_redirect_uri())
        except QboError as exc:
            self.env['qbo.sync.log']._qbo_create_from_calls(self, calls)
            # Own transaction: keep the transfer history of the failed exchange.
            cr.commit()  # pylint: disable=invalid-commit
            if exc.code == 'invalid_client':
                raise UserError(_("Intuit refused the Client ID / Client Secret (invalid_client). Copy "
                                  "them again from the Keys & credentials page of your Intuit app.")) from None
            if exc.code == 'invalid_grant':
                raise UserError(_("Intuit refused the authorization code (invalid_grant): it expired, was "
                                  "already used, or the Redirect URI differs from %s. Connect again.",
                                  self._qbo_redirect_uri())) from None
            raise UserError(_("Intuit refused the connection: %s", exc)) from None
        company_info = self._qbo_confirm_realm(tokens, realm_id, calls)
        self.env['qbo.sync.log']._qbo_create_from_calls(self, calls)
        if not company_info:
            cr.commit()  # pylint: disable=invalid-commit
            _logger.warning("QuickBooks OAuth callback refused: Intuit did not confirm realm %s for company %s",
                            realm_id, self.company_id.name)
            raise UserError(_("Intuit did not confirm that this consent is for QuickBooks company %s (the "
                              "address of the answer may have been altered). Nothing was changed: the "
                              "QuickBooks connection stays as it was. Click Connect to try again.", realm_id))
        if self.realm_id and self.realm_id != realm_id and self._qbo_has_links():
            self._qbo_store_tokens(tokens, realm_id, pending=True)
            self.write({'pending_realm_id': realm_id})
            self._message_log(body=_("Consent received for another QuickBooks company (realm %(new)s) "
                                     "than the linked one (realm %(old)s): waiting for confirmation.",
                                     new=realm_id, old=self.realm_id))
            result = 'realm_change'
        else:
            try:
                with cr.savepoint():
                    self._qbo_activate(tokens, realm_id, company_info)
                    self.env.flush_all()
            except pg_errors.UniqueViolation:
                # Another company connected the same QuickBooks company between our check and now.
                self.env.invalidate_all()
                cr.commit()  # pylint: disable=invalid-commit
                self._qbo_check_realm_free(realm_id)
                raise
            result = 'connected'
        # Own transaction: the single-use code is spent, its tokens must be kept whatever follows.
        cr.commit()  # pylint: disable=invalid-commit
        return result

    def _qbo_confirm_realm(self, tokens, realm_id, calls):
        """Ask QuickBooks for `realm_id`'s CompanyInfo with the new access token; return it, or None.

        An access token opens the QuickBooks company it was issued for only: a 401 or 403 here
        means the callback's realmId is not the company the admin consented to.
        """
        client = QboClient(self._qbo_endpoints()['api'], realm_id,
                           lambda force_refresh=False: tokens['access_token'], on_call=calls.append)
        try:
            info = client.company_info()
        except (QboAuthError, QboForbiddenError):
            return None
        except QboError as exc:
            raise UserError(_("QuickBooks could not be reached to confirm the company (%s). Nothing was changed; "
                              "click Connect to try again.", exc)) from None
        return info if str(info.get('Id') or realm_id) == str(realm_id) else None

    def _qbo_realm_holder(self, realm_id):
        """The other connection (any company) that holds `realm_id` now: connected or to be reconnected."""
        self.ensure_one()
        return self.sudo().search([('realm_id', '=', realm_id), ('id', '!=', self.id),
                                   ('state', 'in', ('connected', 'reconnect'))], limit=1)

    def _qbo_check_realm_free(self, realm_id):
        """One QuickBooks company is connected to one Odoo company at a time.

        Two connections on one realm would share its webhooks and change feed: one company's
        users would read the other's payments.

        :raise UserError: another company's connection holds this realm
        """
        holder = self._qbo_realm_holder(realm_id)
        if holder:
            _logger.warning("QuickBooks connection refused: realm %s is already used by company %s",
                            realm_id, holder.company_id.name)
            raise UserError(_(
                "QuickBooks company %(realm)s is already connected to the Odoo company %(company)s. A QuickBooks "
                "company can be connected to one Odoo company at a time: disconnect it there first (%(where)s), "
                "or connect this company to another QuickBooks company. Nothing was changed.",
                realm=realm_id, company=holder.company_id.name, where=self._qbo_where('settings')))

    def init(self):
        """The database's own guarantee behind `_qbo_check_realm_free` (two callbacks at once).

        A database upgraded from a version without the rule may hold two connections of one
        realm: the index waits (with a warning naming the realm) until one is disconnected.
        """
        cr = self.env.cr
        cr.execute("""SELECT realm_id FROM qbo_connection WHERE state IN ('connected', 'reconnect')
                       GROUP BY realm_id HAVING count(*) > 1""")
        shared = [row[0] for row in cr.fetchall()]
        if shared:
            _logger.warning("QuickBooks companies %s are connected to several Odoo companies: disconnect all but "
                            "one of each, then upgrade the addon again.", ', '.join(shared))
            return
        cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS qbo_connection_realm_active_uniq
                ON qbo_connection (realm_id) WHERE state IN ('connected', 'reconnect')
        """)

    def _qbo_activate(self, tokens, realm_id, company_info=None):
        """Store tokens as the active ones, mark the connection connected, schedule the reference import.

        :param dict company_info: the CompanyInfo that confirmed the realm (kept: the landing
            notification names the company before the reference import has run)
        """
        switched_from = self.realm_id if self.realm_id and self.realm_id != realm_id else False
        if switched_from:
            self._qbo_forget_realm(realm_id)  # another QuickBooks company (nothing was sent to the old one)
        self._qbo_store_tokens(tokens, realm_id)
        previous_holder = self.connected_uid
        vals = {
            'state': 'connected', 'realm_id': realm_id, 'pending_realm_id': False, 'previous_realm_id': switched_from,
            'connected_uid': self.env.uid, 'connected_date': fields.Datetime.now(), 'last_error': False,
            'reference_import_pending': True,
        }
        if company_info:
            vals.update(qbo_company_info=company_info, qbo_company_name=company_info.get('CompanyName'),
                        qbo_country=company_info.get('Country'))
        self.write(vals)
        self.activity_unlink(['mail.mail_activity_data_todo'])
        if previous_holder and previous_holder != self.env.user:
            self._message_log(body=_("Connection taken over from %s.", previous_holder.name))
        warnings, notes = self._qbo_company_check()
        self._message_log(body='\n'.join([_("Connected to QuickBooks company %s.", realm_id)] + warnings + notes))
        # Reading company info and reference data is not the callback's job: a cron job does it
        # right after, then resumes the work queued while the connection was down.
        cron = self.env.ref('quickbooks_online.ir_cron_qbo_after_connect', raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()

    def _qbo_company_check(self):
        """Signs that the QuickBooks company just connected may not be the intended one, as sentences.

        Another company than the one connected before (whose reference data was reset), and a
        QuickBooks company in another country than the Odoo company are warnings: the consent page
        offers every company of the Intuit user, and the wrong choice sends documents to the wrong
        books, with the wrong taxes. A name in common is not required (legal and trade names often
        differ): a name with no word in common is only mentioned.

        :return: (warnings, notes), each a list of sentences
        """
        self.ensure_one()
        warnings, notes = [], []
        name = self.qbo_company_name or self.realm_id
        if self.previous_realm_id:
            warnings.append(_(
                "This is another QuickBooks company (%(name)s, realm %(new)s) than the one connected before (realm "
                "%(old)s): its reference data replaces the old one's. If you chose the wrong company on Intuit's "
                "page, click Connect again and choose the right one.",
                name=name, new=self.realm_id, old=self.previous_realm_id))
        odoo_country = self.company_id.country_id.code
        if self.qbo_country and odoo_country and self.qbo_country.upper() != odoo_country.upper():
            warnings.append(_(
                "The QuickBooks company %(name)s is in %(qbo)s, the Odoo company %(company)s in %(odoo)s: check that "
                "this is the right QuickBooks company before sending anything (taxes and currency follow the "
                "country). To connect another one, click Connect again and choose it on Intuit's page.",
                name=name, qbo=self.qbo_country, company=self.company_id.name, odoo=odoo_country))
        if self.qbo_company_name and not self._qbo_names_share_a_word(self.qbo_company_name, self.company_id.name):
            notes.append(_("The QuickBooks company is named %(qbo)s, the Odoo company %(odoo)s: make sure it is the "
                           "one you meant.", qbo=self.qbo_company_name, odoo=self.company_id.name))
        return warnings, notes

    @api.model
    def _qbo_names_share_a_word(self, first, second):
        """Whether two company names have a significant word in common (legal forms and 'company' aside)."""
        ignored = {'inc', 'llc', 'ltd', 'limited', 'co', 'company', 'corp', 'corporation', 'the', 'and', 'sa',
                   'sas', 'sarl', 'gmbh', 'plc', 'pty', 'bv', 'ag', 'us', 'usa', 'uk'}

        def words(name):
            return {w for w in re.findall(r'[^\W_]+', (name or '').lower()) if w not in ignored and len(w) > 1}
        return bool(words(first) & words(second))

    @api.model
    def _cron_qbo_after_connect(self):
        """Finish new connections: read CompanyInfo and Preferences, import the reference data.

        Triggered by the OAuth callback (see `_qbo_activate`). A failing read does not undo the
        connection: it is shown as the connection's last error, and Test / Import can be run later.
        A first connection then matches QuickBooks' name lists with Odoo (qbo.connection.match).
        """
        pending = self.sudo().search([('reference_import_pending', '=', True), ('state', '=', 'connected')])
        first = pending.filtered(lambda connection: not connection.qbo_match_date)
        for connection in pending:
            try:
                connection._qbo_refresh_company_info()
                connection._qbo_import_references()
            except (QboError, UserError) as exc:
                _logger.warning("QuickBooks connected but its company data could not be read: %s", exc)
                connection.last_error = str(exc)
            connection.reference_import_pending = False
            if self.env['qbo.binding']._qbo_can_commit():
                # Cron: one transaction per connection.
                self.env.cr.commit()  # pylint: disable=invalid-commit
        # Work queued while the connection was down resumes now.
        self.env['qbo.binding']._qbo_trigger_cron()
        first.filtered(lambda connection: connection.state == 'connected')._qbo_match_after_first_connection()

    def _qbo_store_tokens(self, tokens, realm_id, pending=False):
        """Create or replace the (active or pending) token set from a token-endpoint answer."""
        Token = self.env['qbo.token'].sudo()
        token = Token.search([('connection_id', '=', self.id), ('is_pending', '=', pending)])
        vals = dict(self._qbo_token_vals(tokens), realm_id=realm_id, connection_id=self.id, is_pending=pending,
                    database_uuid=self._qbo_database_identity())
        if token:
            token.write(vals)
        else:
            Token.create(vals)
        if not pending:
            self._qbo_start_consent_period(realm_id)  # qbo.connection.inbound

    @api.model
    def _qbo_token_vals(self, tokens):
        """Token fields from a token-endpoint answer (expiries as absolute datetimes)."""
        now = fields.Datetime.now()
        vals = {
            'access_token': tokens['access_token'],
            'access_token_expiry': now + timedelta(seconds=int(tokens.get('expires_in') or 3600)),
            'refresh_token': tokens['refresh_token'],
        }
        if tokens.get('x_refresh_token_expires_in'):
            vals['refresh_token_expiry'] = now + timedelta(seconds=int(tokens['x_refresh_token_expires_in']))
        if tokens.get('x_refresh_token_hard_expires_in'):
            vals['refresh_token_hard_expiry'] = now + timedelta(seconds=int(tokens['x_refresh_token_hard_expires_in']))
        return vals

    def _qbo_has_links(self):
        return bool(self.env['qbo.binding'].sudo().search_count([('connection_id', '=', self.id)], limit=1))

    def action_qbo_confirm_realm_change(self):
        """Switch to the newly consented QuickBooks company and drop every link to the old one."""
        self.ensure_one()
        self._qbo_check_admin()
        pending = self.env['qbo.token'].sudo().search([('connection_id', '=', self.id), ('is_pending', '=', True)])
        if not pending:
            raise UserError(_("There is no pending QuickBooks company to switch to."))
        self._qbo_check_database(pending.database_uuid)
        self._qbo_check_realm_free(pending.realm_id)
        realm = pending.realm_id
        self._qbo_forget_realm(realm)
        self.env['qbo.token'].sudo().search([('connection_id', '=', self.id), ('is_pending', '=', False)]).unlink()
        pending.is_pending = False
        self.write({'state': 'connected', 'realm_id': realm, 'pending_realm_id': False, 'previous_realm_id': False,
                    'connected_uid': self.env.uid, 'connected_date': fields.Datetime.now(), 'last_error': False})
        self._qbo_refresh_company_info()
        self._qbo_import_references()
        self.reference_import_pending = False
        return True

    def _qbo_forget_realm(self, new_realm):
        """Start clean on another QuickBooks company: forget everything that holds the old company's Ids.

        Links (bindings), mappings and the imported reference objects point at the old company's Ids,
        which mean other objects (or nothing) in the new one; payment imports, webhook events, the
        change-feed checkpoint and the logged intents belong to the old company's history (the new
        company's Payment 5 is not the old one's). All go; the Odoo documents and payments stay. The
        connection's chatter says what was reset.
        """
        self.ensure_one()
        reset = []
        for model, label in (('qbo.binding', _("links")), ('qbo.mapping', _("mappings")),
                             ('qbo.ref', _("reference objects")), ('qbo.payment.import', _("payment imports")),
                             ('qbo.webhook.event', _("webhook events"))):
            records = self.env[model].sudo().with_context(active_test=False).search([('connection_id', '=', self.id)])
            if records:
                reset.append(f"{len(records)} {label}")
                records.unlink()
        self.env.cr.execute(SQL("DELETE FROM qbo_intent_log WHERE connection_id = %s", self.id))
        self.sudo().write({'cdc_checkpoint': fields.Datetime.now(), 'cdc_catchup_date': False, 'last_cdc_date': False,
                           'qbo_company_info': False, 'qbo_preferences': False, 'qbo_company_name': False,
                           'throttled_until': False, 'reference_import_pending': True})
        self._message_log(body=_(
            "Switched from QuickBooks company %(old)s to %(new)s. Reset, as they belong to the old company: "
            "%(reset)s. Check the mappings once the new company's reference data is imported.",
            old=self.realm_id, new=new_realm, reset=', '.join(reset) or _("nothing")))

    def action_qbo_cancel_realm_change(self):
        """Keep the current QuickBooks company: revoke and forget the pending consent."""
        self.ensure_one()
        self._qbo_check_admin()
        pending = self.env['qbo.token'].sudo().search([('connection_id', '=', self.id), ('is_pending', '=', True)])
        # A copy forgets the pending consent without revoking it: it belongs to the original.
        if pending.refresh_token and pending.database_uuid in (False, self._qbo_database_identity()):
            try:
                self._qbo_oauth_client().revoke(pending.refresh_token)
            except QboError as exc:
                _logger.warning("Could not revoke the pending QuickBooks consent: %s", exc)
        pending.unlink()
        self.pending_realm_id = False
        return True

    def action_qbo_disconnect(self):
        """Revoke the refresh token at Intuit, wipe the tokens, keep the history and the links."""
        self.ensure_one()
        self._qbo_check_admin()
        tokens = self.env['qbo.token'].sudo().search([('connection_id', '=', self.id)])
        calls = []
        revoke_error = None
        # Tokens issued to another database (this one is an unneutralized copy) are wiped, never
        # revoked: revoking would disconnect the original database.
        this_database = self._qbo_database_identity()
        for token in tokens.filtered(lambda t: t.refresh_token and t.database_uuid in (False, this_database)):
            try:
                self._qbo_oauth_client(calls).revoke(token.refresh_token)
            except QboError as exc:
                revoke_error = exc
        self.env['qbo.sync.log']._qbo_create_from_calls(self, calls)
        tokens.unlink()
        self.write({'state': 'disconnected', 'pending_realm_id': False, 'last_error': False})
        body = _("Disconnected from QuickBooks by %s.", self.env.user.name)
        if revoke_error:
            body += ' ' + _("Intuit did not confirm the revocation (%s); the tokens were wiped here anyway.",
                            revoke_error)
        self._message_log(body=body)
        if revoke_error:
            return self._qbo_notification(_("Disconnected from QuickBooks Online"), body, 'warning')
        return self._qbo_notification(_("Disconnected from QuickBooks Online"), _(
            "The connection's tokens were revoked at Intuit and removed here. Links and transfer history are kept; "
            "queued exports wait until you connect again."), 'success')

    def action_qbo_dry_run(self):
        """Button: dry run of everything queued on this connection (see qbo.dry.run)."""
        self.ensure_one()
        return self.env['qbo.dry.run']._qbo_dry_run_queue(self).action_qbo_open()

    def action_qbo_test(self):
        """Read CompanyInfo and Preferences and tell the admin what matters for exports."""
        self.ensure_one()
        if not self.env.su:
            # Accounting managers may test but not write the connection: check, then run as superuser.
            self._qbo_check_manager()
            return self.sudo().action_qbo_test()
        try:
            self._qbo_refresh_company_info()
        except QboReconnectNeeded as exc:
            # Already recorded on the connection (by the refresh's own transaction).
            return self._qbo_notification(_("QuickBooks connection failed"), str(exc), 'danger')
        except (QboError, UserError) as exc:
            if isinstance(exc, QboError) and is_auth_failure(exc):
                # Refused credentials or rights: only reconnecting helps, so the connection says so now.
                if self.state != 'reconnect':
                    self._qbo_mark_reconnect_needed(exc, wipe_tokens=False)
                return self._qbo_notification(_("Reconnect QuickBooks Online"), self.last_error, 'danger')
            message = self.env['qbo.error.advice']._qbo_describe(exc) if isinstance(exc, QboError) else str(exc)
            self.last_error = message
            _logger.info("QuickBooks connection test failed for company %s: %s", self.company_id.name, exc)
            return self._qbo_notification(_("QuickBooks connection failed"), message, 'danger')
        self.write({'last_test_date': fields.Datetime.now(), 'last_error': False})
        lines = [
            _("Company: %(name)s (%(country)s, %(currency)s)", name=self.qbo_company_name,
              country=self.qbo_country, currency=self.qbo_home_currency),
            _("Custom transaction numbers: %s", _("on") if self.custom_txn_numbers else _("off")),
            _("Class tracking: %s", dict(self._fields['class_tracking'].selection)[self.class_tracking]),
            _("Sales tax: %s", (_("automated (AST)") if self.automated_sales_tax
                                else _("on") if self.using_sales_tax else _("off"))),
        ]
        if self.preflight_message:
            lines.append(_("Exports are blocked: %s", self.preflight_message))
        _logger.info("QuickBooks connection test OK for company %s: realm %s (%s)",
                     self.company_id.name, self.realm_id, self.qbo_company_name)
        return self._qbo_notification(_("Connected to QuickBooks Online"), '\n'.join(lines),
                                      'warning' if self.preflight_message else 'success')

    @api.model
    def _qbo_notification(self, title, message, kind, reload=True):
        """A web-client notification (line breaks kept), then reload the current view unless `reload` is off.

        Connection history lines are logged with `_message_log` (not `message_post`): posting needs
        the author's e-mail address, and an admin without one must still be able to connect.
        """
        params = {'title': title, 'message': message, 'type': kind, 'sticky': kind != 'success',
                  'className': 'o_qbo_notification'}
        if reload:
            params['next'] = {'type': 'ir.actions.client', 'tag': 'soft_reload'}
        return {'type': 'ir.actions.client', 'tag': 'display_notification', 'params': params}

    def action_qbo_open_in_quickbooks(self):
        self.ensure_one()
        return {'type': 'ir.actions.act_url', 'url': self._qbo_endpoints()['app'] or '/', 'target': 'new'}

    # ------------------------------------------------------------------ company info / preflight

    def _qbo_refresh_company_info(self):
        """Read CompanyInfo and Preferences from QuickBooks and cache them on the connection."""
        self.ensure_one()
        with self._qbo_client_session() as client:
            info = client.company_info()
            prefs = client.preferences()
        self.write({
            'qbo_company_info': info,
            'qbo_preferences': prefs,
            'qbo_company_name': info.get('CompanyName'),
            'qbo_country': info.get('Country'),
            'qbo_home_currency': ((prefs.get('CurrencyPrefs') or {}).get('HomeCurrency') or {}).get('value'),
        })

    def _qbo_preflight_issues(self):
        """Reasons why exports must not run (currency or country mismatch)."""
        self.ensure_one()
        issues = []
        company = self.company_id
        if self.qbo_home_currency and company.currency_id and self.qbo_home_currency != company.currency_id.name:
            issues.append(_("The Odoo company's currency (%(odoo)s) differs from the QuickBooks home currency "
                            "(%(qbo)s).", odoo=company.currency_id.name, qbo=self.qbo_home_currency))
        if self.qbo_country and company.country_id and self.qbo_country != company.country_id.code:
            issues.append(_("The Odoo company's country (%(odoo)s) differs from the QuickBooks company's "
                            "country (%(qbo)s).", odoo=company.country_id.code, qbo=self.qbo_country))
        return issues

    # ------------------------------------------------------------------ tokens and client

    def _qbo_get_access_token(self, force_refresh=False, stale_token=None):
        """Return a valid access token, refreshing it when it expires within 5 minutes.

        The refresh runs in its own short transaction, under a row lock on the token row, and is
        committed at once: QuickBooks rotates refresh tokens, so two workers refreshing the same
        token at once - or a rollback losing the rotated value - would strand the connection.
        The second worker waits for the lock, then finds the fresh token and uses it.

        :param bool force_refresh: refresh even if the token looks valid (after a 401)
        :param str stale_token: the token that was rejected; if another worker already replaced
            it, its new token is returned without a second refresh
        :rtype: str
        :raise QboReconnectNeeded: not connected, or Intuit refused the refresh token
        """
        self.ensure_one()
        if self.state != 'connected':
            raise QboReconnectNeeded(self._qbo_not_connected_message())
        token = self.env['qbo.token'].sudo().search([('connection_id', '=', self.id), ('is_pending', '=', False)])
        # Before any token leaves this database, even a still valid one: a copy must not write
        # to the original's QuickBooks company.
        self._qbo_check_database(token.database_uuid)
        margin = fields.Datetime.now() + timedelta(seconds=const.ACCESS_TOKEN_REFRESH_MARGIN)
        with _REFRESHED_LOCK:
            fresh = _REFRESHED_TOKENS.get((self.env.cr.dbname, self.id))
        if (not force_refresh and fresh and fresh[1] > margin
                and (not token.access_token_expiry or fresh[1] > token.access_token_expiry)):
            return fresh[0]  # refreshed after this transaction's snapshot was taken
        if (not force_refresh and token.access_token and token.access_token_expiry
                and token.access_token_expiry > margin):
            return token.access_token
        try:
            with self.env.registry.cursor() as cr:
                # Bind the cursor to the registry we already hold (what Environment would look up
                # by name, under the global registry lock).
                cr.transaction = cr.transaction or qbo_compat.Transaction(self.env.registry)
                return self.with_env(self.env(cr=cr))._qbo_refresh_locked(force_refresh, stale_token)
        finally:
            # The dedicated cursor may have changed the state or tokens: forget cached values.
            self.invalidate_recordset()
            self.env['qbo.token'].invalidate_model()

    def _qbo_refresh_locked(self, force_refresh, stale_token):
        """Refresh the access token on the current (dedicated) cursor, under a row lock.

        Note: must run on a cursor of its own (see `_qbo_get_access_token`); commits it.
        """
        cr = self.env.cr
        if not qbo_compat.is_test_cursor(cr):
            # See rows committed by the worker that held the lock before us.
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        cr.execute("""SELECT id, access_token, access_token_expiry, refresh_token, database_uuid
                        FROM qbo_token WHERE connection_id = %s AND NOT is_pending
                         FOR NO KEY UPDATE""", [self.id])
        row = cr.dictfetchone()
        if not row or not row['refresh_token']:
            raise QboReconnectNeeded(self._qbo_not_connected_message())
        margin = fields.Datetime.now() + timedelta(seconds=const.ACCESS_TOKEN_REFRESH_MARGIN)
        still_valid = row['access_token_expiry'] and row['access_token_expiry'] > margin
        if still_valid and (not force_refresh or (stale_token and row['access_token'] != stale_token)):
            return row['access_token']
        self._qbo_check_database(row['database_uuid'])
        calls = []
        try:
            tokens = self._qbo_oauth_client(calls).refresh(row['refresh_token'])
        except QboError as exc:
            self.env['qbo.sync.log']._qbo_create_from_calls(self, calls)
            if getattr(exc, 'needs_reconnect', False):
                self._qbo_mark_reconnect_needed(exc)
                # Own short transaction: the reconnect state must survive the caller's rollback.
                cr.commit()  # pylint: disable=invalid-commit
                raise QboReconnectNeeded(_(
                    "QuickBooks refused to renew the connection (%(code)s). An administrator must reconnect in "
                    "%(where)s; queued exports resume afterwards.", code=exc.code, where=self._qbo_where('settings'))) from None
            # Own transaction: keep the transfer history of the failed refresh.
            cr.commit()  # pylint: disable=invalid-commit
            raise
        self.env['qbo.sync.log']._qbo_create_from_calls(self, calls)
        vals = self._qbo_token_vals(tokens)
        self.env['qbo.token'].browse(row['id']).sudo().write(vals)
        # Commit now: the previous refresh token may already be invalid at Intuit.
        cr.commit()  # pylint: disable=invalid-commit
        with _REFRESHED_LOCK:
            _REFRESHED_TOKENS[(cr.dbname, self.id)] = (tokens['access_token'], vals['access_token_expiry'])
        return tokens['access_token']

    @api.model
    def _qbo_database_identity(self):
        """This database as the tokens remember it: its `database.uuid` and its name.

        Odoo gives a duplicated database a new uuid; a dump restored by hand keeps it, but is
        restored under another name.
        """
        uuid = self.env['ir.config_parameter'].sudo().get_param(const.PARAM_DATABASE_UUID)
        return f"{uuid}/{self.env.cr.dbname}"

    def _qbo_check_database(self, token_uuid):
        """Refuse to use, renew or revoke tokens issued to another database (a copy not neutralized).

        A copy using the original's tokens would write to the original's QuickBooks company;
        refreshing would rotate the original's refresh token away, revoking would disconnect it.
        The tokens remember the `database.uuid` and name that connected.

        :param str token_uuid: the database identity stored with the tokens (empty: older tokens, allowed)
        :raise QboDatabaseCopy: the identities differ
        """
        if token_uuid and token_uuid != self._qbo_database_identity():
            _logger.warning("QuickBooks connection of %s not used: this database is a copy of %s",
                            self.company_id.name, token_uuid.rsplit('/', 1)[-1])
            raise QboDatabaseCopy(_(
                "This database is a copy of the one that connected to QuickBooks Online (its database.uuid "
                "or name differs), so it sends nothing to QuickBooks with that database's tokens: it would "
                "write to, or disconnect, the original. If this is the real database now, an administrator "
                "clicks \"This is the real database now\" on the connection (%s) and connects again; "
                "otherwise neutralize it.", self._qbo_where('connection')))

    def action_qbo_claim_database(self):
        """"This is the real database now": forget the original's tokens (never revoked) and reconnect.

        For a copy that must become the production database (a move to another server): the
        tokens it holds belong to the database that connected and are wiped here only; the admin
        is then sent to Intuit's consent page, and the new tokens are this database's.
        """
        self.ensure_one()
        self._qbo_check_admin()
        if not self.database_copy:
            raise UserError(_("This database is the one that connected to QuickBooks: nothing to do."))
        conn = self.sudo()
        self.env['qbo.token'].sudo().search([('connection_id', '=', self.id)]).unlink()
        conn.write({'state': 'reconnect', 'pending_realm_id': False, 'last_error': _(
            "Declared the real database by %s: connect again to QuickBooks.", self.env.user.name)})
        conn._message_log(body=_("%(user)s declared this database the real one (%(db)s); the tokens of the "
                                 "original database were removed here, without revoking them at Intuit.",
                                 user=self.env.user.name, db=self.env.cr.dbname))
        _logger.info("QuickBooks: database %s declared the real one for company %s by uid %s",
                     self.env.cr.dbname, self.company_id.name, self.env.uid)
        return self.with_context(qbo_takeover_confirmed=True).action_qbo_connect()

    def _qbo_mark_reconnect_needed(self, error, wipe_tokens=True):
        """Stop the connection until an admin reconnects; tell the administrators.

        :param error: the QboError that proves it: a dead refresh token (tokens wiped), or a
            persistent 401/403 or invalid_client (`wipe_tokens=False`: the tokens may be fine,
            the app or the user's rights are not)
        """
        self.ensure_one()
        if wipe_tokens:
            self.env['qbo.token'].sudo().search([('connection_id', '=', self.id), ('is_pending', '=', False)]).unlink()
            message = _("QuickBooks refused to renew the connection (%(code)s). Reconnect in %(where)s. Nothing was "
                        "lost: queued exports resume after reconnecting.", code=error.code,
                        where=self._qbo_where('settings'))
        else:
            message = _("QuickBooks refuses this connection's requests (%(error)s). Check the Intuit app's keys "
                        "and the QuickBooks user's rights, then reconnect in %(where)s. Nothing was lost: queued "
                        "exports resume after reconnecting.", error=error.code or error.status or error,
                        where=self._qbo_where('settings'))
        self.sudo().write({'state': 'reconnect', 'last_error': message})
        admins = qbo_compat.group_users(self.env.ref('base.group_system').sudo()).filtered(
            lambda u: not u.share and self.company_id in u.company_ids and u.active)
        conn = self.sudo()
        if not conn.activity_ids:
            for admin in admins:
                conn.activity_schedule('mail.mail_activity_data_todo', user_id=admin.id,
                                       summary=_("Reconnect QuickBooks Online"), note=message)
        conn.message_post(body=message, partner_ids=admins.partner_id.ids, message_type='comment',
                          subtype_xmlid='mail.mt_comment')
        _logger.warning("QuickBooks connection of company %s needs reconnection (%s).",
                        self.company_id.name, error.code)

    def _qbo_pause(self, error=None):
        """No request slot (a 429 from QuickBooks, or the shared limiter full): hold this connection's
        exports until the shared limiter lets requests through again; return that moment.

        The shared limiter (tools/qbo_rate_limit.py) is the one record of a 429 pause: the client
        pauses the realm there for every worker (60 s plus jitter) when QuickBooks answers 429.
        `throttled_until` only mirrors that moment for the cron's queue and schedule. Without a
        pause there (the limiter's own windows were full longer than a run may wait), the exports
        resume after a short delay instead of a full minute.
        """
        self.ensure_one()
        if self._qbo_is_throttled():
            return self.throttled_until  # already paused by another record of the same run
        limiter = self._qbo_rate_limiter()
        until_epoch, now_epoch = limiter.paused_until()
        if not until_epoch and error is not None and error.status == 429:
            # A 429 the client did not see as such (a batch item's fault 3001): pause the realm now.
            limiter.throttled()
            until_epoch, now_epoch = limiter.paused_until()
        seconds = until_epoch - now_epoch if until_epoch else LOCAL_THROTTLE_RETRY_SECONDS
        until = fields.Datetime.now() + timedelta(seconds=math.ceil(seconds))
        self.sudo().throttled_until = until
        _logger.info("QuickBooks throttled company %s: exports paused until %s", self.company_id.name, until)
        return until

    def _qbo_is_throttled(self):
        self.ensure_one()
        return bool(self.throttled_until and self.throttled_until > fields.Datetime.now())

    def _qbo_not_connected_message(self):
        if self.state == 'reconnect':
            return _("QuickBooks Online needs to be reconnected (%s). Queued exports resume afterwards.",
                     self._qbo_where('settings'))
        return _("QuickBooks Online is not connected for %(company)s (%(where)s).",
                 company=self.company_id.name, where=self._qbo_where('settings'))

    def _qbo_get_client(self, calls):
        """Return a QboClient for this connection.

        :param list calls: receives one dict per HTTP call; store them with
            `qbo.sync.log._qbo_create_from_calls` (done by `_qbo_client_session`)
        """
        self.ensure_one()
        if self.state != 'connected':
            raise QboReconnectNeeded(self._qbo_not_connected_message())
        last = {}

        def token_provider(force_refresh=False):
            last['token'] = self._qbo_get_access_token(force_refresh, last.get('token'))
            return last['token']

        return QboClient(self._qbo_endpoints()['api'], self.realm_id, token_provider, on_call=calls.append,
                         limiter=self._qbo_rate_limiter())

    def _qbo_client_session(self):
        """Context manager yielding a client; writes the transfer history when it ends."""
        return _ClientSession(self)


class _ClientSession:
    """`with connection._qbo_client_session() as client:` - logs every call, even on failure."""

    def __init__(self, connection):
        self.connection = connection
        self.calls = []

    def __enter__(self):
        return self.connection._qbo_get_client(self.calls)

    def __exit__(self, exc_type, exc, tb):
        if self.calls:
            self.connection.env['qbo.sync.log']._qbo_create_from_calls(self.connection, self.calls)
        return False
