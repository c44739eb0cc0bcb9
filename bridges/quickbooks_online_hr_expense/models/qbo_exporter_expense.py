from odoo import _, api, models

from odoo.addons.quickbooks_online.models.qbo_binding import QboBlocked


class QboExporterExpense(models.AbstractModel):
    """Sends the entry of a company-paid expense to QuickBooks as a Purchase (an expense paid by card, check
    or cash), exactly once.

    The bill exporter's machinery (durable intent, marker lookup after an unknown outcome, sparse updates
    with the held SyncToken, batches, parity check, the receipt attached) with what differs for a
    Purchase: no A/P and no VendorRef (the payee, when the expense names a merchant, is the EntityRef), the
    card or bank account from the journal's mapping (qbo.mapper.payables `_qbo_prepare_purchase_vals`).
    The employee-paid expenses are Bills, sent by the core's bill exporter (see account.move in this bridge).
    QuickBooks has no void for purchases: cancelling the expense's entry deletes it there.
    """
    _name = 'qbo.exporter.expense'
    _inherit = 'qbo.exporter.bill'
    _description = 'QuickBooks Online expense (purchase) exporter'
    _qbo_entities = ('Purchase',)
    _qbo_export_order = 2
    _qbo_marker_field = 'PrivateNote'
    _qbo_app_pages = {'Purchase': 'expense?txnId='}
    _qbo_deleted_on_cancel = ('Purchase',)
    _qbo_attached_entities = ('Purchase',)  # the expense's receipt

    @api.model
    def _qbo_export(self, binding, move, client):
        if move.state not in ('posted', 'cancel'):
            raise QboBlocked(_("Only posted expenses are sent to QuickBooks."))
        return super()._qbo_export(binding, move, client)

    @api.model
    def _qbo_payload(self, binding, move, client):
        connection = binding.connection_id
        self._qbo_check_currency(move, connection)
        # The merchant, when the expense names one (then the move's commercial partner), sent first.
        vendor_id = self._qbo_customer_id(move, connection, client, entity='Vendor') \
            if move._qbo_expense_vendor() else None
        return self.env['qbo.mapper.payables']._qbo_prepare_purchase_vals(move, connection, vendor_id)

    @api.model
    def _qbo_find_ours(self, binding, move, client, payload, res_ref):
        """Our purchase by its marker: among those created since the intent after an unknown outcome, else
        among the purchases paid from the same account."""
        marker = binding._qbo_marker()
        if binding.intent_date:
            found = binding._qbo_created_since(self, client, res_ref=res_ref).get(marker)
            if found:
                return found
        rows = client.query_all('Purchase', res_ref=res_ref)
        return next((row for row in rows if (row.get('PrivateNote') or '').rstrip().endswith(marker)), None)

    @api.model
    def _qbo_lookup_hints(self, binding, move):
        return {}

    @api.model
    def _qbo_expected_total(self, binding, move):
        """What the card or bank paid: the expense's items and their tax, as booked."""
        booked = self.env['qbo.mapper']._qbo_booked_amounts(move)
        return move.currency_id.round(sum(untaxed + tax for untaxed, tax in booked.values()))

    @api.model
    def _qbo_expected_tax(self, binding, move):
        connection = binding.connection_id
        if connection.is_us or not connection.using_sales_tax:
            return 0.0
        return move.currency_id.round(sum(tax for _untaxed, tax in
                                          self.env['qbo.mapper']._qbo_booked_amounts(move).values()))

    @api.model
    def _qbo_deleted_message(self, binding):
        return _("Cancelled in Odoo: the QuickBooks expense (Purchase, Id %s) was deleted; QuickBooks has no void "
                 "for purchases.", binding.qbo_id)
