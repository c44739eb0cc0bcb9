from odoo import api, fields, models

from odoo.addons.quickbooks_online import const


class QboConnectionExpense(models.Model):
    """What a connection needs for expenses: whether posted expenses are sent by themselves.

    Expense moves follow this option only, not the core's 'Send posted vendor bills automatically' (an
    18.0 expense report posts a vendor bill: it is the report's Bill, never also an ordinary one).
    """
    _inherit = 'qbo.connection'

    expense_auto_send = fields.Boolean(
        'Send expenses automatically',
        help="Posted expenses dated from 'Export documents dated from' are queued by themselves and sent by the "
             "scheduled export: those paid by the employee as bills payable to the employee, those paid by the "
             "company as expenses on its card or bank account.")

    def _qbo_auto_send_applies(self, move):
        """An expense move is queued at posting with 'Send expenses automatically' (dated from the cut-off)."""
        if move._qbo_expense_payment_mode():
            date = move.invoice_date or move.date
            return self.expense_auto_send and bool(date) and date >= self._qbo_export_from_date()
        return super()._qbo_auto_send_applies(move)

    def _qbo_auto_send_domain(self):
        """The core's sweep leaves the expense moves out: they go by this bridge's own option."""
        return super()._qbo_auto_send_domain() + [('id', 'not in', self._qbo_expense_moves_query())]

    def _qbo_expense_moves_query(self):
        """The moves that post expenses (their journal items name the expense), as a subquery."""
        return self.env['account.move.line'].sudo()._search([('expense_id', '!=', False)]).subselect('move_id')

    @api.model
    def _qbo_enqueue_auto_send_all(self):
        """The core's auto-send (invoices and bills), then the expenses of every connection that sends them."""
        bindings = super()._qbo_enqueue_auto_send_all()
        for connection in self.sudo().search([('expense_auto_send', '=', True), ('state', '=', 'connected')]):
            bindings |= connection._qbo_enqueue_expenses()
        return bindings

    def _qbo_enqueue_expenses(self, limit=const.AUTO_SEND_BATCH_SIZE):
        """Queue this connection's posted expense moves dated from the cut-off that have no link yet (an
        anti-join on the links, as the core's sweep), e.g. those posted before the option was turned on.

        :return: the bindings created
        """
        self.ensure_one()
        Binding = self.env['qbo.binding'].sudo()
        linked = Binding._search([('connection_id', '=', self.id), ('res_model', '=', 'account.move')])
        moves = self.env['account.move'].sudo().search([
            ('company_id', '=', self.company_id.id), ('state', '=', 'posted'),
            ('move_type', 'in', ('in_invoice', 'in_receipt', 'entry')), ('reversed_entry_id', '=', False),
            ('date', '>=', self._qbo_export_from_date()),
            ('id', 'in', self._qbo_expense_moves_query()), ('id', 'not in', linked.subselect('res_id')),
        ], limit=limit, order='date, id')
        moves = moves.filtered(lambda move: move._qbo_expense_payment_mode())
        return Binding.create([{'connection_id': self.id, 'res_model': 'account.move', 'res_id': move.id,
                                'entity': move._qbo_entity()} for move in moves])
