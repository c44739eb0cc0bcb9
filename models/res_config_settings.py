from odoo import _, api, fields, models


class ResConfigSettings(models.TransientModel):
    """Settings > Accounting > QuickBooks Online: a thin view over the company's qbo.connection."""
    _inherit = 'res.config.settings'

    qbo_connection_id = fields.Many2one('qbo.connection', compute='_compute_qbo_connection')
    qbo_environment = fields.Selection([
        ('production', 'Production'), ('sandbox', 'Intuit Sandbox'), ('custom', 'Custom endpoint'),
    ], string='QuickBooks environment', compute='_compute_qbo_connection', readonly=False)
    qbo_custom_base_url = fields.Char('Custom endpoint URL', compute='_compute_qbo_connection', readonly=False)
    qbo_client_id = fields.Char('Client ID', compute='_compute_qbo_connection', readonly=False,
                                groups='base.group_system')
    qbo_client_secret = fields.Char('Client Secret', compute='_compute_qbo_connection', readonly=False,
                                    groups='base.group_system')
    qbo_state = fields.Selection(related='qbo_connection_id.state', string='QuickBooks status')
    qbo_company_name = fields.Char(related='qbo_connection_id.qbo_company_name')
    qbo_realm_id = fields.Char(related='qbo_connection_id.realm_id')
    qbo_pending_realm_id = fields.Char(related='qbo_connection_id.pending_realm_id')
    qbo_connected_uid = fields.Many2one(related='qbo_connection_id.connected_uid')
    qbo_connected_date = fields.Datetime(related='qbo_connection_id.connected_date')
    qbo_access_token_expiry = fields.Datetime(related='qbo_connection_id.access_token_expiry')
    qbo_refresh_token_expiry = fields.Datetime(related='qbo_connection_id.refresh_token_expiry')
    qbo_hard_expiry_days_left = fields.Integer(related='qbo_connection_id.hard_expiry_days_left')
    qbo_hard_expiry_warning = fields.Boolean(related='qbo_connection_id.hard_expiry_warning')
    qbo_preflight_message = fields.Text(related='qbo_connection_id.preflight_message')
    qbo_last_error = fields.Text(related='qbo_connection_id.last_error')
    qbo_redirect_uri = fields.Char('Redirect URI', compute='_compute_qbo_connection')
    qbo_tax_match = fields.Selection([('match', 'Match'), ('mismatch', 'Mismatch'), ('na', 'Not applicable')],
                                     compute='_compute_qbo_tax_match')
    qbo_tax_match_odoo = fields.Char(compute='_compute_qbo_tax_match')
    qbo_tax_match_qbo = fields.Char(compute='_compute_qbo_tax_match')
    qbo_tax_match_advice = fields.Char(compute='_compute_qbo_tax_match')
    qbo_auto_send = fields.Boolean('Send posted invoices automatically',
                                   config_parameter='quickbooks_online.auto_send')
    qbo_doc_number_prefix = fields.Char('Invoice number prefix', config_parameter='quickbooks_online.doc_number_prefix')
    qbo_error_emails = fields.Char('Email transfer errors to', config_parameter='quickbooks_online.error_emails')
    qbo_log_retention_days = fields.Integer('Keep transfer history (days)', default=30,
                                            config_parameter='quickbooks_online.log_retention_days')
    qbo_export_interval = fields.Integer('Export every (minutes)', compute='_compute_qbo_export_interval',
                                         readonly=False)

    # --- Metered calls (Intuit's monthly quota of queries and reads) - see models/qbo_rate_limit.py
    qbo_metered_calls = fields.Integer(related='qbo_connection_id.qbo_metered_calls')
    qbo_metered_percent = fields.Float(related='qbo_connection_id.qbo_metered_percent')
    qbo_metered_budget = fields.Integer(
        'Monthly metered-call budget', default=500000, config_parameter='quickbooks_online.metered_budget',
        help="Intuit's monthly quota of metered calls (queries and reads) for your app's plan: 500,000 on the "
             "free tier. Administrators get an activity at 80 %.")
    # --- end of metered calls

    # --- Auto-send cut-off (parity): documents dated before it are never queued by themselves.
    qbo_export_from_date = fields.Date(related='qbo_connection_id.export_from_date', readonly=False)

    @api.onchange('qbo_auto_send')
    def _onchange_qbo_auto_send(self):
        if self.qbo_auto_send and self.qbo_connection_id and not self.qbo_export_from_date:
            self.qbo_export_from_date = fields.Date.context_today(self)
    # --- end auto-send cut-off

    # --- Payments and webhooks (issue 12, helper "pay"): one block, saved by _qbo_save_inbound_settings
    qbo_webhook_verifier_token = fields.Char('Webhook verifier token', compute='_compute_qbo_inbound',
                                             readonly=False, groups='base.group_system')
    qbo_payment_export = fields.Boolean('Send Odoo payments to QuickBooks', compute='_compute_qbo_inbound',
                                        readonly=False)
    qbo_payment_journal_id = fields.Many2one('account.journal', 'Journal for QuickBooks payments',
                                             compute='_compute_qbo_inbound', readonly=False,
                                             domain="[('type', 'in', ('bank', 'cash')), "
                                                    "('company_id', '=', company_id)]")
    qbo_webhook_url = fields.Char('Webhook endpoint', compute='_compute_qbo_inbound')
    qbo_reconnect_url = fields.Char('Reconnect URL', compute='_compute_qbo_inbound')

    @api.depends('company_id')
    def _compute_qbo_inbound(self):
        for settings in self:
            connection = self.env['qbo.connection']._qbo_get_for_company(settings.company_id)
            settings.qbo_payment_export = connection.payment_export if connection else False
            settings.qbo_payment_journal_id = connection.payment_journal_id if connection else False
            template = connection or self.env['qbo.connection'].new({})
            settings.qbo_webhook_url = template.webhook_url
            settings.qbo_reconnect_url = template.reconnect_url
            if self.env.user.has_group('base.group_system'):
                settings.qbo_webhook_verifier_token = connection.sudo().webhook_verifier_token if connection else False

    def _qbo_save_inbound_settings(self, connection):
        """Write the payment/webhook settings on the connection (admins only, like the secrets)."""
        vals = {'payment_export': self.qbo_payment_export, 'payment_journal_id': self.qbo_payment_journal_id.id}
        if self.qbo_webhook_verifier_token is not False:
            vals['webhook_verifier_token'] = self.qbo_webhook_verifier_token
        current = dict(connection.read(list(vals))[0], payment_journal_id=connection.payment_journal_id.id)
        changed = {k: v for k, v in vals.items() if current[k] != v}
        if changed:
            connection.write(changed)
    # --- end of the payments and webhooks block

    @api.depends('company_id')
    def _compute_qbo_connection(self):
        for settings in self:
            connection = self.env['qbo.connection']._qbo_get_for_company(settings.company_id)
            settings.qbo_connection_id = connection
            settings.qbo_environment = connection.environment if connection else 'sandbox'
            settings.qbo_custom_base_url = connection.custom_base_url if connection else False
            settings.qbo_redirect_uri = self.env['qbo.connection'].new({})._qbo_redirect_uri()
            if self.env.user.has_group('base.group_system'):
                settings.qbo_client_id = connection.sudo().client_id if connection else False
                settings.qbo_client_secret = connection.sudo().client_secret if connection else False

    @api.depends('qbo_connection_id')
    def _compute_qbo_tax_match(self):
        for settings in self:
            connection = settings.qbo_connection_id
            if connection and connection.state == 'connected':
                match, odoo_label, qbo_label, advice = connection._qbo_default_tax_status()
            else:
                match, odoo_label, qbo_label, advice = 'na', '', '', ''
            settings.qbo_tax_match = match
            settings.qbo_tax_match_odoo = odoo_label
            settings.qbo_tax_match_qbo = qbo_label
            settings.qbo_tax_match_advice = advice

    def _compute_qbo_export_interval(self):
        cron = self.env.ref('quickbooks_online.ir_cron_qbo_export', raise_if_not_found=False)
        minutes = 60
        if cron:
            factor = {'minutes': 1, 'hours': 60, 'days': 1440, 'weeks': 10080, 'months': 43200}
            minutes = cron.sudo().interval_number * factor.get(cron.sudo().interval_type, 1)
        for settings in self:
            settings.qbo_export_interval = minutes

    def set_values(self):
        res = super().set_values()
        self._qbo_save_connection_settings()
        cron = self.env.ref('quickbooks_online.ir_cron_qbo_export', raise_if_not_found=False)
        if cron and self.qbo_export_interval:
            # Like Autotask's auto-run: never more often than every 15 minutes.
            cron.sudo().write({'interval_number': max(15, self.qbo_export_interval), 'interval_type': 'minutes'})
        return res

    def _qbo_save_connection_settings(self):
        """Write the connection fields edited in the settings (admins only)."""
        self.ensure_one()
        if not self.env.user.has_group('base.group_system'):
            return self.qbo_connection_id
        connection = self.env['qbo.connection']._qbo_get_for_company(self.company_id, create=True).sudo()
        vals = {'environment': self.qbo_environment or 'sandbox', 'custom_base_url': self.qbo_custom_base_url}
        if self.qbo_client_id is not False:
            vals['client_id'] = self.qbo_client_id
        if self.qbo_client_secret is not False:
            vals['client_secret'] = self.qbo_client_secret
        changed = {k: v for k, v in vals.items() if connection[k] != v}
        if changed:
            connection.write(changed)
        self._qbo_save_inbound_settings(connection)
        return connection.sudo(False)

    def _qbo_connection_action(self, method):
        connection = self._qbo_save_connection_settings()
        if not connection:
            return self.env['qbo.connection']._qbo_notification(
                _("QuickBooks Online"), _("Enter the connection settings first."), 'warning')
        return getattr(connection, method)()

    def action_qbo_connect(self):
        return self._qbo_connection_action('action_qbo_connect')

    def action_qbo_disconnect(self):
        return self._qbo_connection_action('action_qbo_disconnect')

    def action_qbo_test(self):
        return self._qbo_connection_action('action_qbo_test')

    def action_qbo_import_references(self):
        return self._qbo_connection_action('action_qbo_import_references')

    def action_qbo_confirm_realm_change(self):
        return self._qbo_connection_action('action_qbo_confirm_realm_change')

    def action_qbo_cancel_realm_change(self):
        return self._qbo_connection_action('action_qbo_cancel_realm_change')

    def action_qbo_open_connection(self):
        connection = self._qbo_save_connection_settings()
        return {'type': 'ir.actions.act_window', 'res_model': 'qbo.connection', 'res_id': connection.id,
                'view_mode': 'form'}
