import re

from odoo import _, api, models

from odoo.addons.quickbooks_online import const
from odoo.addons.quickbooks_online.models.qbo_binding import QboBlocked
from odoo.addons.quickbooks_online.tools import QboValidationError
from odoo.addons.quickbooks_online.tools.qbo_client import qbo_quote

_EXISTING_ID = re.compile(r'Id=(\d+)')


class QboExporterEmployee(models.AbstractModel):
    """Creates or updates an Odoo employee as a QuickBooks Employee, exactly once.

    QuickBooks employees carry no free-text field for our marker: the name is the key (DisplayName is unique
    across customers, vendors and employees), so the lookup after an unknown outcome and the answer to a
    duplicate name (6240) search the Employee list by that name.
    """
    _name = 'qbo.exporter.employee'
    _inherit = 'qbo.exporter'
    _description = 'QuickBooks Online employee exporter'
    _qbo_entities = ('Employee',)
    _qbo_export_order = 1  # before the time activities that name them
    _qbo_name_list = True

    @api.model
    def _qbo_export(self, binding, employee, client):
        """Create the QuickBooks employee (or link the one of the same name), or update it."""
        payload = self.env['qbo.mapper']._qbo_prepare_employee_vals(employee)
        res_ref = f"{employee._name},{employee.id}"
        if binding.qbo_id:
            found = self._qbo_update(binding, client, payload, res_ref)
        else:
            found = self._qbo_create(binding, employee, client, payload, res_ref)
        binding.write({'qbo_id': found['Id'], 'qbo_sync_token': found['SyncToken'],
                       'qbo_sent_name': found.get('DisplayName')})

    @api.model
    def _qbo_find_by_name(self, client, name, res_ref):
        rows = client.query(f"SELECT * FROM Employee WHERE DisplayName = {qbo_quote(name)} AND Active IN (true, false)",
                            res_ref=res_ref).get('Employee', [])
        return rows[0] if rows else None

    @api.model
    def _qbo_create(self, binding, employee, client, payload, res_ref):
        """Create; after an unknown outcome look for the employee of that name first; on 6240 link the QuickBooks
        employee of that name (the same person: one name per person in QuickBooks), never a customer or vendor."""
        if binding._qbo_pending_create():
            existing = self._qbo_find_by_name(client, payload['DisplayName'], res_ref)
            if existing:
                binding._qbo_settle()
                return self._qbo_link(binding, client, existing, payload, res_ref)
        try:
            return binding._qbo_call('create', lambda rid: client.create('Employee', payload, rid, res_ref=res_ref))
        except QboValidationError as exc:
            if exc.code != const.FAULT_DUPLICATE_NAME:
                raise
            clash = exc
        existing = self._qbo_find_by_name(client, payload['DisplayName'], res_ref)
        if existing:
            return self._qbo_link(binding, client, existing, payload, res_ref)
        holder = _EXISTING_ID.search(clash.detail or clash.message or '')
        raise QboBlocked(_(
            "QuickBooks already has a customer or vendor named %(name)s (Id %(id)s): QuickBooks keeps one name per "
            "person across customers, vendors and employees. Rename the employee in Odoo or that record in "
            "QuickBooks, then send the employee again.",
            name=payload['DisplayName'], id=holder.group(1) if holder else '?'))

    @api.model
    def _qbo_link(self, binding, client, existing, payload, res_ref):
        holder = binding.search([('connection_id', '=', binding.connection_id.id), ('entity', '=', 'Employee'),
                                 ('qbo_id', '=', existing['Id']), ('id', '!=', binding.id)], limit=1)
        if holder:
            raise QboBlocked(_("The QuickBooks employee %(name)s is already linked to %(other)s: two Odoo employees "
                               "with one name. Rename one of them, then send it again.",
                               name=existing.get('DisplayName'), other=holder.record_name))
        binding.write({'qbo_id': existing['Id'], 'qbo_sync_token': existing['SyncToken']})
        return self._qbo_update(binding, client, payload, res_ref)

    @api.model
    def _qbo_update(self, binding, client, payload, res_ref):
        """Sparse update with the SyncToken we hold; re-read once on a stale token (5010) or after an unknown
        outcome of the last update (then a new requestid: the old one would replay the old answer)."""
        def send(token):
            body = dict(payload, Id=binding.qbo_id, SyncToken=token, sparse=True)
            return binding._qbo_call('update', lambda rid: client.update('Employee', body, rid, res_ref=res_ref))

        if not (binding.intent_operation == 'update' and binding.intent_request_id) and binding.qbo_sync_token:
            try:
                return send(binding.qbo_sync_token)
            except QboValidationError as exc:
                if not exc.is_stale_object:
                    raise
        current = client.read('Employee', binding.qbo_id, res_ref=res_ref)
        if binding.intent_request_id:
            binding._qbo_settle()
        return send(current['SyncToken'])
