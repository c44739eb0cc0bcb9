from odoo import api, fields, models

# Settings field -> qbo.connection field of this bridge (loaded and saved with the core's).
PURCHASE_FIELDS = {'qbo_purchase_auto_send': 'purchase_auto_send'}


class ResConfigSettings(models.TransientModel):
    """The purchase order setting, in the core's QuickBooks Online block."""
    _inherit = 'res.config.settings'

    qbo_purchase_auto_send = fields.Boolean('Send purchase orders automatically')

    @api.model
    def _qbo_connection_fields(self):
        return dict(super()._qbo_connection_fields(), **PURCHASE_FIELDS)
