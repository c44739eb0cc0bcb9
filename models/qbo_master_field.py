import logging

from odoo import _, api, fields, models

from .. import const
from . import qbo_compat
from .qbo_change_feed import qbo_parse_time

_logger = logging.getLogger(__name__)

# What each side may own, per QuickBooks entity (the keys of FIELD_KEYS).
MASTER_FIELDS = {
    'Customer': ('name', 'email', 'phone', 'address', 'terms', 'active'),
    'Vendor': ('name', 'email', 'phone', 'address', 'terms', 'active'),
    'Item': ('name', 'description', 'price', 'active'),
}
FIELD_KEYS = [('name', 'Name'), ('email', 'E-mail'), ('phone', 'Phone'), ('address', 'Billing address'),
              ('terms', 'Payment terms'), ('active', 'Active'), ('description', 'Description'),
              ('price', 'Sales price')]
# The Odoo fields of a key (partner fields for customers and vendors, product fields for items).
ODOO_FIELDS = {
    ('Customer', 'terms'): {'property_payment_term_id'},
    ('Vendor', 'terms'): {'property_supplier_payment_term_id'},
    'name': {'name'}, 'email': {'email'}, 'phone': {'phone'}, 'active': {'active'},
    'address': {'street', 'street2', 'city', 'zip', 'state_id', 'country_id'},
    'description': {'description_sale'}, 'price': {'list_price', 'lst_price'},
}
# The QuickBooks fields of a key in a Customer/Vendor update body (what a sparse update leaves out when
# QuickBooks owns the key).
QBO_KEYS = {
    'name': ('DisplayName', 'CompanyName', 'GivenName', 'FamilyName', 'MiddleName'),
    'email': ('PrimaryEmailAddr',), 'phone': ('PrimaryPhone',), 'address': ('BillAddr', 'ShipAddr'),
    'terms': ('SalesTermRef', 'TermRef'), 'active': ('Active',),
}


def odoo_fields(entity, key):
    """The Odoo fields that hold `key` of a QuickBooks `entity`."""
    return ODOO_FIELDS.get((entity, key)) or ODOO_FIELDS.get(key, set())


class QboMasterField(models.Model):
    """Who owns a field of the master data (customers, vendors, items): Odoo, QuickBooks, or the most recent edit.

    One row per connection, entity and field; a field without a row belongs to Odoo. Changes of
    QuickBooks' customers, vendors and items come with the change feed (CDC, woken by webhooks):
    the fields QuickBooks owns, or that it edited last under "most recent wins" (QuickBooks'
    MetaData.LastUpdatedTime against the Odoo record's write_date), are written on the linked
    partner or product with the `qbo_inbound_master` context, which queues no export. An Odoo edit
    queues an update only when it touches a field Odoo owns (or "most recent"), and that sparse
    update leaves out the fields QuickBooks owns. An object whose SyncToken is the one we hold is
    the echo of our own write (or was applied already): it changes nothing and sends nothing.
    """
    _name = 'qbo.master.field'
    _description = 'QuickBooks Online master data field owner'
    _order = 'entity, id'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True)
    entity = fields.Selection([('Customer', 'Customer'), ('Vendor', 'Vendor'), ('Item', 'Item')], required=True,
                              readonly=True)
    field_key = fields.Selection(FIELD_KEYS, 'Field', required=True, readonly=True)
    owner = fields.Selection(
        [('odoo', 'Odoo'), ('qbo', 'QuickBooks'), ('recent', 'Most recent edit wins')], required=True,
        default='odoo',
        help="Odoo: Odoo edits go to QuickBooks, QuickBooks edits are not applied. QuickBooks: QuickBooks edits "
             "come to Odoo, Odoo edits are not sent. Most recent: both ways, the later edit wins.")

    _master_field_uniq = qbo_compat.Constraint('unique(connection_id, entity, field_key)',
                                               'One owner per field.')

    # ------------------------------------------------------------------ settings

    @api.model
    def _qbo_ensure_rows(self, connection):
        """Create the missing rows of `connection` (owner Odoo), so that the Settings list shows every field."""
        existing = {(row.entity, row.field_key) for row in self.sudo().search([('connection_id', '=', connection.id)])}
        self.sudo().create([{'connection_id': connection.id, 'entity': entity, 'field_key': key}
                            for entity, keys in MASTER_FIELDS.items() for key in keys
                            if (entity, key) not in existing])

    @api.model
    def _qbo_owners(self, connection, entity):
        """{field key: owner} of `entity` on `connection` ('odoo' for keys without a row)."""
        owners = dict.fromkeys(MASTER_FIELDS[entity], 'odoo')
        for row in self.sudo().search([('connection_id', '=', connection.id), ('entity', '=', entity)]):
            owners[row.field_key] = row.owner
        return owners

    @api.model
    def _qbo_qbo_owned_fields(self, connection, entity):
        """The Odoo fields QuickBooks owns (alone): editing only these in Odoo sends nothing."""
        owners = self._qbo_owners(connection, entity)
        return set().union(*(odoo_fields(entity, key) for key, owner in owners.items() if owner == 'qbo'))

    @api.model
    def _qbo_strip_update(self, binding, body):
        """A Customer/Vendor sparse update body without the fields QuickBooks owns."""
        owners = self._qbo_owners(binding.connection_id, binding.entity)
        for key, owner in owners.items():
            if owner == 'qbo':
                for name in QBO_KEYS.get(key, ()):
                    body.pop(name, None)
        return body

    # ------------------------------------------------------------------ inbound

    @api.model
    def _qbo_apply_master(self, connection, entity, obj):
        """A Customer, Vendor or Item changed (or was deleted) in QuickBooks: update what is linked to it."""
        if entity == 'Item':
            return self._qbo_apply_item(connection, obj)
        binding = self.env['qbo.binding'].sudo().search([
            ('connection_id', '=', connection.id), ('entity', '=', entity), ('qbo_id', '=', str(obj.get('Id')))],
            limit=1)
        partner = binding._qbo_record() if binding else None
        if not partner:
            return None
        deleted = obj.get('status') == 'Deleted'
        token = int(obj.get('SyncToken') or 0)
        if not deleted and token <= int(binding.qbo_sync_token or -1):
            return None  # the echo of our own write, or a version already applied
        wins = self._qbo_winner(connection, entity, obj, partner)
        vals = {} if deleted else self._qbo_partner_vals(connection, entity, obj, partner, wins)
        changed = sorted(vals)
        active = False if deleted else obj.get('Active', True)
        notes = []
        if not active and partner.active:
            if wins('active'):
                vals['active'] = False
                notes.append(_("Made inactive in QuickBooks (%(entity)s Id %(id)s): archived in Odoo.",
                               entity=entity, id=obj.get('Id')))
            else:
                notes.append(_("Made inactive in QuickBooks (%(entity)s Id %(id)s); still active in Odoo, which owns "
                               "'Active' (Settings > QuickBooks > Master data): the next update sends it active "
                               "again.", entity=entity, id=obj.get('Id')))
        elif active and not partner.active and wins('active'):
            vals['active'] = True
            notes.append(_("Made active again in QuickBooks (%(entity)s Id %(id)s): restored in Odoo.",
                           entity=entity, id=obj.get('Id')))
        if vals:
            partner.with_company(connection.company_id).with_context(qbo_inbound_master=True).sudo().write(vals)
        if changed:
            labels = dict(self._fields['field_key']._description_selection(self.env))
            keys = [key for key in MASTER_FIELDS[entity] if odoo_fields(entity, key) & set(changed)]
            notes.append(_("Updated from QuickBooks (%(entity)s Id %(id)s): %(fields)s.", entity=entity,
                           id=obj.get('Id'), fields=', '.join(labels[key] for key in keys)))
        for note in notes:
            partner._qbo_message(note)
        if not deleted:
            binding_vals = {'qbo_sync_token': obj.get('SyncToken')}
            if obj.get('DisplayName') and wins('name'):
                # The name Odoo keeps sending stays Odoo's when Odoo owns it (see the exporters' payloads).
                binding_vals['qbo_sent_name'] = obj['DisplayName']
            binding.write(binding_vals)
        return partner

    @api.model
    def _qbo_winner(self, connection, entity, obj, record, edited=None):
        """A function key -> True when QuickBooks' value of that key is to be applied on `record`.

        :param edited: when the record was last edited in Odoo (default: its `write_date`)
        """
        owners = self._qbo_owners(connection, entity)
        updated = qbo_parse_time((obj.get('MetaData') or {}).get('LastUpdatedTime'))
        edited = edited or record.write_date

        def wins(key):
            owner = owners.get(key, 'odoo')
            return owner == 'qbo' or bool(owner == 'recent' and updated and edited and updated > edited)
        return wins

    @api.model
    def _qbo_partner_vals(self, connection, entity, obj, partner, wins):
        """The partner values that QuickBooks' `obj` changes, for the keys it wins (`active` apart)."""
        vals = {}
        if wins('name') and obj.get('DisplayName'):
            exporter = partner._qbo_exporter() if entity == 'Customer' else self.env['qbo.exporter.vendor']
            name = obj['DisplayName']
            known = {exporter._qbo_display_name(partner, connection),
                     exporter._qbo_display_name(partner, connection, suffix=True)}
            if name not in known:
                suffix = connection.vendor_name_suffix or const.VENDOR_NAME_SUFFIX_DEFAULT
                if entity == 'Vendor' and name.endswith(suffix) and len(name) > len(suffix):
                    name = name[:-len(suffix)]
                if name != partner.name:
                    vals['name'] = name
        if wins('email'):
            email = (obj.get('PrimaryEmailAddr') or {}).get('Address') or False
            if email != (partner.email or False):
                vals['email'] = email
        if wins('phone'):
            phone = (obj.get('PrimaryPhone') or {}).get('FreeFormNumber') or False
            if phone != (partner.phone or False):
                vals['phone'] = phone
        if wins('address'):
            vals.update(self._qbo_address_vals(obj.get('BillAddr') or {}, partner))
        if wins('terms'):
            field = 'property_payment_term_id' if entity == 'Customer' else 'property_supplier_payment_term_id'
            term_id = ((obj.get('SalesTermRef') if entity == 'Customer' else obj.get('TermRef')) or {}).get('value')
            term = self.env['account.payment.term']
            if term_id:
                term = self.env['qbo.mapping'].sudo().search([
                    ('connection_id', '=', connection.id), ('mapping_type', '=', 'term'),
                    ('qbo_ref_id.qbo_id', '=', str(term_id))], limit=1).term_id
            # A QuickBooks term mapped to no Odoo term is left alone (nothing to write it as).
            if (term or not term_id) and partner.with_company(connection.company_id)[field] != term:
                vals[field] = term.id
        return vals

    @api.model
    def _qbo_address_vals(self, address, partner):
        """Partner address values of a QuickBooks BillAddr (what differs from the partner's).

        The country is matched by ISO code or English name (what the connector itself sends); a country
        that matches neither leaves the partner's country (and state) as they are rather than guessed.
        """
        country = self.env['res.country']
        if address.get('Country'):
            text = address['Country'].strip()
            country = country.search([('code', '=ilike', text)], limit=1) or country.with_context(
                lang='en_US').search([('name', '=ilike', text)], limit=1)
        state = self.env['res.country.state']
        if address.get('CountrySubDivisionCode'):
            state = state.search([('code', '=ilike', address['CountrySubDivisionCode']),
                                  ('country_id', '=', (country or partner.country_id).id)], limit=1)
        new = {'street': address.get('Line1') or False, 'street2': address.get('Line2') or False,
               'city': address.get('City') or False, 'zip': address.get('PostalCode') or False,
               'country_id': country.id or False, 'state_id': state.id or False}
        current = {'street': partner.street or False, 'street2': partner.street2 or False,
                   'city': partner.city or False, 'zip': partner.zip or False,
                   'country_id': partner.country_id.id or False, 'state_id': partner.state_id.id or False}
        if address.get('Country') and not country:
            new.update(country_id=current['country_id'], state_id=current['state_id'])  # unknown: kept, not cleared
        return {name: value for name, value in new.items() if value != current[name]}

    @api.model
    def _qbo_apply_item(self, connection, obj):
        """An Item changed in QuickBooks: its reference row follows; the mapped products get the fields QuickBooks
        owns. A deleted item (Intuit documents deletion for items) is inactive for the connector."""
        Ref = self.env['qbo.ref'].sudo().with_context(active_test=False)
        ref = Ref.search([('connection_id', '=', connection.id), ('entity', '=', 'Item'),
                          ('qbo_id', '=', str(obj.get('Id')))], limit=1)
        if not ref:
            return None
        deleted = obj.get('status') == 'Deleted'
        held = int((ref.data or {}).get('SyncToken') or -1)
        if not deleted and int(obj.get('SyncToken') or 0) <= held:
            return None  # our own write's echo, or already applied
        if deleted:
            ref.active = False
        else:
            ref.write(self.env['qbo.connection']._qbo_ref_vals('Item', obj))
        products = self.env['qbo.mapping'].sudo().search([
            ('connection_id', '=', connection.id), ('mapping_type', '=', 'product'),
            ('qbo_ref_id', '=', ref.id)]).product_id.with_context(active_test=False)
        for product in products:
            # A product's name, description and price are its template's: an edit there is an Odoo edit too.
            edited = max(filter(None, (product.write_date, product.product_tmpl_id.write_date)), default=None)
            wins = self._qbo_winner(connection, 'Item', obj, product, edited=edited)
            vals = {}
            if not deleted:
                if wins('name') and obj.get('Name') and obj['Name'] != product.name:
                    vals['name'] = obj['Name']
                if wins('description') and (obj.get('Description') or False) != (product.description_sale or False):
                    vals['description_sale'] = obj.get('Description') or False
                if wins('price') and 'UnitPrice' in obj and float(obj['UnitPrice'] or 0.0) != product.lst_price:
                    vals['list_price'] = float(obj['UnitPrice'] or 0.0)
            notes = []
            if vals:
                labels = dict(self._fields['field_key']._description_selection(self.env))
                keys = [key for key in MASTER_FIELDS['Item'] if odoo_fields('Item', key) & set(vals)]
                notes.append(_("Updated from QuickBooks (Item Id %(id)s): %(fields)s.", id=obj.get('Id'),
                               fields=', '.join(labels[key] for key in keys)))
            active = False if deleted else obj.get('Active', True)
            if not active and product.active and wins('active'):
                vals['active'] = False
                notes.append(_("Deleted in QuickBooks (Item Id %s): archived in Odoo.", obj.get('Id')) if deleted
                             else _("Made inactive in QuickBooks (Item Id %s): archived in Odoo.", obj.get('Id')))
            elif active and not product.active and wins('active'):
                vals['active'] = True
                notes.append(_("Made active again in QuickBooks (Item Id %s): restored in Odoo.", obj.get('Id')))
            if vals:
                product.with_context(qbo_inbound_master=True).sudo().write(vals)
            for note in notes:
                product.product_tmpl_id.sudo().message_post(body=note, message_type='comment',
                                                            subtype_xmlid='mail.mt_note')
        return products

    # ------------------------------------------------------------------ merges made in QuickBooks

    @api.model
    def _qbo_merge_item(self, connection, client, event):
        """Items merged in QuickBooks: the products mapped to the merged-away item are mapped to the survivor."""
        Ref = self.env['qbo.ref'].sudo().with_context(active_test=False)
        merged = Ref.search([('connection_id', '=', connection.id), ('entity', '=', 'Item'),
                             ('qbo_id', '=', event.merged_entity_id)], limit=1)
        mappings = self.env['qbo.mapping'].sudo().search([
            ('connection_id', '=', connection.id), ('mapping_type', '=', 'product'), ('qbo_ref_id', '=', merged.id)]
        ) if merged else self.env['qbo.mapping']
        if not mappings:
            return
        item = client.read('Item', event.entity_id)
        survivor = Ref.search([('connection_id', '=', connection.id), ('entity', '=', 'Item'),
                               ('qbo_id', '=', str(item['Id']))], limit=1)
        vals = self.env['qbo.connection']._qbo_ref_vals('Item', item)
        if survivor:
            survivor.write(vals)
        else:
            survivor = Ref.create(dict(vals, connection_id=connection.id, entity='Item', qbo_id=str(item['Id'])))
        merged.active = False
        for mapping in mappings:
            mapping.qbo_ref_id = survivor
            mapping.product_id.product_tmpl_id.sudo().message_post(
                body=_("Item merged in QuickBooks into %(name)s (Id %(id)s, was Id %(old)s): this product is now "
                       "mapped to it.", name=item.get('Name'), id=item['Id'], old=event.merged_entity_id),
                message_type='comment', subtype_xmlid='mail.mt_note')
