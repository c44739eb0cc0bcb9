from datetime import timedelta

from odoo import api, models

from .. import const
from ..tools.qbo_client import qbo_quote
from .qbo_binding import LOOKUP_MARGIN_MINUTES
from .qbo_change_feed import qbo_parse_time
from .qbo_mapper import qbo_clean_name


class QboExporterVendor(models.AbstractModel):
    """Sends a commercial partner used on vendor bills to QuickBooks as a Vendor, exactly once.

    The customer exporter's machinery (create once, 6240 handling, sparse updates, an archived vendor
    with a balance kept active) on another entity, with what differs for vendors:

    * QuickBooks names are unique across customers, vendors and employees: a partner that is also a
      customer gets the vendor name ``<name><suffix>`` (the connection's "Vendor name suffix", default
      " (Vendor)"), so that both exist once; a partner that is only a supplier keeps its plain name.
      A 6240 answer naming someone else gets the suffix too.
    * QuickBooks vendors have no notes field to carry our marker: after an unknown outcome our vendor
      is the one under the name we sent that was created since the intent, or that carries the
      partner's reference (AcctNum), e-mail or VAT number; a 6240 on our own vendor links it the same way.
    """
    _name = 'qbo.exporter.vendor'
    _inherit = 'qbo.exporter.customer'
    _description = 'QuickBooks Online vendor exporter'
    _qbo_entities = ('Vendor',)
    _qbo_export_order = 1
    _qbo_marker_field = None  # no field for it on a Vendor: looked up one by one (see `_qbo_find_ours`)
    _qbo_name_list = True
    _qbo_app_pages = {'Vendor': 'vendordetail?nameId='}

    @api.model
    def _qbo_display_name(self, partner, connection, suffix=False):
        """The vendor's DisplayName on `connection`: the cleaned name, with the vendor suffix when the partner
        is (or may become) a QuickBooks customer too, or after a clash with someone else's name."""
        base = qbo_clean_name(partner.name or partner.display_name, const.DISPLAY_NAME_MAX_LENGTH)
        is_customer = partner.customer_rank > 0 or bool(connection and partner._qbo_binding(connection, 'Customer'))
        if not (suffix or is_customer):
            return base
        tag = (connection.vendor_name_suffix if connection else None) or const.VENDOR_NAME_SUFFIX_DEFAULT
        return qbo_clean_name(base[:const.DISPLAY_NAME_MAX_LENGTH - len(tag)] + tag, const.DISPLAY_NAME_MAX_LENGTH)

    @api.model
    def _qbo_payload(self, binding, partner):
        """The vendor payload; keeps the name QuickBooks knows unless the partner was renamed in Odoo."""
        sent = binding.qbo_sent_name
        if sent and sent.startswith(qbo_clean_name(partner.name or partner.display_name, const.DISPLAY_NAME_MAX_LENGTH)):
            display_name = sent  # as QuickBooks knows it (suffixed or not)
        else:
            display_name = self._qbo_display_name(partner, binding.connection_id)  # new, or renamed in Odoo
        currency_id = self.env.context.get('qbo_currency_id')
        return self.env['qbo.mapper.payables']._qbo_prepare_vendor_vals(
            partner, binding.connection_id, display_name,
            currency=self.env['res.currency'].browse(currency_id) if currency_id else None)

    @api.model
    def _qbo_update_body(self, binding, payload):
        body = dict(payload, Id=binding.qbo_id, SyncToken=binding.qbo_sync_token, sparse=True)
        body.pop('CurrencyRef', None)  # read-only after creation
        return self.env['qbo.master.field']._qbo_strip_update(binding, body)

    @api.model
    def _qbo_is_ours(self, vendor, marker):
        """A vendor holds no marker: ownership is decided by `_qbo_is_same_party` and `_qbo_find_ours`."""
        return False

    @api.model
    def _qbo_is_same_party(self, vendor, partner):
        """This partner's vendor: same account number (the partner's reference), same e-mail, or same
        VAT number and postal code (see the customer exporter)."""
        reference = (partner.ref or '').strip()[:const.VENDOR_ACCT_NUM_MAX_LENGTH]
        if reference and (vendor.get('AcctNum') or '').strip() == reference:
            return True
        return super()._qbo_is_same_party(vendor, partner)

    @api.model
    def _qbo_find_ours(self, binding, partner, client, payload, res_ref):
        """After an unknown outcome: the vendor under the name we sent (plain or suffixed) that was created
        since the intent, or that is the same party; or None. Names are unique in QuickBooks, so a vendor
        of that name created after our request left is the one it created."""
        since = binding.intent_date and binding.intent_date - timedelta(minutes=LOOKUP_MARGIN_MINUTES)
        for name in dict.fromkeys((payload['DisplayName'],
                                    self._qbo_display_name(partner, binding.connection_id, suffix=True))):
            rows = client.query(f"SELECT * FROM Vendor WHERE DisplayName = {qbo_quote(name)} "
                                f"AND Active IN (true, false)", res_ref=res_ref).get('Vendor', [])
            for row in rows:
                created = qbo_parse_time((row.get('MetaData') or {}).get('CreateTime'))
                if (since and created and created >= since) or self._qbo_is_same_party(row, partner):
                    return row
        return None
