from odoo import models


class AccountPayment(models.Model):
    """An Odoo payment reimbursing an employee goes to QuickBooks as a BillPayment of the expense's Bill
    (with 'Send Odoo payments to QuickBooks'), as for vendor bills."""
    _inherit = 'account.payment'

    def _qbo_bill_applications(self, connection):
        """The core's (vendor bills: 18.0's expense reports are some), and the 19.0 expense receipts this payment
        is reconciled with, whose Bills QuickBooks has."""
        applications = super()._qbo_bill_applications(connection)
        payable = self.move_id.line_ids.filtered(lambda line: line.account_id.account_type == 'liability_payable')
        for partial in payable.matched_credit_ids:
            receipt = partial.credit_move_id.move_id
            if receipt.move_type != 'in_receipt' or receipt._qbo_expense_payment_mode() != 'own_account':
                continue
            binding = receipt._qbo_binding(connection)
            if binding and binding.qbo_id and binding.state in ('sent', 'variance'):
                applications.append((binding, partial.debit_amount_currency))
        return applications
