"""Penny-exact documents: what QuickBooks holds equals what Odoo booked, on every document.

Every flow runs in real Odoo against the emulator over HTTP and reads QuickBooks back.
`QBO_PARITY_N` (default 50) sets how many random invoices the parity tests send per company.

Each parity test runs with both of Odoo's tax rounding methods, set explicitly: *round per line* (the
default of new companies on 18.0) and *round globally* ("Round per Tax", the default on 19.0, where Odoo
books the document's rounding cent on one line's untaxed amount). So both series test both methods.
"""
import os
import random
import time
from datetime import date, timedelta

from odoo import Command, fields
from odoo.tests import tagged

from .common import QboTestCommon

PARITY_N = int(os.environ.get('QBO_PARITY_N', '50'))


class QboRandomInvoices:
    """Random invoices as an accountant makes them: 1-5 lines, odd quantities, prices and discounts."""

    QUANTITIES = (1, 1, 2, 3, 0.5, 1.5, 7, 12, 0.25, 4.75)
    DISCOUNTS = (0, 0, 0, 5, 10, 12.5, 33)

    def _random_moves(self, rng, company, partner, taxes, count, move_type='out_invoice'):
        Move = self.env['account.move'].with_company(company)
        vals = []
        for number in range(count):
            lines = []
            for index in range(rng.randint(1, 5)):
                qty = rng.choice(self.QUANTITIES) if rng.random() < 0.7 else round(rng.uniform(0.1, 30), 2)
                lines.append(Command.create({
                    'name': f"Service {number}.{index}", 'quantity': qty,
                    'price_unit': round(rng.uniform(0.5, 900), 2), 'discount': rng.choice(self.DISCOUNTS),
                    'tax_ids': [Command.set(rng.choice(taxes).ids)]}))
            vals.append({'move_type': move_type, 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
                         'invoice_line_ids': lines})
        moves = Move.create(vals)
        moves.action_post()
        return moves

    def _set_rounding(self, company, method):
        company.tax_calculation_rounding_method = method
        self.assertEqual(company.tax_calculation_rounding_method, method)

    def _assert_books_line_cents(self, moves):
        """Some documents' booked untaxed amount is not the sum of their lines' ``price_subtotal``: the
        rounding cent that global rounding books on a line (what a payload built from ``price_subtotal``
        gets wrong). The global-rounding tests check that their sample has some, so that they can fail
        (with the default sample sizes; a tiny ``QBO_PARITY_N`` may have none)."""
        cents = moves.filtered(lambda move: move.currency_id.compare_amounts(
            sum(move.invoice_line_ids.mapped('price_subtotal')), move.amount_untaxed))
        if len(moves) >= 20:
            self.assertTrue(cents, "the sample books a rounding cent on a line")

    def _assert_parity(self, moves, connection, realm):
        """Every document Sent, QuickBooks' TotalAmt and tax equal to Odoo's; return the variance count."""
        moves.with_company(moves.company_id).action_qbo_send()
        bindings = self.env['qbo.binding'].search([('connection_id', '=', connection.id),
                                                   ('res_model', '=', 'account.move'), ('res_id', 'in', moves.ids)])
        # Beyond ~200 documents a send exceeds QuickBooks' 500 requests per minute: the throttled ones
        # stay 'To send' and go once the minute has passed, as the cron would do.
        deadline = time.monotonic() + 900
        while bindings.filtered(lambda b: b.state == 'to_send') and time.monotonic() < deadline:
            time.sleep(10)
            pending = bindings.filtered(lambda b: b.state == 'to_send')
            pending.write({'next_retry_date': False})
            pending._qbo_process()
        variances = []
        for move in moves:
            binding = move._qbo_binding(connection)
            qbo = self.qbo.entity(realm, binding.entity, binding.qbo_id)
            if (binding.state != 'sent' or round(qbo['TotalAmt'] - move.amount_total, 2)
                    or round(qbo['TxnTaxDetail']['TotalTax'] - move.amount_tax, 2)):
                variances.append((move.name, binding.state, binding.error_message, qbo['TotalAmt'],
                                  move.amount_total, qbo['TxnTaxDetail']['TotalTax'], move.amount_tax))
        self.assertEqual(variances, [], f"{len(variances)} of {len(moves)} documents differ")


@tagged('post_install', '-at_install')
class TestQboParityUS(QboTestCommon, QboRandomInvoices):
    """US company, tax rounded per line or globally in Odoo, QuickBooks computing on the taxable subtotal."""

    def _us_random_invoices(self, rounding, seed, count, move_type='out_invoice'):
        self._set_rounding(self.company, rounding)
        partner = self.env['res.partner'].create({'name': 'Parity Inc', 'is_company': True})
        no_tax = self.env['account.tax']
        taxes = [self.tax_ca, self.tax_ca, no_tax] if move_type == 'out_invoice' else [self.tax_ca]
        return self._random_moves(random.Random(seed), self.company, partner, taxes, count, move_type)

    def test_random_invoices_are_equal_to_the_cent(self):
        """Tax rounded per line in Odoo, on the taxable subtotal in QuickBooks: Odoo's tax is kept."""
        moves = self._us_random_invoices('round_per_line', 11, PARITY_N)
        self._assert_parity(moves, self.connection, self.realm)

    def test_random_invoices_rounded_globally_are_equal_to_the_cent(self):
        """Tax rounded globally: Odoo books the rounding cent of the untaxed amount on one line."""
        moves = self._us_random_invoices('round_globally', 16, PARITY_N)
        self._assert_books_line_cents(moves)
        self._assert_parity(moves, self.connection, self.realm)

    def test_credit_notes_are_equal_to_the_cent(self):
        for rounding, seed in (('round_per_line', 12), ('round_globally', 17)):
            with self.subTest(rounding=rounding):
                self._assert_parity(self._us_random_invoices(rounding, seed, 5, 'out_refund'),
                                    self.connection, self.realm)

    def test_automated_sales_tax_variance_says_why(self):
        """With AST QuickBooks computes the tax itself: a different rate is shown, with the reason."""
        self.qbo.set_preferences(self.realm, {'TaxPrefs': {'PartnerTaxEnabled': True}})
        self.qbo.patch_entity(self.realm, 'TaxRate', '3', {'RateValue': 9})
        self.connection._qbo_refresh_company_info()
        moves = self._random_moves(random.Random(13), self.company, self.partner_a, [self.tax_ca], 1)
        moves.action_qbo_send()
        binding = moves._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'variance')
        self.assertIn('Automated Sales Tax', binding.error_message)
        qbo = self.qbo.entity(self.realm, 'Invoice', binding.qbo_id)
        self.assertAlmostEqual(binding.qbo_tax, qbo['TxnTaxDetail']['TotalTax'])
        self.assertNotAlmostEqual(binding.qbo_tax, moves.amount_tax)

    def test_sparse_update_keeps_quickbooks_only_fields(self):
        """A re-posted invoice updates QuickBooks sparsely: the billing e-mail a QuickBooks user set stays."""
        move = self._random_moves(random.Random(14), self.company, self.partner_a, [self.tax_ca], 1)
        move.narration = 'Thanks for your business'
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.qbo.patch_entity(self.realm, 'Invoice', binding.qbo_id,
                              {'BillEmail': {'Address': 'payables@customer.example'},
                               'AllowOnlineACHPayment': True})
        move.button_draft()
        move.invoice_line_ids[0].price_unit += 10
        move.narration = False
        move.action_post()
        self.assertEqual(binding.state, 'to_send')
        binding._qbo_process()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo = self.qbo.entity(self.realm, 'Invoice', binding.qbo_id)
        self.assertEqual(qbo['BillEmail'], {'Address': 'payables@customer.example'})
        self.assertIs(qbo['AllowOnlineACHPayment'], True)
        self.assertAlmostEqual(qbo['TotalAmt'], move.amount_total)
        self.assertFalse((qbo.get('CustomerMemo') or {}).get('value'), "a memo cleared in Odoo is cleared")

    def test_home_currency_invoice_for_a_foreign_currency_customer_is_blocked(self):
        """A QuickBooks customer has one currency: after a EUR invoice, a USD one is blocked, not refused."""
        eur = self.qbo_enable_eur()
        partner = self.env['res.partner'].create({'name': 'Euro Only GmbH', 'is_company': True})
        euro, dollar = self.env['account.move'].create([{
            'move_type': 'out_invoice', 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
            'currency_id': currency.id,
            'invoice_line_ids': [Command.create({'name': 'Work', 'quantity': 1, 'price_unit': 100,
                                                 'tax_ids': [Command.set(self.tax_ca.ids)]})],
        } for currency in (eur, self.company.currency_id)])
        (euro | dollar).action_post()
        self.qbo.clear_requests_log()
        euro.action_qbo_send()
        self.assertEqual(euro._qbo_binding(self.connection).state, 'sent')
        self.assertEqual(partner._qbo_binding(self.connection).qbo_currency, 'EUR',
                         "the customer's currency, kept from its create's answer")
        self.assertAlmostEqual(self.qbo.entity(self.realm, 'Invoice', euro._qbo_binding(self.connection).qbo_id)
                               ['ExchangeRate'], 1.25)
        dollar.action_qbo_send()
        binding = dollar._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'blocked')
        self.assertIn('EUR', binding.error_message)
        reads = [r for r in self.qbo.requests_log(path_contains=f'/v3/company/{self.realm}/')
                 if r['method'] == 'GET' or '/query' in r['path']]
        self.assertEqual(reads, [], "the currency check of each invoice costs no read")

    def test_cancelled_credit_note_is_deleted_in_quickbooks(self):
        refund = self._random_moves(random.Random(15), self.company, self.partner_a, [self.tax_ca], 1, 'out_refund')
        refund.action_qbo_send()
        binding = refund._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo_id = binding.qbo_id
        refund.button_draft()
        refund.button_cancel()
        binding._qbo_process()
        self.assertEqual(binding.state, 'voided')
        self.assertIn('deleted', binding.error_message)
        stored = self.qbo.entity(self.realm, 'CreditMemo', qbo_id)
        self.assertTrue(stored is None or stored.get('status') == 'Deleted', stored)
        self.assertFalse([cm for cm in self.qbo.entities(self.realm, 'CreditMemo')
                          if cm['Id'] == qbo_id and cm.get('status') != 'Deleted'])


@tagged('post_install', '-at_install')
class TestQboParityGB(QboTestCommon, QboRandomInvoices):
    """GB company with price-included VAT: net lines, gross in TaxInclusiveAmt, Odoo's VAT per rate."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref('base.GBP').active = True
        cls.gb_company = cls.setup_other_company(name='Parity UK', currency_id=cls.env.ref('base.GBP').id)['company']
        cls.change_company_country(cls.gb_company, cls.env.ref('base.uk'))
        cls.qbo_admin.company_ids = [Command.link(cls.gb_company.id)]

    def setUp(self):
        super().setUp()
        self.gb_realm = self.qbo.create_company('Parity UK', country='GB', currency='GBP')['realm_id']
        self.gb_connection = self._qbo_connect(self._qbo_configure(self.gb_company), self.gb_realm)
        self.vat = {}
        for code_id, name, rate, included in (('2', 'VAT 20% incl.', 20, True), ('3', 'VAT 5% incl.', 5, True),
                                              ('4', 'Zero rated', 0, True), ('2', 'VAT 20%', 20, False)):
            tax = self.env['account.tax'].create({
                'name': name, 'amount': rate, 'type_tax_use': 'sale', 'company_id': self.gb_company.id,
                'price_include_override': 'tax_included' if included else 'tax_excluded'})
            ref = self.env['qbo.ref'].search([('connection_id', '=', self.gb_connection.id),
                                              ('entity', '=', 'TaxCode'), ('qbo_id', '=', code_id)])
            self.env['qbo.mapping'].create({'connection_id': self.gb_connection.id, 'mapping_type': 'tax',
                                            'res_id': tax.id, 'qbo_ref_id': ref.id})
            self.vat[name] = tax

    def _gb_random_price_included(self, rounding, seed):
        self._set_rounding(self.gb_company, rounding)
        partner = self.env['res.partner'].create({'name': 'Parity Ltd', 'is_company': True})
        taxes = [self.vat['VAT 20% incl.'], self.vat['VAT 20% incl.'], self.vat['VAT 5% incl.'],
                 self.vat['Zero rated']]
        moves = self._random_moves(random.Random(seed), self.gb_company, partner, taxes, PARITY_N)
        self._assert_parity(moves, self.gb_connection, self.gb_realm)
        # Documents with only zero-rated lines charge no VAT and go TaxExcluded.
        for move in moves.filtered(lambda move: move.amount_tax)[:5]:
            qbo = self.qbo.entity(self.gb_realm, 'Invoice', move._qbo_binding(self.gb_connection).qbo_id)
            self.assertEqual(qbo['GlobalTaxCalculation'], 'TaxInclusive')
            items = [line for line in qbo['Line'] if line['DetailType'] == 'SalesItemLineDetail']
            # Lines carry what Odoo booked: nets add up to the untaxed amount, grosses to the total.
            self.assertAlmostEqual(sum(line['Amount'] for line in items), move.amount_untaxed)
            self.assertAlmostEqual(sum(line['SalesItemLineDetail']['TaxInclusiveAmt'] for line in items),
                                   move.amount_total)
        return moves

    def test_random_price_included_invoices_are_equal_to_the_cent(self):
        self._gb_random_price_included('round_per_line', 21)

    def test_random_price_included_invoices_rounded_globally_are_equal_to_the_cent(self):
        moves = self._gb_random_price_included('round_globally', 24)
        self._assert_books_line_cents(moves)

    def test_random_price_excluded_invoices_are_equal_to_the_cent(self):
        partner = self.env['res.partner'].create({'name': 'Net Ltd', 'is_company': True})
        for rounding, seed in (('round_per_line', 22), ('round_globally', 25)):
            with self.subTest(rounding=rounding):
                self._set_rounding(self.gb_company, rounding)
                moves = self._random_moves(random.Random(seed), self.gb_company, partner, [self.vat['VAT 20%']],
                                           PARITY_N // 2)
                if rounding == 'round_globally':
                    self._assert_books_line_cents(moves)
                self._assert_parity(moves, self.gb_connection, self.gb_realm)

    def test_vat_off_in_quickbooks_sends_no_tax_code_and_says_why(self):
        self.qbo.set_preferences(self.gb_realm, {'TaxPrefs': {'UsingSalesTax': False}})
        self.gb_connection._qbo_refresh_company_info()
        moves = self._random_moves(random.Random(23), self.gb_company, self.partner_a, [self.vat['VAT 20%']], 1)
        moves.with_company(self.gb_company).action_qbo_send()
        binding = moves._qbo_binding(self.gb_connection)
        qbo = self.qbo.entity(self.gb_realm, 'Invoice', binding.qbo_id)
        self.assertEqual(qbo['GlobalTaxCalculation'], 'NotApplicable')
        self.assertAlmostEqual(qbo['TotalAmt'], moves.amount_untaxed)
        self.assertEqual(binding.state, 'variance')
        self.assertIn('turned off', binding.error_message)


@tagged('post_install', '-at_install')
class TestQboAutoSendCutoff(QboTestCommon):
    """Turning on auto-send on a company with history queues only documents from the cut-off date."""

    def test_thousand_old_invoices_are_not_queued(self):
        partner = self.env['res.partner'].create({'name': 'Long Standing Customer'})
        old_day = date.today() - timedelta(days=400)
        old = self.env['account.move'].create([{
            'move_type': 'out_invoice', 'partner_id': partner.id, 'invoice_date': old_day + timedelta(days=n % 300),
            'invoice_line_ids': [Command.create({'name': 'Old work', 'quantity': 1, 'price_unit': 10 + n,
                                                 'tax_ids': [Command.clear()]})],
        } for n in range(1000)])
        old.action_post()
        # The accountant turns the option on in the settings: the cut-off defaults to today.
        settings = self.env['res.config.settings'].create({})
        settings.qbo_auto_send = True
        settings._onchange_qbo_auto_send()
        settings.execute()
        self.assertEqual(self.connection.export_from_date, fields.Date.context_today(self.connection))
        new = self.env['account.move'].create([{
            'move_type': move_type, 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'name': 'New work', 'quantity': 1, 'price_unit': 50,
                                                 'tax_ids': [Command.set(self.tax_ca.ids)]})],
        } for move_type in ('out_invoice', 'out_invoice', 'out_refund')])
        new.action_post()
        queued = self.env['qbo.binding'].search([('connection_id', '=', self.connection.id),
                                                 ('res_model', '=', 'account.move')])
        self.assertEqual(sorted(queued.mapped('res_id')), sorted(new.ids), "posting queues new documents only")
        # The cron's set-based sweep finds nothing more: the history stays untouched.
        self.assertFalse(self.env['account.move']._qbo_enqueue_auto_send())
        # Moving the cut-off back is the explicit way to export history.
        self.connection.export_from_date = old_day + timedelta(days=299)
        self.connection.next_auto_export = False  # the company's "Export every" interval has elapsed
        swept = self.env['account.move']._qbo_enqueue_auto_send()
        expected = old.filtered(lambda m: m.invoice_date >= self.connection.export_from_date)
        self.assertEqual(sorted(swept.mapped('res_id')), sorted(expected.ids))
        self.assertEqual(set(swept.mapped('entity')), {'Invoice'})
