from odoo import fields, models


class QboConnectionPurchase(models.Model):
    """What a connection needs for purchase orders: whether confirmed orders are sent by themselves."""
    _inherit = 'qbo.connection'

    purchase_auto_send = fields.Boolean(
        'Send purchase orders automatically',
        help="Purchase orders are queued for QuickBooks when they are confirmed and sent by the scheduled export; "
             "the bills made from them then link their lines. Without it, use 'Send to QuickBooks' on the orders.")
