import threading
from datetime import timedelta

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.tests import TransactionCase, tagged

from qbo_emulator import EmulatorServer
from qbo_emulator.testing import EmulatorControl

from .. import const
from .common import CLIENT_ID, CLIENT_SECRET, QboTestCommon


@tagged('post_install', '-at_install')
class TestQboOtherCompanies(QboTestCommon):
    """A non-US VAT company, a shared partner across two realms, paging and currencies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref('base.GBP').active = True
        # Generic chart (no l10n_uk needed), then a UK company in pounds.
        cls.gb_data = cls.setup_other_company(name='UK Ltd', currency_id=cls.env.ref('base.GBP').id)
        cls.gb_company = cls.gb_data['company']
        cls.change_company_country(cls.gb_company, cls.env.ref('base.uk'))
        cls.qbo_admin.company_ids = [Command.link(cls.gb_company.id)]

    def _connect_gb(self):
        gb_realm = self.qbo.create_company('UK Ltd', country='GB', currency='GBP')['realm_id']
        connection = self._qbo_configure(self.gb_company)
        self._qbo_connect(connection, gb_realm)
        return connection, gb_realm

    def test_non_us_vat_invoice(self):
        connection, gb_realm = self._connect_gb()
        self.assertFalse(connection.is_us)
        self.assertFalse(connection.preflight_message, connection.preflight_message)
        vat20 = self.env['account.tax'].create({'name': 'VAT 20%', 'amount': 20, 'type_tax_use': 'sale',
                                                'company_id': self.gb_company.id})
        connection._qbo_auto_match()
        self.assertEqual(self.env['qbo.mapping']._qbo_find(connection, 'tax', vat20).qbo_id, '2')
        partner = self.env['res.partner'].create({'name': 'Britannia Ltd', 'email': 'a@britannia.example'})
        move = self.env['account.move'].with_company(self.gb_company).create({
            'move_type': 'out_invoice', 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'name': 'Consulting', 'quantity': 3, 'price_unit': 33.33,
                                                 'tax_ids': [Command.set(vat20.ids)]})],
        })
        move.action_post()
        move.with_company(self.gb_company).action_qbo_send()
        binding = move._qbo_binding(connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo = self.qbo.entity(gb_realm, 'Invoice', binding.qbo_id)
        self.assertEqual(qbo['GlobalTaxCalculation'], 'TaxExcluded')
        line = next(line for line in qbo['Line'] if line['DetailType'] == 'SalesItemLineDetail')
        self.assertEqual(line['SalesItemLineDetail']['TaxCodeRef']['value'], '2')
        self.assertAlmostEqual(qbo['TotalAmt'], move.amount_total)
        self.assertAlmostEqual(qbo['TxnTaxDetail']['TotalTax'], move.amount_tax)

    def test_one_partner_two_companies_two_realms(self):
        gb_connection, gb_realm = self._connect_gb()
        shared = self.env['res.partner'].create({'name': 'Global Shared Co', 'company_id': False})
        shared.with_company(self.company).action_qbo_send()
        shared.with_company(self.gb_company).action_qbo_send()
        us_binding = shared._qbo_binding(self.connection)
        gb_binding = shared._qbo_binding(gb_connection)
        self.assertEqual((us_binding.state, gb_binding.state), ('sent', 'sent'))
        self.assertEqual(self.qbo.entity(self.realm, 'Customer', us_binding.qbo_id)['DisplayName'], 'Global Shared Co')
        self.assertEqual(self.qbo.entity(gb_realm, 'Customer', gb_binding.qbo_id)['DisplayName'], 'Global Shared Co')
        self.assertNotEqual(us_binding, gb_binding)

    def test_currency_mismatch_blocks_exports(self):
        gb_realm = self.qbo.create_company('US-currency UK', country='GB', currency='USD')['realm_id']
        connection = self._qbo_connect(self._qbo_configure(self.gb_company), gb_realm)
        self.assertIn('currency', connection.preflight_message)
        partner = self.env['res.partner'].create({'name': 'Blocked By Preflight'})
        partner.with_company(self.gb_company).action_qbo_send()
        self.assertEqual(partner._qbo_binding(connection).state, 'blocked')
        self.assertFalse(self.qbo.entities(gb_realm, 'Customer')[1:], "nothing but the seeded customer")

    def test_import_pages_through_more_than_1000_items_and_reruns(self):
        self.qbo.seed(self.realm, 'Item', 1100, prefix='Bulk item')
        self.connection.action_qbo_import_references()
        Ref = self.env['qbo.ref'].with_context(active_test=False)
        domain = [('connection_id', '=', self.connection.id), ('entity', '=', 'Item')]
        count = Ref.search_count(domain)
        self.assertGreater(count, 1100)
        item = Ref.search(domain + [('name', '=like', 'Bulk item%')], limit=1)
        self.qbo.delete_entity(self.realm, 'Item', item.qbo_id)  # inactivated in QuickBooks
        self.connection.action_qbo_import_references()
        self.assertEqual(Ref.search_count(domain), count, "re-running never duplicates")
        self.assertFalse(item.active)

    def test_credit_note_and_foreign_currency(self):
        eur = self.qbo_enable_eur()
        partner = self.env['res.partner'].create({'name': 'Euro Client', 'email': 'e@euro.example'})
        move = self.env['account.move'].create({
            'move_type': 'out_refund', 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
            'currency_id': eur.id,
            'invoice_line_ids': [Command.create({'name': 'Refund', 'quantity': 1, 'price_unit': 50,
                                                 'tax_ids': [Command.set(self.tax_ca.ids)]})],
        })
        move.action_post()
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.entity, 'CreditMemo')
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo = self.qbo.entity(self.realm, 'CreditMemo', binding.qbo_id)
        self.assertEqual(qbo['CurrencyRef']['value'], 'EUR')
        self.assertAlmostEqual(qbo['TotalAmt'], move.amount_total)
        self.assertAlmostEqual(qbo['ExchangeRate'], 1.25, places=4)

    def _gb_inclusive_invoice(self, connection, price):
        vat20_incl = self.env['account.tax'].create({
            'name': 'VAT 20% incl.', 'amount': 20, 'type_tax_use': 'sale', 'price_include_override': 'tax_included',
            'company_id': self.gb_company.id})
        standard = self.env['qbo.ref'].search([('connection_id', '=', connection.id), ('entity', '=', 'TaxCode'),
                                               ('qbo_id', '=', '2')])
        self.env['qbo.mapping'].create({'connection_id': connection.id, 'mapping_type': 'tax',
                                        'res_id': vat20_incl.id, 'qbo_ref_id': standard.id})
        move = self.env['account.move'].with_company(self.gb_company).create({
            'move_type': 'out_invoice', 'partner_id': self.env['res.partner'].create({'name': 'Gross Ltd'}).id,
            'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'name': 'Gross priced', 'quantity': 3, 'price_unit': price,
                                                 'tax_ids': [Command.set(vat20_incl.ids)]})],
        })
        move.action_post()
        move.with_company(self.gb_company).action_qbo_send()
        return move, move._qbo_binding(connection)

    def test_price_included_vat_is_sent_tax_inclusive(self):
        connection, gb_realm = self._connect_gb()
        move, binding = self._gb_inclusive_invoice(connection, 40.0)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo = self.qbo.entity(gb_realm, 'Invoice', binding.qbo_id)
        self.assertEqual(qbo['GlobalTaxCalculation'], 'TaxInclusive')
        line = next(line for line in qbo['Line'] if line['DetailType'] == 'SalesItemLineDetail')
        self.assertAlmostEqual(line['Amount'], 100.0, msg="line amounts are net")
        self.assertAlmostEqual(line['SalesItemLineDetail']['TaxInclusiveAmt'], 120.0)
        self.assertAlmostEqual(qbo['TotalAmt'], move.amount_total)
        self.assertAlmostEqual(qbo['TxnTaxDetail']['TotalTax'], move.amount_tax)

    def test_price_included_rounding_is_odoo_vat(self):
        """99.99 gross at 20%: Odoo books 16.67 VAT; the document carries it, QuickBooks keeps it."""
        connection, gb_realm = self._connect_gb()
        move, binding = self._gb_inclusive_invoice(connection, 33.33)
        qbo = self.qbo.entity(gb_realm, 'Invoice', binding.qbo_id)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertAlmostEqual(qbo['TotalAmt'], move.amount_total)
        self.assertAlmostEqual(qbo['TxnTaxDetail']['TotalTax'], 16.67)


@tagged('post_install', '-at_install')
class TestQboTokenRace(TransactionCase):
    """Two database cursors meet an expired access token at once: one refresh, both continue.

    Needs committed rows (two real transactions), so it creates and removes its own data.
    """

    def test_two_cursors_refresh_once(self):
        registry = self.registry
        base_url = self.env['ir.config_parameter'].sudo().get_param('web.base.url')
        server = EmulatorServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                redirect_uris=[base_url + '/quickbooks_online/oauth/callback'])
        server.start()
        self.addCleanup(server.stop)
        control = EmulatorControl(server.url)
        realm = control.create_company('Race Co', country='US')['realm_id']
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env['ir.config_parameter'].set_param(const.PARAM_ALLOW_CUSTOM_ENDPOINT, 'True')
            company = env['res.company'].create({'name': 'QBO race company'})
            connection = env['qbo.connection'].create({
                'company_id': company.id, 'environment': 'custom', 'custom_base_url': server.url,
                'client_id': CLIENT_ID, 'client_secret': CLIENT_SECRET})
            env.user.company_ids = [Command.link(company.id)]
        # Committed first: the code exchange runs on a cursor of its own, which must see the connection.
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            connection = env['qbo.connection'].browse(connection.id)
            action = connection.action_qbo_connect()
            location = control.consent(action['url'], realm_id=realm)
            code = location.split('code=')[1].split('&')[0]
            connection._qbo_complete_authorization(code, realm)
            cr.commit()  # the exchange committed on a cursor of its own: see its tokens
            token = env['qbo.token'].search([('connection_id', '=', connection.id)])
            token.access_token_expiry = fields.Datetime.now() - timedelta(minutes=1)
            connection_id, company_id = connection.id, company.id
        self.addCleanup(self._cleanup, connection_id, company_id)
        control.clear_requests_log()
        control.settings(latency_ms=200)
        barrier = threading.Barrier(2)
        results, errors = [], []
        # Cursors and environments are made here: Odoo's test runner holds the registry lock, so a
        # thread could not look the registry up by name (a server's workers can).
        cursors = [registry.cursor() for _ in range(2)]
        connections = [api.Environment(cr, SUPERUSER_ID, {})['qbo.connection'].browse(connection_id)
                       for cr in cursors]

        def worker(connection):
            try:
                barrier.wait(timeout=10)
                results.append(connection._qbo_get_access_token())
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(repr(exc))
            finally:
                connection.env.cr.close()

        threads = [threading.Thread(target=worker, args=(connection,)) for connection in connections]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertFalse(errors)
        refreshes = [r for r in control.requests_log(path_contains='/tokens/bearer')
                     if r.get('grant_type') == 'refresh_token']
        self.assertEqual(len(refreshes), 1)
        self.assertEqual(len(set(results)), 1, "both workers continue with the one new token")
        # The new token works against QuickBooks.
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            info = env['qbo.connection'].browse(connection_id)._qbo_get_client([]).company_info()
            self.assertEqual(info['CompanyName'], 'Race Co')

    def _cleanup(self, connection_id, company_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env['qbo.connection'].browse(connection_id).unlink()
            env['ir.config_parameter'].set_param(const.PARAM_ALLOW_CUSTOM_ENDPOINT, False)
            env.user.company_ids = [Command.unlink(company_id)]
            env['res.company'].browse(company_id).active = False
