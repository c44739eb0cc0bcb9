from odoo import api, fields, models


class QboReconciliationLine(models.Model):
    """One partner and month of a reconciliation: what Odoo and QuickBooks hold open, and the difference.

    Months are those of the due date (as the aging reports count); amounts are in the company's
    currency, credit notes and vendor credits negative.
    """
    _name = 'qbo.reconciliation.line'
    _description = 'QuickBooks Online reconciliation: partner and month'
    _order = 'side, partner_name, month, id'

    run_id = fields.Many2one('qbo.reconciliation', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='run_id.company_id', store=True)
    currency_id = fields.Many2one(related='run_id.currency_id')
    side = fields.Selection([('receivable', 'Receivable'), ('payable', 'Payable')], required=True)
    partner_id = fields.Many2one('res.partner', index=True)
    qbo_party_id = fields.Char('QuickBooks customer/vendor Id')
    qbo_party_name = fields.Char('QuickBooks customer/vendor')
    partner_name = fields.Char('Customer/vendor', compute='_compute_partner_name', store=True)
    month = fields.Char('Due month', help="Year and month of the due date.")
    odoo_amount = fields.Monetary('Open in Odoo')
    qbo_amount = fields.Monetary('Open in QuickBooks')
    difference = fields.Monetary(compute='_compute_difference', store=True)
    document_ids = fields.One2many('qbo.reconciliation.document', 'line_id', 'Documents that differ')

    @api.depends('partner_id', 'qbo_party_name', 'qbo_party_id')
    def _compute_partner_name(self):
        for line in self:
            line.partner_name = line.partner_id.display_name or line.qbo_party_name or line.qbo_party_id or False

    @api.depends('odoo_amount', 'qbo_amount')
    def _compute_difference(self):
        for line in self:
            line.difference = round(line.odoo_amount - line.qbo_amount, 2)
