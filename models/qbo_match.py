import logging
import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..tools import QboError, qbo_matching
from .qbo_binding import QboBlocked

_logger = logging.getLogger(__name__)

MATCH_STATES = [
    ('linked', 'Linked'),
    ('proposed', 'Proposed'),
    ('ambiguous', 'Ambiguous'),
    ('qbo_only', 'Only in QuickBooks'),
    ('odoo_only', 'Only in Odoo'),
    ('create', 'Create new'),
]
MATCH_REASONS = [
    ('link', 'Already linked'),
    ('marker', 'Our marker'),
    ('email', 'E-mail'),
    ('code', 'Reference (SKU, account number)'),
    ('tax_id', 'Tax id and address'),
    ('name', 'Same name'),
    ('similar', 'Similar name'),
    ('manual', 'Linked by hand'),
]
# The match states that wait for a person: the record is not sent (no second customer or item) until decided.
UNDECIDED_STATES = ('proposed', 'ambiguous')
# Name-list entities the review covers: the Odoo model and how a link is stored ('binding': a qbo.binding
# with the QuickBooks Id and SyncToken, so the exporter updates; 'mapping': a product mapping to the item).
MATCH_ENTITIES = {
    'Customer': {'model': 'res.partner', 'link': 'binding', 'field': 'partner_id'},
    'Vendor': {'model': 'res.partner', 'link': 'binding', 'field': 'partner_id'},
    'Item': {'model': 'product.product', 'link': 'mapping', 'field': 'product_id'},
}
# The three-letter country codes QuickBooks addresses commonly carry (others are looked up by name).
ALPHA3 = {'USA': 'US', 'GBR': 'GB', 'CAN': 'CA', 'AUS': 'AU', 'FRA': 'FR', 'DEU': 'DE', 'IND': 'IN'}
# The fields of a line that describe its QuickBooks object (moved or cleared together).
QBO_SIDE_FIELDS = ('qbo_id', 'qbo_name', 'qbo_email', 'qbo_tax_id', 'qbo_sync_token', 'qbo_currency', 'qbo_active')
_MARKER = re.compile(r'^odoo:(?P<db>[^:]+):(?P<model>[\w.]+):(?P<id>\d+)(?::\d+)?$')


class QboMatch(models.Model):
    """One line of the match review: a QuickBooks object and the Odoo record it is (or may be) the same as.

    Built by `qbo.connection._qbo_match_import` before the first send, so that a company with years of
    data in QuickBooks gets links instead of duplicates. A confident match is linked at once (a
    binding in state sent, or a product mapping); a proposal or an ambiguous match waits for a
    person, and the exporters refuse to create that record meanwhile (see the customer and invoice exporters).
    """
    _name = 'qbo.match'
    _description = 'QuickBooks Online match review line'
    _order = 'entity, state, confidence desc, qbo_name, id'
    _rec_name = 'qbo_name'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True)
    entity = fields.Selection([('Customer', 'Customer'), ('Vendor', 'Vendor'), ('Item', 'Item')],
                              required=True, index=True)
    state = fields.Selection(MATCH_STATES, required=True, index=True)
    reason = fields.Selection(MATCH_REASONS)
    confidence = fields.Integer(aggregator='max', help="How sure the match is (0-100). From 85, a single candidate "
                                                       "is linked without asking.")
    note = fields.Char()
    partner_id = fields.Many2one('res.partner', 'Odoo contact', index=True, ondelete='cascade')
    product_id = fields.Many2one('product.product', 'Odoo product', index=True, ondelete='cascade')
    odoo_name = fields.Char('Odoo record', compute='_compute_odoo_name')
    qbo_pick_id = fields.Many2one(
        'qbo.match', 'Link to', domain="[('connection_id', '=', connection_id), ('entity', '=', entity), "
                                       "('state', '=', 'qbo_only')]",
        help="Link this Odoo record by hand: choose the QuickBooks object, then Confirm.")
    qbo_id = fields.Char('QuickBooks Id', index=True)
    qbo_name = fields.Char('Name in QuickBooks')
    qbo_email = fields.Char('E-mail in QuickBooks')
    qbo_tax_id = fields.Char('Tax id in QuickBooks', help="As QuickBooks shows it: masked but for its last characters.")
    qbo_sync_token = fields.Char()
    qbo_currency = fields.Char('Currency in QuickBooks')
    qbo_active = fields.Boolean('Active in QuickBooks', default=True)

    @api.depends('partner_id', 'product_id')
    def _compute_odoo_name(self):
        for line in self:
            line.odoo_name = (line.partner_id or line.product_id).display_name or False

    def _qbo_odoo_record(self):
        self.ensure_one()
        return self[MATCH_ENTITIES[self.entity]['field']]

    # ------------------------------------------------------------------ the exporters' question

    @api.model
    def _qbo_check_decided(self, connection, entity, record):
        """Refuse to create `record` in QuickBooks while its match waits for a person.

        :raise QboBlocked: the review proposed, or found several candidates for, this record
        """
        field = MATCH_ENTITIES[entity]['field']
        lines = self.sudo().search([('connection_id', '=', connection.id), ('entity', '=', entity),
                                    (field, '=', record.id), ('state', 'in', UNDECIDED_STATES)])
        if not lines:
            return
        candidates = ', '.join(f"{line.qbo_name} (Id {line.qbo_id})" for line in lines)
        raise QboBlocked(_(
            "%(name)s may already exist in QuickBooks as %(candidates)s. Nothing is sent until someone decides in "
            "Accounting > Configuration > QuickBooks > Match review: confirm the right link, or choose "
            "'Create new'.", name=record.display_name, candidates=candidates))

    # ------------------------------------------------------------------ building the review

    @api.model
    def _qbo_build(self, connection, entity, rows):
        """Replace the review of `entity` on `connection` by a match of `rows` (QuickBooks objects) with Odoo.

        Decisions already taken stay: links (bindings, mappings) are pairs given to the matcher, and
        records someone chose to create new are left out of it. Confident single matches are linked.

        :return: {state: count}
        """
        spec = MATCH_ENTITIES[entity]
        field = spec['field']
        by_id = {row['Id']: row for row in rows}
        linked = [(qbo_id, res_id) for qbo_id, res_id in self._qbo_existing_links(connection, entity)
                  if qbo_id in by_id]
        linked_ids = {res_id for _qbo_id, res_id in linked}
        old = self.sudo().search([('connection_id', '=', connection.id), ('entity', '=', entity)])
        # "Create new" decisions stay until the record is linked (created in QuickBooks since).
        kept = old.filtered(lambda line: line.state == 'create' and line[field].id not in linked_ids)
        (old - kept).unlink()
        records = self._qbo_odoo_candidates(connection, entity) - kept[field]
        qbo_parties = [self._qbo_party_of_row(connection, entity, row) for row in rows]
        odoo_parties = [self._qbo_party_of_record(entity, record) for record in records]
        proposals = qbo_matching.match(qbo_parties, odoo_parties, linked)
        vals_list = []
        for proposal in proposals:
            row = by_id.get(proposal.qbo_key) or {}
            vals = dict(self._qbo_row_vals(entity, row), connection_id=connection.id, entity=entity,
                        state=proposal.state, reason=proposal.reason or False, confidence=proposal.confidence,
                        note=proposal.note or False)
            vals[field] = proposal.odoo_key or False
            vals_list.append(vals)
        lines = self.sudo().create(vals_list)
        for line in lines.filtered(lambda line: line.state == 'linked' and line.reason != 'link'):
            try:
                with self.env.cr.savepoint():
                    line._qbo_link()
            except UserError as exc:
                # Linked elsewhere meanwhile, or a write in flight: a person looks at it.
                line.write({'state': 'proposed', 'note': str(exc)[:250]})
        counts = {}
        for line in lines:
            counts[line.state] = counts.get(line.state, 0) + 1
        return counts

    @api.model
    def _qbo_odoo_candidates(self, connection, entity):
        """The Odoo records that may be the same as a QuickBooks object of `entity` (of the connection's company)."""
        company = connection.company_id
        if entity == 'Item':
            return self.env['product.product'].sudo().search([('sale_ok', '=', True),
                                                              ('company_id', 'in', (False, company.id))])
        domain = [('parent_id', '=', False), ('company_id', 'in', (False, company.id)),
                  ('ref_company_ids', '=', False), ('user_ids', '=', False)]
        if entity == 'Vendor':
            domain.append(('supplier_rank', '>', 0))
        return self.env['res.partner'].sudo().search(domain)

    @api.model
    def _qbo_existing_links(self, connection, entity):
        """(QuickBooks Id, Odoo id) pairs linked already: bindings with an Id, or product mappings."""
        if MATCH_ENTITIES[entity]['link'] == 'mapping':
            mappings = self.env['qbo.mapping'].sudo().search([('connection_id', '=', connection.id),
                                                              ('mapping_type', '=', 'product')])
            return [(mapping.qbo_ref_id.qbo_id, mapping.res_id) for mapping in mappings if mapping.qbo_ref_id]
        bindings = self.env['qbo.binding'].sudo().search([
            ('connection_id', '=', connection.id), ('entity', '=', entity),
            ('res_model', '=', MATCH_ENTITIES[entity]['model']), ('qbo_id', '!=', False)])
        return [(binding.qbo_id, binding.res_id) for binding in bindings]

    @api.model
    def _qbo_party_of_row(self, connection, entity, row):
        """The matcher's view of a QuickBooks object (our marker read from Notes, when it is ours)."""
        marker = None
        words = (row.get('Notes') or '').split()
        found = _MARKER.match(words[-1]) if words else None
        if found and found['db'] == self.env['qbo.binding']._qbo_database_uuid() \
                and found['model'] == MATCH_ENTITIES[entity]['model']:
            marker = int(found['id'])
        address = row.get('BillAddr') or {}
        if entity == 'Item':
            return qbo_matching.Party(row['Id'], names=(row.get('Name') or '',),
                                      code=qbo_matching.normalize_code(row.get('Sku')), marker=marker)
        names = (row.get('DisplayName'), row.get('CompanyName'))
        if entity == 'Vendor':
            # A partner that is a customer too is sent as "<name><suffix>" (see qbo.exporter.vendor).
            suffix = connection.vendor_name_suffix or const.VENDOR_NAME_SUFFIX_DEFAULT
            names = tuple(name[:-len(suffix)] if name and name.endswith(suffix) else name for name in names)
        return qbo_matching.Party(
            row['Id'], names=tuple(filter(None, names)),
            code=qbo_matching.normalize_code(row.get('AcctNum')) if entity == 'Vendor' else '',
            emails=frozenset(qbo_matching.normalize_email((row.get('PrimaryEmailAddr') or {}).get('Address'))),
            tax_id=row.get('PrimaryTaxIdentifier') or '',
            postal=qbo_matching.normalize_postal(address.get('PostalCode')),
            country=self._qbo_country_code(address.get('Country')), marker=marker)

    @api.model
    def _qbo_country_code(self, country):
        """ISO code of a QuickBooks address country (a code or a name), '' when unknown."""
        country = (country or '').strip()
        if not country:
            return ''
        if len(country) == 2 and country.isalpha():
            return country.upper()
        if country.upper() in ALPHA3:
            return ALPHA3[country.upper()]
        found = self.env['res.country'].sudo().search([('name', '=ilike', country)], limit=1)
        return found.code or ''

    @api.model
    def _qbo_party_of_record(self, entity, record):
        if entity == 'Item':
            return qbo_matching.Party(record.id, names=(record.name or '',),
                                      code=qbo_matching.normalize_code(record.default_code))
        return qbo_matching.Party(record.id, names=(record.name or '',),
                                  code=qbo_matching.normalize_code(record.ref) if entity == 'Vendor' else '',
                                  emails=frozenset(qbo_matching.normalize_email(record.email)),
                                  tax_id=record.vat or '', postal=qbo_matching.normalize_postal(record.zip),
                                  country=record.country_id.code or '')

    @api.model
    def _qbo_row_vals(self, entity, row):
        if not row:
            return {}
        name = row.get('Name') if entity == 'Item' else row.get('DisplayName')
        return {'qbo_id': row['Id'], 'qbo_name': name, 'qbo_sync_token': row.get('SyncToken'),
                'qbo_email': (row.get('PrimaryEmailAddr') or {}).get('Address') or False,
                'qbo_tax_id': row.get('PrimaryTaxIdentifier') or False,
                'qbo_currency': (row.get('CurrencyRef') or {}).get('value') or False,
                'qbo_active': row.get('Active', True) is not False}

    # ------------------------------------------------------------------ links

    def _qbo_link(self):
        """Make these pairs links: a binding in state sent (Id and SyncToken) or a product mapping.

        The binding goes through the state machine (`_qbo_transition`); a record or a QuickBooks object
        linked elsewhere already, or a write of the record still in flight, is refused with the reason.
        """
        Binding = self.env['qbo.binding'].sudo()
        for line in self:
            record = line._qbo_odoo_record()
            if not record or not line.qbo_id:
                raise UserError(_("Choose both the Odoo record and the QuickBooks object to link."))
            connection = line.connection_id
            if MATCH_ENTITIES[line.entity]['link'] == 'mapping':
                line._qbo_link_item(record)
                continue
            holder = Binding.search([('connection_id', '=', connection.id), ('entity', '=', line.entity),
                                     ('qbo_id', '=', line.qbo_id)], limit=1)
            if holder and (holder.res_model, holder.res_id) != (record._name, record.id):
                raise UserError(_("QuickBooks %(entity)s %(name)s is linked to %(other)s already.",
                                  entity=line.entity, name=line.qbo_name, other=holder.record_name))
            binding = Binding._qbo_get_or_create(connection, record, line.entity)
            if binding.qbo_id and binding.qbo_id != line.qbo_id:
                raise UserError(_("%(name)s is linked to another QuickBooks %(entity)s already (Id %(id)s).",
                                  name=record.display_name, entity=line.entity, id=binding.qbo_id))
            if binding.intent_request_id:
                raise UserError(_("A write of %s to QuickBooks has an unknown outcome: let it finish, then review "
                                  "the match again.", record.display_name))
            if binding.state in ('error', 'blocked'):
                binding._qbo_transition('to_send')
            binding.write({'qbo_id': line.qbo_id, 'qbo_sync_token': line.qbo_sync_token,
                           'qbo_sent_name': line.qbo_name, 'qbo_currency': line.qbo_currency})
            binding._qbo_transition('sent', last_sync_date=fields.Datetime.now(), error_message=False,
                                    error_code=False, retry_count=0, next_retry_date=False)
        self.write({'state': 'linked'})

    def _qbo_link_item(self, product):
        """Map the product to the QuickBooks item (its qbo.ref, imported with the review)."""
        self.ensure_one()
        ref = self.env['qbo.ref'].sudo().with_context(active_test=False).search([
            ('connection_id', '=', self.connection_id.id), ('entity', '=', 'Item'), ('qbo_id', '=', self.qbo_id)],
            limit=1)
        if not ref:
            raise UserError(_("QuickBooks item %s is not imported: run the match again.", self.qbo_name))
        Mapping = self.env['qbo.mapping'].sudo()
        mapping = Mapping.search([('connection_id', '=', self.connection_id.id), ('mapping_type', '=', 'product'),
                                  ('res_id', '=', product.id)], limit=1)
        if mapping and mapping.qbo_ref_id != ref:
            raise UserError(_("%(name)s is mapped to QuickBooks item %(item)s already.",
                              name=product.display_name, item=mapping.qbo_ref_id.display_name))
        if not mapping:
            Mapping.create({'connection_id': self.connection_id.id, 'mapping_type': 'product',
                            'res_id': product.id, 'qbo_ref_id': ref.id})

    # ------------------------------------------------------------------ the person's decisions

    def _qbo_check_reviewer(self):
        self.connection_id._qbo_check_manager()

    def action_qbo_confirm(self):
        """Confirm the selected pairs (or pairs completed by hand): link them; their rivals are left unmatched.

        Within an ambiguous group the confirmed pair wins; the other candidates of the same Odoo record
        become "only in QuickBooks" and the other records of the same QuickBooks object "only in Odoo".
        """
        self._qbo_check_reviewer()
        lines = self.sudo().filtered(lambda line: line.state != 'linked')
        for line in lines.filtered('qbo_pick_id'):
            # Linked by hand from the Odoo side: the chosen QuickBooks object's line is merged into this one.
            pick = line.qbo_pick_id
            line.write(dict({name: pick[name] for name in QBO_SIDE_FIELDS}, qbo_pick_id=False))
            pick.unlink()
        for line in lines.filtered(lambda line: line.state in ('qbo_only', 'odoo_only', 'create')):
            line.reason = 'manual'
            line.confidence = 100
        lines._qbo_link()
        for line in lines:
            field = MATCH_ENTITIES[line.entity]['field']
            rivals = self.sudo().search([('connection_id', '=', line.connection_id.id), ('entity', '=', line.entity),
                                         ('id', '!=', line.id), ('state', '!=', 'linked'),
                                         '|', ('qbo_id', '=', line.qbo_id), (field, '=', line[field].id)])
            for rival in rivals:
                if rival[field] == line[field] and not rival.qbo_id:
                    rival.unlink()  # the record's "only in Odoo" or "create new" line: decided now
                elif rival[field] == line[field]:
                    rival.write({'state': 'qbo_only', field: False, 'reason': False, 'confidence': 0})
                else:
                    rival.write(dict(dict.fromkeys(QBO_SIDE_FIELDS, False), state='odoo_only', reason=False,
                                     confidence=0, qbo_active=True))
            self._qbo_dedupe(line.connection_id, line.entity)
        self._qbo_requeue(lines.connection_id)
        return True

    def action_qbo_create_new(self):
        """Not the same: the Odoo record is sent as a new QuickBooks object; a QuickBooks-only object gets a
        new Odoo record (a contact or a product) linked to it."""
        self._qbo_check_reviewer()
        for line in self.sudo().filtered(lambda line: line.state != 'linked'):
            field = MATCH_ENTITIES[line.entity]['field']
            if line.state == 'qbo_only' and not line[field]:
                line[field] = line._qbo_create_odoo_record()
                line.reason = 'manual'
                line._qbo_link()
                continue
            record = line[field]
            if line.qbo_id:
                # The QuickBooks side of a rejected pair stays in the review, unmatched.
                line.copy({'state': 'qbo_only', field: False, 'reason': False, 'confidence': 0})
            line.write(dict(dict.fromkeys(QBO_SIDE_FIELDS, False), state='create', reason=False, confidence=0,
                            qbo_active=True))
            siblings = self.sudo().search([('connection_id', '=', line.connection_id.id), ('entity', '=', line.entity),
                                           (field, '=', record.id), ('id', '!=', line.id)])
            for sibling in siblings.filtered(lambda s: s.state in UNDECIDED_STATES):
                sibling.write({'state': 'qbo_only', field: False, 'reason': False, 'confidence': 0})
            self._qbo_dedupe(line.connection_id, line.entity)
        self._qbo_requeue(self.connection_id)
        return True

    def _qbo_create_odoo_record(self):
        """A new Odoo record from a QuickBooks-only object (name, e-mail; an item's SKU and price)."""
        self.ensure_one()
        if self.entity == 'Item':
            return self.env['product.product'].create({'name': self.qbo_name, 'sale_ok': True,
                                                       'company_id': False})
        vals = {'name': self.qbo_name, 'email': self.qbo_email or False, 'is_company': True}
        if self.entity == 'Vendor':
            vals['supplier_rank'] = 1
        return self.env['res.partner'].create(vals)

    @api.model
    def _qbo_dedupe(self, connection, entity):
        """One "only in QuickBooks" line per object and one "only in Odoo" line per record (after decisions)."""
        field = MATCH_ENTITIES[entity]['field']
        seen = set()
        for line in self.sudo().search([('connection_id', '=', connection.id), ('entity', '=', entity),
                                        ('state', 'in', ('qbo_only', 'odoo_only'))], order='id'):
            key = (line.state, line.qbo_id if line.state == 'qbo_only' else line[field].id)
            others = self.sudo().search_count([('connection_id', '=', connection.id), ('entity', '=', entity),
                                               ('state', 'not in', ('qbo_only', 'odoo_only')),
                                               ('qbo_id', '=', line.qbo_id) if line.state == 'qbo_only'
                                               else (field, '=', line[field].id)])
            if key in seen or others:
                line.unlink()
            else:
                seen.add(key)

    @api.model
    def _qbo_requeue(self, connections):
        """Records held for the review (blocked) are queued again once someone decided."""
        for connection in connections:
            self.env['qbo.binding'].sudo().search([('connection_id', '=', connection.id),
                                                   ('state', '=', 'blocked')])._qbo_mark_to_send()


class QboConnectionMatch(models.AbstractModel):
    """The connection's side of the match review: importing QuickBooks' name lists and matching them."""
    _name = 'qbo.connection.match'
    _description = 'QuickBooks Online connection: match review'

    qbo_match_date = fields.Datetime('Last match', readonly=True, copy=False)
    qbo_match_reads = fields.Integer('Metered reads of the last match', readonly=True, copy=False)
    qbo_match_summary = fields.Char('Last match result', readonly=True, copy=False)
    qbo_match_undecided = fields.Integer('Matches to review', compute='_compute_qbo_match_undecided')

    def _compute_qbo_match_undecided(self):
        data = self.env['qbo.match'].sudo()._read_group(
            [('connection_id', 'in', self.ids), ('state', 'in', UNDECIDED_STATES)], ['connection_id'], ['__count'])
        counts = {connection.id: count for connection, count in data}
        for connection in self:
            connection.qbo_match_undecided = counts.get(connection.id, 0)

    @api.model
    def _qbo_match_entities(self):
        """The entities reviewed: customers and items, and vendors once an exporter sends them."""
        entities = ['Customer', 'Item']
        exporters = [name for name in self.env if name.startswith('qbo.exporter.')]
        if any('Vendor' in (getattr(self.env[name], '_qbo_entities', ()) or ()) for name in exporters):
            entities.insert(1, 'Vendor')
        return entities

    def action_qbo_match_import(self):
        """Button: import QuickBooks' customers and items and match them (accounting managers)."""
        self.ensure_one()
        self._qbo_check_manager()
        self.sudo()._qbo_match_import()
        return self.action_qbo_open_match_review()

    def action_qbo_open_match_review(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('quickbooks_online.qbo_match_action')
        action['domain'] = [('connection_id', '=', self.id)]
        return action

    def _qbo_match_import(self):
        """Read every customer and item (and vendor) of QuickBooks, page by page, and rebuild the review.

        The reads are metered by Intuit: their number is kept on the connection (`qbo_match_reads`) next
        to the month's count and budget. Items also refresh their QuickBooks objects (qbo.ref), which
        product mappings point to.
        """
        self.ensure_one()
        session = self._qbo_client_session()
        counts = {}
        try:
            with session as client:
                for entity in self._qbo_match_entities():
                    rows = client.query_all(entity, include_inactive=True)
                    if entity == 'Item':
                        self._qbo_match_store_items(rows)
                    counts[entity] = (len(rows), self.env['qbo.match']._qbo_build(self, entity, rows))
        except QboError as exc:
            raise UserError(_("Reading QuickBooks for the match review failed: %s", exc)) from None
        reads = sum(1 for call in session.calls if call.get('method') == 'GET' or call.get('operation') == 'query')
        parts = []
        for entity, (count, states) in counts.items():
            parts.append(_("%(entity)s: %(count)s read, %(linked)s linked, %(undecided)s to review",
                           entity=entity, count=count, linked=states.get('linked', 0),
                           undecided=states.get('proposed', 0) + states.get('ambiguous', 0)))
        summary = '; '.join(parts)
        self.write({'qbo_match_date': fields.Datetime.now(), 'qbo_match_reads': reads, 'qbo_match_summary': summary})
        return counts

    def _qbo_match_store_items(self, rows):
        """Create or refresh the qbo.ref of each QuickBooks item read (the objects product mappings point to)."""
        Ref = self.env['qbo.ref'].sudo().with_context(active_test=False)
        existing = {ref.qbo_id: ref for ref in Ref.search([('connection_id', '=', self.id), ('entity', '=', 'Item')])}
        new = []
        for row in rows:
            vals = self._qbo_ref_vals('Item', row)
            if row['Id'] in existing:
                existing[row['Id']].write(vals)
            else:
                new.append(dict(vals, connection_id=self.id, entity='Item', qbo_id=row['Id']))
        Ref.create(new)

    def _qbo_match_after_first_connection(self):
        """After the first connection's reference import, match QuickBooks' name lists with Odoo once
        (called by `_cron_qbo_after_connect`). Later connections (a reconnect) keep the review as it
        is: it is run again from its screen."""
        for connection in self:
            try:
                connection._qbo_match_import()
            except UserError as exc:
                _logger.warning("QuickBooks match review after connecting failed: %s", exc)
                connection.last_error = str(exc)
