from odoo import _, models

#: The QuickBooks document of an expense move, by who paid (hr.expense ``payment_mode``).
ENTITY_BY_PAYMENT_MODE = {'own_account': 'Bill', 'company_account': 'Purchase'}


class AccountMove(models.Model):
    """The journal entries of expenses, sent by this bridge rather than as ordinary vendor bills.

    Employee-paid expenses post a vendor bill (18.0, one per expense report) or a receipt (19.0) payable to
    the employee's work contact: sent as a QuickBooks Bill to that contact's Vendor (the core's bill exporter;
    a BillPayment recorded in QuickBooks pays it in Odoo). Company-paid expenses post one entry per expense
    with its payment: sent as a QuickBooks Purchase on the card or bank account of the payment's journal
    (qbo.exporter.expense). Both series are told apart by the move lines' ``expense_id``, which both have.

    Reset: resetting an 18.0 expense report reverses its posted entries in full (a reversal reconciled with
    each), and a 19.0 expense is reset once its entry is reversed. Such an entry stays posted in Odoo but no
    longer stands (`_qbo_expense_withdrawn`): its Bill or Purchase is deleted in QuickBooks through the
    engine, as on a cancel (see qbo.exporter.bill in this bridge), and the full reversal sends nothing.
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

    def _qbo_expense_withdrawn(self):
        """True when this expense entry is posted but reversed in full by posted reversals: the expense was
        reset (18.0's report reset does it; 19.0 resets an expense once its entry is reversed). QuickBooks must
        then hold nothing for it, as for a cancelled entry."""
        self.ensure_one()
        if self.state != 'posted' or not self._qbo_expense_payment_mode():
            return False
        reversals = self.sudo().reversal_move_ids.filtered(lambda move: move.state == 'posted')
        return bool(reversals) and self.currency_id.compare_amounts(
            sum(reversals.mapped('amount_total')), self.amount_total) >= 0

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
        """Expense moves are sent (by this bridge: see the class); the full reversal of one is not (it withdraws
        the entry, whose QuickBooks document is deleted: a VendorCredit as well would credit the employee twice);
        anything else as the core decides (a partial credit note is an ordinary vendor refund)."""
        if self._qbo_expense_payment_mode():
            return True
        original = self.reversed_entry_id
        if original and original._qbo_expense_payment_mode() and original._qbo_expense_withdrawn():
            return False
        return super()._qbo_sends()

    def _post(self, soft=True):
        """A posted reversal that withdraws an expense entry (see `_qbo_expense_withdrawn`) queues the removal of
        the entry's QuickBooks document, whatever its link holds (after an unknown create the export looks it up
        first), as the core's cancel does; the entry's chatter says so."""
        posted = super()._post(soft)
        for move in posted.reversed_entry_id.filtered(lambda original: original._qbo_expense_withdrawn()):
            binding = move._qbo_recover_binding()
            if not binding or binding.state in ('voided', 'deleted_in_qbo'):
                continue
            binding._qbo_mark_to_send()
            move.sudo().message_post(body=_(
                "Reversed in full (the expense was reset): its QuickBooks %(entity)s is deleted there by the next "
                "export.", entity=binding.entity), message_type='comment', subtype_xmlid='mail.mt_note')
        return posted

    def _qbo_dependencies(self, binding):
        """An expense's vendor (the employee's contact, or the merchant of a company-paid expense) and the
        customers its lines are rebilled to go first, as bindings of their own."""
        mode = self._qbo_expense_payment_mode()
        if not mode:
            return super()._qbo_dependencies(binding)
        if self.state != 'posted' or self._qbo_expense_withdrawn():
            return []  # nothing to create first: its document is voided or deleted
        connection = binding.connection_id
        foreign = self.currency_id != self.company_id.currency_id
        if foreign and not connection.multi_currency:
            return []  # blocked by the currency check: nothing is created in the home currency first
        vendor = self._qbo_expense_vendor()
        parties = [(vendor, 'Vendor', foreign)] if vendor else []
        parties += [(partner, 'Customer', False)
                    for partner in self.env['qbo.mapper.payables']._qbo_rebilled_partners(self)]
        return self._qbo_party_dependencies(connection, parties)
