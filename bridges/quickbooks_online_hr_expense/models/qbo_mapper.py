from odoo import api, models


class QboMapperExpense(models.AbstractModel):
    """The lines of a company-paid expense's entry, for the shared line and tax builders.

    That entry is no invoice: its product lines include the outstanding payment line, and the tax engine
    does not split its tax per line. Its QuickBooks lines are the expense's own journal items (those naming
    the expense, without the tax items), each with its share of the entry's tax.
    """
    _inherit = 'qbo.mapper'

    @api.model
    def _qbo_product_lines(self, move):
        if move._qbo_expense_payment_mode() == 'company_account':
            return move.line_ids.filtered(
                lambda line: line.expense_id and not line.tax_line_id and line.display_type == 'product')
        return super()._qbo_product_lines(move)

    @api.model
    def _qbo_booked_amounts(self, move):
        """``{line: (untaxed, tax)}`` of a company-paid expense's entry, in its currency: each expense item and
        the entry's tax items shared in proportion (Odoo makes one entry per company-paid expense, so the
        one item takes all of it), the last line taking the rounding rest."""
        if move._qbo_expense_payment_mode() != 'company_account':
            return super()._qbo_booked_amounts(move)
        currency = move.currency_id
        lines = self._qbo_product_lines(move).sorted('id')
        tax_total = currency.round(sum(move.line_ids.filtered('tax_line_id').mapped('amount_currency')))
        untaxed_total = sum(lines.mapped('amount_currency'))
        amounts, rest = {}, tax_total
        for index, line in enumerate(lines):
            untaxed = currency.round(line.amount_currency)
            if index == len(lines) - 1:
                tax = rest
            else:
                tax = currency.round(tax_total * line.amount_currency / untaxed_total) if untaxed_total else 0.0
            rest = currency.round(rest - tax)
            amounts[line] = (untaxed, tax)
        return amounts
