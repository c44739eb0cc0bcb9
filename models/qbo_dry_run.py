import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools.qbo_dry_run_client import DryRunRecorder

DRY_ACTIONS = [
    ('create', 'Create'),
    ('link', 'Link to existing'),
    ('update', 'Update'),
    ('void', 'Void'),
    ('skip', 'Skip'),
]


class QboDryRun(models.Model):
    """What a send would do, record by record, with no write to QuickBooks.

    The plan is the real export: the engine's queue (dependencies first), its checks (settings,
    preflight, mappings, the match review) and the exporters' payload builders run in a savepoint that
    is rolled back, with a client that reads QuickBooks and records the writes instead of sending them
    (`DryRunClient`). So the dry run cannot drift from the run: it is the run, minus the writes.
    """
    _name = 'qbo.dry.run'
    _description = 'QuickBooks Online dry run'
    _order = 'id desc'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True)
    scope = fields.Char(readonly=True)
    reads = fields.Integer('Metered reads', readonly=True,
                           help="Queries and reads the dry run made (metered by Intuit). It writes nothing.")
    line_ids = fields.One2many('qbo.dry.run.line', 'run_id', readonly=True)
    line_count = fields.Integer('Records planned', compute='_compute_line_count')

    @api.depends('line_ids')
    def _compute_line_count(self):
        for run in self:
            run.line_count = len(run.line_ids)

    @api.model
    def _qbo_dry_run_records(self, records):
        """Dry run of a selection (the list action): what "Send to QuickBooks" would do with `records`."""
        records = records._qbo_records_to_send()
        connection = self.env['qbo.connection']._qbo_get_for_company(self.env.company)
        if not connection or connection.state != 'connected':
            raise UserError(connection._qbo_not_connected_message() if connection else _(
                "QuickBooks Online is not configured for %s.", self.env.company.name))

        def queue():
            bindings = self.env['qbo.binding'].sudo()
            # As "Send to QuickBooks" queues them (see qbo.sync.mixin.action_qbo_send).
            for record in records:
                record._qbo_check_exportable()
                binding = self.env['qbo.binding'].sudo()._qbo_get_or_create(connection, record, record._qbo_entity())
                unchanged = binding.state == 'sent' and len(records) > 1
                if binding.state not in ('voided', 'deleted_in_qbo') and not unchanged:
                    binding.write({'state': 'to_send', 'next_retry_date': False})
                bindings |= binding
            return bindings
        return self._qbo_plan(connection, queue, _("%s selected records", len(records)))

    @api.model
    def _qbo_dry_run_queue(self, connection):
        """Dry run of everything queued on `connection` (the dashboard's button)."""
        def queue():
            return self.env['qbo.binding'].sudo().search([('connection_id', '=', connection.id),
                                                          ('state', '=', 'to_send')])
        return self._qbo_plan(connection, queue, _("Everything queued"))

    @api.model
    def _qbo_plan(self, connection, queue, scope):
        """Run the export of `queue()` against the dry-run client in a savepoint rolled back; store the plan.

        :param queue: callable returning the bindings to plan (called inside the savepoint: queueing a
            record for the plan is rolled back with the rest)
        :return: the qbo.dry.run record
        """
        connection._qbo_check_manager()
        recorder = DryRunRecorder()
        planned = []
        savepoint = self.env.cr.savepoint()
        try:
            bindings = queue().with_context(qbo_dry_run=recorder)
            for binding, context in bindings._qbo_with_dependencies():
                planned.append(self._qbo_plan_one(binding, context, recorder))
        finally:
            savepoint.close(rollback=True)
        run = self.sudo().create({'connection_id': connection.id, 'scope': scope, 'reads': recorder.reads})
        self.env['qbo.dry.run.line'].sudo().create([dict(vals, run_id=run.id, sequence=index)
                                                    for index, vals in enumerate(planned)])
        return run

    @api.model
    def _qbo_plan_one(self, binding, context, recorder):
        """Export one binding against the dry-run client; return the values of its plan line."""
        key = (binding.res_model, binding.res_id)
        recorder.current = key
        had_id = bool(binding.qbo_id)
        vals = {'res_model': binding.res_model, 'res_id': binding.res_id, 'record_name': binding.record_name,
                'entity': binding.entity, 'qbo_id': binding.qbo_id or False}
        labels = dict(binding._fields['state']._description_selection(self.env))
        if binding.state != 'to_send':
            return dict(vals, action='skip', reason=_("Nothing to send (%s).", labels.get(binding.state)))
        binding.with_context(qbo_dry_run=recorder, **context)._qbo_process_one()
        writes = recorder.writes.get(key, [])
        own = [w for w in writes if w['entity'] == binding.entity]
        others = [w for w in writes if w['entity'] != binding.entity]
        operations = [w['operation'] for w in own]
        if not own:
            state = binding.state if binding.exists() else 'sent'
            reason = binding.error_message if binding.exists() and binding.error_message else _(
                "Nothing to send (%s).", labels.get(state))
            action = 'skip'
        elif {'void', 'delete'} & set(operations):
            action, reason = 'void', ''
        elif 'create' in operations:
            action, reason = 'create', ''
        elif not had_id:
            action, reason = 'link', _("An existing QuickBooks %(entity)s is the same (Id %(id)s): it is linked "
                                       "and updated.", entity=binding.entity, id=own[-1]['body'].get('Id'))
        else:
            action, reason = 'update', ''
        if others:
            created = [w['body'].get('Name') or w['body'].get('DisplayName') or '' for w in others
                       if w['operation'] == 'create']
            if created:
                reason = ' '.join(filter(None, [reason, _("Creates first: %s.", ', '.join(created))]))
        differences = '\n'.join(f"{field}: {json.dumps(old, default=str)} -> {json.dumps(new, default=str)}"
                                for w in own for field, (old, new) in w['differences'].items())
        return dict(vals, action=action, reason=reason or False, differences=differences or False,
                    payload=json.dumps([{'entity': w['entity'], 'operation': w['operation'], 'body': w['body']}
                                        for w in writes], indent=2, sort_keys=True, default=str) if writes else False)

    def action_qbo_open(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('quickbooks_online.qbo_dry_run_line_action')
        action['domain'] = [('run_id', '=', self.id)]
        action['name'] = _("Dry run: %s", self.scope)
        return action


class QboDryRunLine(models.Model):
    """One record of a dry run: what a send would do with it, why, and the payloads."""
    _name = 'qbo.dry.run.line'
    _description = 'QuickBooks Online dry run line'
    _order = 'run_id desc, sequence, id'
    _rec_name = 'record_name'

    run_id = fields.Many2one('qbo.dry.run', required=True, ondelete='cascade', index=True)
    sequence = fields.Integer()
    res_model = fields.Char('Model', required=True)
    res_id = fields.Many2oneReference('Record id', model_field='res_model', required=True)
    record_name = fields.Char('Record')
    entity = fields.Char('QuickBooks entity')
    qbo_id = fields.Char('QuickBooks Id')
    action = fields.Selection(DRY_ACTIONS, required=True)
    reason = fields.Text()
    differences = fields.Text(help="Update: each field that changes, QuickBooks' value -> the value sent.")
    payload = fields.Text(help="The bodies a send would write to QuickBooks, as built by the exporters.")
