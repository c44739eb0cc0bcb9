from datetime import timedelta

from odoo import _, api, fields, models

from odoo.addons.quickbooks_online import const
from odoo.addons.quickbooks_online.models.qbo_binding import QboBlocked, QboDeferred
from odoo.addons.quickbooks_online.tools.qbo_client import qbo_quote


class QboExporterPurchaseOrder(models.AbstractModel):
    """Sends a confirmed purchase order to QuickBooks as a PurchaseOrder - create, update, close - exactly once.

    The invoice exporter's machinery (durable intent through `binding._qbo_call`, marker lookups after
    unknown outcomes, updates with the held SyncToken, read only when stale) with what differs for purchase
    orders: the party is a Vendor (sent first, a dependency); QuickBooks' line Ids are kept on the Odoo
    order lines, for the bills made from the order to link them; and a cancelled order is closed, not
    deleted: QuickBooks can delete a purchase order, but a closed one keeps what was ordered (and the bills
    that link it) in its records, and reopens if the Odoo order is confirmed again. QuickBooks closes a
    purchase order by itself once bills link all its lines; Odoo closes it too when the order is fully billed.
    """
    _name = 'qbo.exporter.purchase_order'
    _inherit = 'qbo.exporter.invoice'
    _description = 'QuickBooks Online purchase order exporter'
    _qbo_entities = ('PurchaseOrder',)
    _qbo_export_order = 2  # after its vendor; a bill's purchase orders go before it (its dependencies)
    _qbo_marker_field = 'PrivateNote'
    _qbo_app_pages = {'PurchaseOrder': 'purchaseorder?txnId='}
    _qbo_deleted_on_cancel = ()
    _qbo_attached_entities = ()

    @api.model
    def _qbo_export(self, binding, order, client):
        """Create or update the QuickBooks purchase order (Closed once the Odoo order is cancelled)."""
        res_ref = f"{order._name},{order.id}"
        if order.state not in ('purchase', 'done') and not binding.qbo_id \
                and not self._qbo_find_unknown_create(binding, order, client, res_ref):
            message = _("Cancelled before it reached QuickBooks: there is nothing to close there.")
            binding._qbo_transition('voided', error_message=message)
            order.sudo().message_post(body=message, message_type='comment', subtype_xmlid='mail.mt_note')
            return
        self._qbo_write_document(binding, order, client, self._qbo_payload(binding, order, client), res_ref)

    @api.model
    def _qbo_payload(self, binding, order, client):
        connection = binding.connection_id
        return self.env['qbo.mapper.payables']._qbo_prepare_purchase_order_vals(
            order, connection, self._qbo_vendor_id(order, connection))

    @api.model
    def _qbo_vendor_id(self, order, connection):
        """The QuickBooks Id of the order's vendor, sent before (see purchase.order._qbo_dependencies)."""
        partner = order.partner_id.commercial_partner_id
        vendor = self.env['qbo.binding']._qbo_get_or_create(connection, partner, 'Vendor')
        if vendor.qbo_id:
            return vendor.qbo_id
        if vendor.state in ('error', 'blocked'):
            raise QboBlocked(_("The Vendor %(name)s could not be sent to QuickBooks: %(error)s",
                               name=partner.display_name, error=vendor.error_message))
        raise QboDeferred(_("Waiting for the Vendor %s to be sent to QuickBooks.", partner.display_name),
                          retry_at=vendor.next_retry_date or fields.Datetime.now() + timedelta(minutes=1))

    @api.model
    def _qbo_batch_item(self, binding, order, client):
        """Purchase orders go alone: their answer carries the line Ids kept on the order lines."""
        return None

    @api.model
    def _qbo_find_ours(self, binding, order, client, payload, res_ref):
        """Our purchase order by its marker: under its number, else among those created since the intent
        (after an unknown outcome), else among the vendor's purchase orders."""
        marker = binding._qbo_marker()

        def ours(rows):
            return next((row for row in rows if (row.get('PrivateNote') or '').rstrip().endswith(marker)), None)

        if payload.get('DocNumber'):
            query = f"SELECT * FROM PurchaseOrder WHERE DocNumber = {qbo_quote(payload['DocNumber'])}"
            found = ours(client.query(query, res_ref=res_ref).get('PurchaseOrder', []))
            if found:
                return found
        if binding.intent_date:
            found = binding._qbo_created_since(self, client, res_ref=res_ref).get(marker)
            if found:
                return found
        vendor_id = (payload.get('VendorRef') or {}).get('value')
        if not vendor_id:
            return None
        return ours(client.query_all('PurchaseOrder', where=f"VendorRef = {qbo_quote(vendor_id)}", res_ref=res_ref))

    @api.model
    def _qbo_lookup_hints(self, binding, order):
        """The order's number and its vendor's Id (when known) narrow the lookup of an unknown create."""
        hints = {'DocNumber': order.name[:const.DOC_NUMBER_MAX_LENGTH]}
        vendor = order.partner_id.commercial_partner_id._qbo_binding(binding.connection_id, 'Vendor')
        if vendor and vendor.qbo_id:
            hints['VendorRef'] = {'value': vendor.qbo_id}
        return hints

    @api.model
    def _qbo_is_voided(self, document):
        """QuickBooks has no void for purchase orders: a closed one is still updated (reopened if confirmed)."""
        return False

    @api.model
    def _qbo_store_result(self, binding, order, document):
        """Keep the QuickBooks line Ids on the order lines (in the order they were sent), store the link and
        compare QuickBooks' lines with Odoo's untaxed total (a purchase order posts no tax)."""
        lines = [line for line in document.get('Line', []) if line.get('DetailType') in (
            'ItemBasedExpenseLineDetail', 'AccountBasedExpenseLineDetail')]
        order_lines = self.env['qbo.mapper.payables']._qbo_po_lines(order)
        for order_line, qbo_line in zip(order_lines, lines):
            if order_line.qbo_line_id != str(qbo_line['Id']):
                order_line.sudo().qbo_line_id = str(qbo_line['Id'])
        currency = order.currency_id
        qbo_tax = float((document.get('TxnTaxDetail') or {}).get('TotalTax') or 0.0)
        qbo_untaxed = currency.round(float(document.get('TotalAmt') or 0.0) - qbo_tax)
        vals = {
            'qbo_id': document['Id'], 'qbo_sync_token': document['SyncToken'],
            'qbo_doc_number': document.get('DocNumber'), 'currency_id': currency.id,
            'odoo_total': order.amount_untaxed, 'odoo_tax': 0.0, 'qbo_total': qbo_untaxed, 'qbo_tax': 0.0,
        }
        if currency.compare_amounts(qbo_untaxed, order.amount_untaxed):
            vals.update(state='variance', error_message=_(
                "Variance: QuickBooks holds %(qbo)s before tax but Odoo's untaxed total is %(odoo)s.",
                qbo=qbo_untaxed, odoo=order.amount_untaxed))
        else:
            vals['state'] = 'sent'
        binding._qbo_transition(vals.pop('state'), **vals)
