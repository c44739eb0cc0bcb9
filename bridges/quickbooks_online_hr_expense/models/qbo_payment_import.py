from odoo import models


class QboPaymentImportExpense(models.Model):
    """A BillPayment recorded in QuickBooks for an expense's Bill pays it in Odoo, as for any bill sent."""
    _inherit = 'qbo.payment.import'

    def _qbo_is_paid_document(self, move):
        """19.0 posts an employee's expenses as a receipt (``in_receipt``), paid like a vendor bill."""
        if self._qbo_kind().party_entity == 'Vendor' and move.move_type == 'in_receipt':
            return move._qbo_expense_payment_mode() == 'own_account'
        return super()._qbo_is_paid_document(move)
