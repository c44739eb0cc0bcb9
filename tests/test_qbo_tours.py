"""Setting the connector up as a person does: through the screens, in headless Chromium.

Nothing about the connection is prepared in code here: the database starts with no QuickBooks
configuration at all, and every setup step is an Odoo tour (static/tests/tours/qbo_setup_tours.js)
clicking the real settings, menus, lists and buttons. Intuit's consent page is the emulator's;
the test approves it in the same browser, as the admin would. After each tour, the test checks
what the database and QuickBooks (the emulator, read back over its control API) hold.

Only business data that is not part of the connector's setup (a customer, a product, invoices,
an Odoo tax) is created in code.
"""
import contextlib
import json
import time
from unittest.mock import patch
from urllib.parse import urlsplit

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import ChromeBrowser, ChromeBrowserException

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .common import CLIENT_ID, CLIENT_SECRET, QboEmulatorMixin


@tagged('post_install', '-at_install')
class TestQboSetupThroughTheBrowser(AccountTestInvoicingCommon, HttpCase, QboEmulatorMixin):
    """A fresh database configured only through the browser connects and sends invoices."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._qbo_start_emulator()
        company = cls.env.company
        cls.change_company_country(company, cls.env.ref('base.us'))
        # The test chart has cash-basis taxes: with the setting off, the settings page opens on an error dialog.
        company.tax_exigibility = True
        cls.admin = new_test_user(cls.env, login='qbo_setup_admin', password='qbo_setup_admin',
                                  groups='base.group_system,base.group_partner_manager,account.group_account_manager',
                                  company_id=company.id, company_ids=[(6, 0, company.ids)], email=False)
        cls.company = company
        cls.realm = cls.qbo.create_company('Browser Co US', country='US')['realm_id']
        # What the QuickBooks company holds besides the sample data: an item and a class to map to.
        cls.qbo.seed(cls.realm, 'Item', 1, prefix='Hours')
        cls.qbo.seed(cls.realm, 'Class', 1, prefix='Retail')
        cls.qbo.seed(cls.realm, 'Term', 1, prefix='Net 45')  # due in 1 day: no equivalent, never proposed
        # Odoo business data (not connector setup).
        cls.tax8 = cls.env['account.tax'].create({
            'name': 'QBO Tax 8%', 'amount': 8.0, 'amount_type': 'percent', 'type_tax_use': 'sale',
            'company_id': company.id})
        # Odoo's default sales tax has QuickBooks' default rate (California, 8%): nothing held.
        company.account_sale_tax_id = cls.tax8
        cls.product = cls.env['product.product'].create({'name': 'QBO Consulting', 'lst_price': 100.0,
                                                         'taxes_id': [Command.set(cls.tax8.ids)]})
        plan = cls.env['account.analytic.plan'].create({'name': 'QBO Plan'})
        cls.analytic = cls.env['account.analytic.account'].create({'name': 'QBO Retail', 'plan_id': plan.id,
                                                                   'company_id': company.id})
        cls.customer = cls.env['res.partner'].create({'name': 'Browser Customer: Ltd', 'email': 'b@example.com',
                                                      'is_company': True})

    # ------------------------------------------------------------------ helpers

    def _connection(self):
        return self.env['qbo.connection'].sudo().search([('company_id', '=', self.company.id)])

    def _invoice(self, amount=100.0, tax=None):
        move = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': self.customer.id, 'company_id': self.company.id,
            'invoice_date': '2026-11-20',
            'invoice_line_ids': [Command.create({
                'product_id': self.product.id, 'quantity': 1, 'price_unit': amount,
                'tax_ids': [Command.set((tax or self.tax8).ids)]})],
        })
        move.action_post()
        return move

    def _qbo_invoices(self):
        return self.qbo_all(self.realm, 'Invoice')

    def _tour(self, url, tour, consent_realm=None, timeout=120):
        """Run a tour as the admin, in Chromium, like `start_tour`; approve Intuit's consent when asked.

        When `consent_realm` is given the tour leaves Odoo for the emulator's consent page: the
        browser then picks that QuickBooks company and clicks Connect on that page, and the tour
        resumes when Intuit's callback brings the browser back (tours survive page loads).
        """
        browser = ChromeBrowser(self, headless=True, success_signal='tour succeeded')
        with contextlib.ExitStack() as stack:
            self._qbo_let_browser_in(browser, stack)
            self._qbo_run_tour(browser, url, tour, consent_realm, timeout)
        # The browser's requests ran on the test cursor: read fresh values.
        self.env.invalidate_all()

    def _qbo_let_browser_in(self, browser, stack):
        """Let the browser's requests reach the test cursor, as `HttpCase.browser_js` does.

        Odoo 19 admits only requests carrying the test cookie (`allow_requests` hands it to the
        browser) and starts tours with the users' onboarding tours disabled; Odoo 18 matches
        requests on `http_request_key`. Everything opened here is closed by `stack`.
        """
        if hasattr(self, 'allow_requests'):  # Odoo 19
            stack.enter_context(self.allow_requests(browser=browser))
            Users = self.registry['res.users']
            stack.enter_context(patch.object(Users, 'tour_enabled', False))
            stack.enter_context(patch.object(Users, '_compute_tour_enabled', lambda _: None))
        else:  # Odoo 18
            self.http_request_key = self.canonical_tag + '_browser_js'
            stack.callback(setattr, self, 'http_request_key', self.canonical_tag)
        stack.callback(self._wait_remaining_requests)
        stack.callback(browser.stop)
        self.authenticate('qbo_setup_admin', 'qbo_setup_admin', browser=browser)
        self.http_request_strict_check = True

    def _qbo_run_tour(self, browser, url, tour, consent_realm, timeout):
        """Start `tour` at `url` in an authenticated `browser`, approve the consent page, wait for the end."""
        self.cr.flush()
        self.cr.clear()
        browser.navigate_to(self.base_url() + url, wait_stop=False)
        self.assertTrue(browser._wait_ready(f"odoo.isTourReady({tour!r})"), f"tour {tour} never became ready")
        params = json.dumps({'url': self.qbo_server.url, 'client_id': CLIENT_ID, 'client_secret': CLIENT_SECRET})
        browser._websocket_request('Runtime.evaluate', params={'expression': (
            f"localStorage.setItem('qbo_tour_params', {json.dumps(params)});"
            f"odoo.startTour({tour!r}, {json.dumps({'stepDelay': 0, 'startUrl': url})})")})
        if consent_realm:
            emulator_host = urlsplit(self.qbo_server.url).netloc
            on_consent_page = (f"location.host === {emulator_host!r} "
                               "&& !!document.querySelector('button[value=approve]')")
            self.assertTrue(self._qbo_wait_for(browser, on_consent_page), "never reached Intuit's consent page")
            browser._websocket_request('Runtime.evaluate', params={'expression': (
                f"document.querySelector('select[name=realm_id]').value = {consent_realm!r};"
                "document.querySelector('button[value=approve]').click();")})
        start = time.time()
        try:
            browser._result.result(timeout)
        except Exception as exc:  # noqa: BLE001 - reported as the test's failure with a screenshot
            browser.take_screenshot()
            self.fail(f"tour {tour} failed: {exc}")
        self.assertFalse(browser.had_failure, f"tour {tour} logged an error")
        self.assertLess(time.time() - start, timeout)

    @staticmethod
    def _qbo_wait_for(browser, condition, timeout=60):
        """Poll a JS condition across page loads (an evaluation in flight during a navigation fails)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                result = browser._websocket_request('Runtime.evaluate', params={
                    'expression': f"try {{ {condition} }} catch {{ false }}"}, timeout=10)['result']
                if result == {'type': 'boolean', 'value': True}:
                    return True
            except ChromeBrowserException:
                pass  # the page is navigating: ask again
            time.sleep(0.2)
        return False

    # ------------------------------------------------------------------ the setup, step by step

    def test_setup_through_the_browser(self):
        settings_url = '/odoo/action-account.action_account_config'
        self.assertFalse(self._connection(), "a fresh database has no QuickBooks configuration")

        # 1. Credentials and environment typed and saved; Connect; Intuit's page; back with a notification.
        self._tour(settings_url, 'qbo_tour_connect', consent_realm=self.realm)
        connection = self._connection()
        self.assertEqual(connection.environment, 'custom')
        self.assertEqual(connection.custom_base_url, self.qbo_server.url)
        self.assertEqual((connection.client_id, connection.client_secret), (CLIENT_ID, CLIENT_SECRET))
        self.assertEqual(connection.state, 'connected')
        self.assertEqual(connection.realm_id, self.realm)
        self.assertEqual(connection.connected_uid, self.admin, "an admin without an e-mail address can connect")
        self.assertEqual(connection.qbo_company_name, 'Browser Co US')
        token_calls = self.qbo.requests_log(path_contains='/oauth2/v1/tokens/bearer')
        self.assertTrue(token_calls, "the code was exchanged at Intuit's token endpoint")
        refs = self.env['qbo.ref'].sudo().search([('connection_id', '=', connection.id)])
        self.assertIn('Hours 00001', refs.mapped('name'), "Import brought QuickBooks' items")
        self.assertTrue(connection.last_test_date, "the Test button read QuickBooks")

        # 2. Export settings on this company's connection, and the scheduler planned accordingly.
        self._tour(settings_url, 'qbo_tour_export_settings')
        connection = self._connection()
        self.assertTrue(connection.auto_send)
        self.assertEqual(connection.export_interval, 30)
        self.assertEqual(connection.doc_number_prefix, 'OD-')
        self.assertEqual(connection.error_emails, 'accounting@example.com')
        cron = self.env.ref('quickbooks_online.ir_cron_qbo_export')
        triggers = self.env['ir.cron.trigger'].sudo().search([('cron_id', '=', cron.id)])
        self.assertTrue(any(abs((t.call_at - connection.next_auto_export).total_seconds()) < 5 for t in triggers),
                        "the scheduler runs when this company's next export is due")

        # 3. One mapping of each kind through the Mappings list, and one edited.
        self._tour('/odoo/action-account.action_move_out_invoice_type', 'qbo_tour_mappings')
        Mapping = self.env['qbo.mapping'].sudo()

        def mapped(kind, record):
            return Mapping.search([('connection_id', '=', connection.id), ('mapping_type', '=', kind),
                                   ('res_id', '=', record.id)])

        self.assertEqual(mapped('term', self.env.ref('account.account_payment_term_45days')).qbo_ref_id.name,
                         'Net 45 00001')
        self.assertEqual(mapped('term', self.env.ref('account.account_payment_term_30days')).qbo_ref_id.name,
                         'Net 30', "proposed by the import (same days)")
        product_mapping = mapped('product', self.product)
        self.assertEqual(product_mapping.qbo_ref_id.name, 'Services', "the edit was saved")
        self.assertEqual(mapped('analytic', self.analytic).qbo_ref_id.name, 'Retail 00001')
        journal_mapping = Mapping.search([('connection_id', '=', connection.id), ('mapping_type', '=', 'payment_method')])
        self.assertEqual(journal_mapping.journal_id.type, 'bank')
        self.assertEqual(journal_mapping.qbo_ref_id.name, 'Check')

        # 4. An invoice blocked by its unmapped tax: fixed by creating the mapping, then sent.
        blocked = self._invoice()
        blocked.action_qbo_send()
        self.assertEqual(blocked._qbo_binding().state, 'blocked')
        self._tour(f'/odoo/action-account.action_move_out_invoice_type/{blocked.id}', 'qbo_tour_fix_blocked_invoice')
        binding = blocked._qbo_binding()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertFalse(binding.error_message, "no stale 'Blocked' text on a sent record")
        qbo_invoice = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
        self.assertAlmostEqual(float(qbo_invoice['TotalAmt']), blocked.amount_total, places=2)
        self.assertEqual(qbo_invoice['TxnTaxDetail']['TxnTaxCodeRef']['value'], '2', "the mapped California code")

        # 5. Send from the form.
        from_form = self._invoice(amount=250.0)
        self._tour(f'/odoo/action-account.action_move_out_invoice_type/{from_form.id}', 'qbo_tour_send_from_form')
        qbo_id = from_form._qbo_binding().qbo_id
        self.assertAlmostEqual(float(self.qbo_read(self.realm, 'Invoice', qbo_id)['TotalAmt']),
                               from_form.amount_total, places=2)

        # 6. Send from the list: only what is not in QuickBooks yet goes; nothing twice.
        new_ones = self._invoice(amount=10.0) | self._invoice(amount=20.0)
        before = len(self._qbo_invoices())
        self._tour('/odoo/action-account.action_move_out_invoice_type', 'qbo_tour_send_from_list')
        self.assertEqual(set(new_ones.mapped(lambda m: m._qbo_binding().state)), {'sent'})
        self.assertEqual(len(self._qbo_invoices()), before + 2, "the two new invoices, nothing sent twice")

        # 7. A failed transfer and its advice: the product's QuickBooks item was made inactive in QuickBooks.
        self.qbo.patch_entity(self.realm, 'Item', product_mapping.qbo_ref_id.qbo_id, {'Active': False})
        failing = self._invoice(amount=30.0)
        failing.action_qbo_send()
        self.assertIn(failing._qbo_binding().state, ('error', 'blocked'))
        self._tour('/odoo/action-account.action_move_out_invoice_type', 'qbo_tour_read_failed_transfer')

        # 8. Disconnect: revoked at Intuit, wiped here, history kept.
        self._tour(settings_url, 'qbo_tour_disconnect')
        connection = self._connection()
        self.assertEqual(connection.state, 'disconnected')
        self.assertFalse(self.env['qbo.token'].sudo().search([('connection_id', '=', connection.id)]))
        self.assertTrue(self.qbo.requests_log(path_contains='/oauth2/tokens/revoke'), "revoked at Intuit")
        self.assertTrue(self.env['qbo.binding'].sudo().search([('connection_id', '=', connection.id)]),
                        "links are kept")
