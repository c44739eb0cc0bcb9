from odoo import models

#: The QuickBooks document of an expense move, by who paid (hr.expense ``payment_mode``).
ENTITY_BY_PAYMENT_MODE = {'own_account': 'Bill', 'company_account': 'Purchase'}


class AccountMove(models.Model):
    """The journal entries of expenses, sent by this bridge rather than as ordinary vendor bills.

    Employee-paid expenses post a vendor bill (18.0, one per expense report) or a receipt (19.0) payable to
    the employee's work contact: sent as a QuickBooks Bill to that contact's Vendor (the core's bill exporter;
    a BillPayment recorded in QuickBooks pays it in Odoo). Company-paid expenses post one entry per expense
    with its payment: sent as a QuickBooks Purchase on the card or bank account of the payment's journal
    (qbo.exporter.expense). Both series are told apart by the move lines' ``expense_id``, which both have.
    """
    _inherit = 'account.move'

    def _qbo_expense_payment_mode(self):
        """'own_account' (reimbursed to the employee), 'company_account' (company card or bank), or False
        when this move is no expense's own posting (reversals included: they are ordinary documents)."""
        self.ensure_one()
        # The move's own fields first: invoices (most of a list) cost no query of their lines.
        if self.move_type not in ('in_invoice', 'in_receipt', 'entry') or self.reversed_entry_id:
            return False
        modes = set(self.sudo().line_ids.expense_id.mapped('payment_mode'))
        if 'own_account' in modes and self.move_type in ('in_invoice', 'in_receipt'):
            return 'own_account'
        if 'company_account' in modes and self.move_type == 'entry':
            return 'company_account'
        return False

    def _qbo_expense_vendor(self):
        """The partner sent as the QuickBooks vendor: the employee's work contact for a reimbursed expense
        (the Bill's VendorRef must be a Vendor), the merchant (if recorded) for a company-paid one."""
        self.ensure_one()
        if self._qbo_expense_payment_mode() == 'own_account':
            return self.commercial_partner_id
        return self.partner_id.commercial_partner_id

    def _qbo_entity(self):
        mode = self._qbo_expense_payment_mode()
        return ENTITY_BY_PAYMENT_MODE[mode] if mode else super()._qbo_entity()

    def _qbo_sends(self):
        """Expense moves are sent (by this bridge: see the class); anything else as the core decides."""
        return bool(self._qbo_expense_payment_mode()) or super()._qbo_sends()

    def _qbo_dependencies(self, binding):
        """An expense's vendor (the employee's contact, or the merchant of a company-paid expense) and the
        customers its lines are rebilled to go first, as bindings of their own."""
        mode = self._qbo_expense_payment_mode()
        if not mode:
            return super()._qbo_dependencies(binding)
        if self.state != 'posted':
            return []
        connection = binding.connection_id
        foreign = self.currency_id != self.company_id.currency_id
        if foreign and not connection.multi_currency:
            return []  # blocked by the currency check: nothing is created in the home currency first
        vendor = self._qbo_expense_vendor()
        parties = [(vendor, 'Vendor', foreign)] if vendor else []
        parties += [(partner, 'Customer', False)
                    for partner in self.env['qbo.mapper.payables']._qbo_rebilled_partners(self)]
        return self._qbo_party_dependencies(connection, parties)
