"""The settings, mappings and messages an admin and an accountant meet while setting the connector up.

Each test names the dead end it guards against (issue "A real admin can set it up"); the browser
tours (test_qbo_tours.py) walk the same screens end to end.
"""
from urllib.parse import urlsplit

from odoo import Command, sql_db
from odoo.exceptions import ValidationError
from odoo.tests import Form, new_test_user, tagged

from ..tools import QboError
from .common import QboTestCommon


@tagged('post_install', '-at_install')
class TestQboSettingsSave(QboTestCommon):

    def _settings(self, **vals):
        return self.env['res.config.settings'].create(vals)

    def test_credentials_and_endpoint_typed_in_settings_are_saved(self):
        """Item 1: Client ID, Secret and Custom endpoint URL reach the connection on Save."""
        self._settings(qbo_environment='custom', qbo_custom_base_url='http://127.0.0.1:9999',
                       qbo_client_id='new-client', qbo_client_secret='new-secret').execute()
        connection = self.connection.sudo()
        self.assertEqual((connection.client_id, connection.client_secret), ('new-client', 'new-secret'))
        self.assertEqual(connection.custom_base_url, 'http://127.0.0.1:9999')
        # ... and are shown again when the settings open.
        shown = self._settings()
        self.assertEqual((shown.qbo_client_id, shown.qbo_custom_base_url), ('new-client', 'http://127.0.0.1:9999'))

    def test_first_save_creates_the_connection(self):
        self.connection.sudo().unlink()
        self._settings(qbo_environment='sandbox', qbo_client_id='abc', qbo_client_secret='def').execute()
        connection = self.env['qbo.connection']._qbo_get_for_company(self.company).sudo()
        self.assertEqual((connection.environment, connection.client_id, connection.client_secret),
                         ('sandbox', 'abc', 'def'))

    def test_interval_is_saved_and_shown_and_bounded(self):
        """Item 3: the interval is saved per connection, shown as saved, and never below 15 minutes."""
        self.assertEqual(self._settings().qbo_export_interval, 60, "the default is shown, not 0")
        self._settings(qbo_auto_send=True, qbo_export_interval=30).execute()
        self.assertEqual(self.connection.export_interval, 30)
        self.assertEqual(self._settings().qbo_export_interval, 30)
        with self.assertRaises(ValidationError):
            self._settings(qbo_export_interval=10).execute()

    def test_save_while_the_export_cron_runs(self):
        """Item 4: saving (default tax changed, auto-send on) succeeds while the scheduled export runs."""
        cron = self.env.ref('quickbooks_online.ir_cron_qbo_export')
        other_tax = self.env['account.tax'].create({'name': 'Other 8%', 'amount': 8.0, 'type_tax_use': 'sale',
                                                    'company_id': self.company.id})
        # A real second connection (not the test cursor): what the cron runner holds while the job runs.
        runner_cr = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            runner_cr.execute("SELECT id FROM ir_cron WHERE id = %s FOR NO KEY UPDATE", [cron.id])
            self.env.cr.execute("SET LOCAL lock_timeout = '5s'")  # an ORM write of the cron would wait, then fail
            self._settings(qbo_auto_send=True, qbo_export_interval=20, sale_tax_id=other_tax.id).execute()
        finally:
            runner_cr.rollback()
            runner_cr.close()
        self.assertEqual(self.connection.export_interval, 20)
        self.assertEqual(self.company.account_sale_tax_id, other_tax)

    def test_secrets_are_not_loaded_for_non_admins(self):
        accountant = new_test_user(self.env, login='qbo_acc', groups='account.group_account_manager',
                                   company_id=self.company.id)
        values = self.env['res.config.settings'].with_user(accountant).get_values()
        self.assertNotIn('qbo_client_secret', values)
        self.assertNotIn('qbo_client_id', values)


@tagged('post_install', '-at_install')
class TestQboMappingsAndProposals(QboTestCommon):

    def test_each_kind_of_mapping_can_be_created_in_the_form(self):
        """Item 2: creating a mapping from the screen stores its Odoo record (no 'res_id' NOT NULL error)."""
        Ref = self.env['qbo.ref']
        journal = self.env['account.journal'].search([('type', '=', 'bank'), ('company_id', '=', self.company.id)],
                                                     limit=1)
        plan = self.env['account.analytic.plan'].sudo().create({'name': 'Plan'})
        cases = [
            ('tax', 'tax_id', self.env['account.tax'].create({'name': 'T5', 'amount': 5, 'type_tax_use': 'sale',
                                                              'company_id': self.company.id}), 'TaxCode'),
            ('term', 'term_id', self.env.ref('account.account_payment_term_45days'), 'Term'),
            ('product', 'product_id', self.env['product.product'].create({'name': 'P'}), 'Item'),
            ('analytic', 'analytic_id', self.env['account.analytic.account'].sudo().create({'name': 'A', 'plan_id': plan.id}),
             'Class'),
            ('payment_method', 'journal_id', journal, 'PaymentMethod'),
        ]
        self.qbo.seed(self.realm, 'Class', 1, prefix='Retail')
        self.connection.action_qbo_import_references()
        for kind, field, record, entity in cases:
            form = Form(self.env['qbo.mapping'])
            form.mapping_type = kind
            setattr(form, field, record)
            form.qbo_ref_id = Ref.search([('connection_id', '=', self.connection.id), ('entity', '=', entity)],
                                         limit=1)
            mapping = form.save()
            self.assertEqual((mapping.res_model, mapping.res_id), (record._name, record.id), kind)
            self.assertEqual(self.env['qbo.mapping']._qbo_find(self.connection, kind, record), mapping.qbo_ref_id)

    def test_income_account_for_new_items_is_a_sales_account(self):
        """Item 5: never 'Discounts given' (contra-revenue)."""
        self.connection.income_account_ref_id = False
        self.connection._qbo_auto_match()
        account = self.connection.income_account_ref_id
        self.assertTrue(account)
        self.assertNotEqual(account.data.get('AccountSubType'), 'DiscountsRefundsGiven')
        self.assertNotEqual(account.name, 'Discounts given')

    def test_terms_are_proposed_only_when_equivalent(self):
        """Item 6: 'End of Following Month' and '10 Days after End of Next Month' get no proposal."""
        Term = self.env['account.payment.term']
        end_following = Term.create({'name': 'End of Following Month', 'line_ids': [Command.create({
            'value': 'percent', 'value_amount': 100, 'delay_type': 'days_after_end_of_next_month', 'nb_days': 0})]})
        ten_after = Term.create({'name': '10 Days after End of Next Month', 'line_ids': [Command.create({
            'value': 'percent', 'value_amount': 100, 'delay_type': 'days_after_end_of_next_month', 'nb_days': 10})]})
        net30 = self.env.ref('account.account_payment_term_30days')
        self.env['qbo.mapping'].search([('mapping_type', '=', 'term')]).unlink()
        self.connection._qbo_auto_match()
        Mapping = self.env['qbo.mapping']
        self.assertFalse(Mapping._qbo_find(self.connection, 'term', end_following))
        self.assertFalse(Mapping._qbo_find(self.connection, 'term', ten_after))
        self.assertEqual(Mapping._qbo_find(self.connection, 'term', net30).name, 'Net 30')


@tagged('post_install', '-at_install')
class TestQboOutcomesAndAdvice(QboTestCommon):

    def _invoice(self, amount=100.0):
        move = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': self.partner_a.id, 'invoice_date': '2026-11-20',
            'invoice_line_ids': [Command.create({'name': 'Work', 'quantity': 1, 'price_unit': amount,
                                                 'tax_ids': [Command.set(self.tax_ca.ids)]})],
        })
        move.action_post()
        return move

    def test_retryable_failure_says_why_and_when(self):
        """Item 7: a 5xx is not a green 'sent': the reason and the next attempt are shown."""
        move = self._invoice()
        self.qbo.inject_fault('503', count=10, realm_id=self.realm, path_contains='/invoice')
        try:
            result = move.action_qbo_send()
        finally:
            self.qbo.clear_faults()
        params = result['params']
        self.assertEqual(params['type'], 'warning', params['message'])
        self.assertIn('Next attempt', params['message'])
        self.assertEqual(move.qbo_state, 'to_send')
        self.assertTrue(move.qbo_next_retry)
        self.assertTrue(move.qbo_error, "the reason stays visible on the invoice's banner")

    def test_list_send_counts_what_really_happened(self):
        """Item 7: an unchanged invoice sent again and a voided one are not counted as sent."""
        sent, voided, new = self._invoice(10), self._invoice(20), self._invoice(30)
        (sent | voided).action_qbo_send()
        voided.button_draft()
        voided.button_cancel()
        voided._qbo_binding()._qbo_process()
        self.assertEqual(voided.qbo_state, 'voided')
        before = len(self.qbo_all(self.realm, 'Invoice'))
        result = (sent | voided | new).action_qbo_send()
        message = result['params']['message']
        self.assertIn('1 sent.', message)
        self.assertIn('1 already in QuickBooks and unchanged', message)
        self.assertIn('1 voided or deleted', message)
        self.assertEqual(len(self.qbo_all(self.realm, 'Invoice')), before + 1, "only the new invoice went")

    def test_intuit_authorization_fault_comes_with_advice(self):
        """Item 8: 'errorCode=003100' becomes advice a person can act on, naming the real menu."""
        advice = self.env['qbo.error.advice']
        exc = QboError('message=AuthorizationFailed; errorCode=003100; statusCode=403', status=403)
        text = advice._qbo_describe(exc)
        self.assertIn("Check the user's rights in QuickBooks", text)
        self.assertIn('Settings > Invoicing > QuickBooks Online', text, "Community's real menu name")
        self.assertIn('AuthorizationFailed', text, "Intuit's own words are kept after the advice")

    def test_messages_name_existing_menus(self):
        where = self.env['qbo.connection']._qbo_where('mappings')
        app = self.env.ref('account.menu_finance').name
        self.assertTrue(where.startswith(app))
        menu = self.env.ref('quickbooks_online.menu_qbo_mapping')
        self.assertEqual(menu.parent_id.parent_id, self.env.ref('account.menu_finance_configuration'))

    def test_takeover_by_an_admin_without_email_reports_success(self):
        """Item 7: the callback page no longer says 'failed' when the connection did switch."""
        other = new_test_user(self.env, login='qbo_admin2', password='qbo_admin2', email=False,
                              groups='base.group_system,account.group_account_manager',
                              company_id=self.company.id, company_ids=[(6, 0, self.company.ids)])
        connection = self.connection.with_user(other)
        action = connection.with_context(qbo_takeover_confirmed=True).action_qbo_connect()
        location = self.qbo.consent(action['url'], realm_id=self.realm)
        self.authenticate('qbo_admin2', 'qbo_admin2')
        parts = urlsplit(location)
        response = self.url_open(f"{parts.path}?{parts.query}", allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:300])
        self.assertIn('qbo_action_connect_done', response.headers['Location'])
        self.connection.invalidate_recordset()
        self.assertEqual(self.connection.connected_uid, other)
        feedback = self.env['qbo.connection'].with_user(other).qbo_connect_feedback()
        self.assertIn('Connected to Odoo Test US', feedback['message'])

    def test_connection_test_keeps_line_breaks(self):
        result = self.connection.action_qbo_test()
        self.assertEqual(result['params']['className'], 'o_qbo_notification')
        self.assertIn('\n', result['params']['message'])
