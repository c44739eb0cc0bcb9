from odoo import _, api, fields, models


class QboConnectWizard(models.TransientModel):
    """Confirmation before an admin takes over a connection held by another admin."""
    _name = 'qbo.connect.wizard'
    _description = 'QuickBooks Online connection confirmation'

    connection_id = fields.Many2one('qbo.connection', required=True)
    mode = fields.Selection([('takeover', 'Take over')], default='takeover', required=True)
    message = fields.Text(compute='_compute_message')

    @api.depends('connection_id')
    def _compute_message(self):
        for wizard in self:
            connection = wizard.connection_id
            wizard.message = _(
                "QuickBooks company %(company)s (realm %(realm)s) is connected by %(holder)s since %(date)s. "
                "QuickBooks allows one connection holder per company: if you continue, the connection will "
                "use your consent and %(holder)s will no longer hold it.",
                company=connection.qbo_company_name or '', realm=connection.realm_id or '',
                holder=connection.connected_uid.name or '', date=connection.connected_date or '')

    def action_confirm(self):
        self.ensure_one()
        return self.connection_id.with_context(qbo_takeover_confirmed=True).action_qbo_connect()
