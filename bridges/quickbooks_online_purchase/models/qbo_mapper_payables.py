from odoo import _, api, models
from odoo.tools import html2plaintext

from odoo.addons.quickbooks_online import const
from odoo.addons.quickbooks_online.models.qbo_binding import QboBlocked
from odoo.addons.quickbooks_online.models.qbo_mapper import qbo_clean_name

#: QuickBooks' limit on a purchase order's Memo (the message to the vendor)
PO_MEMO_MAX_LENGTH = 4000
#: The order's Terms and conditions (``note`` on 19.0, ``notes`` on 18.0)
TERMS_FIELD = 'note'


def po_line_taxes(line):
    """The taxes of a purchase order line (``taxes_id`` on 18.0, ``tax_ids`` on 19.0)."""
    return line['tax_ids' if 'tax_ids' in line._fields else 'taxes_id']


class QboMapperPayablesPurchase(models.AbstractModel):
    """Purchase orders: the PurchaseOrder payload, and the bill lines' links to the purchase order lines.

    No HTTP here, as in the core's builders.
    """
    _inherit = 'qbo.mapper.payables'

    # ------------------------------------------------------------------ purchase orders

    @api.model
    def _qbo_po_lines(self, order):
        """The order lines that become QuickBooks lines (sections and notes do not), in the order's order."""
        lines = order.order_line.filtered(lambda line: not line.display_type)
        return lines.sorted(lambda line: (line.sequence, line.id))

    @api.model
    def _qbo_po_status(self, order):
        """POStatus: Closed once the order is cancelled (or back to draft after it) or fully billed in Odoo."""
        if order.state not in ('purchase', 'done') or order.invoice_status == 'invoiced':
            return 'Closed'
        return 'Open'

    @api.model
    def _qbo_prepare_po_line(self, line, order, connection):
        """One QuickBooks line of a purchase order line, at Odoo's untaxed amount.

        A product mapped to a QuickBooks item becomes an item line (quantity and unit price whose product is
        the untaxed amount); anything else an account line on the QuickBooks account mapped to the
        product's expense account (the account its bill line will take). A line whose QuickBooks Id is known
        keeps it, so that the bill lines linked to it stay linked after an edit.
        """
        mapper = self.env['qbo.mapper']
        currency = order.currency_id
        amount = currency.round(line.price_subtotal)
        item = line.product_id and self.env['qbo.mapping']._qbo_find(connection, 'product', line.product_id)
        if item and item.active:
            qty, unit_price = mapper._qbo_amounts(amount, line.product_qty, currency)
            detail_type = 'ItemBasedExpenseLineDetail'
            detail = {'ItemRef': {'value': item.qbo_id, 'name': item.name}, 'Qty': qty, 'UnitPrice': unit_price}
        else:
            account = line.product_id.product_tmpl_id.get_product_accounts(
                fiscal_pos=order.fiscal_position_id)['expense'] if line.product_id else False
            if not account:
                raise QboBlocked(_("Blocked: mapping - the line '%(line)s' of %(order)s has no product with an "
                                   "expense account: QuickBooks needs an item or an account on every line.",
                                   line=line.name, order=order.name))
            detail_type = 'AccountBasedExpenseLineDetail'
            detail = {'AccountRef': self._qbo_account_ref(connection, account, line.name or order.name)}
        if connection.using_sales_tax and not connection.is_us:
            taxes = po_line_taxes(line)
            if not taxes:
                raise QboBlocked(_("Blocked: mapping - line '%s' has no tax; QuickBooks (non-US) needs a tax code on "
                                   "every line (map an exempt or zero-rated tax).", line.name))
            detail['TaxCodeRef'] = {'value': mapper._qbo_tax_code_ref(connection, taxes).qbo_id}
        vals = {
            'DetailType': detail_type,
            'Amount': amount,
            'Description': (line.name or '')[:const.LINE_DESCRIPTION_MAX_LENGTH],
            detail_type: detail,
        }
        if line.qbo_line_id:
            vals['Id'] = line.qbo_line_id
        return vals

    @api.model
    def _qbo_prepare_purchase_order_vals(self, order, connection, vendor_id):
        """PurchaseOrder payload (without Id/SyncToken): vendor, lines, status, ship-to address, memo, the
        order's number (DocNumber, cut to QuickBooks' 21 characters) and our marker in the private note.

        Purchase orders post nothing in QuickBooks: the tax is booked by the bill. US companies track no
        purchase tax, so the lines go untaxed; elsewhere each line carries the tax code mapped to its taxes
        (tax excluded), which QuickBooks shows on the order without posting it.
        """
        mapper = self.env['qbo.mapper']
        lines = [self._qbo_prepare_po_line(line, order, connection) for line in self._qbo_po_lines(order)]
        if not lines:
            raise QboBlocked(_("%s has no lines to send: QuickBooks needs at least one.", order.display_name))
        note = f"Odoo {order.name}"
        if order.partner_ref:
            note += f" ({_('vendor reference')}: {order.partner_ref.strip()})"
        vals = {
            'VendorRef': {'value': vendor_id},
            'Line': lines,
            'POStatus': self._qbo_po_status(order),
            'TxnDate': str((order.date_approve or order.date_order).date()),
            'DocNumber': order.name[:const.DOC_NUMBER_MAX_LENGTH],
            'PrivateNote': f"{note} {mapper._qbo_marker(order)}"[-const.PRIVATE_NOTE_MAX_LENGTH:],
        }
        if order.date_planned:
            vals['DueDate'] = str(order.date_planned.date())
        ship_to = mapper._qbo_prepare_address(order.dest_address_id or order.company_id.partner_id)
        if ship_to:
            vals['ShipAddr'] = ship_to
        terms = order[TERMS_FIELD if TERMS_FIELD in order._fields else 'notes']  # 'notes' on 18.0
        memo = html2plaintext(terms).strip() if terms else ''
        if memo:
            vals['Memo'] = qbo_clean_name(memo, PO_MEMO_MAX_LENGTH)
        if connection.using_sales_tax and not connection.is_us:
            vals['GlobalTaxCalculation'] = 'TaxExcluded'
        if order.currency_id != order.company_id.currency_id:
            if not connection.multi_currency:
                raise QboBlocked(_("This purchase order is in %(currency)s but the QuickBooks company works in "
                                   "%(home)s only: turn on Multicurrency in QuickBooks (Account and settings > "
                                   "Advanced), then Test connection.", currency=order.currency_id.name,
                                   home=connection.qbo_home_currency))
            vals['CurrencyRef'] = {'value': order.currency_id.name}
        return vals

    # ------------------------------------------------------------------ bills made from purchase orders

    @api.model
    def _qbo_po_link(self, line, move, connection):
        """(LinkedTxn, None) linking a bill line to its purchase order line in QuickBooks, or (None, why not)
        for a bill line made from an order line that cannot be linked; (None, None) for other lines."""
        po_line = line.purchase_line_id
        if not po_line:
            return None, None
        order = po_line.order_id
        binding = order._qbo_binding(connection)
        if not binding or not binding.qbo_id:
            return None, _("%s is not in QuickBooks: the bill is not linked to it there.", order.name)
        if not po_line.qbo_line_id:
            return None, _("The line '%(line)s' of %(order)s has no QuickBooks line: the bill line is not linked "
                           "to it there.", line=po_line.name, order=order.name)
        if order.partner_id.commercial_partner_id != move.commercial_partner_id:
            return None, _("%(order)s is for another vendor than this bill: QuickBooks links a bill to its own "
                           "vendor's purchase orders only.", order=order.name)
        return {'TxnId': binding.qbo_id, 'TxnType': 'PurchaseOrder', 'TxnLineId': po_line.qbo_line_id}, None

    @api.model
    def _qbo_po_link_issues(self, move, connection):
        """Why some lines of this bill, made from purchase orders, cannot be linked to them in QuickBooks."""
        issues = []
        for line in self.env['qbo.mapper']._qbo_product_lines(move):
            reason = self._qbo_po_link(line, move, connection)[1]
            if reason and reason not in issues:
                issues.append(reason)
        return issues

    @api.model
    def _qbo_prepare_bill_line(self, line, move, connection, tax_mode, booked):
        """The core's bill line, linked (LinkedTxn) to the purchase order line it was billed from, when that
        order line is in QuickBooks; a Bill that links every line of a purchase order closes it there."""
        vals = super()._qbo_prepare_bill_line(line, move, connection, tax_mode, booked)
        if move.move_type == 'in_invoice':
            link = self._qbo_po_link(line, move, connection)[0]
            if link:
                vals['LinkedTxn'] = [link]
        return vals
