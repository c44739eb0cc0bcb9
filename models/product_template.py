from odoo import models

from .product_product import ITEM_FIELDS


class ProductTemplate(models.Model):
    """A template's edit of what QuickBooks items hold (name, sales description, sales price, active) is an
    edit of its variants: those mapped to an item queue its update (see product.product)."""
    _inherit = 'product.template'

    def write(self, vals):
        res = super().write(vals)
        if ITEM_FIELDS & set(vals) and not self.env.context.get('qbo_inbound_master'):
            self.with_context(active_test=False).product_variant_ids._qbo_queue_item_updates(vals)
        return res
