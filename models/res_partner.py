from odoo import _, api, fields, models

from .. import const


class ResPartner(models.Model):
    """Partners export as QuickBooks Customers (commercial partners only), and as Vendors when they are on
    vendor bills (a second link; see qbo.exporter.vendor).

    A company's contacts are not separate QuickBooks customers (nor sub-customers): their
    invoice/delivery addresses become the customer's BillAddr/ShipAddr. See README.rst.
    """
    _name = 'res.partner'
    _inherit = ['res.partner', 'qbo.sync.mixin']

    qbo_vendor_1099 = fields.Boolean(
        'Track payments for 1099', groups='account.group_account_invoice',
        help="US QuickBooks companies: the vendor is a 1099 contractor (QuickBooks' 'Track payments for 1099').")

    qbo_vendor_state = fields.Selection([('not_sent', 'Not sent')] + const.SYNC_STATES, string='QuickBooks vendor',
                                        compute='_compute_qbo_vendor', groups='account.group_account_invoice')
    qbo_vendor_qbo_id = fields.Char('QuickBooks vendor Id', compute='_compute_qbo_vendor',
                                    groups='account.group_account_invoice')
    qbo_vendor_name = fields.Char('Vendor name in QuickBooks', compute='_compute_qbo_vendor',
                                  groups='account.group_account_invoice')
    qbo_vendor_error = fields.Text('QuickBooks vendor error', compute='_compute_qbo_vendor',
                                   groups='account.group_account_invoice')

    @api.depends('qbo_binding_ids.state', 'qbo_binding_ids.qbo_id', 'qbo_binding_ids.qbo_sent_name',
                 'qbo_binding_ids.error_message')
    @api.depends_context('company')
    def _compute_qbo_vendor(self):
        """The partner's Vendor link (beside its Customer link, shown by the mixin's fields)."""
        connections = self._qbo_connections_by_company()
        for partner in self:
            connection = connections.get(partner._qbo_company().id)
            binding = partner._qbo_binding(connection, 'Vendor') if partner.id and connection else False
            partner.qbo_vendor_state = binding.state if binding else 'not_sent'
            partner.qbo_vendor_qbo_id = binding.qbo_id if binding else False
            partner.qbo_vendor_name = binding.qbo_sent_name if binding else False
            partner.qbo_vendor_error = binding.error_message if binding else False

    def _qbo_entity(self):
        """What 'Send to QuickBooks' makes of the contact: a Vendor when it is only a supplier (on vendor
        bills, never on customer invoices), else a Customer. Documents send the link they need whatever
        this says (an invoice its Customer, a bill its Vendor)."""
        return 'Vendor' if self.supplier_rank and not self.customer_rank else 'Customer'

    @api.model
    def _qbo_synced_fields(self):
        return {'name', 'email', 'phone', 'mobile', 'website', 'street', 'street2', 'city', 'zip', 'state_id',
                'country_id', 'comment', 'vat', 'property_payment_term_id', 'active', 'is_company', 'parent_id',
                'ref', 'property_supplier_payment_term_id', 'qbo_vendor_1099'}

    def write(self, vals):
        res = super().write(vals)
        # Editing a contact's address changes its company's BillAddr/ShipAddr.
        if self._qbo_synced_fields() & set(vals):
            parents = (self.commercial_partner_id - self)
            bindings = parents.sudo().qbo_binding_ids.filtered(lambda b: b.state in ('sent', 'error'))
            self._qbo_bindings_changed(bindings, vals)._qbo_mark_to_send()
        return res

    def _qbo_bindings_changed(self, bindings, vals):
        """Only the links for which the edit touches a field Odoo owns (or the most recent edit wins): what
        QuickBooks owns alone is not sent, and what came from QuickBooks (`qbo_inbound_master`) is not sent back."""
        if self.env.context.get('qbo_inbound_master'):
            return bindings.browse()
        Owner = self.env['qbo.master.field']
        changed = self._qbo_synced_fields() & set(vals)
        return bindings.filtered(lambda b: b.entity not in ('Customer', 'Vendor') or changed - Owner.
                                 _qbo_qbo_owned_fields(b.connection_id, b.entity))

    def _qbo_records_to_send(self):
        return self.commercial_partner_id

    def _qbo_company(self):
        # A partner (possibly shared by companies) is exported through the current company's connection.
        self.ensure_one()
        return self.env.company

    # ------------------------------------------------------------------ export (qbo.exporter.customer sends it)

    def _qbo_exporter(self):
        return self.env['qbo.exporter.customer']

    def _qbo_message(self, body):
        self.sudo().message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_note')

    def _qbo_after_process(self, binding, outcome):
        if outcome == 'error':
            self._qbo_message(_("Not sent to QuickBooks: %s", binding.error_message))
