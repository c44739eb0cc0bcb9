from odoo import fields, models


class PurchaseOrderLine(models.Model):
    """The QuickBooks Id of each order line, for the bills made from the order to link it (LinkedTxn)."""
    _inherit = 'purchase.order.line'

    qbo_line_id = fields.Char('QuickBooks line Id', copy=False, readonly=True,
                              groups='account.group_account_invoice',
                              help="Id of this line in its QuickBooks purchase order (kept from QuickBooks' answer).")
