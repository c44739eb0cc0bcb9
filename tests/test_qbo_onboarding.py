import logging

from odoo import Command, fields
from odoo.tests import tagged

from ..models.qbo_binding import QboBlocked
from . import qbo_onboarding_data as data
from .common import QboTestCommon

_logger = logging.getLogger(__name__)


@tagged('post_install', '-at_install')
class TestQboOnboarding(QboTestCommon):
    """First connection to a QuickBooks company with years of data: match before the first send.

    The emulator's company is seeded with 300 customers, 200 items and 500 open invoices; Odoo holds
    the same companies and goods spelled differently, plus labelled traps (see qbo_onboarding_data).
    """

    def setUp(self):
        super().setUp()
        _qbo, partner_vals, self.customer_labels = data.customers()
        self.partners = dict(zip([key for key, _vals in partner_vals],
                                 self.env['res.partner'].create([vals for _key, vals in partner_vals])))
        qbo_customers, _odoo, _labels = data.customers(
            marker=lambda key: self.env['qbo.mapper']._qbo_marker(self.partners[key]))
        qbo_items, product_vals, self.item_labels = data.items()
        self.products = dict(zip([key for key, _vals in product_vals],
                                 self.env['product.product'].create([vals for _key, vals in product_vals])))
        seeded = self.qbo.bulk_seed(self.realm, qbo_customers + qbo_items + data.invoices(
            [spec['key'] for spec in qbo_customers], [spec['key'] for spec in qbo_items]))
        self.qbo_ids = seeded['ids']
        self.assertEqual(seeded['created'], data.N_CUSTOMERS + data.N_ITEMS + data.N_INVOICES)

    # ------------------------------------------------------------------ helpers

    def _lines(self, entity):
        return self.env['qbo.match'].search([('connection_id', '=', self.connection.id), ('entity', '=', entity)])

    def _score(self, entity, records, labels):
        """(right, wrong automatic links, total, details) of the review against the labels."""
        field = 'product_id' if entity == 'Item' else 'partner_id'
        lines = self._lines(entity)
        right, wrong_auto, misses = 0, [], []
        for key, record in records.items():
            mine = lines.filtered(lambda line, r=record: line[field] == r)
            expected = labels[key]
            expected_id = self.qbo_ids.get(expected) if expected not in (None, data.AMBIGUOUS) else None
            linked = mine.filtered(lambda line: line.state == 'linked')
            if linked and linked.qbo_id != expected_id:
                wrong_auto.append((key, record.display_name, linked.qbo_name))
            if expected == data.AMBIGUOUS:
                ok = bool(mine) and set(mine.mapped('state')) == {'ambiguous'}
            elif expected is None:
                ok = set(mine.mapped('state')) <= {'odoo_only'}
            else:
                ok = len(mine) == 1 and mine.state in ('linked', 'proposed') and mine.qbo_id == expected_id
            if ok:
                right += 1
            else:
                misses.append((key, record.display_name, [(line.state, line.reason, line.qbo_name) for line in mine]))
        return right, wrong_auto, len(records), misses

    def _invoice(self, partner, products):
        move = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'product_id': product.id, 'quantity': 1, 'price_unit': 50.0,
                                                 'tax_ids': [Command.set(self.tax_ca.ids)]}) for product in products],
        })
        move.action_post()
        return move

    def _export_all(self):
        Binding = self.env['qbo.binding']
        for _run in range(10):
            if not Binding.search_count(Binding._qbo_pending_domain()):
                return
            Binding._cron_qbo_export()

    # ------------------------------------------------------------------ tests

    def test_review_precision_and_metered_reads(self):
        """At least 95 % of the labelled records get the right proposal, and no wrong automatic link."""
        reads_before = self.qbo.usage(self.realm)['reads']
        self.connection.action_qbo_match_import()
        reads = self.qbo.usage(self.realm)['reads'] - reads_before
        self.assertEqual(self.connection.qbo_match_reads, reads, "every metered read is counted")
        self.assertGreaterEqual(reads, 2, "customers and items are read (paged)")
        for entity, records, labels in (('Customer', self.partners, self.customer_labels),
                                        ('Item', self.products, self.item_labels)):
            right, wrong_auto, total, misses = self._score(entity, records, labels)
            _logger.info("Match review %s: %s/%s right (%.1f %%), %s wrong automatic links; misses: %s",
                         entity, right, total, 100.0 * right / total, len(wrong_auto), misses)
            self.assertFalse(wrong_auto, f"{entity}: wrong automatic links")
            self.assertGreaterEqual(right / total, 0.95, f"{entity}: misses {misses}")
        # Each labelled link became a real link: a binding in state sent with the QuickBooks Id and SyncToken.
        partner = self.partners['pt0']
        binding = partner._qbo_binding(self.connection)
        self.assertEqual((binding.state, binding.qbo_id, binding.qbo_sync_token),
                         ('sent', self.qbo_ids['ct0'], '0'))
        self.assertEqual(self.env['qbo.mapping']._qbo_find(self.connection, 'product', self.products['g3']).qbo_id,
                         self.qbo_ids['i3'])
        # The screen's groups: every state is there.
        states = set(self._lines('Customer').mapped('state'))
        self.assertEqual(states, {'linked', 'proposed', 'ambiguous', 'qbo_only', 'odoo_only'})

    def test_first_export_creates_no_duplicate(self):
        """Invoices of the matched partners go to their existing QuickBooks customers and items."""
        self.connection.write({'create_missing_items': True})
        self.connection.action_qbo_match_import()
        # The person confirms the proposals in bulk (here: typos in Odoo's names).
        proposals = self._lines('Customer').filtered(lambda line: line.state == 'proposed')
        self.assertTrue(proposals)
        proposals.action_qbo_confirm()
        self.assertEqual(set(proposals.mapped('state')), {'linked'})
        customers_before = len(self.qbo_all(self.realm, 'Customer'))
        items_before = len(self.qbo_all(self.realm, 'Item'))
        keys = [key for key, label in self.customer_labels.items() if label not in (None, data.AMBIGUOUS)]
        product_keys = [key for key, label in self.item_labels.items() if label not in (None, data.AMBIGUOUS)]
        moves = {}
        for n, key in enumerate([k for k in keys if k[1].isdigit()][::5] + [k for k in keys if k[1].isalpha()]):
            products = [self.products[product_keys[(n * 3 + j) % len(product_keys)]] for j in range(2)]
            moves[key] = (self._invoice(self.partners[key], products), products)
        moves_list = self.env['account.move'].concat(*(move for move, _products in moves.values()))
        moves_list.action_qbo_send()
        self._export_all()
        for key, (move, products) in moves.items():
            binding = move._qbo_binding(self.connection)
            self.assertEqual(binding.state, 'sent', f"{key}: {binding.error_message}")
            invoice = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
            self.assertEqual(invoice['CustomerRef']['value'], self.qbo_ids[self.customer_labels[key]], key)
            item_ids = [line['SalesItemLineDetail']['ItemRef']['value'] for line in invoice['Line']
                        if line.get('DetailType') == 'SalesItemLineDetail']
            expected = [self.qbo_ids[self.item_labels[next(k for k, p in self.products.items() if p == product)]]
                        for product in products]
            self.assertEqual(item_ids, expected, key)
        self.assertEqual(len(self.qbo_all(self.realm, 'Customer')), customers_before, "no customer created")
        self.assertEqual(len(self.qbo_all(self.realm, 'Item')), items_before, "no item created")

    def test_ambiguous_waits_for_a_person(self):
        """An ambiguous customer or item is not created; once someone confirms, the invoice goes to that link."""
        self.connection.write({'create_missing_items': True})
        self.connection.action_qbo_match_import()
        customers_before = len(self.qbo_all(self.realm, 'Customer'))
        items_before = len(self.qbo_all(self.realm, 'Item'))
        ambiguous = self.partners['pa0']
        move = self._invoice(ambiguous, [self.products['g1']])
        move_item = self._invoice(self.partners['p1'], [self.products['ga0']])
        (move | move_item).action_qbo_send()
        self._export_all()
        partner_binding = ambiguous._qbo_binding(self.connection)
        self.assertEqual(partner_binding.state, 'blocked')
        self.assertIn('Match review', partner_binding.error_message)
        self.assertEqual(move._qbo_binding(self.connection).state, 'blocked')
        item_binding = move_item._qbo_binding(self.connection)
        self.assertEqual(item_binding.state, 'blocked')
        self.assertIn('Match review', item_binding.error_message)
        self.assertEqual(len(self.qbo_all(self.realm, 'Customer')), customers_before)
        self.assertEqual(len(self.qbo_all(self.realm, 'Item')), items_before)
        # The person picks one candidate of each: the rival candidates are left unmatched, the documents go.
        lines = self._lines('Customer').filtered(lambda line: line.partner_id == ambiguous)
        self.assertEqual(len(lines), 2)
        chosen = lines.filtered(lambda line: line.qbo_id == self.qbo_ids['ca0b'])
        chosen.action_qbo_confirm()
        self.assertEqual((lines - chosen).state, 'qbo_only')
        self.assertFalse((lines - chosen).partner_id)
        item_lines = self._lines('Item').filtered(lambda line: line.product_id == self.products['ga0'])
        item_lines.filtered(lambda line: line.qbo_id == self.qbo_ids['ia0a']).action_qbo_confirm()
        self._export_all()
        move_binding = move._qbo_binding(self.connection)
        self.assertEqual(move_binding.state, 'sent', move_binding.error_message)
        invoice = self.qbo_read(self.realm, 'Invoice', move._qbo_binding(self.connection).qbo_id)
        self.assertEqual(invoice['CustomerRef']['value'], self.qbo_ids['ca0b'])
        invoice = self.qbo_read(self.realm, 'Invoice', move_item._qbo_binding(self.connection).qbo_id)
        self.assertEqual(invoice['Line'][0]['SalesItemLineDetail']['ItemRef']['value'], self.qbo_ids['ia0a'])
        self.assertEqual(len(self.qbo_all(self.realm, 'Customer')), customers_before)
        self.assertEqual(len(self.qbo_all(self.realm, 'Item')), items_before)

    def test_link_by_hand_and_create_new(self):
        """A QuickBooks-only customer linked by hand; a rejected proposal is sent as a new customer."""
        self.connection.action_qbo_match_import()
        lines = self._lines('Customer')
        # By hand, from the Odoo side: an Odoo-only partner linked to a QuickBooks-only customer.
        odoo_only = lines.filtered(lambda line: line.partner_id == self.partners['po0'])
        target = lines.filtered(lambda line: line.state == 'qbo_only' and line.qbo_id == self.qbo_ids['cq0'])
        odoo_only.qbo_pick_id = target
        odoo_only.action_qbo_confirm()
        self.assertEqual((odoo_only.state, odoo_only.reason, odoo_only.qbo_id),
                         ('linked', 'manual', self.qbo_ids['cq0']))
        self.assertFalse(target.exists())
        self.assertEqual(self.partners['po0']._qbo_binding(self.connection).qbo_id, self.qbo_ids['cq0'])
        # A similar-name proposal rejected: the partner is sent as a new customer, the QuickBooks one stays.
        lines = self._lines('Customer')
        partner = self.partners['py0']
        proposal = lines.filtered(lambda line: line.partner_id == partner)
        self.assertEqual((proposal.state, proposal.reason), ('proposed', 'similar'))
        with self.assertRaises(QboBlocked):
            self.env['qbo.match']._qbo_check_decided(self.connection, 'Customer', partner)
        proposal.action_qbo_create_new()
        self.assertEqual(proposal.state, 'create')
        self.assertTrue(self._lines('Customer').filtered(
            lambda line: line.state == 'qbo_only' and line.qbo_id == self.qbo_ids['cy0']))
        partner.action_qbo_send()
        binding = partner._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertNotEqual(binding.qbo_id, self.qbo_ids['cy0'])
        self.assertEqual(self.qbo_read(self.realm, 'Customer', binding.qbo_id)['DisplayName'], partner.name)
        # A QuickBooks-only customer imported as a new Odoo contact, linked.
        qbo_only = self._lines('Customer').filtered(lambda line: line.qbo_id == self.qbo_ids['cq1'])
        qbo_only.action_qbo_create_new()
        self.assertEqual(qbo_only.state, 'linked')
        self.assertEqual(qbo_only.partner_id._qbo_binding(self.connection).qbo_id, self.qbo_ids['cq1'])
        # Running the match again keeps the decisions.
        self.connection.action_qbo_match_import()
        again = self._lines('Customer')
        self.assertEqual(again.filtered(lambda line: line.partner_id == partner).state, 'linked',
                         "created in QuickBooks since: linked")
        self.assertEqual(again.filtered(lambda line: line.partner_id == self.partners['po0']).state, 'linked')
        self.assertEqual(again.filtered(lambda line: line.partner_id == self.partners['py1']).state, 'proposed')
        self.env['qbo.match'].search([('partner_id', '=', self.partners['py1'].id)]).action_qbo_create_new()
        self.connection.action_qbo_match_import()
        self.assertEqual(self._lines('Customer').filtered(
            lambda line: line.partner_id == self.partners['py1']).state, 'create', "a decision is kept")

    def test_vendors_are_matched_too(self):
        """Vendors: the vendor name suffix is not part of the name; the account number is the partner's reference."""
        seeded = self.qbo.bulk_seed(self.realm, [
            {'entity': 'Vendor', 'key': 'v1', 'body': {'DisplayName': 'Acme Supplies (Vendor)'}},
            {'entity': 'Vendor', 'key': 'v2', 'body': {'DisplayName': 'Old Paper Mill', 'AcctNum': 'SUP-7'}},
        ])['ids']
        acme = self.env['res.partner'].create({'name': 'ACME SUPPLIES LLC', 'is_company': True, 'supplier_rank': 1})
        paper = self.env['res.partner'].create({'name': 'Paper & Pulp', 'is_company': True, 'supplier_rank': 1,
                                                'ref': 'sup-7'})
        self.connection.action_qbo_match_import()
        lines = self._lines('Vendor')
        self.assertEqual(lines.filtered(lambda line: line.partner_id == acme).mapped('reason'), ['name'])
        self.assertEqual(lines.filtered(lambda line: line.partner_id == paper).mapped('reason'), ['code'])
        self.assertEqual(acme._qbo_binding(self.connection, 'Vendor').qbo_id, seeded['v1'])
        self.assertEqual(paper._qbo_binding(self.connection, 'Vendor').qbo_id, seeded['v2'])
