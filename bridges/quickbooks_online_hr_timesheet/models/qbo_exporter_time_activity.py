from odoo import _, api, models

from odoo.addons.quickbooks_online import const
from odoo.addons.quickbooks_online.tools import QboValidationError

REMOVAL_MODEL = 'qbo.time.activity.removal'
GROUP_MODEL = 'qbo.time.activity.group'


class QboExporterTimeActivity(models.AbstractModel):
    """Sends a timesheet line (or the lines of one employee, day and task: qbo.time.activity.group) to
    QuickBooks as a TimeActivity - create, update, delete - exactly once.

    Every write goes through `binding._qbo_call` (durable intent + stable requestid). Each time activity we
    create carries our marker as the last word of its Description, so that after an unknown outcome the
    engine (one query per batch) or this exporter finds it among the time activities created since the
    intent, instead of creating a second one. A deleted line's link moves to a qbo.time.activity.removal
    record (see account.analytic.line.unlink): the delete is then queued and sent like any other write.
    A group left without lines deletes its time activity the same way.
    QuickBooks' change feed does not carry time activities: nothing is read back from it.
    """
    _name = 'qbo.exporter.time_activity'
    _inherit = 'qbo.exporter'
    _description = 'QuickBooks Online time activity exporter'
    _qbo_entities = ('TimeActivity',)
    _qbo_export_order = 3  # after the customers and employees it names
    _qbo_marker_field = 'Description'

    @api.model
    def _qbo_export(self, binding, record, client):
        """Create or update the time activity of a line; delete the one of a removed line."""
        res_ref = f"{record._name},{record.id}"
        if record._name == REMOVAL_MODEL or (record._name == GROUP_MODEL and not record.line_ids):
            self._qbo_delete(binding, record, client, res_ref)
            return
        payload = self._qbo_payload(binding, record, client)
        if binding.qbo_id:
            activity = self._qbo_update(binding, client, payload, res_ref)
        else:
            activity = self._qbo_create(binding, client, payload, res_ref)
        self._qbo_apply(binding, activity)

    @api.model
    def _qbo_payload(self, binding, record, client):
        """The time activity of a line, or of a group's lines (see qbo.time.activity.group)."""
        connection = binding.connection_id
        record._qbo_check_exportable()
        group = record if record._name == GROUP_MODEL else None
        line = record._qbo_lead_line() if group else record
        name_of, person_id = line._qbo_person(connection)
        customer_id = line._qbo_customer_qbo_id(connection)
        return self.env['qbo.mapper']._qbo_prepare_time_activity_vals(line, connection, name_of, person_id,
                                                                    customer_id, group=group)

    @api.model
    def _qbo_apply(self, binding, activity):
        binding.write({'qbo_id': activity['Id'], 'qbo_sync_token': activity['SyncToken']})

    # ------------------------------------------------------------------ batch (see qbo.binding._qbo_process_batch)

    @api.model
    def _qbo_batch_item(self, binding, record, client):
        """New lines go in batch requests (a week of timesheets: one request); updates, deletes and unknown
        outcomes (looked up first) go alone."""
        if record._name == REMOVAL_MODEL or binding.qbo_id or binding._qbo_pending_create():
            return None
        if record._name == GROUP_MODEL and not record.line_ids:
            return None  # emptied before it was sent: settled alone (nothing to create)
        return 'create', self._qbo_payload(binding, record, client)

    @api.model
    def _qbo_batch_apply(self, binding, record, activity):
        self._qbo_apply(binding, activity)

    # ------------------------------------------------------------------ writes

    @api.model
    def _qbo_find_ours(self, binding, client, res_ref):
        """After an unknown outcome: our time activity among those created since the intent, or None."""
        if not binding.intent_date:
            return None
        return binding._qbo_created_since(self, client, res_ref=res_ref).get(binding._qbo_marker())

    @api.model
    def _qbo_create(self, binding, client, payload, res_ref):
        """Create exactly once: a marker lookup after an unknown outcome, the same requestid on a retry."""
        if binding._qbo_pending_create():
            existing = self._qbo_find_ours(binding, client, res_ref)
            if existing:
                binding._qbo_settle()
                binding.write({'qbo_id': existing['Id'], 'qbo_sync_token': existing['SyncToken']})
                return self._qbo_update(binding, client, payload, res_ref)
        return binding._qbo_call('create', lambda rid: client.create('TimeActivity', payload, rid, res_ref=res_ref))

    @api.model
    def _qbo_update(self, binding, client, payload, res_ref):
        """Full update (what Odoo holds now) with the SyncToken of our last write; the time activity is read
        only on a stale token (5010) or after an unknown outcome of the last update (then with a new requestid,
        or QuickBooks would replay the old answer)."""
        def send(token):
            body = dict(payload, Id=binding.qbo_id, SyncToken=token)
            return binding._qbo_call('update', lambda rid: client.update('TimeActivity', body, rid, res_ref=res_ref))

        unknown = binding.intent_operation == 'update' and binding.intent_request_id
        if binding.qbo_sync_token and not unknown:
            try:
                return send(binding.qbo_sync_token)
            except QboValidationError as exc:
                if not exc.is_stale_object:
                    raise
        current = client.read('TimeActivity', binding.qbo_id, res_ref=res_ref)
        if unknown:
            binding._qbo_settle()
        return send(current['SyncToken'])

    @api.model
    def _qbo_delete(self, binding, removal, client, res_ref):
        """Delete the time activity of a removed line, once: a pending create is looked up first (it may have
        reached QuickBooks), a retried delete keeps its requestid, an activity already gone (610) is done."""
        if binding._qbo_pending_create():
            existing = self._qbo_find_ours(binding, client, res_ref)
            if existing:
                binding._qbo_settle()
                binding.write({'qbo_id': existing['Id'], 'qbo_sync_token': existing['SyncToken']})
            else:
                binding._qbo_forget_intent()  # proved absent: nothing was created, nothing to delete
        qbo_id = binding.qbo_id
        if qbo_id:
            token = binding.qbo_sync_token
            unknown = binding.intent_operation == 'delete' and binding.intent_request_id
            try:
                if not token:
                    token = client.read('TimeActivity', qbo_id, res_ref=res_ref)['SyncToken']
                try:
                    binding._qbo_call('delete', lambda rid: client.delete('TimeActivity', qbo_id, token, rid,
                                                                          res_ref=res_ref))
                except QboValidationError as exc:
                    if not exc.is_stale_object or unknown:
                        raise
                    token = client.read('TimeActivity', qbo_id, res_ref=res_ref)['SyncToken']
                    binding._qbo_call('delete', lambda rid: client.delete('TimeActivity', qbo_id, token, rid,
                                                                          res_ref=res_ref))
            except QboValidationError as exc:  # 610 from the read or the delete: already gone
                if exc.code != const.FAULT_OBJECT_NOT_FOUND:
                    raise
            message = _("Deleted in Odoo: its QuickBooks time activity (Id %s) was deleted.", qbo_id)
        else:
            message = _("Deleted in Odoo before it reached QuickBooks: nothing to delete there.")
        binding._qbo_transition('voided', error_message=message)
