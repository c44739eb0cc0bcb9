from odoo import _, api, models

from odoo.addons.quickbooks_online import const
from odoo.addons.quickbooks_online.models.qbo_binding import QboBlocked

#: QuickBooks Purchase PaymentType by the type of the Odoo journal the expense was paid from.
PAYMENT_TYPE_BY_JOURNAL_TYPE = {'credit': 'CreditCard', 'bank': 'Check', 'cash': 'Cash'}


class QboMapperPayablesExpense(models.AbstractModel):
    """Expenses: the Bill of an employee-paid expense (the core's, plus what a 19.0 receipt lacks), the
    Purchase of a company-paid one, and the customer an expense is rebilled to. Plain dicts out; no HTTP."""
    _inherit = 'qbo.mapper.payables'

    # ------------------------------------------------------------------ rebilled expenses

    @api.model
    def _qbo_expense_sale_partner(self, line):
        """The customer of the sales order an expense is re-invoiced to (Sales Expense, optional: the field
        exists only with it), else an empty recordset."""
        expense = line.expense_id if 'expense_id' in line._fields else None
        if expense and 'sale_order_id' in expense._fields and expense.sudo().sale_order_id:
            return expense.sudo().sale_order_id.partner_id.commercial_partner_id
        return self.env['res.partner']

    @api.model
    def _qbo_rebilled_partners(self, move):
        """The core's (analytic accounts with a partner), and the customers of the sales orders the move's
        expenses are re-invoiced to."""
        partners = super()._qbo_rebilled_partners(move)
        for line in move.line_ids:
            partners |= self._qbo_expense_sale_partner(line)
        return partners

    @api.model
    def _qbo_billable_customer(self, line, connection):
        """An expense re-invoiced to a sales order is billable to its customer (sent first, a dependency of
        the document); otherwise as the core decides (an analytic account with a partner)."""
        partner = self._qbo_expense_sale_partner(line)
        if partner:
            binding = partner._qbo_binding(connection, 'Customer')
            if binding and binding.qbo_id:
                return {'value': binding.qbo_id}, 'Billable'
        return super()._qbo_billable_customer(line, connection)

    # ------------------------------------------------------------------ bills of employee-paid expenses

    @api.model
    def _qbo_prepare_bill_vals(self, move, connection, vendor_id):
        """The core's Bill; a 19.0 expense receipt (``in_receipt``) gets what the core gives vendor bills
        only: its A/P account and due date."""
        vals = super()._qbo_prepare_bill_vals(move, connection, vendor_id)
        if move.move_type == 'in_receipt' and move._qbo_expense_payment_mode() == 'own_account':
            ap_ref = self._qbo_ap_account_ref(move, connection)
            if ap_ref:
                vals['APAccountRef'] = ap_ref
            if move.invoice_date_due:
                vals['DueDate'] = str(move.invoice_date_due)
        return vals

    # ------------------------------------------------------------------ purchases of company-paid expenses

    @api.model
    def _qbo_purchase_account(self, move, connection):
        """(PaymentType, AccountRef) of a company-paid expense: by its payment's journal, whose 'Bank or card
        account' mapping names the QuickBooks account it was paid from (as for bill payments)."""
        journal = move.journal_id
        payment_type = PAYMENT_TYPE_BY_JOURNAL_TYPE.get(journal.type)
        account = self.env['qbo.mapping']._qbo_find(connection, 'deposit_account', journal)
        if not payment_type or not account or not account.active:
            raise QboBlocked(_("Blocked: mapping - the journal %(journal)s has no active 'Bank or card account' "
                               "mapping: QuickBooks needs the card or bank account this expense was paid from "
                               "(%(where)s).", journal=journal.display_name, where=connection._qbo_where('mappings')))
        return payment_type, {'value': account.qbo_id, 'name': account.name}

    @api.model
    def _qbo_prepare_purchase_vals(self, move, connection, vendor_id=None):
        """Purchase payload (without Id/SyncToken) of a company-paid expense's entry: the lines, amounts and tax
        as for a bill (expense accounts through the 'Account' mapping, billable lines), paid by card, check or
        cash from the journal's account, to the merchant (EntityRef) when the expense names one."""
        vals = self._qbo_prepare_bill_vals(move, connection, vendor_id)
        vals.pop('VendorRef')
        vals.pop('DocNumber', None)  # the expense's name is no check number: kept in the private note
        vals['TxnDate'] = str(move.date)
        payment_type, account_ref = self._qbo_purchase_account(move, connection)
        vals.update(PaymentType=payment_type, AccountRef=account_ref)
        if vendor_id:
            vals['EntityRef'] = {'value': vendor_id, 'type': 'Vendor'}
        if move.ref:
            note = f"{move.ref.strip()}\n{vals['PrivateNote']}"
            vals['PrivateNote'] = note[-const.PRIVATE_NOTE_MAX_LENGTH:]
        return vals
