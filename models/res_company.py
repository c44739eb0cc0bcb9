from odoo import models


class ResCompany(models.Model):
    _inherit = 'res.company'

    def write(self, vals):
        res = super().write(vals)
        if 'account_sale_tax_id' in vals:
            # A changed default sales tax may lift the default-tax hold: queue blocked exports again.
            connections = self.env['qbo.connection'].sudo().search([('company_id', 'in', self.ids)])
            self.env['qbo.binding'].sudo().search([('connection_id', 'in', connections.ids),
                                                   ('state', '=', 'blocked')])._qbo_mark_to_send()
        return res
