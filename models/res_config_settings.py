from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import const

# Settings field -> qbo.connection field, loaded by get_values() and saved by set_values().
# Plain (non-computed) fields: a computed field without an inverse silently drops what the admin typed.
CONNECTION_FIELDS = {
    'qbo_environment': 'environment',
    'qbo_custom_base_url': 'custom_base_url',
    'qbo_auto_send': 'auto_send',
    'qbo_export_interval': 'export_interval',
    'qbo_doc_number_prefix': 'doc_number_prefix',
    'qbo_error_emails': 'error_emails',
    'qbo_fallback_item_ref_id': 'fallback_item_ref_id',
    'qbo_income_account_ref_id': 'income_account_ref_id',
    'qbo_create_missing_items': 'create_missing_items',
    'qbo_use_classes': 'use_classes',
    'qbo_allow_class_override': 'allow_class_override',
    'qbo_default_class_ref_id': 'default_class_ref_id',
    'qbo_tax_mismatch_proceed': 'tax_mismatch_proceed',
    'qbo_export_from_date': 'export_from_date',
    'qbo_payment_export': 'payment_export',
    'qbo_payment_journal_id': 'payment_journal_id',
    'qbo_auto_send_bills': 'auto_send_bills',
    'qbo_vendor_name_suffix': 'vendor_name_suffix',
    'qbo_ap_account_ref_id': 'ap_account_ref_id',
    'qbo_send_attachments': 'send_attachments',
}
# Secrets: read and written by administrators only.
SECRET_FIELDS = {
    'qbo_client_id': 'client_id',
    'qbo_client_secret': 'client_secret',
    'qbo_webhook_verifier_token': 'webhook_verifier_token',
}


class ResConfigSettings(models.TransientModel):
    """Settings > Invoicing (Accounting) > QuickBooks Online: a form over the company's qbo.connection.

    The connection fields are ordinary fields of the settings record: `get_values` fills them from
    the company's connection and `set_values` writes them back (creating the connection on the
    first save), like Odoo's own settings backed by a model other than res.company.
    """
    _inherit = 'res.config.settings'

    qbo_connection_id = fields.Many2one('qbo.connection', compute='_compute_qbo_connection')
    qbo_environment = fields.Selection([
        ('production', 'Production'), ('sandbox', 'Intuit Sandbox'), ('custom', 'Custom endpoint'),
    ], string='QuickBooks environment', default='sandbox')
    qbo_custom_base_url = fields.Char('Custom endpoint URL')
    qbo_client_id = fields.Char('Client ID', groups='base.group_system')
    qbo_client_secret = fields.Char('Client Secret', groups='base.group_system')
    qbo_state = fields.Selection(related='qbo_connection_id.state', string='QuickBooks status')
    qbo_company_name = fields.Char(related='qbo_connection_id.qbo_company_name')
    qbo_realm_id = fields.Char(related='qbo_connection_id.realm_id')
    qbo_pending_realm_id = fields.Char(related='qbo_connection_id.pending_realm_id')
    qbo_database_copy = fields.Boolean(related='qbo_connection_id.database_copy')
    qbo_connected_uid = fields.Many2one(related='qbo_connection_id.connected_uid')
    qbo_connected_date = fields.Datetime(related='qbo_connection_id.connected_date')
    qbo_access_token_expiry = fields.Datetime(related='qbo_connection_id.access_token_expiry')
    qbo_refresh_token_expiry = fields.Datetime(related='qbo_connection_id.refresh_token_expiry')
    qbo_hard_expiry_days_left = fields.Integer(related='qbo_connection_id.hard_expiry_days_left')
    qbo_hard_expiry_warning = fields.Boolean(related='qbo_connection_id.hard_expiry_warning')
    qbo_preflight_message = fields.Text(related='qbo_connection_id.preflight_message')
    qbo_last_error = fields.Text(related='qbo_connection_id.last_error')
    qbo_ref_count = fields.Integer(related='qbo_connection_id.ref_count')
    qbo_redirect_uri = fields.Char('Redirect URI', compute='_compute_qbo_connection')
    qbo_tax_match = fields.Selection([('match', 'Match'), ('mismatch', 'Mismatch'), ('na', 'Not applicable')],
                                     compute='_compute_qbo_tax_match')
    qbo_tax_match_odoo = fields.Char(compute='_compute_qbo_tax_match')
    qbo_tax_match_qbo = fields.Char(compute='_compute_qbo_tax_match')
    qbo_tax_match_advice = fields.Char(compute='_compute_qbo_tax_match')
    qbo_auto_send = fields.Boolean('Send posted invoices automatically')
    qbo_export_interval = fields.Integer('Export every (minutes)', default=const.EXPORT_INTERVAL_DEFAULT_MINUTES)
    qbo_doc_number_prefix = fields.Char('Invoice number prefix')
    qbo_error_emails = fields.Char('Email transfer errors to')
    qbo_fallback_item_ref_id = fields.Many2one(
        'qbo.ref', 'Item for unmapped products',
        help="QuickBooks item used for invoice lines whose product is not mapped (nor created).")
    qbo_income_account_ref_id = fields.Many2one(
        'qbo.ref', 'Income account for new items',
        help="Income account of the Service items created for unmapped products: a sales income account, "
             "never a contra-revenue account such as 'Discounts given'.")
    qbo_create_missing_items = fields.Boolean(
        'Create missing items', help="Create a Service item in QuickBooks for products that match no item.")
    qbo_use_classes = fields.Boolean('Use classes')
    qbo_allow_class_override = fields.Boolean(
        'Allow class overrides', help="The class mapped to a line's analytic account wins over the default class.")
    qbo_default_class_ref_id = fields.Many2one('qbo.ref', 'Default class')
    qbo_tax_mismatch_proceed = fields.Boolean(
        'Export despite the default tax mismatch',
        help="While Odoo's default sales tax and QuickBooks' default tax differ, exports are held unless this is set.")
    # Transfer history is purged by one autovacuum for the whole database: a global parameter.
    qbo_log_retention_days = fields.Integer('Keep transfer history (days)', default=30,
                                            config_parameter='quickbooks_online.log_retention_days')

    # --- Metered calls (Intuit's monthly quota of queries and reads) - see models/qbo_rate_limit.py
    qbo_metered_calls = fields.Integer(related='qbo_connection_id.qbo_metered_calls')
    qbo_metered_percent = fields.Float(related='qbo_connection_id.qbo_metered_percent')
    qbo_metered_budget = fields.Integer(
        'Monthly metered-call budget', default=500000, config_parameter='quickbooks_online.metered_budget',
        help="Intuit's monthly quota of metered calls (queries and reads) for your app's plan: 500,000 on the "
             "free tier. Administrators get an activity at 80 %.")
    # --- end of metered calls

    # --- Payables: vendor bills and refunds, their vendors (models/qbo_exporter_bill.py, qbo_exporter_vendor.py)
    qbo_auto_send_bills = fields.Boolean('Send posted vendor bills automatically')
    qbo_vendor_name_suffix = fields.Char(
        'Vendor name suffix', default=const.VENDOR_NAME_SUFFIX_DEFAULT,
        help="QuickBooks names are unique across customers, vendors and employees: a contact that is also a customer "
             "is sent as the vendor '<name><suffix>'.")
    qbo_ap_account_ref_id = fields.Many2one('qbo.ref', 'Default A/P account')
    qbo_send_attachments = fields.Boolean('Attach documents in QuickBooks')

    # --- Auto-send cut-off (parity): documents dated before it are never queued by themselves.
    qbo_export_from_date = fields.Date('Export documents dated from')

    @api.onchange('qbo_auto_send')
    def _onchange_qbo_auto_send(self):
        if self.qbo_auto_send and self.qbo_connection_id and not self.qbo_export_from_date:
            self.qbo_export_from_date = fields.Date.context_today(self)
    # --- end auto-send cut-off

    # --- Payments and webhooks (issue 12): saved through CONNECTION_FIELDS / SECRET_FIELDS like the rest
    qbo_webhook_verifier_token = fields.Char('Webhook verifier token', groups='base.group_system')
    qbo_payment_export = fields.Boolean('Send Odoo payments to QuickBooks')
    qbo_payment_journal_id = fields.Many2one('account.journal', 'Journal for QuickBooks payments',
                                             domain="[('type', 'in', ('bank', 'cash')), "
                                                    "('company_id', '=', company_id)]")
    qbo_webhook_url = fields.Char('Webhook endpoint', compute='_compute_qbo_inbound')
    qbo_reconnect_url = fields.Char('Reconnect URL', compute='_compute_qbo_inbound')

    @api.depends('company_id')
    def _compute_qbo_inbound(self):
        for settings in self:
            connection = self.env['qbo.connection']._qbo_get_for_company(settings.company_id)
            template = connection or self.env['qbo.connection'].new({})
            settings.qbo_webhook_url = template.webhook_url
            settings.qbo_reconnect_url = template.reconnect_url
    # --- end of the payments and webhooks block

    @api.depends('company_id')
    def _compute_qbo_connection(self):
        redirect_uri = self.env['qbo.connection'].new({})._qbo_redirect_uri()
        for settings in self:
            settings.qbo_connection_id = self.env['qbo.connection']._qbo_get_for_company(settings.company_id)
            settings.qbo_redirect_uri = redirect_uri

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

    @api.model
    def get_values(self):
        """Load the company's connection settings, for administrators only.

        `get_values` is callable over RPC by any user: the environment, endpoint, e-mail addresses,
        mappings and journals are the administrators' business (the settings page is theirs).
        """
        res = super().get_values()
        if not self.env.user.has_group('base.group_system'):
            return res
        connection = self.env['qbo.connection']._qbo_get_for_company(self.env.company)
        if not connection:
            return res
        conn = connection.sudo()
        for settings_field, connection_field in self._qbo_connection_fields().items():
            value = conn[connection_field]
            res[settings_field] = value.id if isinstance(value, models.BaseModel) else value
        for settings_field, connection_field in SECRET_FIELDS.items():
            res[settings_field] = conn[connection_field]
        return res

    def set_values(self):
        super().set_values()
        self._qbo_save_connection_settings()

    @api.model
    def _qbo_connection_fields(self):
        """{settings field: qbo.connection field} loaded and saved with the connection (a bridge adds its own)."""
        return dict(CONNECTION_FIELDS)

    def _qbo_connection_vals(self):
        """The connection values typed in these settings (secrets only when the user is an administrator)."""
        self.ensure_one()
        vals = {connection_field: self[settings_field]
                for settings_field, connection_field in self._qbo_connection_fields().items()}
        vals['environment'] = vals['environment'] or 'sandbox'
        if vals['environment'] != 'custom':
            vals['custom_base_url'] = False
        if self.env.user.has_group('base.group_system'):
            vals.update({connection_field: self[settings_field] or False
                         for settings_field, connection_field in SECRET_FIELDS.items()})
        return vals

    def _qbo_save_connection_settings(self):
        """Write the settings to the company's connection, creating it on the first save.

        Only administrators manage the connection: for other users nothing is written (they never
        see these fields) and the existing connection is returned.
        """
        self.ensure_one()
        Connection = self.env['qbo.connection']
        if not self.env.user.has_group('base.group_system'):
            return Connection._qbo_get_for_company(self.company_id)
        vals = self._qbo_connection_vals()
        connection = Connection._qbo_get_for_company(self.company_id)
        if not connection:
            if not any(vals.get(f) for f in ('client_id', 'client_secret', 'custom_base_url', 'auto_send')):
                return connection  # nothing typed yet: no empty connection record
            connection = Connection._qbo_get_for_company(self.company_id, create=True)
        conn = connection.sudo()
        changed = {key: value for key, value in vals.items() if conn[key] != value}
        # Many2one values are compared and written as ids.
        changed = {key: value.id if isinstance(value, models.BaseModel) else value for key, value in changed.items()}
        if changed:
            conn.write(changed)
            if {'client_id', 'client_secret', 'environment', 'custom_base_url'} & set(changed) \
                    and conn.client_id and conn.client_secret:
                conn._qbo_check_credentials()  # new credentials: checked with Intuit now
        return connection

    def _qbo_connection_action(self, method):
        """Save what was typed, then run `method` on the connection (the buttons of the block)."""
        connection = self._qbo_save_connection_settings()
        if not connection:
            raise UserError(_("Enter the Client ID and Client Secret of your Intuit app first, then click %s again.",
                              _("Connect to QuickBooks")))
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

    def action_qbo_open_mappings(self):
        self._qbo_save_connection_settings()
        return self.env['ir.actions.act_window']._for_xml_id('quickbooks_online.qbo_mapping_action')

    def action_qbo_open_master_fields(self):
        """Who owns each field of customers, vendors and items (Odoo by default): one row per field."""
        connection = self._qbo_save_connection_settings()
        if connection:
            self.env['qbo.master.field']._qbo_ensure_rows(connection)
        action = self.env['ir.actions.act_window']._for_xml_id('quickbooks_online.qbo_master_field_action')
        action['domain'] = [('connection_id', '=', connection.id or False)]
        return action
