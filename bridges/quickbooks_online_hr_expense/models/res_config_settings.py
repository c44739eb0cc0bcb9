from odoo import api, fields, models

# Settings field -> qbo.connection field of this bridge (loaded and saved with the core's).
EXPENSE_FIELDS = {'qbo_expense_auto_send': 'expense_auto_send'}


class ResConfigSettings(models.TransientModel):
    """The expense setting, in the core's QuickBooks Online block."""
    _inherit = 'res.config.settings'

    qbo_expense_auto_send = fields.Boolean('Send expenses automatically')

    @api.model
    def _qbo_connection_fields(self):
        return dict(super()._qbo_connection_fields(), **EXPENSE_FIELDS)
