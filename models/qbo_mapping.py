import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import QboError
from . import qbo_compat
from .qbo_binding import QboBlocked

_logger = logging.getLogger(__name__)

# Reference entities imported from QuickBooks, in import order.
REFERENCE_ENTITIES = ['Account', 'Item', 'TaxCode', 'TaxRate', 'Term', 'Class', 'PaymentMethod']
# Name-list entities support `Active IN (true, false)`; tax codes and rates are always listed.
ENTITIES_WITH_ACTIVE = {'Account', 'Item', 'Term', 'Class', 'PaymentMethod'}

MAPPING_TYPES = [
    ('tax', 'Tax'),
    ('term', 'Payment term'),
    ('product', 'Product'),
    ('analytic', 'Analytic account (Class)'),
    ('payment_method', 'Payment method (journal)'),
    ('deposit_account', 'Bank or card account (journal)'),
    ('account', 'Account (expenses, A/P)'),
]
# mapping type -> (Odoo model, QuickBooks entity, field of qbo.mapping holding the Odoo record)
MAPPING_MODELS = {
    'tax': ('account.tax', 'TaxCode', 'tax_id'),
    'term': ('account.payment.term', 'Term', 'term_id'),
    'product': ('product.product', 'Item', 'product_id'),
    'analytic': ('account.analytic.account', 'Class', 'analytic_id'),
    # Payments (qbo_payment_import.py): QuickBooks PaymentMethodRef / DepositToAccountRef <-> Odoo journal.
    'payment_method': ('account.journal', 'PaymentMethod', 'journal_id'),
    'deposit_account': ('account.journal', 'Account', 'journal_id'),
    # Payables (qbo.mapper.payables): a bill line's expense account, a bill's payable account.
    'account': ('account.account', 'Account', 'account_id'),
}
# Income accounts that must never receive the revenue of items we create (contra-revenue).
CONTRA_INCOME_SUBTYPES = {'DiscountsRefundsGiven', 'UnappliedCashPaymentIncome'}
# Preferred income account subtypes for new items, best first.
PREFERRED_INCOME_SUBTYPES = ('ServiceFeeIncome', 'SalesOfProductIncome', 'OtherPrimaryIncome')


class QboRef(models.Model):
    """A QuickBooks reference object (account, item, tax code, rate, term, class, payment method).

    Imported by `qbo.connection.action_qbo_import_references`; re-running the import updates and
    inactivates, never duplicates (unique per connection, entity and Id).
    """
    _name = 'qbo.ref'
    _description = 'QuickBooks Online reference object'
    _order = 'entity, name'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True, index=True)
    entity = fields.Char('Type', required=True, index=True)
    qbo_id = fields.Char('QuickBooks Id', required=True)
    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    rate = fields.Float('Tax rate (%)', help="Tax rate (%) for TaxRate, total rate of its rates for TaxCode.",
                        digits=(16, 4))
    is_tax_group = fields.Boolean('Tax group')
    data = fields.Json(readonly=True)

    _qbo_ref_uniq = qbo_compat.Constraint('unique(connection_id, entity, qbo_id)', 'Imported twice.')

    @api.depends('entity', 'name', 'qbo_id', 'rate')
    def _compute_display_name(self):
        for ref in self:
            if ref.entity in ('TaxCode', 'TaxRate'):
                ref.display_name = f"{ref.name} ({ref.rate:g}%)"
            else:
                ref.display_name = ref.name


class QboMapping(models.Model):
    """Odoo record <-> QuickBooks object, editable by accountants (Configuration > QuickBooks > Mappings).

    Each kind of Odoo record has its own stored Many2one (tax_id, term_id, ...), for the ORM's
    integrity (ondelete) and the dependencies; `res_id` is derived from them for the unique
    constraint and the lookups of the exporters. The editable list shows one "Odoo record" column
    (`res_id`, of the kind's model) instead of one mostly empty column per kind: choosing there
    writes the kind's field.
    """
    _name = 'qbo.mapping'
    _description = 'QuickBooks Online mapping'
    _order = 'mapping_type, id'
    _rec_name = 'qbo_ref_id'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True,
                                    default=lambda self: self.env['qbo.connection']._qbo_get_for_company())
    company_id = fields.Many2one(related='connection_id.company_id', store=True)
    mapping_type = fields.Selection(MAPPING_TYPES, 'Kind', required=True)
    res_model = fields.Char(compute='_compute_res_model', store=True)
    res_id = fields.Many2oneReference('Odoo record', model_field='res_model', compute='_compute_res_id',
                                      inverse='_inverse_res_id', store=True, readonly=False)
    tax_id = fields.Many2one('account.tax', 'Tax', ondelete='cascade',
                             domain="[('type_tax_use', 'in', ('sale', 'purchase')), "
                                    "('company_id', 'parent_of', company_id)]",
                             context={'append_type_to_tax_name': True})
    term_id = fields.Many2one('account.payment.term', 'Payment term', ondelete='cascade')
    product_id = fields.Many2one('product.product', 'Product', ondelete='cascade')
    analytic_id = fields.Many2one('account.analytic.account', 'Analytic account', ondelete='cascade')
    journal_id = fields.Many2one('account.journal', 'Payment journal', ondelete='cascade',
                                 domain="[('type', 'in', ('bank', 'cash', 'credit')), ('company_id', '=', company_id)]")
    account_id = fields.Many2one('account.account', ondelete='cascade')
    qbo_entity = fields.Char(compute='_compute_res_model', store=True)
    qbo_ref_id = fields.Many2one('qbo.ref', 'QuickBooks object', required=True, ondelete='restrict',
                                 domain="[('connection_id', '=', connection_id), ('entity', '=', qbo_entity)]")
    health = fields.Selection([('ok', 'OK'), ('broken', 'Missing or inactive in QuickBooks')],
                              compute='_compute_health')
    rate_warning = fields.Char('Rate check', compute='_compute_rate_warning',
                               help="A tax mapped to a QuickBooks tax code of another total rate: QuickBooks would "
                                    "record the tax at its own rates, and documents using it are not sent.")

    _mapping_uniq = qbo_compat.Constraint('unique(connection_id, mapping_type, res_id)',
                                          'This Odoo record is already mapped.')

    @api.depends('mapping_type')
    def _compute_res_model(self):
        for mapping in self:
            mapping.res_model, mapping.qbo_entity, _field = MAPPING_MODELS.get(
                mapping.mapping_type, (False, False, False))

    @api.depends('mapping_type', 'tax_id', 'term_id', 'product_id', 'analytic_id', 'journal_id', 'account_id')
    def _compute_res_id(self):
        for mapping in self:
            field = MAPPING_MODELS.get(mapping.mapping_type, (None, None, None))[2]
            mapping.res_id = mapping[field].id if field else False

    def _inverse_res_id(self):
        for mapping in self:
            mapping._qbo_set_kind_field()

    def _qbo_set_kind_field(self):
        """Write `res_id` (chosen in the list's one 'Odoo record' column) to the field of the kind."""
        model, _entity, field = MAPPING_MODELS.get(self.mapping_type, (None, None, None))
        if field and self[field].id != self.res_id:
            self[field] = self.env[model].browse(self.res_id)

    @api.onchange('res_id')
    def _onchange_res_id(self):
        """While the row is edited: the kind's field follows, so that its checks (the tax rate) run now."""
        self._qbo_set_kind_field()

    @api.constrains('mapping_type', 'res_id', 'qbo_ref_id')
    def _check_complete(self):
        for mapping in self:
            if not mapping.res_id:
                label = self._fields[MAPPING_MODELS[mapping.mapping_type][2]].get_description(self.env)['string']
                raise ValidationError(_("Choose the %(what)s this %(kind)s mapping is for.", what=label,
                                        kind=dict(self._fields['mapping_type']._description_selection(self.env))
                                        [mapping.mapping_type]))
            mapping._qbo_check_kind_accepts()
            if mapping.qbo_ref_id.entity != mapping.qbo_entity:
                raise ValidationError(_("A %(kind)s mapping needs a QuickBooks %(entity)s, not %(other)s.",
                                        kind=mapping.mapping_type, entity=mapping.qbo_entity,
                                        other=mapping.qbo_ref_id.display_name))

    def _qbo_check_kind_accepts(self):
        """The record chosen in the list's one 'Odoo record' column is one this kind can map (that column
        cannot carry a domain per kind): a sales or purchase tax, a bank, cash or card journal, of this
        connection's company.

        :raise ValidationError: saying what to choose instead
        """
        model, _entity, field = MAPPING_MODELS[self.mapping_type]
        record = self[field]
        company = self.connection_id.company_id
        if 'company_id' in record._fields and record.company_id and record.company_id != company \
                and record.company_id not in company.parent_ids:
            raise ValidationError(_("%(record)s belongs to %(other)s: map a record of %(company)s.",
                                    record=record.display_name, other=record.company_id.name, company=company.name))
        if self.mapping_type == 'tax' and record.type_tax_use not in ('sale', 'purchase'):
            raise ValidationError(_("%s is neither a sales nor a purchase tax: map a tax used on invoices or bills.",
                                    record.display_name))
        if model == 'account.journal' and record.type not in ('bank', 'cash', 'credit'):
            raise ValidationError(_("%s is not a bank, cash or credit card journal: payments are received and made "
                                    "in those.", record.display_name))

    @api.onchange('mapping_type')
    def _onchange_mapping_type(self):
        """Changing the kind empties the fields of the other kinds (and the QuickBooks object)."""
        for mapping_type, (_model, _entity, field) in MAPPING_MODELS.items():
            if mapping_type != self.mapping_type:
                self[field] = False
        if self.qbo_ref_id and self.qbo_ref_id.entity != self.qbo_entity:
            self.qbo_ref_id = False

    @api.depends('mapping_type', 'tax_id.amount', 'tax_id.amount_type', 'tax_id.children_tax_ids.amount',
                 'qbo_ref_id.rate')
    def _compute_rate_warning(self):
        for mapping in self:
            mismatch = mapping.mapping_type == 'tax' and mapping.tax_id and mapping.qbo_ref_id and \
                self._qbo_tax_rate_mismatch(mapping.tax_id, mapping.qbo_ref_id)
            if mismatch:
                odoo_rate, qbo_rate = (format(rate, 'g') for rate in mismatch)
                mapping.rate_warning = _("Odoo %(odoo)s%% ≠ QuickBooks %(qbo)s%%", odoo=odoo_rate, qbo=qbo_rate)
            else:
                mapping.rate_warning = False

    @api.onchange('tax_id', 'res_id', 'qbo_ref_id')
    def _onchange_tax_rate(self):
        """Warn while the mapping is being made, not at the first invoice."""
        self._qbo_set_kind_field()  # the tax chosen in the list's 'Odoo record' column
        if self.mapping_type == 'tax' and self.tax_id and self.qbo_ref_id:
            mismatch = self._qbo_tax_rate_mismatch(self.tax_id, self.qbo_ref_id)
            if mismatch:
                return {'warning': {'title': _("Tax rates differ"), 'message': self._qbo_tax_rate_message(
                    self.tax_id, self.qbo_ref_id, mismatch)}}
        return None

    @api.model
    def _qbo_tax_rate_mismatch(self, taxes, code):
        """(Odoo rate, QuickBooks rate) when the total rate of `taxes` (a group: its children's) differs from
        the QuickBooks tax code's (the sum of its sales rates), else None. Taxes that are not plain
        percentages (fixed amounts, division) are not compared."""
        flat = taxes.flatten_taxes_hierarchy()
        if not flat or any(tax.amount_type != 'percent' for tax in flat):
            return None
        odoo_rate = round(sum(flat.mapped('amount')), 4)
        qbo_rate = round(code.rate or 0.0, 4)
        return (odoo_rate, qbo_rate) if abs(odoo_rate - qbo_rate) > 0.0001 else None

    @api.model
    def _qbo_tax_rate_message(self, taxes, code, mismatch):
        """What differs and how to fix it, for the mapping row's warning and the blocked document."""
        connection = code.connection_id
        odoo_rate, qbo_rate = (format(rate, 'g') for rate in mismatch)
        return _("The Odoo tax %(tax)s (%(odoo)s%%) is mapped to the QuickBooks tax code %(code)s, whose rates total "
                 "%(qbo)s%%: QuickBooks would record the tax at its own rates and its sales-tax reports would be "
                 "wrong. Map %(tax)s to a QuickBooks tax code of %(odoo)s%% (%(where)s), or change the Odoo tax's "
                 "rate.",
                 tax=', '.join(taxes.mapped('name')), odoo=odoo_rate, code=code.name, qbo=qbo_rate,
                 where=connection._qbo_where('mappings'))

    @api.depends('qbo_ref_id.active')
    def _compute_health(self):
        for mapping in self:
            # A new row has nothing chosen yet: no verdict (not a red "missing" before anything is picked).
            mapping.health = ('ok' if mapping.qbo_ref_id.active else 'broken') if mapping.qbo_ref_id else False

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # Code may pass the generic res_id: store it in the field of its kind.
            if vals.get('res_id') and vals.get('mapping_type') in MAPPING_MODELS:
                vals[MAPPING_MODELS[vals['mapping_type']][2]] = vals.pop('res_id')
        mappings = super().create(vals_list)
        mappings._qbo_requeue_blocked()
        return mappings

    def write(self, vals):
        if vals.get('mapping_type') in MAPPING_MODELS:
            vals = dict(vals)
            field = MAPPING_MODELS[vals['mapping_type']][2]
            if vals.get('res_id'):
                # A new kind and its record at once: the record goes to the new kind's field (see create).
                vals[field] = vals.pop('res_id')
            # The other kinds' fields are emptied, as the list does while editing: a stale one would still
            # delete this mapping with its record (ondelete='cascade').
            for other in {f for _m, _e, f in MAPPING_MODELS.values()} - {field}:
                vals.setdefault(other, False)
        res = super().write(vals)
        self._qbo_requeue_blocked()
        return res

    def _qbo_requeue_blocked(self):
        """Records blocked by a missing mapping are queued again as soon as a mapping is set."""
        for connection in self.connection_id:
            self.env['qbo.binding'].sudo().search([
                ('connection_id', '=', connection.id), ('state', '=', 'blocked')])._qbo_mark_to_send()

    @api.model
    def _qbo_find(self, connection, mapping_type, record):
        """Return the QuickBooks reference mapped to `record`, or an empty recordset."""
        mapping = self.sudo().search([('connection_id', '=', connection.id), ('mapping_type', '=', mapping_type),
                                      ('res_id', '=', record.id)], limit=1)
        return mapping.qbo_ref_id


class QboConnectionReferences(models.AbstractModel):
    _name = 'qbo.connection.references'
    _description = 'QuickBooks Online connection: reference data'

    fallback_item_ref_id = fields.Many2one(
        'qbo.ref', 'Item for unmapped products', domain="[('connection_id', '=', id), ('entity', '=', 'Item')]",
        help="QuickBooks item used for invoice lines whose product is not mapped.")
    income_account_ref_id = fields.Many2one(
        'qbo.ref', 'Income account for new items', domain="[('connection_id', '=', id), ('entity', '=', 'Account')]",
        help="Income account of the Service items created for unmapped products. Choose a sales income account, "
             "not a contra-revenue one such as 'Discounts given'.")
    create_missing_items = fields.Boolean(
        help="Create a Service item in QuickBooks for products that match no item (needs the income account).")
    use_classes = fields.Boolean()
    allow_class_override = fields.Boolean('Allow overrides',
                                          help="A class mapped to the customer or product wins over the default.")
    default_class_ref_id = fields.Many2one(
        'qbo.ref', 'Default class', domain="[('connection_id', '=', id), ('entity', '=', 'Class')]")
    tax_mismatch_proceed = fields.Boolean(
        'Export despite the default tax mismatch',
        help="While Odoo's default sales tax and QuickBooks' default tax differ, exports are held unless this is set.")
    ref_count = fields.Integer('QuickBooks objects imported', compute='_compute_ref_count')

    def _compute_ref_count(self):
        data = self.env['qbo.ref']._read_group([('connection_id', 'in', self.ids)], ['connection_id'], ['__count'])
        counts = {connection.id: count for connection, count in data}
        for connection in self:
            connection.ref_count = counts.get(connection.id, 0)

    def action_qbo_import_references(self):
        """Button: accounting managers import the reference data (they cannot write the connection)."""
        self.ensure_one()
        self._qbo_check_manager()
        return self.sudo()._qbo_import_references()

    def _qbo_import_references(self):
        """Import accounts, items, tax codes and rates, terms, classes and payment methods (all pages).

        The notification says what changed since the last import (new, changed, no longer in
        QuickBooks) and the mappings it proposed, not only how many objects are known.
        """
        self.ensure_one()
        Ref = self.env['qbo.ref'].sudo()
        counts = {'new': 0, 'changed': 0, 'gone': 0}
        mappings_before = self.env['qbo.mapping'].sudo().search_count([('connection_id', '=', self.id)])
        try:
            with self._qbo_client_session() as client:
                for entity in REFERENCE_ENTITIES:
                    rows = client.query_all(entity, include_inactive=entity in ENTITIES_WITH_ACTIVE)
                    existing = {ref.qbo_id: ref for ref in Ref.with_context(active_test=False).search(
                        [('connection_id', '=', self.id), ('entity', '=', entity)])}
                    seen = set()
                    create_vals = []
                    for row in rows:
                        vals = self._qbo_ref_vals(entity, row)
                        seen.add(row['Id'])
                        ref = existing.get(row['Id'])
                        if ref:
                            # QuickBooks bumps SyncToken on every edit: the version tells a change apart.
                            if (ref.name, ref.active, (ref.data or {}).get('SyncToken')) != \
                                    (vals['name'], vals['active'], row.get('SyncToken')):
                                counts['changed'] += 1
                            ref.write(vals)
                        else:
                            create_vals.append(dict(vals, connection_id=self.id, entity=entity, qbo_id=row['Id']))
                    Ref.create(create_vals)
                    counts['new'] += len(create_vals)
                    # Gone from QuickBooks: keep the record (mappings point to it), but inactive.
                    for qbo_id, ref in existing.items():
                        if qbo_id not in seen and ref.active:
                            ref.active = False
                            counts['gone'] += 1
        except QboError as exc:
            raise UserError(_("Import from QuickBooks failed: %s", exc)) from None
        self._qbo_compute_tax_code_rates()
        self._qbo_auto_match()
        proposed = self.env['qbo.mapping'].sudo().search_count([('connection_id', '=', self.id)]) - mappings_before
        return self._qbo_notification(_("QuickBooks reference data imported"),
                                      self._qbo_import_summary(counts, proposed), 'success')

    def _qbo_import_summary(self, counts, proposed):
        """'3 new, 2 changed, 1 no longer in QuickBooks.' (or 'Nothing changed.'), the mappings proposed
        and the total: what an import did, for its notification."""
        changes = []
        if counts['new']:
            changes.append(_("%s new", counts['new']))
        if counts['changed']:
            changes.append(_("%s changed", counts['changed']))
        if counts['gone']:
            changes.append(_("%s no longer in QuickBooks (kept, inactive)", counts['gone']))
        # The parts are translated; their list needs no sentence of its own (nothing to translate in "%s.").
        lines = [', '.join(changes) + '.' if changes else _("Nothing changed in QuickBooks since the last import.")]
        if proposed:
            lines.append(_("%s mapping(s) proposed: check them in Mappings.", proposed))
        self.invalidate_recordset(["ref_count"])
        lines.append(_("%s QuickBooks objects known.", self.ref_count))
        return '\n'.join(lines)

    @api.model
    def _qbo_ref_vals(self, entity, row):
        vals = {'name': row.get('Name') or row.get('DisplayName') or row['Id'], 'data': row,
                'active': row.get('Active', True)}
        if entity == 'TaxRate':
            vals['rate'] = float(row.get('RateValue') or 0.0)
        if entity == 'TaxCode':
            vals['is_tax_group'] = bool(row.get('TaxGroup'))
        return vals

    def _qbo_compute_tax_code_rates(self):
        """A tax code's rate is the sum of its sales rates (e.g. AZ State 7.1% + Tucson City 2%)."""
        Ref = self.env['qbo.ref'].sudo()
        rates = {r.qbo_id: r.rate for r in Ref.search([('connection_id', '=', self.id), ('entity', '=', 'TaxRate')])}
        for code in Ref.search([('connection_id', '=', self.id), ('entity', '=', 'TaxCode')]):
            details = ((code.data or {}).get('SalesTaxRateList') or {}).get('TaxRateDetail') or []
            code.rate = sum(rates.get((d.get('TaxRateRef') or {}).get('value'), 0.0) for d in details)

    def _qbo_auto_match(self):
        """Propose mappings that are unambiguous: terms by days, taxes by rate, products by reference or name."""
        self.ensure_one()
        Mapping = self.env['qbo.mapping'].sudo()
        Ref = self.env['qbo.ref'].sudo()
        mapped = {(m.mapping_type, m.res_id) for m in Mapping.search([('connection_id', '=', self.id)])}
        new = []
        terms = Ref.search([('connection_id', '=', self.id), ('entity', '=', 'Term')])
        for term in self.env['account.payment.term'].search([('company_id', 'in', (False, self.company_id.id))]):
            if ('term', term.id) in mapped:
                continue
            match = terms.filtered(lambda t, odoo_term=term: self._qbo_terms_equivalent(odoo_term, t.data or {}))
            if len(match) == 1:
                new.append({'mapping_type': 'term', 'res_id': term.id, 'qbo_ref_id': match.id})
        # Non-US: real VAT/GST codes (US companies map to one tax group per invoice, chosen by the admin).
        codes = Ref.search([('connection_id', '=', self.id), ('entity', '=', 'TaxCode'),
                            ('qbo_id', 'not in', ('TAX', 'NON', 'CustomSalesTax'))])
        if not self.is_us:
            for tax in self.env['account.tax'].search([('company_id', '=', self.company_id.id),
                                                      ('type_tax_use', '=', 'sale'), ('amount_type', '=', 'percent')]):
                if ('tax', tax.id) in mapped:
                    continue
                match = codes.filtered(lambda c, r=tax.amount: abs(c.rate - r) < 0.0001)
                if len(match) == 1:
                    new.append({'mapping_type': 'tax', 'res_id': tax.id, 'qbo_ref_id': match.id})
        items = Ref.search([('connection_id', '=', self.id), ('entity', '=', 'Item')])
        by_name = {}
        for item in items:
            by_name.setdefault(item.name.lower(), item)
            sku = (item.data or {}).get('Sku')
            if sku:
                by_name.setdefault(sku.lower(), item)
        for product in self.env['product.product'].search([('sale_ok', '=', True),
                                                           ('company_id', 'in', (False, self.company_id.id))]):
            if ('product', product.id) in mapped:
                continue
            item = (product.default_code and by_name.get(product.default_code.lower())) or by_name.get(
                (product.name or '').lower())
            if item:
                new.append({'mapping_type': 'product', 'res_id': product.id, 'qbo_ref_id': item.id})
        if new:
            Mapping.create([dict(vals, connection_id=self.id) for vals in new])
        if not self.fallback_item_ref_id:
            default_item = items.filtered(lambda i: i.name == 'Services')[:1] or items[:1]
            self.fallback_item_ref_id = default_item
        if not self.income_account_ref_id:
            self.income_account_ref_id = self._qbo_default_income_account()
        self._qbo_auto_match_accounts(mapped)
        if not self.ap_account_ref_id:
            self.ap_account_ref_id = Ref.search([('connection_id', '=', self.id), ('entity', '=', 'Account')]).filtered(
                lambda a: (a.data or {}).get('AccountType') == 'Accounts Payable')[:1]

    def _qbo_auto_match_accounts(self, mapped):
        """Propose account mappings that are unambiguous: the same account number (QuickBooks AcctNum =
        Odoo code), else the same name, on exactly one QuickBooks account."""
        accounts = self.env['qbo.ref'].sudo().search([('connection_id', '=', self.id), ('entity', '=', 'Account')])
        by_key = {}
        for ref in accounts:
            for key in {((ref.data or {}).get('AcctNum') or '').strip().lower(), (ref.name or '').strip().lower()}:
                if key:
                    by_key.setdefault(key, []).append(ref)
        new = []
        for account in self.env['account.account'].search([('company_ids', 'in', self.company_id.ids)]):
            if ('account', account.id) in mapped:
                continue
            match = by_key.get((account.code or '').lower()) or by_key.get((account.name or '').strip().lower())
            if match and len(match) == 1:
                new.append({'connection_id': self.id, 'mapping_type': 'account', 'res_id': account.id,
                            'qbo_ref_id': match[0].id})
        if new:
            self.env['qbo.mapping'].sudo().create(new)

    @api.model
    def _qbo_terms_equivalent(self, term, qbo_term):
        """True when an Odoo payment term and a QuickBooks Term give the same due date (and discount).

        Only QuickBooks' STANDARD terms ("due N days after the invoice date", optionally with an
        early-payment discount) have an exact Odoo equivalent: one line of 100 % due N days after
        the invoice date. End-of-month and date-driven terms are never proposed: a wrong proposal
        (e.g. "End of Following Month" -> "Due on receipt") is worse than none.
        """
        if qbo_term.get('Type', 'STANDARD') != 'STANDARD' or len(term.line_ids) != 1:
            return False
        line = term.line_ids
        if line.value != 'percent' or line.value_amount != 100 or line.delay_type != 'days_after':
            return False
        if (qbo_term.get('DueDays') or 0) != line.nb_days:
            return False
        qbo_discount = float(qbo_term.get('DiscountPercent') or 0)
        odoo_discount = term.discount_percentage if term.early_discount else 0.0
        if abs(qbo_discount - odoo_discount) > 0.001:
            return False
        return not odoo_discount or (qbo_term.get('DiscountDays') or 0) == term.discount_days

    def _qbo_default_income_account(self):
        """Income account proposed for the items we create: a real sales account, never contra-revenue."""
        accounts = self.env['qbo.ref'].sudo().search([('connection_id', '=', self.id), ('entity', '=', 'Account')])
        income = accounts.filtered(lambda a: (a.data or {}).get('AccountType') == 'Income'
                                   and (a.data or {}).get('AccountSubType') not in CONTRA_INCOME_SUBTYPES)
        for subtype in PREFERRED_INCOME_SUBTYPES:
            preferred = income.filtered(lambda a, st=subtype: (a.data or {}).get('AccountSubType') == st)
            if preferred:
                return preferred[:1]
        return income[:1]

    # ------------------------------------------------------------------ sales-tax default matching

    def _qbo_default_tax_status(self):
        """Compare Odoo's default sales tax with QuickBooks' default tax code.

        :return: (status, odoo_label, qbo_label, advice) with status 'match', 'mismatch' or 'na'
            ('na': QuickBooks declares no default tax code, or computes tax itself (AST))
        :rtype: tuple
        """
        self.ensure_one()
        odoo_tax = self.company_id.account_sale_tax_id
        odoo_label = f"{odoo_tax.name} ({odoo_tax.amount:g}%)" if odoo_tax else _("none")
        if self.automated_sales_tax or not self.qbo_default_tax_code:
            return 'na', odoo_label, _("computed by QuickBooks") if self.automated_sales_tax else _("none"), ''
        qbo_code = self.env['qbo.ref'].sudo().search([
            ('connection_id', '=', self.id), ('entity', '=', 'TaxCode'), ('qbo_id', '=', self.qbo_default_tax_code)],
            limit=1)
        qbo_label = f"{qbo_code.name} ({qbo_code.rate:g}%)" if qbo_code else _("code %s", self.qbo_default_tax_code)
        if not odoo_tax or not qbo_code:
            return 'mismatch', odoo_label, qbo_label, _(
                "Set a default sales tax in Odoo (%s) and import the QuickBooks reference data "
                "(Import from QuickBooks).", self._qbo_where('default_taxes'))
        mapped = self.env['qbo.mapping']._qbo_find(self, 'tax', odoo_tax)
        if abs(odoo_tax.amount - qbo_code.rate) < 0.0001 and (not mapped or mapped == qbo_code):
            return 'match', odoo_label, qbo_label, ''
        return 'mismatch', odoo_label, qbo_label, _(
            "Odoo's default sales tax %(odoo)s does not match QuickBooks' default %(qbo)s. Change one of them so the "
            "rates agree (%(taxes)s, and map the Odoo tax to the QuickBooks code in %(mappings)s), or tick "
            "'Export despite the default tax mismatch' in %(settings)s. Taxes on each invoice line are "
            "still sent as they are.", odoo=odoo_label, qbo=qbo_label, taxes=self._qbo_where('default_taxes'),
            mappings=self._qbo_where('mappings'), settings=self._qbo_where('settings'))

    def _qbo_check_default_tax(self):
        """Hold invoice exports while the default sales taxes differ (unless the admin chose to proceed)."""
        self.ensure_one()
        status, _odoo, _qbo, advice = self._qbo_default_tax_status()
        if status == 'mismatch' and not self.tax_mismatch_proceed:
            raise QboBlocked(_("Held: default sales tax mismatch. %s", advice))

    def write(self, vals):
        res = super().write(vals)
        if vals.get('tax_mismatch_proceed'):
            self.env['qbo.binding'].sudo().search([('connection_id', 'in', self.ids),
                                                   ('state', '=', 'blocked')])._qbo_mark_to_send()
        return res

