from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import convert

from odoo.addons.quickbooks_online import const

#: The state an expense (or a report) shows for its moves' links: the first of these that one of them has.
SUMMARY_PRIORITY = ('error', 'blocked', 'variance', 'to_send', 'not_sent', 'sent', 'deleted_in_qbo', 'voided')
QBO_STATES = [('not_sent', 'Not sent')] + const.SYNC_STATES


class HrExpense(models.Model):
    """An expense's transfer to QuickBooks, shown and started from the expense: what is sent is its journal
    entry (see account.move in this bridge), which holds the link (binding); the expense reads it."""
    _inherit = 'hr.expense'

    qbo_state = fields.Selection(QBO_STATES, string='QuickBooks', compute='_compute_qbo_expense_state',
                                 groups='account.group_account_invoice')
    qbo_error = fields.Text('QuickBooks error', compute='_compute_qbo_expense_state',
                            groups='account.group_account_invoice')
    qbo_entity = fields.Char('Sent to QuickBooks as', compute='_compute_qbo_expense_state',
                             groups='account.group_account_invoice')
    qbo_posted = fields.Boolean('Posted for QuickBooks', compute='_compute_qbo_expense_state',
                                groups='account.group_account_invoice',
                                help="Posted in accounting: its journal entries can be sent to QuickBooks.")

    def _qbo_moves(self):
        """The posted (or cancelled) entries that carry these expenses to QuickBooks (not their reversals)."""
        lines = self.env['account.move.line'].sudo().search([('expense_id', 'in', self.ids)])
        return lines.move_id.filtered(lambda move: move._qbo_expense_payment_mode()).sudo(False)

    @api.model
    def _qbo_summary(self, moves):
        """(state, error, entity) of the links of `moves` (one line: the most pressing state, see
        SUMMARY_PRIORITY, and the errors of the moves in that state)."""
        if not moves:
            return 'not_sent', False, False
        connections = moves._qbo_connections_by_company()
        by_state = {}
        for move in moves:
            connection = connections.get(move._qbo_company().id)
            binding = move._qbo_binding(connection) if connection else False
            by_state.setdefault(binding.state if binding else 'not_sent', []).append(binding)
        state = next(state for state in SUMMARY_PRIORITY if state in by_state)
        errors = [b.error_message for b in by_state[state] if b and b.error_message]
        entities = sorted({b.entity for bindings in by_state.values() for b in bindings if b})
        return state, '\n'.join(errors) or False, ', '.join(entities) or False

    @api.depends_context('company')
    def _compute_qbo_expense_state(self):
        lines = self.env['account.move.line'].sudo().search([('expense_id', 'in', self.ids)]) if self.ids else []
        moves_of = {}
        for line in lines:
            moves_of.setdefault(line.expense_id.id, set()).add(line.move_id.id)
        Move = self.env['account.move']
        for expense in self:
            moves = Move.browse(moves_of.get(expense.id, ())).filtered(lambda m: m._qbo_expense_payment_mode())
            expense.qbo_state, expense.qbo_error, expense.qbo_entity = self._qbo_summary(moves)
            expense.qbo_posted = bool(moves)

    def action_qbo_send(self):
        """'Send to QuickBooks': send the expenses' entries now (the core's button on them), or say what is
        missing first."""
        moves = self._qbo_moves()
        if not moves:
            raise UserError(_("Post the expenses in accounting first: QuickBooks receives their journal entries "
                              "(a bill to the employee, or an expense on the company's card or bank account)."))
        result = moves.action_qbo_send()
        self.invalidate_recordset(['qbo_state', 'qbo_error', 'qbo_entity'])  # read from the links just written
        return result

    # ------------------------------------------------------------------ 18.0's expense reports

    @api.model
    def _qbo_load_report_screens(self):
        """Load the screens of expense reports (hr.expense.sheet, 18.0 only: 19.0 has no report model and
        posts expenses one by one), from data XML that names the report's views; called by the bridge's
        own data file, at install and update."""
        if 'hr.expense.sheet' in self.env:
            convert.convert_file(self.env, 'quickbooks_online_hr_expense', 'views/hr_expense_sheet_views.xml', {},
                                 mode='update', noupdate=False, kind='data')
