import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..tools import QboError
from . import qbo_compat

_logger = logging.getLogger(__name__)


class QboConnectionInbound(models.AbstractModel):
    """What a connection needs for the way back: webhooks, CDC checkpoint, payments, keep-alive.

    An abstract model composed into qbo.connection (see there), so that the inbound feed (webhook
    inbox, CDC drain, payment import/export) reads as one piece.
    """
    _name = 'qbo.connection.inbound'
    _description = 'QuickBooks Online connection: webhooks and inbound feed'

    webhook_verifier_token = fields.Char(
        'Webhook verifier token', groups='base.group_system', copy=False,
        help="The Verifier Token of the Intuit app's Webhooks page: signs every notification (intuit-signature).")
    payment_export = fields.Boolean(
        'Send Odoo payments to QuickBooks', copy=False,
        help="Payments registered in Odoo against invoices sent to QuickBooks become QuickBooks payments.")
    payment_journal_id = fields.Many2one(
        'account.journal', 'Journal for QuickBooks payments', check_company=True,
        domain="[('type', 'in', ('bank', 'cash')), ('company_id', '=', company_id)]",
        help="Journal of payments received in QuickBooks whose payment method and deposit account map to no journal, "
             "and of bill payments whose bank or card account maps to no journal.")
    cdc_checkpoint = fields.Datetime(
        'Changes read up to', readonly=True, copy=False,
        help="QuickBooks time up to which every change was processed (the next change-data-capture starts here).")
    last_cdc_date = fields.Datetime('Last change check', readonly=True, copy=False)
    last_full_reconcile_date = fields.Datetime('Last full reconciliation', readonly=True, copy=False)
    feed_error = fields.Text('Change feed error', readonly=True, copy=False,
                             help="Why the last change check failed (retried by the next run).")
    last_keepalive_date = fields.Datetime(readonly=True, copy=False)
    hard_expiry_warned = fields.Selection(
        [('30', '30 days'), ('7', '7 days')], readonly=True, copy=False,
        help="The last hard-expiry warning sent for the current refresh token.")
    webhook_url = fields.Char('Webhook endpoint', compute='_compute_inbound_urls',
                              help="Register it on the Webhooks page of the Intuit app.")
    reconnect_url = fields.Char('Reconnect URL', compute='_compute_inbound_urls',
                                help="Register it as the Reconnect URL in the Intuit app's settings.")
    webhook_event_count = fields.Integer(compute='_compute_webhook_event_count')

    def _compute_inbound_urls(self):
        base = self.env['ir.config_parameter'].sudo().get_param('web.base.url', '').rstrip('/')
        for connection in self:
            connection.webhook_url = base + const.WEBHOOK_ROUTE
            connection.reconnect_url = base + const.RECONNECT_ROUTE

    def _compute_webhook_event_count(self):
        counts = dict(self.env['qbo.webhook.event'].sudo()._read_group(
            [('connection_id', 'in', self.ids)], ['connection_id'], ['__count']))
        for connection in self:
            connection.webhook_event_count = counts.get(connection, 0)

    # ------------------------------------------------------------------ keep-alive and hard expiry

    @api.model
    def _cron_qbo_keepalive(self):
        """Daily: keep idle connections alive and warn before the refresh token's 5-year limit.

        Intuit forgets a refresh token not used for 100 days. A connection whose rolling expiry is
        less than `KEEPALIVE_MARGIN_DAYS` away (nothing refreshed it for weeks: no export, no
        change feed) is refreshed now. Independently, administrators get an activity and an email
        30 and 7 days before the hard expiry, once per threshold.
        """
        now = fields.Datetime.now()
        for connection in self.sudo().search([('state', '=', 'connected')]):
            token = self.env['qbo.token'].sudo().search([('connection_id', '=', connection.id),
                                                         ('is_pending', '=', False)], limit=1)
            if not token:
                continue
            if not token.refresh_token_expiry or \
                    token.refresh_token_expiry <= now + timedelta(days=const.KEEPALIVE_MARGIN_DAYS):
                try:
                    connection._qbo_get_access_token(force_refresh=True)
                    connection.last_keepalive_date = now
                    _logger.info("QuickBooks keep-alive: refreshed the idle connection of %s.",
                                 connection.company_id.name)
                except (QboError, UserError) as exc:  # one dead connection must not stop the others
                    _logger.warning("QuickBooks keep-alive failed for %s: %s", connection.company_id.name, exc)
            connection._qbo_warn_hard_expiry(token.exists())

    def _qbo_warn_hard_expiry(self, token):
        """Warn admins 30 and 7 days before the hard expiry, each threshold once."""
        self.ensure_one()
        hard = token.refresh_token_hard_expiry if token else False
        if not hard:
            return
        days_left = (hard - fields.Datetime.now()).days
        level = '7' if days_left <= 7 else '30' if days_left <= 30 else False
        if not level or self.hard_expiry_warned == level or (self.hard_expiry_warned == '7' and level == '30'):
            return
        message = _("The QuickBooks Online connection of %(company)s reaches Intuit's 5-year limit on %(date)s "
                    "(%(days)s days left). Reconnect before then in %(where)s: "
                    "%(url)s", where=self._qbo_where('settings'), company=self.company_id.name, date=fields.Date.to_string(hard.date()),
                    days=days_left, url=self.reconnect_url)
        admins = qbo_compat.group_users(self.env.ref('base.group_system').sudo()).filtered(
            lambda u: not u.share and u.active and self.company_id in u.company_ids)
        conn = self.sudo()
        for admin in admins:
            conn.activity_schedule('mail.mail_activity_data_todo', user_id=admin.id, date_deadline=hard.date(),
                                   summary=_("Reconnect QuickBooks Online within %s days", days_left), note=message)
        emails = [a.email_formatted for a in admins if a.email]
        if emails:
            self.env['mail.mail'].sudo().create({
                'subject': _("QuickBooks Online: reconnect within %s days", days_left),
                'email_to': ','.join(emails),
                # Escaped: the company name and the URL are data, not markup.
                'body_html': Markup("<p>%s</p>") % message,
                'auto_delete': True,
            })
        conn.message_post(body=message, message_type='comment', subtype_xmlid='mail.mt_note')
        conn.hard_expiry_warned = level

    def _qbo_start_consent_period(self, realm_id):
        """A new consent (its tokens just stored) starts a new 5-year period (warnings start over); another
        company, a new feed."""
        vals = {'hard_expiry_warned': False}
        if realm_id != self.realm_id or not self.cdc_checkpoint:
            # The feed starts at the connection: history before it is not imported as payments.
            vals['cdc_checkpoint'] = fields.Datetime.now()
        self.sudo().write(vals)
