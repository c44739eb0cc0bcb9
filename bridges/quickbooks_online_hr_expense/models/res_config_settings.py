from odoo import api, fields, models

# Settings field -> qbo.connection field of this bridge (loaded and saved with the core's).
EXPENSE_FIELDS = {'qbo_expense_auto_send': 'expense_auto_send'}


class ResConfigSettings(models.TransientModel):
    """The expense setting, in the core's QuickBooks Online block."""
    _inherit = 'res.config.settings'

    qbo_expense_auto_send = fields.Boolean('Send expenses automatically')

    @api.model
    def get_values(self):
        res = super().get_values()
        if not self.env.user.has_group('base.group_system'):
            return res
        connection = self.env['qbo.connection']._qbo_get_for_company(self.env.company)
        if connection:
            conn = connection.sudo()
            for settings_field, connection_field in EXPENSE_FIELDS.items():
                res[settings_field] = conn[connection_field]
        return res

    def _qbo_connection_vals(self):
        vals = super()._qbo_connection_vals()
        vals.update({connection_field: self[settings_field]
                     for settings_field, connection_field in EXPENSE_FIELDS.items()})
        return vals
