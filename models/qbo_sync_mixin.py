from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import const

# Beyond this many records, "Send to QuickBooks" queues them for the cron instead of sending in the request.
QUEUE_THRESHOLD = 20


class QboSyncMixin(models.AbstractModel):
    """What an exportable Odoo model shares: its QuickBooks state, buttons and change tracking.

    Concrete models say what to send and react to the outcome: they define `_qbo_entity()`,
    `_qbo_synced_fields()` and `_qbo_exporter()` (the qbo.exporter.* model that sends them), and may
    override `_qbo_dependencies()`, `_qbo_connection()` and `_qbo_after_process()`.
    """
    _name = 'qbo.sync.mixin'
    _description = 'QuickBooks Online export mixin'

    qbo_binding_ids = fields.One2many('qbo.binding', 'res_id', string='QuickBooks links', copy=False,
                                      groups='account.group_account_invoice')
    qbo_state = fields.Selection([('not_sent', 'Not sent')] + const.SYNC_STATES, string='QuickBooks',
                                 compute='_compute_qbo_status', groups='account.group_account_invoice')
    qbo_id = fields.Char('QuickBooks Id', compute='_compute_qbo_status', groups='account.group_account_invoice')
    qbo_error = fields.Text('QuickBooks error', compute='_compute_qbo_status',
                            groups='account.group_account_invoice')
    qbo_last_sync = fields.Datetime('Last sent to QuickBooks', compute='_compute_qbo_status',
                                    groups='account.group_account_invoice')
    qbo_url = fields.Char('QuickBooks link', compute='_compute_qbo_status', groups='account.group_account_invoice')
    qbo_next_retry = fields.Datetime('Next attempt', compute='_compute_qbo_status',
                                     groups='account.group_account_invoice')
    qbo_sent_name = fields.Char('Name in QuickBooks', compute='_compute_qbo_status',
                                groups='account.group_account_invoice',
                                help="The name QuickBooks holds (QuickBooks refuses some characters, e.g. ':').")
    qbo_reconnect = fields.Boolean('QuickBooks reconnection needed', compute='_compute_qbo_status',
                                   groups='account.group_account_invoice',
                                   help="Queued, but nothing goes to QuickBooks until an administrator reconnects.")

    @api.depends('qbo_binding_ids.state', 'qbo_binding_ids.qbo_id', 'qbo_binding_ids.error_message',
                 'qbo_binding_ids.next_retry_date', 'qbo_binding_ids.qbo_sent_name')
    @api.depends_context('company')
    def _compute_qbo_status(self):
        connections = self._qbo_connections_by_company()
        for record in self:
            connection = connections.get(record._qbo_company().id)
            binding = record._qbo_binding(connection) if record.id and connection else False
            record.qbo_state = binding.state if binding else 'not_sent'
            record.qbo_id = binding.qbo_id if binding else False
            record.qbo_error = binding.error_message if binding else False
            record.qbo_last_sync = binding.last_sync_date if binding else False
            record.qbo_url = binding.qbo_url if binding else False
            record.qbo_next_retry = binding.next_retry_date if binding else False
            record.qbo_sent_name = binding.qbo_sent_name if binding else False
            record.qbo_reconnect = bool(binding and binding.state == 'to_send' and connection.state == 'reconnect')

    # ------------------------------------------------------------------ hooks for concrete models

    def _qbo_entity(self):
        raise NotImplementedError

    @api.model
    def _qbo_synced_fields(self):
        """Fields whose change makes an already sent record 'to send' again."""
        return set()

    def _qbo_company(self):
        """The company whose connection exports this record (its own, else the current one)."""
        self.ensure_one()
        return self['company_id'] if 'company_id' in self._fields and self['company_id'] else self.env.company

    def _qbo_connection(self):
        """The connection this record is exported through."""
        self.ensure_one()
        return self.env['qbo.connection']._qbo_get_for_company(self._qbo_company())

    def _qbo_connections_by_company(self):
        """{company id: connection} for these records, in one query (computes run on whole lists)."""
        company_ids = {record._qbo_company().id for record in self}
        connections = self.env['qbo.connection'].sudo().search([('company_id', 'in', list(company_ids))])
        return {connection.company_id.id: connection.sudo(False) for connection in connections}

    def _qbo_binding(self, connection=None, entity=None):
        """This record's binding on `connection` (default: its own connection) for `entity` (default: the
        record's own, `_qbo_entity()`), or an empty recordset. A partner has a Customer and a Vendor link."""
        self.ensure_one()
        connection = connection or self._qbo_connection()
        if not connection:
            return self.env['qbo.binding']
        bindings = self.sudo().qbo_binding_ids.filtered(lambda b: b.connection_id == connection)
        if entity or len(bindings) > 1:
            entity = entity or self._qbo_entity()
            bindings = bindings.filtered(lambda b: b.entity == entity)
        return bindings[:1]

    def _qbo_recover_binding(self):
        """This record's binding, with the intent of a request that died after sending: re-created from the
        intent log when the binding went with that request's transaction, or given the logged intent when
        only the intent did (a binding queued before); either way the object may be in QuickBooks.

        For the decisions that must know whether QuickBooks may hold the record (cancel, delete).
        """
        self.ensure_one()
        binding = self._qbo_binding()
        connection = self._qbo_connection()
        if not connection or not self.id:
            return binding
        Log = self.env['qbo.intent.log'].sudo()
        if binding:
            # A queued link survives the lost transaction, but without the intent its request carried:
            # the logged one says the object may be in QuickBooks (chaos seed 3: a deleted invoice stayed live).
            Log._qbo_adopt(binding)
            return binding
        if Log._qbo_logged(connection, self):
            binding = self.env['qbo.binding']._qbo_get_or_create(connection, self, self._qbo_entity())
            Log._qbo_adopt(binding)
        return binding

    def _qbo_exporter(self):
        """The exporter model (qbo.exporter.*) whose `_qbo_export(binding, record, client)` sends this record.

        Default: the record sends itself with its own `_qbo_export(binding, client)`.
        """
        return self.env['qbo.exporter.self']

    def _qbo_export(self, binding, client):
        raise NotImplementedError

    def _qbo_dependencies(self, binding):
        """Bindings to export before this record's, as (binding, context) pairs (e.g. an invoice's customer)."""
        return []

    def _qbo_after_process(self, binding, outcome):
        """Called after an export attempt, outside its savepoint (e.g. to post in the chatter)."""

    @api.model
    def _qbo_after_process_many(self, items):
        """Batch exports: `_qbo_after_process` of many records at once (override to log set-based).

        :param list items: (record, binding, outcome) triples
        """
        for record, binding, outcome in items:
            record._qbo_after_process(binding, outcome)

    # ------------------------------------------------------------------ CRUD

    def write(self, vals):
        res = super().write(vals)
        if self._qbo_synced_fields() & set(vals):
            bindings = self.sudo().qbo_binding_ids.filtered(lambda b: b.state in ('sent', 'variance', 'error'))
            self._qbo_bindings_changed(bindings, vals)._qbo_mark_to_send()
        return res

    def _qbo_bindings_changed(self, bindings, vals):
        """The `bindings` that writing `vals` makes 'to send' again (default: all of them)."""
        return bindings

    # ------------------------------------------------------------------ actions

    def _qbo_records_to_send(self):
        """Records that the button/server action really exports (e.g. commercial partners)."""
        return self

    def action_qbo_dry_run(self):
        """List action: what "Send to QuickBooks" would do with the selection, without writing."""
        return self.env['qbo.dry.run']._qbo_dry_run_records(self).action_qbo_open()

    def action_qbo_send(self):
        """'Send to QuickBooks': export now what needs it; summarise exactly what happened.

        Records already in QuickBooks and unchanged since are not sent again, and voided or
        deleted documents are skipped: the summary counts them apart instead of as "sent".
        """
        if not self.env.su and not self.env.user.has_group('account.group_account_invoice'):
            # Whoever reads a contact (a portal user, their own) must not export it: invoicing users only.
            raise AccessError(_("Only invoicing users can send records to QuickBooks Online."))
        records = self._qbo_records_to_send()
        bindings = self.env['qbo.binding'].sudo()  # links are written by the connector only
        skipped = {'unchanged': 0, 'voided': 0}
        for record in records:
            connection = record._qbo_connection()
            if not connection or connection.state != 'connected':
                raise UserError(connection._qbo_not_connected_message() if connection else _(
                    "QuickBooks Online is not configured for %(company)s (%(where)s).", company=self.env.company.name,
                    where=self.env['qbo.connection']._qbo_where('settings')))
            record._qbo_check_exportable()
            binding = self.env['qbo.binding']._qbo_get_or_create(connection, record, record._qbo_entity())
            if binding.state in ('voided', 'deleted_in_qbo'):
                skipped['voided'] += 1
                continue
            if binding.state == 'sent' and len(records) > 1:
                skipped['unchanged'] += 1  # edits re-queue a sent record (state 'to_send'): nothing new here
                continue
            binding.write({'state': 'to_send', 'next_retry_date': False})
            bindings |= binding
        if len(bindings) > QUEUE_THRESHOLD:
            return self._qbo_queue_notification(bindings)
        bindings._qbo_lock_for_button()
        counts = bindings._qbo_process()
        return self._qbo_outcome_notification(bindings, dict(counts, **skipped))

    @api.model
    def _qbo_queue_notification(self, bindings):
        """Many records: let the cron send them in the background (in batches, under the shared limiter)
        rather than hold the browser for minutes, and say so."""
        bindings._qbo_trigger_cron()
        return self.env['qbo.connection']._qbo_notification(
            _("Queued for QuickBooks"),
            _("%s records are queued: the scheduled action 'QuickBooks: export invoices' sends them in the "
              "background now. Their QuickBooks status shows the progress.", len(bindings)), 'info')

    def _qbo_check_exportable(self):
        """Raise a UserError when the record can never be exported (e.g. a draft invoice)."""

    @api.model
    def _qbo_outcome_notification(self, bindings, counts):
        """Tell the person what the click did: sent, failed (why), will be retried (why, when), skipped."""
        Connection = self.env['qbo.connection']
        failed = bindings.filtered(lambda b: b.state in ('error', 'blocked', 'variance'))
        deferred = bindings.filtered(lambda b: b.state == 'to_send')
        if deferred and (counts.get('reconnect') or 'reconnect' in deferred.connection_id.mapped('state')):
            # Refused credentials, a revoked app: waiting is no remedy, say so at once and what to do. The
            # reason is on the link that met the refusal (the connection was stopped on a cursor of its own).
            refused = self.env['qbo.binding'].sudo().search(
                [('connection_id', 'in', deferred.connection_id.ids), ('state', '=', 'to_send'),
                 ('error_message', '!=', False)], order='write_date desc, id desc', limit=1)
            connection = deferred.connection_id[:1]
            reason = (refused.error_message if refused else '') or connection.last_error or \
                connection._qbo_not_connected_message()
            return Connection._qbo_notification(_("Reconnect QuickBooks Online"), _(
                "%(reason)s\n%(count)s record(s) not sent: they stay queued and go once an administrator "
                "reconnects.", reason=reason, count=len(deferred)), 'danger')
        if len(bindings) == 1 and not (counts.get('unchanged') or counts.get('voided')):
            if failed:
                return Connection._qbo_notification(_("Not sent to QuickBooks"), failed.error_message or '', 'danger')
            if deferred:
                return Connection._qbo_notification(_("Not sent yet: QuickBooks will be tried again"), _(
                    "%(reason)s\nNext attempt: %(when)s (automatic, nothing to do).",
                    reason=deferred.error_message or _("QuickBooks did not answer."),
                    when=deferred._qbo_next_attempt_label()), 'warning')
        # The records the person chose, not what went with them (an invoice's customer is not "sent" to them).
        lines = [_("%s sent.", len(bindings.filtered(lambda b: b.state == 'sent')))]
        if failed:
            lines.append(_("%s failed: see the QuickBooks banner on each document.", len(failed)))
        if deferred:
            lines.append(_("%(count)s not sent yet (QuickBooks did not accept them now); next attempt %(when)s.",
                           count=len(deferred), when=deferred[:1]._qbo_next_attempt_label()))
        if counts.get('unchanged'):
            lines.append(_("%s already in QuickBooks and unchanged: not sent again.", counts['unchanged']))
        if counts.get('voided'):
            lines.append(_("%s voided or deleted in QuickBooks: skipped.", counts['voided']))
        kind = 'danger' if failed else 'warning' if deferred else 'success'
        title = _("Sent to QuickBooks") if kind == 'success' else _("Sent to QuickBooks, with problems")
        return Connection._qbo_notification(title, '\n'.join(lines), kind)

    def action_qbo_retry(self):
        return self.action_qbo_send()

    def action_qbo_open_in_quickbooks(self):
        self.ensure_one()
        binding = self._qbo_binding()
        if not binding or not binding.qbo_url:
            raise UserError(_("This record is not in QuickBooks yet."))
        return {'type': 'ir.actions.act_url', 'url': binding.qbo_url, 'target': 'new'}
