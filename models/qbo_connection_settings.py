from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import const


class QboConnectionSettings(models.AbstractModel):
    """Export settings that belong to one QuickBooks company, and the words used to point users to screens.

    These used to be global system parameters; a database with two companies connected to two
    QuickBooks companies needs them per connection (number prefix, e-mails, auto-send, interval).
    """
    _name = 'qbo.connection.settings'
    _description = 'QuickBooks Online connection: settings'

    auto_send = fields.Boolean(
        'Send posted invoices automatically',
        help="The scheduler sends this company's posted customer invoices and credit notes to QuickBooks.")
    auto_send_bills = fields.Boolean(
        'Send posted vendor bills automatically',
        help="The scheduler sends this company's posted vendor bills and refunds to QuickBooks (as Bills and "
             "Vendor Credits), with their vendors.")
    vendor_name_suffix = fields.Char(
        'Vendor name suffix', default=const.VENDOR_NAME_SUFFIX_DEFAULT,
        help="QuickBooks names are unique across customers, vendors and employees: a contact that is also a "
             "customer is sent as the vendor '<name><suffix>' (e.g. 'Acme (Vendor)'); a contact that is only a "
             "supplier keeps its name. Used too when another QuickBooks customer, vendor or employee has the name.")
    ap_account_ref_id = fields.Many2one(
        'qbo.ref', 'Default A/P account', domain="[('connection_id', '=', id), ('entity', '=', 'Account')]",
        help="QuickBooks Accounts Payable account of bills whose Odoo payable account is not mapped (an 'Account' "
             "mapping). Proposed by the import (QuickBooks' own A/P account).")
    send_attachments = fields.Boolean(
        'Attach documents in QuickBooks',
        help="Attach each sent invoice's PDF and each sent bill's main attachment (the vendor's scan) to its "
             "QuickBooks document, once (PDF, images, office and text files up to 100 MB).")
    export_interval = fields.Integer(
        'Export every (minutes)', default=const.EXPORT_INTERVAL_DEFAULT_MINUTES,
        help="How often the scheduler looks for posted invoices to send (at least every %s minutes)."
        % const.EXPORT_INTERVAL_MIN_MINUTES)
    next_auto_export = fields.Datetime(
        'Next automatic export', readonly=True, copy=False,
        help="When the scheduler next queues this company's posted invoices (auto-send).")
    doc_number_prefix = fields.Char(
        'Invoice number prefix',
        help="Put before the Odoo number in QuickBooks' DocNumber (when QuickBooks uses custom transaction "
             "numbers). DocNumber holds at most 21 characters.")
    error_emails = fields.Char(
        'Email transfer errors to',
        help="Comma-separated addresses that receive one digest per scheduled run listing failed transfers.")

    @api.constrains('export_interval')
    def _check_export_interval(self):
        for connection in self:
            if connection.export_interval < const.EXPORT_INTERVAL_MIN_MINUTES:
                raise ValidationError(_(
                    "QuickBooks exports run at most every %(min)s minutes; %(value)s minutes is too often.",
                    min=const.EXPORT_INTERVAL_MIN_MINUTES, value=connection.export_interval))

    def write(self, vals):
        res = super().write(vals)
        if {'auto_send', 'auto_send_bills', 'export_interval'} & set(vals):
            # A new interval takes effect from now, not after the previous (maybe long) one.
            for connection in self.filtered(lambda c: c.auto_send or c.auto_send_bills):
                connection.next_auto_export = fields.Datetime.now() + timedelta(minutes=connection.export_interval)
            self._qbo_schedule_scheduler()
        return res

    def _qbo_schedule_scheduler(self):
        """Ask the export scheduled action to run at the earliest next automatic export.

        Uses a cron trigger, never a write on the cron record: writing an ir.cron that is running
        fails ("This cron task is currently being executed"), which made saving the settings fail.
        """
        cron = self.env.ref('quickbooks_online.ir_cron_qbo_export', raise_if_not_found=False)
        due = self.sudo().search(['|', ('auto_send', '=', True), ('auto_send_bills', '=', True),
                                  ('state', '=', 'connected'),
                                  ('next_auto_export', '!=', False)]).mapped('next_auto_export')
        if cron and due:
            cron.sudo()._trigger(at=min(due))

    def _qbo_take_due_auto_send(self):
        """Connections whose automatic export is due now; their next export is planned at once.

        :return: qbo.connection records (sudo) to queue posted invoices for
        """
        now = fields.Datetime.now()
        due = self.sudo().search(['|', ('auto_send', '=', True), ('auto_send_bills', '=', True),
                                  ('state', '=', 'connected'),
                                  '|', ('next_auto_export', '=', False), ('next_auto_export', '<=', now)])
        for connection in due:
            connection.next_auto_export = now + timedelta(minutes=connection.export_interval)
        if due:
            due._qbo_schedule_scheduler()
        return due

    # ------------------------------------------------------------------ where things are, in the user's words

    @api.model
    def _qbo_app_name(self):
        """The name of the accounting app's menu: 'Invoicing' on Community, 'Accounting' on Enterprise."""
        menu = self.env.ref('account.menu_finance', raise_if_not_found=False)
        return menu.sudo().name if menu else _("Invoicing")

    @api.model
    def _qbo_where(self, place):
        """The menu path of a screen, as the user sees it in this database.

        :param str place: 'settings', 'mappings', 'connection', 'transfers', 'history', 'objects' or
            'default_taxes'
        :rtype: str
        """
        app = self._qbo_app_name()
        paths = {
            'settings': _("Settings > %(app)s > QuickBooks Online", app=app),
            'default_taxes': _("Settings > %(app)s > Taxes > Default Taxes", app=app),
            'mappings': _("%(app)s > Configuration > QuickBooks > Mappings", app=app),
            'connection': _("%(app)s > Configuration > QuickBooks > Connection", app=app),
            'transfers': _("%(app)s > Configuration > QuickBooks > Transfers", app=app),
            'history': _("%(app)s > Configuration > QuickBooks > Transfer history", app=app),
            'objects': _("%(app)s > Configuration > QuickBooks > QuickBooks objects", app=app),
        }
        return paths[place]

    @api.model
    def qbo_connect_feedback(self):
        """How the current company's connection stands, for the notification shown after Intuit's consent.

        :return: dict with title, message and type ('success', 'warning' or 'danger')
        :rtype: dict
        """
        connection = self._qbo_get_for_company(self.env.company)
        if connection.pending_realm_id:
            return {'title': _("Confirm the QuickBooks company"), 'type': 'warning', 'message': _(
                "You authorized another QuickBooks company (realm %s) than the one your records are linked to. "
                "Choose below whether to switch (links are reset) or keep the current company.",
                connection.pending_realm_id)}
        if connection.state != 'connected':
            return {'title': _("QuickBooks Online is not connected"), 'type': 'danger',
                    'message': connection.last_error or _("Click Connect to QuickBooks to try again.")}
        lines = [_("Connected to %(company)s (realm %(realm)s) as %(user)s.",
                   company=connection.qbo_company_name or _("your QuickBooks company"),
                   realm=connection.realm_id, user=connection.connected_uid.name)]
        # The consent page lists every company of the Intuit user: say when this one may not be the intended one.
        warnings, notes = connection._qbo_company_check()
        lines += warnings + notes
        if connection.reference_import_pending:
            lines.append(_("Reading the QuickBooks company's settings and importing its reference data (accounts, "
                           "items, tax codes, terms) now; the mappings can be checked in a minute."))
        elif connection.last_error:
            lines.append(connection.last_error)
        elif connection.preflight_message:
            lines.append(_("Exports are blocked: %s", connection.preflight_message))
        else:
            lines.append(_("Reference data imported: %s QuickBooks objects. Check the mappings next.",
                           connection.ref_count))
        kind = 'warning' if warnings or connection.last_error or connection.preflight_message else 'success'
        title = _("QuickBooks Online connected: check the company") if warnings else _("QuickBooks Online connected")
        return {'title': title, 'type': kind, 'message': '\n'.join(lines)}

    @api.model
    def action_qbo_open_current(self):
        """Menu 'Connection': the current company's connection form (created on demand for admins)."""
        connection = self._qbo_get_for_company(self.env.company, create=self.env.user.has_group('base.group_system'))
        action = {'type': 'ir.actions.act_window', 'res_model': 'qbo.connection', 'view_mode': 'form',
                  'name': _("QuickBooks connection")}
        if connection:
            action['res_id'] = connection.id
        return action
