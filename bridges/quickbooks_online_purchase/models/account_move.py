from odoo import _, api, models


class AccountMove(models.Model):
    """Vendor bills made from purchase orders: their orders go to QuickBooks first, their lines link them."""
    _inherit = 'account.move'

    def _qbo_purchase_orders(self):
        """The purchase orders this vendor bill's lines were billed from."""
        self.ensure_one()
        if self.move_type != 'in_invoice':
            return self.env['purchase.order']
        return self.invoice_line_ids.purchase_line_id.order_id

    def _qbo_dependencies(self, binding):
        """The core's (vendor, rebilled customers), then the bill's purchase orders that are on their way to
        QuickBooks (linked to it, or queued): a bill line can link a purchase order line only once QuickBooks
        holds it. An order never sent is not sent for its bill: the bill goes unlinked, and says so."""
        dependencies = super()._qbo_dependencies(binding)
        if self.state != 'posted':
            return dependencies
        for order in self._qbo_purchase_orders():
            order_binding = order._qbo_binding(binding.connection_id)
            if order_binding and order_binding.state == 'to_send':
                dependencies.append((order_binding, {}))
        return dependencies

    @api.model
    def _qbo_after_process_many(self, items):
        """The core's log, then, for bills made from purchase orders: a note naming the lines that could not be
        linked to their order in QuickBooks (the bill is sent all the same), and their orders queued again once
        fully billed in Odoo (to close them in QuickBooks when their bills do not link all their lines)."""
        res = super()._qbo_after_process_many(items)
        Mapper = self.env['qbo.mapper.payables']
        for move, binding, outcome in items:
            if outcome != 'sent' or binding.entity != 'Bill':
                continue
            orders = move._qbo_purchase_orders()
            if not orders:
                continue
            issues = Mapper._qbo_po_link_issues(move, binding.connection_id)
            if issues:
                move.sudo().message_post(
                    body=_("Sent to QuickBooks without its link to the purchase order: %s", ' '.join(issues)),
                    message_type='comment', subtype_xmlid='mail.mt_note')
            for order in orders.filtered(lambda o: o.invoice_status == 'invoiced'):
                order_binding = order._qbo_binding(binding.connection_id)
                if order_binding and order_binding.state == 'sent':
                    order_binding._qbo_mark_to_send()
        return res
