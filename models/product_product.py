from odoo import _, api, models

from .qbo_binding import QboDeferred

# The product fields QuickBooks items hold (see qbo.master.field: name, description, price, active).
ITEM_FIELDS = frozenset({'name', 'description_sale', 'list_price', 'lst_price', 'active'})


class ProductProduct(models.Model):
    """Products mapped to QuickBooks items send their edits to the item (see qbo.exporter.item).

    A product is linked (a binding of entity Item, per connection) only once an edit has something to
    send: it is mapped to an item there and the edit touches a field Odoo owns (or the most recent edit
    wins). Items are never created from here: the mapping names the item.
    """
    _name = 'product.product'
    _inherit = ['product.product', 'qbo.sync.mixin']

    def _qbo_entity(self):
        return 'Item'

    @api.model
    def _qbo_synced_fields(self):
        return set(ITEM_FIELDS)

    def _qbo_exporter(self):
        return self.env['qbo.exporter.item']

    def write(self, vals):
        res = super().write(vals)
        # Name, description and price are the template's (and queue there); 'active' is the variant's own.
        self._qbo_queue_item_updates(vals)
        return res

    def _qbo_bindings_changed(self, bindings, vals):
        """Nothing for the mixin to queue: `_qbo_queue_item_updates` does it, with the owners' check, and also
        for mapped products not linked yet."""
        return bindings.browse()

    def _qbo_queue_item_updates(self, vals):
        """Queue the Item update of these products, on each connection where they are mapped to an item and
        the edit (`vals`) touches a field Odoo owns there (or most recent). What came from QuickBooks
        (`qbo_inbound_master`) is not sent back; an edit of fields QuickBooks owns alone queues nothing."""
        changed = ITEM_FIELDS & set(vals)
        if not changed or not self.ids or self.env.context.get('qbo_inbound_master'):
            return
        mappings = self.env['qbo.mapping'].sudo().search([('mapping_type', '=', 'product'),
                                                          ('product_id', 'in', self.ids)])
        if not mappings:
            return
        Owner = self.env['qbo.master.field']
        Binding = self.env['qbo.binding'].sudo()  # links are written by the connector only
        todo = Binding
        for mapping in mappings:
            if not changed - Owner._qbo_qbo_owned_fields(mapping.connection_id, 'Item'):
                continue
            try:
                todo |= Binding._qbo_get_or_create(mapping.connection_id, mapping.product_id, 'Item')
            except QboDeferred:
                continue  # linked by another transaction a moment ago: queued there
        todo._qbo_mark_to_send()

    def _qbo_message(self, body):
        """Notes go to the template's chatter (what the product form shows)."""
        self.product_tmpl_id.sudo().message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_note')

    def _qbo_after_process(self, binding, outcome):
        if outcome in ('error', 'blocked'):
            self._qbo_message(_("Not sent to QuickBooks (item %(item)s): %(error)s",
                                item=binding.qbo_sent_name or self.display_name, error=binding.error_message))
