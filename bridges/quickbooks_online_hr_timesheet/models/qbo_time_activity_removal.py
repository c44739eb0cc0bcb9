from odoo import api, fields, models


class QboTimeActivityRemoval(models.Model):
    """A timesheet line deleted in Odoo whose time activity is (or may be) in QuickBooks: it holds the line's
    link until the delete is sent, and stays as the record of it (Transfers, state Voided).

    The engine exports records, and the deleted line is gone: its binding moves here (same QuickBooks Id,
    SyncToken, intent and generation), the delete is queued, and qbo.exporter.time_activity sends it with
    the binding's durable intent like any other write. Its marker is the deleted line's, so that a create
    whose outcome was unknown is still found.
    """
    _name = 'qbo.time.activity.removal'
    _inherit = ['qbo.sync.mixin']
    _description = 'QuickBooks Online time activity to delete'
    _order = 'id desc'

    name = fields.Char('Timesheet', readonly=True)
    date = fields.Date(readonly=True)
    company_id = fields.Many2one('res.company', required=True, readonly=True)
    line_ref = fields.Char('Deleted line', readonly=True, help="model,id of the deleted timesheet line")
    marker = fields.Char(readonly=True, help="The marker the deleted line's time activity carries.")

    def _qbo_entity(self):
        return 'TimeActivity'

    def _qbo_exporter(self):
        return self.env['qbo.exporter.time_activity']

    @api.model
    def _qbo_take_over(self, bindings):
        """Move the links of lines being deleted to removal records and queue their deletes; drop the links
        that never reached QuickBooks (no Id, no create with an unknown outcome)."""
        forget = bindings.filtered(lambda b: not b.qbo_id and not b._qbo_pending_create())
        for binding in bindings - forget:
            line = binding._qbo_record()
            removal = self.create({
                'name': line.display_name if line else binding.record_name, 'date': line.date if line else False,
                'company_id': binding.company_id.id, 'line_ref': f"{binding.res_model},{binding.res_id}",
                'marker': binding._qbo_marker(),
            })
            binding._qbo_transition('to_send', res_model=self._name, res_id=removal.id, next_retry_date=False,
                                    retry_count=0, error_message=False, error_code=False)
        forget.unlink()
        if bindings - forget:
            self.env['qbo.binding']._qbo_trigger_cron()
