from odoo import api, fields, models

# Settings field -> qbo.connection field of this bridge (loaded and saved with the core's, see the core's
# res_config_settings._qbo_connection_fields).
TIMESHEET_FIELDS = {
    'qbo_timesheet_auto_send': 'timesheet_auto_send',
    'qbo_timesheet_lock_date': 'timesheet_lock_date',
    'qbo_timesheet_item_ref_id': 'timesheet_item_ref_id',
    'qbo_timesheet_hourly_rate': 'timesheet_hourly_rate',
    'qbo_timesheet_create_employees': 'timesheet_create_employees',
    'qbo_timesheet_group_activities': 'timesheet_group_activities',
}


class ResConfigSettings(models.TransientModel):
    """The timesheet settings, in the core's QuickBooks Online block."""
    _inherit = 'res.config.settings'

    qbo_timesheet_auto_send = fields.Boolean('Send timesheets automatically')
    qbo_timesheet_lock_date = fields.Date('Send timesheets up to')
    qbo_timesheet_item_ref_id = fields.Many2one('qbo.ref', 'Service item for timesheets')
    qbo_timesheet_hourly_rate = fields.Float('Billable rate without Sales', digits=(16, 2))
    qbo_timesheet_create_employees = fields.Boolean('Create missing employees')
    qbo_timesheet_group_activities = fields.Boolean('One time activity per employee, day and task')
    qbo_employee_count = fields.Integer(related='qbo_connection_id.qbo_employee_count')

    @api.model
    def _qbo_connection_fields(self):
        return dict(super()._qbo_connection_fields(), **TIMESHEET_FIELDS)

    def action_qbo_import_employees(self):
        return self._qbo_connection_action('action_qbo_import_employees')
