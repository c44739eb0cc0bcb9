from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .hr_expense import QBO_STATES


class HrExpenseSheet(models.Model):
    """18.0's expense reports: their transfer to QuickBooks, read from their entries' links (a Bill for a
    report the employee paid, one Purchase per expense for a report the company paid)."""
    _inherit = 'hr.expense.sheet'

    qbo_state = fields.Selection(QBO_STATES, string='QuickBooks', compute='_compute_qbo_report_state',
                                 groups='account.group_account_invoice')
    qbo_error = fields.Text('QuickBooks error', compute='_compute_qbo_report_state',
                            groups='account.group_account_invoice')
    qbo_entity = fields.Char('Sent to QuickBooks as', compute='_compute_qbo_report_state',
                             groups='account.group_account_invoice')
    qbo_posted = fields.Boolean('Posted for QuickBooks', compute='_compute_qbo_report_state',
                                groups='account.group_account_invoice',
                                help="Posted in accounting: its journal entries can be sent to QuickBooks.")

    @api.depends_context('company')
    def _compute_qbo_report_state(self):
        Expense = self.env['hr.expense']
        for sheet in self:
            moves = sheet.expense_line_ids._qbo_moves() if sheet.id else self.env['account.move']
            sheet.qbo_state, sheet.qbo_error, sheet.qbo_entity = Expense._qbo_summary(moves)
            sheet.qbo_posted = bool(moves)

    def action_qbo_send(self):
        """'Send to QuickBooks' on reports: their entries, as from the expenses."""
        expenses = self.expense_line_ids
        if not expenses:
            raise UserError(_("These expense reports have no expenses to send to QuickBooks."))
        return expenses.action_qbo_send()
