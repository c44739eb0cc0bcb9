from odoo import api, models


class QboExporterAttachmentExpense(models.AbstractModel):
    """The receipt of an expense, attached to its Bill or Purchase with 'Attach documents'."""
    _inherit = 'qbo.exporter.attachment'

    @api.model
    def _qbo_file_of(self, move):
        """The entry's main attachment (the core's choice), else the receipt Odoo copied onto the entry (19.0
        does not make it the main one of a company-paid expense's entry), else the expense's own."""
        attachment = super()._qbo_file_of(move)
        if attachment or not move._qbo_expense_payment_mode():
            return attachment
        copied = self.env['ir.attachment'].sudo().search([('res_model', '=', 'account.move'),
                                                          ('res_id', '=', move.id)], order='id', limit=1)
        return copied or move.sudo().line_ids.expense_id.message_main_attachment_id[:1]
