from odoo import api, models


class QboExporterCustomerMatch(models.AbstractModel):
    """Customers whose match waits for a person are not created in QuickBooks (see qbo.match)."""
    _inherit = 'qbo.exporter.customer'

    @api.model
    def _qbo_create(self, binding, partner, client, payload, res_ref):
        self.env['qbo.match']._qbo_check_decided(binding.connection_id, binding.entity, partner)
        return super()._qbo_create(binding, partner, client, payload, res_ref)

    @api.model
    def _qbo_batch_item(self, binding, partner, client):
        if not binding.qbo_id:
            self.env['qbo.match']._qbo_check_decided(binding.connection_id, binding.entity, partner)
        return super()._qbo_batch_item(binding, partner, client)


class QboExporterInvoiceMatch(models.AbstractModel):
    """With 'Create missing items', products whose match waits for a person get no new QuickBooks item."""
    _inherit = 'qbo.exporter.invoice'

    @api.model
    def _qbo_export_missing_items(self, binding, move, client):
        connection = binding.connection_id
        if connection.create_missing_items:
            Mapping = self.env['qbo.mapping'].sudo()
            products = move.invoice_line_ids.filtered(lambda line: line.display_type == 'product').product_id
            for product in products.filtered(lambda p: not Mapping._qbo_find(connection, 'product', p)):
                self.env['qbo.match']._qbo_check_decided(connection, 'Item', product)
        return super()._qbo_export_missing_items(binding, move, client)
