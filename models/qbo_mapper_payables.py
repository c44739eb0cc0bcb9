from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import html2plaintext

from .. import const
from .qbo_binding import QboBlocked, QboDeferred
from .qbo_mapper import qbo_clean_name

# What an Odoo vendor document becomes in QuickBooks.
ENTITY_BY_BILL_TYPE = {'in_invoice': 'Bill', 'in_refund': 'VendorCredit'}


class QboMapperPayables(models.AbstractModel):
    """Builds the QuickBooks payloads of payables: Vendor, Bill, VendorCredit. Plain dicts out; no HTTP.

    Shares the receivables builders of qbo.mapper (addresses, names, booked amounts, classes, the
    tax detail per rate) and adds what is particular to purchases: expense-account lines (the
    'account' mapping), item lines for mapped products, the A/P account, billable lines rebilled to
    a customer, and the purchase side of tax codes (PurchaseTaxRateList).
    """
    _name = 'qbo.mapper.payables'
    _description = 'QuickBooks Online payload builder (payables)'

    # ------------------------------------------------------------------ vendors

    @api.model
    def _qbo_prepare_vendor_vals(self, partner, connection, display_name, currency=None):
        """Vendor payload (without Id/SyncToken) of a commercial partner.

        AcctNum is the partner's reference (how the vendor knows us / our number for them); Vendor1099
        is sent for US companies only (the flag exists there only); the currency is set at creation
        only (QuickBooks refuses to change it).
        """
        mapper = self.env['qbo.mapper']
        vals = mapper._qbo_prepare_contact_vals(partner, display_name)
        bill = mapper._qbo_prepare_address(partner)
        if bill:
            vals['BillAddr'] = bill
        if partner.ref:
            vals['AcctNum'] = partner.ref.strip()[:const.VENDOR_ACCT_NUM_MAX_LENGTH]
        if connection.is_us:
            vals['Vendor1099'] = bool(partner.qbo_vendor_1099)
        mapper._qbo_add_currency_and_term(vals, connection, currency, partner.property_supplier_payment_term_id,
                                          'TermRef')
        return vals

    # ------------------------------------------------------------------ bills and vendor credits

    @api.model
    def _qbo_account_ref(self, connection, account, purpose):
        """The active QuickBooks account mapped to the Odoo `account`, else QboBlocked saying where to map it."""
        ref = self.env['qbo.mapping']._qbo_find(connection, 'account', account)
        if not ref:
            raise QboBlocked(_("Blocked: mapping - the account %(account)s (%(purpose)s) is not mapped to a QuickBooks "
                               "account. Map it in %(where)s (kind 'Account').", account=account.display_name,
                               purpose=purpose, where=connection._qbo_where('mappings')))
        if not ref.active:
            raise QboBlocked(_("Blocked: mapping - the QuickBooks account %s is inactive or deleted.", ref.name))
        return {'value': ref.qbo_id, 'name': ref.name}

    @api.model
    def _qbo_ap_account_ref(self, move, connection):
        """APAccountRef: the QuickBooks account mapped to the bill's payable account, else the
        connection's default A/P account, else none (QuickBooks then uses its own default)."""
        payable = move.line_ids.filtered(
            lambda line: line.account_id.account_type == 'liability_payable').account_id[:1]
        ref = payable and self.env['qbo.mapping']._qbo_find(connection, 'account', payable)
        ref = ref or connection.ap_account_ref_id
        if not ref:
            return None
        if not ref.active:
            raise QboBlocked(_("Blocked: mapping - the QuickBooks A/P account %s is inactive or deleted.", ref.name))
        return {'value': ref.qbo_id, 'name': ref.name}

    @api.model
    def _qbo_billable_customer(self, line, connection):
        """(CustomerRef, BillableStatus) of a line rebilled to a customer, else (None, None).

        A line whose analytic distribution names a project (an analytic account) with a partner is an
        expense for that customer: QuickBooks tracks it as billable to the customer's QuickBooks
        customer (which must have been sent: it is a dependency of the bill).
        """
        analytic_ids = [int(a) for key in (line.analytic_distribution or {}) for a in key.split(',')]
        for analytic in self.env['account.analytic.account'].browse(analytic_ids):
            partner = analytic.partner_id.commercial_partner_id
            if partner:
                binding = partner._qbo_binding(connection, 'Customer')
                if not binding or not binding.qbo_id:
                    # Sent first (a dependency of the bill): not there yet means it failed or waits.
                    raise QboDeferred(_("Waiting for the customer %s (a line is rebilled to them) to be sent to "
                                        "QuickBooks.", partner.display_name),
                                      retry_at=fields.Datetime.now() + timedelta(minutes=1))
                return {'value': binding.qbo_id}, 'Billable'
        return None, None

    @api.model
    def _qbo_rebilled_partners(self, move):
        """Customers the bill's lines are rebilled to (their analytic account's partner): sent first."""
        analytic_ids = [int(a) for line in move.invoice_line_ids for key in (line.analytic_distribution or {})
                        for a in key.split(',')]
        return self.env['account.analytic.account'].browse(analytic_ids).partner_id.commercial_partner_id

    @api.model
    def _qbo_prepare_bill_line(self, line, move, connection, tax_mode, booked):
        """One QuickBooks expense line of an Odoo bill line.

        A product mapped to a QuickBooks item becomes an item line (ItemBasedExpenseLineDetail: item,
        quantity, unit cost); anything else an account line (AccountBasedExpenseLineDetail) on the
        QuickBooks account mapped to the line's expense account. `Amount` is Odoo's booked net amount;
        on US companies, which track no purchase tax, the line's booked tax is added to it so that the
        bill's total is Odoo's (see README "Payables"); elsewhere the mapped purchase tax code goes on
        the line and TaxInclusiveAmt on tax-inclusive bills.
        """
        mapper = self.env['qbo.mapper']
        currency = move.currency_id
        amount, tax = booked[line]
        if connection.is_us or not connection.using_sales_tax:
            amount, tax = currency.round(amount + tax), 0.0
        item = line.product_id and self.env['qbo.mapping']._qbo_find(connection, 'product', line.product_id)
        if item and item.active:
            qty, unit_price = mapper._qbo_amounts(amount, line.quantity, currency)
            detail_type = 'ItemBasedExpenseLineDetail'
            detail = {'ItemRef': {'value': item.qbo_id, 'name': item.name}, 'Qty': qty, 'UnitPrice': unit_price}
        else:
            detail_type = 'AccountBasedExpenseLineDetail'
            detail = {'AccountRef': self._qbo_account_ref(connection, line.account_id, line.name or move.name)}
        if connection.using_sales_tax and not connection.is_us:
            detail['TaxCodeRef'] = mapper._qbo_line_tax_code(line, connection)
            if tax_mode == 'TaxInclusive':
                detail['TaxInclusiveAmt'] = currency.round(amount + tax)
        # Bills carry classes on their lines only (whatever the class tracking: one per transaction
        # puts the same class on each line).
        class_ref = mapper._qbo_line_class(line, move, connection)
        if class_ref:
            detail['ClassRef'] = class_ref
        customer_ref, billable = self._qbo_billable_customer(line, connection)
        if customer_ref:
            detail['CustomerRef'] = customer_ref
            detail['BillableStatus'] = billable
        return {
            'DetailType': detail_type,
            'Amount': amount,
            'Description': (line.name or '')[:const.LINE_DESCRIPTION_MAX_LENGTH],
            detail_type: detail,
        }

    @api.model
    def _qbo_bill_doc_number(self, move):
        """DocNumber: the vendor's reference (what the vendor calls its bill), cut to QuickBooks' 21
        characters; the whole reference is kept in the private note when cut."""
        ref = (move.ref or '').strip()
        return ref[:const.DOC_NUMBER_MAX_LENGTH] or None

    @api.model
    def _qbo_prepare_bill_vals(self, move, connection, vendor_id):
        """Bill / VendorCredit payload (without Id/SyncToken): lines, A/P account, dates, terms, the
        vendor's reference, tax as Odoo booked it, and the bill's own exchange rate."""
        mapper = self.env['qbo.mapper']
        non_us_tax = connection.using_sales_tax and not connection.is_us
        global_tax = mapper._qbo_global_tax_calculation(move, connection) if not connection.is_us else None
        booked = mapper._qbo_booked_amounts(move)
        lines = [self._qbo_prepare_bill_line(line, move, connection, global_tax, booked)
                 for line in mapper._qbo_product_lines(move).sorted('sequence')]
        if not lines:
            raise QboBlocked(_("%s has no lines to send: QuickBooks needs at least one.", move.display_name))
        doc_number = self._qbo_bill_doc_number(move)
        note = f"Odoo {move.name}"
        if move.ref and doc_number != move.ref.strip():
            note += f" ({_('vendor reference')}: {move.ref.strip()})"
        vals = {
            'VendorRef': {'value': vendor_id},
            'Line': lines,
            'TxnDate': str(move.invoice_date),
            'PrivateNote': f"{note} {mapper._qbo_marker(move)}"[-const.PRIVATE_NOTE_MAX_LENGTH:],
        }
        if doc_number:
            vals['DocNumber'] = doc_number
        if move.move_type == 'in_invoice':
            ap_ref = self._qbo_ap_account_ref(move, connection)
            if ap_ref:
                vals['APAccountRef'] = ap_ref
            if move.invoice_date_due:
                vals['DueDate'] = str(move.invoice_date_due)
            term_ref = move.invoice_payment_term_id and self.env['qbo.mapping']._qbo_find(
                connection, 'term', move.invoice_payment_term_id)
            if term_ref:
                vals['SalesTermRef'] = {'value': term_ref.qbo_id}
        if move.currency_id != move.company_id.currency_id:
            if not connection.multi_currency:
                raise QboBlocked(_("This bill is in %(currency)s but the QuickBooks company works in %(home)s only: "
                                   "turn on Multicurrency in QuickBooks (Account and settings > Advanced), then Test "
                                   "connection.", currency=move.currency_id.name, home=connection.qbo_home_currency))
            vals['CurrencyRef'] = {'value': move.currency_id.name}
            rate = mapper._qbo_exchange_rate(move)
            if rate:
                vals['ExchangeRate'] = rate
        if global_tax:
            vals['GlobalTaxCalculation'] = global_tax
        if non_us_tax:
            vals['TxnTaxDetail'] = mapper._qbo_prepare_non_us_tax_detail(
                move, connection, booked, rate_list='PurchaseTaxRateList')
        if move.narration:
            memo = html2plaintext(move.narration)
            vals['PrivateNote'] = qbo_clean_name(memo, const.PRIVATE_NOTE_MAX_LENGTH - len(vals['PrivateNote']) - 1) \
                + '\n' + vals['PrivateNote'] if memo.strip() else vals['PrivateNote']
        return vals
