import logging

from odoo import _, api, fields, models, sql_db
from odoo.exceptions import UserError

from .. import const
from ..tools.qbo_rate_limit import PgRateLimiter, RateLimits, realm_key

_logger = logging.getLogger(__name__)

# ir.config_parameter keys of the limits kept per realm (defaults: Intuit's published throttles).
LIMIT_PARAMS = {
    'per_minute': ('quickbooks_online.limit_per_minute', const.RATE_LIMIT_PER_MINUTE),
    'per_second': ('quickbooks_online.limit_per_second', const.RATE_LIMIT_PER_SECOND),
    'in_flight': ('quickbooks_online.limit_in_flight', const.RATE_LIMIT_CONCURRENT),
    'batch_per_minute': ('quickbooks_online.limit_batch_per_minute', const.RATE_LIMIT_BATCH_PER_MINUTE),
}
# Longest wait for a request slot: a button answers within seconds; the cron may wait out a full
# batch window (40 batches per minute) rather than give the records back to the queue.
MAX_WAIT_INTERACTIVE = 10.0
MAX_WAIT_CRON = 75.0


class QboRateLimit(models.Model):
    """Shared state of the per-realm rate limiter (tools/qbo_rate_limit.py): one row per realm.

    Written only by the limiter, with SQL in short transactions of its own; never write it
    through the ORM in a long transaction (the limiter locks these rows).
    """
    _name = 'qbo.rate.limit'
    _description = 'QuickBooks Online rate limiter (per company)'
    _log_access = False

    key = fields.Char(required=True, readonly=True, help="Realm id @ API host.")
    paused_until = fields.Float(readonly=True, help="Epoch seconds (PostgreSQL clock) until which a 429 pauses the realm.")
    metered_month = fields.Char(readonly=True, help="YYYY-MM (UTC) of metered_count.")
    metered_count = fields.Integer(readonly=True, help="Metered calls (queries, reads) in metered_month.")

    def init(self):
        # One row per realm; the limiter's INSERT ... ON CONFLICT (key) needs this unique index.
        # (An index rather than _sql_constraints, which Odoo 19 ignores.)
        self.env.cr.execute("CREATE UNIQUE INDEX IF NOT EXISTS qbo_rate_limit_key_uniq ON qbo_rate_limit (key)")


class QboRateLimitSlot(models.Model):
    """One request slot (started, maybe still in flight) of the per-realm rate limiter."""
    _name = 'qbo.rate.limit.slot'
    _description = 'QuickBooks Online request slot'
    _log_access = False

    key = fields.Char(required=True, readonly=True)
    started_at = fields.Float(required=True, readonly=True)
    is_batch = fields.Boolean(readonly=True)
    released_at = fields.Float(readonly=True)
    lease_until = fields.Float(readonly=True)

    def init(self):
        # The limiter scans the recent slots of one realm at every acquisition.
        self.env.cr.execute("""CREATE INDEX IF NOT EXISTS qbo_rate_limit_slot_key_started_idx
                               ON qbo_rate_limit_slot (key, started_at)""")


class QboConnectionRateLimit(models.AbstractModel):
    """The connection's side of the shared limiter and of Intuit's monthly read metering."""
    _name = 'qbo.connection.rate.limit'
    _description = 'QuickBooks Online connection: rate limit and metering'

    qbo_metered_calls = fields.Integer(
        'Metered calls this month', compute='_compute_qbo_metered',
        help="QuickBooks queries and reads (Intuit's metered \"CorePlus\" calls) made for this company "
             "this calendar month (UTC), by every Odoo worker. Writes are not metered.")
    qbo_metered_budget = fields.Integer('Monthly metered-call budget', compute='_compute_qbo_metered')
    qbo_metered_percent = fields.Float('Budget used (%)', compute='_compute_qbo_metered', digits=(16, 1))
    qbo_metered_alert_month = fields.Char(readonly=True, copy=False,
                                          help="Month (YYYY-MM) of the last 80 % budget activity.")

    # No @api.depends: the realm and endpoint it reads are qbo.connection's fields, not this abstract
    # model's (Odoo checks dependencies on every model); a display value computed when read.
    def _compute_qbo_metered(self):
        usage = self._qbo_metered_usage()
        budget = self._qbo_metered_budget()
        for connection in self:
            count = usage.get(connection.id, 0)
            connection.qbo_metered_calls = count
            connection.qbo_metered_budget = budget
            connection.qbo_metered_percent = 100.0 * count / budget if budget else 0.0

    def _qbo_limiter_key(self):
        self.ensure_one()
        return realm_key(self.realm_id, self._qbo_endpoints()['api'] or 'local')

    def _qbo_metered_usage(self):
        """{connection id: metered calls this month}, in one query.

        Read on a fresh cursor, as the limiter writes it: the counter moves during long
        transactions (a cron run), and this one's snapshot may be older than that.
        """
        keys = {}
        for connection in self.filtered('realm_id'):
            try:
                keys[connection._qbo_limiter_key()] = connection.id
            except UserError:  # a half-configured custom endpoint has no key yet
                continue
        if not keys:
            return {}
        with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
            cr.execute("""SELECT key, metered_count FROM qbo_rate_limit
                           WHERE key IN %s AND metered_month = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM')""",
                       [tuple(keys)])
            return {keys[key]: count for key, count in cr.fetchall()}

    @api.model
    def _qbo_metered_budget(self):
        """Intuit's monthly quota of metered calls for the app's plan (setting; 500,000 on the free tier)."""
        return int(self.env['ir.config_parameter'].sudo().get_param(
            'quickbooks_online.metered_budget', const.METERED_MONTHLY_BUDGET) or 0)

    @api.model
    def _qbo_rate_limits(self):
        """The limits kept per realm (system parameters, defaults: Intuit's)."""
        get = self.env['ir.config_parameter'].sudo().get_param
        return RateLimits(**{name: int(get(param, default)) for name, (param, default) in LIMIT_PARAMS.items()})

    def _qbo_rate_limiter(self):
        """The cross-worker limiter of this connection's realm (given to every QboClient).

        It works on cursors of its own from the database's pool (it commits), never on the
        caller's transaction; the cron waits longer for a slot than a button does.
        """
        self.ensure_one()
        in_cron = 'ir_cron_progress_id' in self.env.context or 'lastcall' in self.env.context
        return PgRateLimiter(sql_db.db_connect(self.env.cr.dbname).cursor, self._qbo_limiter_key(),
                             self._qbo_rate_limits(), max_wait=MAX_WAIT_CRON if in_cron else MAX_WAIT_INTERACTIVE)

    @api.model
    def _qbo_check_metered_budget(self):
        """Give administrators an activity (once a month) when 80 % of the metered budget is used."""
        month = fields.Datetime.now().strftime('%Y-%m')
        connections = self.sudo().search([('state', '=', 'connected'), ('realm_id', '!=', False)])
        for connection in connections.filtered(lambda c: c.qbo_metered_alert_month != month):
            budget = connection.qbo_metered_budget
            if not budget or connection.qbo_metered_calls < const.METERED_ALERT_RATIO * budget:
                continue
            note = _("%(calls)s of the %(budget)s metered QuickBooks calls (queries and reads) of this month are used "
                     "(%(percent)s %%). Past the budget Intuit cuts the app off for this company until next month: "
                     "raise the budget with your Intuit plan or reduce imports and checks.",
                     calls=connection.qbo_metered_calls, budget=budget, percent=round(connection.qbo_metered_percent))
            group = self.env.ref('base.group_system')
            users = group.all_user_ids if 'all_user_ids' in group._fields else group.users  # 19 / 18
            admins = users.filtered(
                lambda u, c=connection: not u.share and u.active and c.company_id in u.company_ids)
            for admin in admins:
                connection.activity_schedule('mail.mail_activity_data_todo', user_id=admin.id,
                                             summary=_("QuickBooks metered calls at 80 %"), note=note)
            connection.qbo_metered_alert_month = month
            _logger.warning("QuickBooks metered calls of company %s at %s of %s this month.",
                            connection.company_id.name, connection.qbo_metered_calls, budget)
