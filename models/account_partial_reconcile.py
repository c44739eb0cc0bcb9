from odoo import api, models


class AccountPartialReconcile(models.Model):
    """Reconciling a credit note with an invoice, or undoing it, queues its application in QuickBooks
    (see qbo.credit.application)."""
    _inherit = 'account.partial.reconcile'

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        self.env['qbo.credit.application']._qbo_queue_for_moves(
            partials.debit_move_id.move_id | partials.credit_move_id.move_id)
        return partials

    def unlink(self):
        moves = self.debit_move_id.move_id | self.credit_move_id.move_id
        res = super().unlink()
        self.env['qbo.credit.application']._qbo_queue_for_moves(moves.exists())
        return res
