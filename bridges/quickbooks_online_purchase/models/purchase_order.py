from odoo import _, api, models
from odoo.exceptions import UserError

# Fields of a purchase order whose change makes its QuickBooks purchase order 'to send' again.
# ('notes' on 18.0 is 'note' on 19.0: the Terms and conditions.)
SYNCED_FIELDS = {'state', 'partner_id', 'partner_ref', 'order_line', 'date_order', 'date_planned', 'notes', 'note',
                 'dest_address_id', 'currency_id', 'fiscal_position_id'}


class PurchaseOrder(models.Model):
    """Confirmed purchase orders as QuickBooks purchase orders (qbo.exporter.purchase_order sends them)."""
    _name = 'purchase.order'
    _inherit = ['purchase.order', 'qbo.sync.mixin']

    def _qbo_entity(self):
        return 'PurchaseOrder'

    def _qbo_exporter(self):
        return self.env['qbo.exporter.purchase_order']

    @api.model
    def _qbo_synced_fields(self):
        return SYNCED_FIELDS & set(self._fields)

    def _qbo_check_exportable(self):
        """Confirmed orders only (a request for quotation is no order yet); a cancelled one already sent is
        closed there."""
        for order in self:
            if order.state not in ('purchase', 'done') and not order._qbo_binding():
                raise UserError(_("%s is not a confirmed purchase order: only confirmed orders are sent to "
                                  "QuickBooks.", order.name))

    def _qbo_dependencies(self, binding):
        """The vendor goes first, as a binding of its own."""
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        vendor = self.env['qbo.binding']._qbo_get_or_create(binding.connection_id, partner, 'Vendor')
        if vendor.qbo_id and vendor.state != 'to_send':
            return []
        if vendor.state in ('error', 'blocked'):
            vendor._qbo_transition('to_send', next_retry_date=False)
        context = {'qbo_currency_id': self.currency_id.id} if (
            self.currency_id != self.company_id.currency_id and binding.connection_id.multi_currency) else {}
        return [(vendor, context)]

    def _qbo_after_process(self, binding, outcome):
        """A failure, which someone must look at, is noted on the order; a routine "sent" is logged."""
        if outcome == 'sent' and binding.state == 'sent':
            self._message_log(body=_("Sent to QuickBooks as PurchaseOrder %(number)s (Id %(id)s).",
                                     number=binding.qbo_doc_number or '', id=binding.qbo_id))
        elif binding.state in ('error', 'blocked', 'variance'):
            self.sudo().message_post(body=_("Not sent to QuickBooks: %s", binding.error_message),
                                     message_type='comment', subtype_xmlid='mail.mt_note')

    # ------------------------------------------------------------------ auto-send

    def button_confirm(self):
        res = super().button_confirm()
        self._qbo_auto_queue()
        return res

    def write(self, vals):
        """The mixin re-queues a sent order on a change; a confirmed order cancelled before it reached QuickBooks
        (its link 'voided' there) is queued again once confirmed again."""
        res = super().write(vals)
        if vals.get('state') == 'purchase':
            bindings = self.sudo().qbo_binding_ids.filtered(lambda b: b.state == 'voided' and not b.qbo_id)
            bindings._qbo_transition('to_send', error_message=False, next_retry_date=False)
        return res

    def _qbo_auto_queue(self):
        """With 'Send purchase orders automatically', queue the confirmed orders for the next scheduled export."""
        orders = self.filtered(lambda order: order.state in ('purchase', 'done'))
        if not orders:
            return
        connections = self.env['qbo.connection'].sudo().search([
            ('company_id', 'in', orders.company_id.ids), ('purchase_auto_send', '=', True),
            ('state', '=', 'connected')])
        Binding = self.env['qbo.binding'].sudo()
        queued = Binding
        for connection in connections:
            for order in orders.filtered(lambda o, c=connection: o.company_id == c.company_id):
                if not order._qbo_binding(connection):
                    queued |= Binding._qbo_get_or_create(connection, order, 'PurchaseOrder')
        if queued:
            queued._qbo_trigger_cron()
