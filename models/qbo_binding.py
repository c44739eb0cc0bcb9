import hashlib
import json
import logging
from datetime import timedelta

from markupsafe import escape
from psycopg2.errors import LockNotAvailable

from odoo import _, api, fields, models, modules
from odoo.exceptions import UserError
from odoo.tools import SQL

from .. import const
from ..tools import QboConnectionError, QboError, QboRateLimitError
from . import qbo_compat
from .qbo_connection import QboReconnectNeeded

_logger = logging.getLogger(__name__)

# Export order inside one run: an invoice needs its customer (and items) first.
ENTITY_ORDER = {'Item': 0, 'Customer': 1, 'Invoice': 2, 'CreditMemo': 2}
# Exponential back-off of transient failures (minutes), capped at the last value.
RETRY_DELAYS_MINUTES = (1, 5, 15, 60, 240)


class QboBlocked(UserError):
    """The record cannot be exported until someone fixes its data or a mapping.

    Puts the binding in the visible 'blocked' state with this message; it is queued again by
    itself once the mapping is set (see qbo.mapping) or the record is edited.
    """


class QboBinding(models.Model):
    """Outbox and link between one Odoo record and one QuickBooks object, per connection (realm).

    The state machine shared by the "Send to QuickBooks" button, the server actions and the cron:
    to_send -> sent | variance | error | blocked; sent -> to_send when the record changes;
    voided / deleted_in_qbo are terminal until someone acts. A partner shared by two companies
    connected to two realms has two bindings, hence two QuickBooks ids.
    """
    _name = 'qbo.binding'
    _description = 'QuickBooks Online link'
    _order = 'id desc'
    _rec_name = 'record_name'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True)
    res_model = fields.Char('Model', required=True, index=True)
    res_id = fields.Many2oneReference('Record', model_field='res_model', required=True, index=True)
    record_name = fields.Char(compute='_compute_record_name', search='_search_record_name')
    entity = fields.Char('QuickBooks entity', required=True)
    qbo_id = fields.Char('QuickBooks Id', copy=False, index=True)
    qbo_sync_token = fields.Char(copy=False)
    qbo_doc_number = fields.Char('QuickBooks number', copy=False)
    qbo_sent_name = fields.Char('Name sent', copy=False,
                                help="The (cleaned) name QuickBooks knows this record by.")
    state = fields.Selection(const.SYNC_STATES, default='to_send', required=True, index=True, copy=False)
    error_message = fields.Text(copy=False)
    error_code = fields.Char(copy=False)
    intuit_tid = fields.Char(copy=False)
    retry_count = fields.Integer(copy=False)
    next_retry_date = fields.Datetime(copy=False, index=True)
    last_sync_date = fields.Datetime(copy=False)
    # requestid ingredients: the same payload in the same generation keeps the same requestid, so
    # a retry after an unknown outcome is replayed by QuickBooks instead of creating a duplicate.
    request_generation = fields.Integer(default=0, copy=False)
    last_request_id = fields.Char(copy=False)
    outcome_unknown = fields.Boolean(copy=False, help="A create may have reached QuickBooks without an answer.")
    odoo_total = fields.Monetary(currency_field='currency_id', copy=False)
    qbo_total = fields.Monetary(currency_field='currency_id', copy=False)
    odoo_tax = fields.Monetary(currency_field='currency_id', copy=False)
    qbo_tax = fields.Monetary(currency_field='currency_id', copy=False)
    currency_id = fields.Many2one('res.currency', copy=False)
    qbo_url = fields.Char('Open in QuickBooks', compute='_compute_qbo_url')

    _record_uniq = qbo_compat.Constraint('unique(connection_id, res_model, res_id)',
                                         'A record is linked at most once per QuickBooks connection.')
    _qbo_object_uniq = qbo_compat.Constraint('unique(connection_id, entity, qbo_id)',
                                             'A QuickBooks object is linked to at most one Odoo record.')

    @api.depends('res_model', 'res_id')
    def _compute_record_name(self):
        for binding in self:
            record = binding._qbo_record()
            binding.record_name = record.display_name if record else f"{binding.res_model},{binding.res_id}"

    def _search_record_name(self, operator, value):
        """Search the linked records by their display name (the Transfers list's search box).

        The name is computed from the linked record, so the search runs on each linked model's
        stored name fields (its `_search_display_name`) and returns the matching (model, id) pairs.
        """
        groups = self.sudo()._read_group([], ['res_model'])
        domains = []
        for (res_model,) in groups:
            if not res_model or res_model not in self.env:
                continue
            ids = self.env[res_model]._search([('display_name', operator, value)])
            domains.append(['&', ('res_model', '=', res_model), ('res_id', 'in', ids)])
        return qbo_compat.domain_or(domains)

    @api.depends('qbo_id', 'entity', 'connection_id.environment', 'connection_id.custom_base_url')
    def _compute_qbo_url(self):
        for binding in self:
            url = False
            if binding.qbo_id:
                app = binding.connection_id._qbo_endpoints()['app'] if binding.connection_id else ''
                if binding.connection_id.environment == 'custom':
                    url = f"{app}/#{binding.entity.lower()}-{binding.qbo_id}"
                else:
                    page = {'Customer': 'customerdetail?nameId=', 'Invoice': 'invoice?txnId=',
                            'CreditMemo': 'creditmemo?txnId=', 'Item': 'items?itemId='}.get(binding.entity, '')
                    url = f"{app}/{page}{binding.qbo_id}"
            binding.qbo_url = url

    # ------------------------------------------------------------------ helpers

    def _qbo_record(self):
        self.ensure_one()
        if not self.res_model or self.res_model not in self.env:
            return None
        return self.env[self.res_model].browse(self.res_id).exists()

    @api.model
    def _qbo_get_or_create(self, connection, record, entity):
        """Return the binding of `record` on `connection`, creating it (state to_send) if needed."""
        binding = self.sudo().search([('connection_id', '=', connection.id), ('res_model', '=', record._name),
                                      ('res_id', '=', record.id)], limit=1)
        if not binding:
            binding = self.sudo().create({'connection_id': connection.id, 'res_model': record._name,
                                          'res_id': record.id, 'entity': entity})
        return binding

    def _qbo_request_id(self, operation, payload):
        """Deterministic requestid: same binding, operation, payload and generation -> same id."""
        self.ensure_one()
        digest = hashlib.sha1(json.dumps([operation, payload, self.request_generation], sort_keys=True,
                                         default=str).encode()).hexdigest()[:20]
        db_tag = self.env.cr.dbname[-8:].replace('-', '')
        return f"odoo-{db_tag}-{self.id}-{operation[:1]}{digest}"[:const.REQUEST_ID_MAX_LENGTH]

    def _qbo_next_attempt_label(self):
        """When the scheduler will try this binding again, in the user's timezone ('in a few minutes' if unset)."""
        self.ensure_one()
        if not self.next_retry_date:
            return _("within a few minutes")
        return fields.Datetime.to_string(fields.Datetime.context_timestamp(self, self.next_retry_date))[:16]

    def _qbo_mark_to_send(self):
        """Queue the bindings again (record edited, mapping fixed, Retry clicked)."""
        todo = self.filtered(lambda b: b.state not in ('voided',))
        todo.write({'state': 'to_send', 'next_retry_date': False, 'retry_count': 0})
        if todo:
            self._qbo_trigger_cron()

    @api.model
    def _qbo_trigger_cron(self):
        cron = self.env.ref('quickbooks_online.ir_cron_qbo_export', raise_if_not_found=False)
        if cron and cron.active:
            cron.sudo()._trigger()

    @api.model
    def _qbo_can_commit(self):
        """Never commit inside tests (same rule as account.move.send)."""
        return not modules.module.current_test

    # ------------------------------------------------------------------ processing (button and cron)

    def _qbo_process(self, with_commit=False):
        """Export the bindings, each in its own savepoint; record the outcome on the binding.

        Dependencies (the customer of an invoice) are exported first by the business model.
        Outcomes: sent / variance; to_send with a retry date for transient failures; error for
        data QuickBooks refused; blocked for a missing mapping or a failing preflight. A dead
        connection stops its bindings without marking them failed.

        :param bool with_commit: commit after each binding (cron); never inside tests
        :return: counts per outcome
        :rtype: dict
        """
        counts = {'sent': 0, 'error': 0, 'blocked': 0, 'retry': 0, 'skipped': 0}
        ordered = self.sorted(lambda b: (b.connection_id.id, ENTITY_ORDER.get(b.entity, 9), b.id))
        dead_connections = set()
        for binding in ordered:
            connection = binding.connection_id
            if connection.id in dead_connections or connection.state != 'connected':
                counts['skipped'] += 1
                continue
            outcome = binding._qbo_process_one()
            if outcome == 'reconnect':
                dead_connections.add(connection.id)
                counts['skipped'] += 1
            else:
                counts[outcome] = counts.get(outcome, 0) + 1
            if with_commit and self._qbo_can_commit():
                # Cron: one transaction per exported record, as Odoo's own batch senders do.
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return counts

    def _qbo_process_one(self):
        """Export one binding; return 'sent', 'error', 'blocked', 'retry' or 'reconnect'."""
        self.ensure_one()
        record = self._qbo_record()
        if not record:
            self.unlink()
            return 'skipped'
        connection = self.connection_id
        calls = []
        outcome = 'sent'
        vals = {}
        try:
            issues = connection._qbo_preflight_issues()
            if issues:
                raise QboBlocked('\n'.join(issues))
            with self.env.cr.savepoint():
                client = connection._qbo_get_client(calls)
                record._qbo_export(self, client)
            vals = {'error_code': False, 'retry_count': 0, 'next_retry_date': False,
                    'last_sync_date': fields.Datetime.now(), 'outcome_unknown': False}
            if self.state not in ('variance', 'voided', 'deleted_in_qbo'):
                # A success clears any earlier failure text (e.g. "Blocked: mapping" before the fix).
                vals.update(state='sent', error_message=False)
            # 'variance', 'voided' and 'deleted_in_qbo' keep the explanation the export wrote.
            outcome = 'sent'
        except QboReconnectNeeded as exc:
            vals = {'error_message': str(exc)}
            outcome = 'reconnect'
        except QboBlocked as exc:
            vals = {'state': 'blocked', 'error_message': str(exc), 'error_code': False}
            outcome = 'blocked'
        except QboError as exc:
            vals = {'error_message': self._qbo_describe_error(exc), 'error_code': exc.code,
                    'intuit_tid': exc.intuit_tid}
            if exc.transient:
                delay = const.THROTTLE_RETRY_SECONDS / 60 if isinstance(exc, QboRateLimitError) else \
                    RETRY_DELAYS_MINUTES[min(self.retry_count, len(RETRY_DELAYS_MINUTES) - 1)]
                vals.update(state='to_send', retry_count=self.retry_count + 1,
                            next_retry_date=fields.Datetime.now() + timedelta(minutes=delay))
                if isinstance(exc, QboConnectionError) and exc.outcome_unknown:
                    vals['outcome_unknown'] = True
                outcome = 'retry'
            else:
                vals['state'] = 'error'
                outcome = 'error'
        except UserError as exc:
            vals = {'state': 'error', 'error_message': str(exc), 'error_code': False}
            outcome = 'error'
        # Outside the savepoint: the history and the outcome survive a rolled-back export.
        self.env['qbo.sync.log']._qbo_create_from_calls(connection, calls)
        self.write(vals)
        if outcome in ('sent', 'error', 'blocked'):
            record._qbo_after_process(self, outcome)
        return outcome

    @api.model
    def _qbo_describe_error(self, exc):
        """A message for accountants: what to do (by fault code), what QuickBooks said, intuit_tid."""
        return self.env['qbo.error.advice']._qbo_describe(exc)

    # ------------------------------------------------------------------ actions

    def action_qbo_retry(self):
        """Queue again and export now."""
        if not self.env.su:
            # Bindings are read-only to users: whoever may read them may retry them, as the machinery.
            self.check_access('read')
            return self.sudo().action_qbo_retry()
        self._qbo_mark_to_send()
        self._qbo_lock_for_button()
        self._qbo_process()
        return True

    def _qbo_lock_for_button(self):
        """Refuse to export bindings that a cron worker is exporting right now."""
        if not self:
            return
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(SQL("SELECT id FROM qbo_binding WHERE id IN %s FOR NO KEY UPDATE NOWAIT",
                                        tuple(self.ids)))
        except LockNotAvailable:
            raise UserError(_("These records are being sent to QuickBooks right now. Try again in a minute.")) from None

    def action_qbo_open_record(self):
        self.ensure_one()
        return {'type': 'ir.actions.act_window', 'res_model': self.res_model, 'res_id': self.res_id,
                'view_mode': 'form'}

    # ------------------------------------------------------------------ cron

    @api.model
    def _qbo_pending_domain(self):
        return [('state', '=', 'to_send'), ('connection_id.state', '=', 'connected'),
                '|', ('next_retry_date', '=', False), ('next_retry_date', '<=', fields.Datetime.now())]

    @api.model
    def _cron_qbo_export(self, batch_size=100):
        """Scheduled export: queue what is due, send a bounded batch, re-trigger if more remains."""
        self.env['account.move']._qbo_enqueue_auto_send()
        pending = self.search(self._qbo_pending_domain(), limit=batch_size)
        # Skip rows a button is exporting right now.
        if pending:
            self.env.cr.execute(SQL("SELECT id FROM qbo_binding WHERE id IN %s FOR NO KEY UPDATE SKIP LOCKED",
                                    tuple(pending.ids)))
            pending = self.browse([row[0] for row in self.env.cr.fetchall()])
        counts = pending._qbo_process(with_commit=True)
        remaining = self.search_count(self._qbo_pending_domain())
        if self._qbo_can_commit():
            qbo_compat.cron_commit_progress(self.env, len(pending), remaining)
        new_failures = pending.exists().filtered(lambda b: b.state in ('error', 'blocked', 'variance'))
        if new_failures:
            self._qbo_send_failure_digest(new_failures)
        if remaining and pending:
            self._qbo_trigger_cron()
        return counts

    @api.model
    def _qbo_send_failure_digest(self, bindings):
        """One email per cron run and connection listing the transfers that failed (to its addresses)."""
        for connection in bindings.connection_id:
            if connection.error_emails:
                self._qbo_send_connection_digest(connection.error_emails,
                                                 bindings.filtered(lambda b, c=connection: b.connection_id == c))

    @api.model
    def _qbo_send_connection_digest(self, emails, bindings):
        rows = ''.join(
            f"<li>{escape(b.record_name)}: {escape(dict(const.SYNC_STATES)[b.state])} - "
            f"{escape((b.error_message or '').splitlines()[0] if b.error_message else '')}</li>"
            for b in bindings)
        self.env['mail.mail'].sudo().create({
            'subject': _("QuickBooks Online: %s transfer(s) failed", len(bindings)),
            'email_to': emails,
            'body_html': f"<p>{_('These records could not be sent to QuickBooks Online:')}</p><ul>{rows}</ul>",
            'auto_delete': True,
        })
