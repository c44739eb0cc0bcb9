import logging
import re

from odoo import _, api, models

from .. import const
from ..tools import QboValidationError
from ..tools.qbo_client import qbo_quote
from .qbo_mapper import qbo_clean_name

_logger = logging.getLogger(__name__)

_EXISTING_ID = re.compile(r'Id=(\d+)')


class ResPartner(models.Model):
    """Partners export as QuickBooks Customers (commercial partners only).

    A company's contacts are not separate QuickBooks customers (nor sub-customers): their
    invoice/delivery addresses become the customer's BillAddr/ShipAddr. See README.rst.
    """
    _name = 'res.partner'
    _inherit = ['res.partner', 'qbo.sync.mixin']

    def _qbo_entity(self):
        return 'Customer'

    @api.model
    def _qbo_synced_fields(self):
        return {'name', 'email', 'phone', 'mobile', 'website', 'street', 'street2', 'city', 'zip', 'state_id',
                'country_id', 'comment', 'vat', 'property_payment_term_id', 'active', 'is_company', 'parent_id'}

    def write(self, vals):
        res = super().write(vals)
        # Editing a contact's address changes its company's BillAddr/ShipAddr.
        if self._qbo_synced_fields() & set(vals):
            parents = (self.commercial_partner_id - self)
            parents.sudo().qbo_binding_ids.filtered(lambda b: b.state in ('sent', 'error'))._qbo_mark_to_send()
        return res

    def _qbo_records_to_send(self):
        return self.commercial_partner_id

    def _qbo_company(self):
        # A partner (possibly shared by companies) is exported through the current company's connection.
        self.ensure_one()
        return self.env.company

    # ------------------------------------------------------------------ export

    def _qbo_display_name(self, binding, suffix=False):
        """DisplayName: the cleaned name, plus a visible suffix after a name clash."""
        self.ensure_one()
        base = qbo_clean_name(self.name or self.display_name, const.DISPLAY_NAME_MAX_LENGTH)
        if not suffix:
            return base
        tag = f" ({self.ref or self.id})"
        return qbo_clean_name(base[:const.DISPLAY_NAME_MAX_LENGTH - len(tag)] + tag, const.DISPLAY_NAME_MAX_LENGTH)

    def _qbo_export(self, binding, client):
        """Create or update the QuickBooks customer of this partner; never create a second one."""
        self.ensure_one()
        mapper = self.env['qbo.mapper']
        connection = binding.connection_id
        display_name = binding.qbo_sent_name or self._qbo_display_name(binding)
        sent_base = (binding.qbo_sent_name or '').rstrip(')').rsplit(' (', 1)[0]
        if binding.qbo_sent_name and sent_base != self._qbo_display_name(binding):
            display_name = self._qbo_display_name(binding)  # renamed in Odoo
        payload = mapper._qbo_prepare_customer_vals(self, connection, display_name,
                                                    currency=self.env.context.get('qbo_currency'))
        res_ref = f"{self._name},{self.id}"
        if binding.qbo_id:
            customer = self._qbo_update_customer(binding, client, payload, res_ref)
        else:
            customer = self._qbo_create_customer(binding, client, payload, res_ref)
        binding.write({'qbo_id': customer['Id'], 'qbo_sync_token': customer['SyncToken'],
                       'qbo_sent_name': customer.get('DisplayName')})

    def _qbo_update_customer(self, binding, client, payload, res_ref):
        """Sparse update with the current SyncToken; on a stale token (5010) re-read and retry once."""
        body = dict(payload, Id=binding.qbo_id, SyncToken=binding.qbo_sync_token, sparse=True)
        body.pop('CurrencyRef', None)  # read-only after creation
        try:
            return client.update('Customer', body, binding._qbo_request_id('update', body), res_ref=res_ref)
        except QboValidationError as exc:
            if not exc.is_stale_object:
                raise
        current = client.read('Customer', binding.qbo_id, res_ref=res_ref)
        body['SyncToken'] = current['SyncToken']
        return client.update('Customer', body, binding._qbo_request_id('update', body), res_ref=res_ref)

    def _qbo_find_existing_customer(self, client, display_name, res_ref):
        rows = client.query(f"SELECT * FROM Customer WHERE DisplayName = {qbo_quote(display_name)} "
                            f"AND Active IN (true, false)", res_ref=res_ref).get('Customer', [])
        return rows[0] if rows else None

    def _qbo_is_same_party(self, customer):
        """The QuickBooks customer of the same name is this partner: same email, or same VAT number
        *and* same billing postal code.

        A VAT number never decides alone: QuickBooks masks `PrimaryTaxIdentifier` in responses
        (only its last five characters are shown) and VAT groups share one number.
        """
        email = ((customer.get('PrimaryEmailAddr') or {}).get('Address') or '').strip().lower()
        if self.email and email and email == self.email.strip().lower():
            return True
        masked = (customer.get('PrimaryTaxIdentifier') or '').replace(' ', '')
        vat = (self.vat or '').replace(' ', '')
        postal = ((customer.get('BillAddr') or {}).get('PostalCode') or '').replace(' ', '').lower()
        return bool(vat and masked and masked[-5:] == vat[-5:]
                    and self.zip and postal == self.zip.replace(' ', '').lower())

    def _qbo_create_customer(self, binding, client, payload, res_ref):
        """Create the customer. A duplicate name links to the same party or gets a visible suffix."""
        if binding.outcome_unknown:
            # A previous create may have reached QuickBooks: look before creating again.
            existing = self._qbo_find_existing_customer(client, payload['DisplayName'], res_ref)
            if existing and self._qbo_is_same_party(existing):
                return self._qbo_link_and_update(binding, client, existing, payload, res_ref)
        try:
            return client.create('Customer', payload, binding._qbo_request_id('create', payload), res_ref=res_ref)
        except QboValidationError as exc:
            if exc.code != const.FAULT_DUPLICATE_NAME:
                raise
            clash = _EXISTING_ID.search(exc.detail or '')
        existing = None
        if clash:
            try:
                existing = client.read('Customer', clash.group(1), res_ref=res_ref)
            except QboValidationError:
                existing = None  # the name belongs to a vendor or an employee
        if existing and self._qbo_is_same_party(existing):
            return self._qbo_link_and_update(binding, client, existing, payload, res_ref)
        payload = dict(payload, DisplayName=self._qbo_display_name(binding, suffix=True))
        _logger.info("QuickBooks name clash for partner %s: sending as %r", self.id, payload['DisplayName'])
        return client.create('Customer', payload, binding._qbo_request_id('create', payload), res_ref=res_ref)

    def _qbo_link_and_update(self, binding, client, existing, payload, res_ref):
        binding.write({'qbo_id': existing['Id'], 'qbo_sync_token': existing['SyncToken']})
        self._qbo_message(_("Linked to the existing QuickBooks customer %(name)s (Id %(id)s).",
                            name=existing.get('DisplayName'), id=existing['Id']))
        return self._qbo_update_customer(binding, client, dict(payload, DisplayName=existing['DisplayName']), res_ref)

    def _qbo_message(self, body):
        self.sudo().message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_note')

    def _qbo_after_process(self, binding, outcome):
        if outcome == 'error':
            self._qbo_message(_("Not sent to QuickBooks: %s", binding.error_message))
