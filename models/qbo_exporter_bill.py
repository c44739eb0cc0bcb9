from odoo import _, api, models

from ..tools.qbo_client import qbo_quote
from .qbo_binding import QboBlocked


class QboExporterBill(models.AbstractModel):
    """Sends a posted vendor bill (Bill) or vendor refund (VendorCredit) to QuickBooks, exactly once.

    The invoice exporter's machinery (durable intent, marker lookups after unknown outcomes, sparse
    updates with the held SyncToken, batches, parity check) with what differs for purchases: the
    party is a Vendor; the payload comes from qbo.mapper.payables (expense-account and item lines,
    A/P account, purchase tax); no item is created for unmapped products (their line goes on the
    mapped expense account); and QuickBooks has no void for bills and vendor credits, so cancelling
    deletes them there (QuickBooks refuses to delete a bill that payments are applied to: the
    refusal shows on the bill, with its advice).
    """
    _name = 'qbo.exporter.bill'
    _inherit = 'qbo.exporter.invoice'
    _description = 'QuickBooks Online vendor bill exporter'
    _qbo_entities = ('Bill', 'VendorCredit')
    _qbo_export_order = 2
    _qbo_marker_field = 'PrivateNote'
    _qbo_app_pages = {'Bill': 'bill?txnId=', 'VendorCredit': 'vendorcredit?txnId='}
    _qbo_deleted_on_cancel = ('Bill', 'VendorCredit')
    _qbo_attached_entities = ('Bill',)  # the vendor's bill (main attachment)

    @api.model
    def _qbo_export(self, binding, move, client):
        """Create, update or delete the QuickBooks bill of this move, then check parity."""
        res_ref = f"{move._name},{move.id}"
        if move.state == 'cancel':
            self._qbo_void(binding, move, client, res_ref)
            return
        if move.state != 'posted':
            raise QboBlocked(_("Only posted bills are sent to QuickBooks."))
        payload = self._qbo_payload(binding, move, client)
        self._qbo_write_document(binding, move, client, dict(payload, sparse=True) if binding.qbo_id else payload,
                                 res_ref)

    @api.model
    def _qbo_payload(self, binding, move, client):
        connection = binding.connection_id
        self._qbo_check_currency(move, connection)  # before the vendor: nothing created in the wrong currency
        vendor_id = self._qbo_customer_id(move, connection, client, entity='Vendor')
        return self.env['qbo.mapper.payables']._qbo_prepare_bill_vals(move, connection, vendor_id)

    @api.model
    def _qbo_batch_item(self, binding, move, client):
        """('create', payload) or ('update', body) for a batch request, or None to send it alone (as
        for invoices: cancels, unknown outcomes and documents without a held SyncToken go alone)."""
        if move.state != 'posted' or binding._qbo_pending_create():
            return None
        if binding.qbo_id and (not binding.qbo_sync_token
                               or (binding.intent_operation == 'update' and binding.intent_request_id)):
            return None
        payload = self._qbo_payload(binding, move, client)
        if binding.qbo_id:
            return 'update', dict(payload, sparse=True, Id=binding.qbo_id, SyncToken=binding.qbo_sync_token)
        return 'create', payload

    @api.model
    def _qbo_batch_context(self, connection):
        return {}  # no company-wide check for purchases (the default sales tax is the invoices')

    @api.model
    def _qbo_export_missing_items(self, binding, move, client):
        """Nothing to create: a bill line whose product has no item goes on its mapped expense account."""

    @api.model
    def _qbo_find_ours(self, binding, move, client, payload, res_ref):
        """Our bill in QuickBooks by its marker: among those created since the intent after an unknown
        outcome, else among the vendor's bills (vendor references are no unique numbers)."""
        marker = binding._qbo_marker()
        if binding.intent_date:
            found = binding._qbo_created_since(self, client, res_ref=res_ref).get(marker)
            if found:
                return found
        vendor_id = (payload.get('VendorRef') or {}).get('value')
        if not vendor_id:
            return None
        rows = client.query_all(binding.entity, where=f"VendorRef = {qbo_quote(vendor_id)}", res_ref=res_ref)
        return next((row for row in rows if (row.get('PrivateNote') or '').rstrip().endswith(marker)), None)

    @api.model
    def _qbo_lookup_hints(self, binding, move):
        """The vendor's Id narrows the lookup of a bill whose create has an unknown outcome, when known."""
        vendor = move.commercial_partner_id._qbo_binding(binding.connection_id, 'Vendor')
        return {'VendorRef': {'value': vendor.qbo_id}} if vendor and vendor.qbo_id else {}

    @api.model
    def _qbo_deleted_message(self, binding):
        return _("Cancelled in Odoo: the QuickBooks %(entity)s (Id %(id)s) was deleted; QuickBooks has no void for "
                 "bills and vendor credits.", entity=binding.entity, id=binding.qbo_id)

    @api.model
    def _qbo_expected_tax(self, binding, move):
        """US companies track no purchase tax: the tax Odoo booked is in the lines' amounts, QuickBooks
        holds no tax (the totals still agree to the cent)."""
        connection = binding.connection_id
        return 0.0 if connection.is_us or not connection.using_sales_tax else move.amount_tax
