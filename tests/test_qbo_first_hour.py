from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import QboTestCommon
from .test_qbo_payments import QboPaymentsCommon


class QboFirstHourCommon(QboTestCommon):
    """Issue 24: what a new admin and a new accountant hit in their first hour."""

    def _invoice(self, price=100.0, partner=None, currency=None, **line):
        partner = partner or self.env['res.partner'].create({'name': 'First Hour Co', 'is_company': True})
        vals = {'move_type': 'out_invoice', 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
                'invoice_line_ids': [Command.create(dict({'product_id': self.product_a.id, 'quantity': 1,
                                                          'price_unit': price,
                                                          'tax_ids': [Command.set(self.tax_ca.ids)]}, **line))]}
        if currency:
            vals['currency_id'] = currency.id
        move = self.env['account.move'].create(vals)
        move.action_post()
        return move

    def _token(self):
        return self.env['qbo.token'].sudo().search([('connection_id', '=', self.connection.id),
                                                    ('is_pending', '=', False)])

    def _expire_access_token(self):
        """The access token is due for a refresh (an hour after connecting)."""
        self._token().access_token_expiry = fields.Datetime.now() - timedelta(minutes=1)
        self.env.flush_all()  # the refresh reads the token row on a cursor of its own


@tagged('post_install', '-at_install')
class TestQboReconnect(QboFirstHourCommon):
    """Point 4: a refusal only reconnecting can fix says "reconnect" at once, everywhere."""

    def assertSaysReconnect(self, move, action):
        params = action['params']
        self.assertEqual(params['type'], 'danger', params['message'])
        self.assertEqual(params['title'], "Reconnect QuickBooks Online")
        self.assertNotIn('nothing to do', params['message'])
        self.assertIn('reconnect', params['message'])
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'to_send', "kept queued: it goes after reconnecting")

    def test_wrong_client_secret_says_reconnect(self):
        move = self._invoice()
        self.connection.sudo().client_secret = 'not-the-secret'
        self._expire_access_token()
        action = move.action_qbo_send()
        self.assertSaysReconnect(move, action)
        self.assertIn('invalid_client', self.connection.last_error)
        self.assertEqual(self.connection.state, 'reconnect')
        self.assertTrue(move.qbo_reconnect, "the document's status says reconnect")
        # Reconnected with the right secret: the queued document goes.
        self.connection.sudo().client_secret = 'odoo-test-secret'
        self._qbo_connect(self.connection, self.realm)
        move.invalidate_recordset(['qbo_reconnect'])
        self.assertFalse(move.qbo_reconnect)
        move.action_qbo_send()
        self.assertEqual(move._qbo_binding(self.connection).state, 'sent')

    def test_app_revoked_in_quickbooks_says_reconnect(self):
        move = self._invoice()
        self.qbo.revoke_tokens(realm_id=self.realm)
        action = move.action_qbo_send()
        self.assertSaysReconnect(move, action)
        self.assertIn('invalid_grant', action['params']['message'])
        # (The connection is stopped on a cursor of its own, committed at once outside tests.)
        customer = move.partner_id._qbo_binding(self.connection)
        self.assertIn('reconnect', customer.error_message)

    def test_connection_test_with_refused_credentials_is_not_connected(self):
        self.connection.sudo().client_secret = 'not-the-secret'
        self._expire_access_token()
        action = self.connection.action_qbo_test()
        self.assertEqual(action['params']['type'], 'danger')
        self.assertIn('econnect', action['params']['message'])
        self.assertEqual(self.connection.state, 'reconnect', "no green Connected badge next to the error")
        settings = self.env['res.config.settings'].create({})
        self.assertEqual(settings.qbo_state, 'reconnect')

    def test_saving_new_credentials_tests_them_with_intuit(self):
        self.qbo.clear_requests_log()
        self.env['res.config.settings'].create({'qbo_client_secret': 'typo-in-the-secret'}).execute()
        self.assertTrue(self.qbo.requests_log('/tokens/bearer'), "checked at Intuit's token endpoint")
        self.assertEqual(self.connection.state, 'reconnect')
        self.assertIn("Intuit refused the Client ID / Client Secret saved here", self.connection.last_error)
        settings = self.env['res.config.settings'].create({})
        self.assertIn("Intuit refused", settings.qbo_last_error)
        # The right secret saved: accepted (the connection still needs the reconnect its tokens need).
        self.env['res.config.settings'].create({'qbo_client_secret': 'odoo-test-secret'}).execute()
        self._qbo_connect(self.connection, self.realm)
        self.assertEqual(self.connection.state, 'connected')
        self.assertFalse(self.connection.last_error)
        # Unchanged credentials saved again: no call.
        self.qbo.clear_requests_log()
        self.env['res.config.settings'].create({}).execute()
        self.assertFalse(self.qbo.requests_log('/tokens/bearer'))


@tagged('post_install', '-at_install')
class TestQboTaxRateCheck(QboFirstHourCommon):
    """Point 3: an Odoo tax mapped to a QuickBooks tax code of another total rate."""

    def setUp(self):
        super().setUp()
        self.tax_15 = self.env['account.tax'].create({'name': 'Sales 15%', 'amount': 15.0, 'amount_type': 'percent',
                                                      'type_tax_use': 'sale', 'company_id': self.company.id})
        self.tucson = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id),
                                                  ('entity', '=', 'TaxCode'), ('qbo_id', '=', '3')])
        self.assertAlmostEqual(self.tucson.rate, 9.1)

    def test_mapping_row_warns_and_the_send_blocks_with_what_differs(self):
        # At mapping time: a warning while choosing, and on the row afterwards.
        draft = self.env['qbo.mapping'].new({'connection_id': self.connection.id, 'mapping_type': 'tax',
                                             'tax_id': self.tax_15.id, 'qbo_ref_id': self.tucson.id})
        warning = draft._onchange_tax_rate()['warning']
        self.assertIn('9.1%', warning['message'])
        self.assertIn('15%', warning['message'])
        mapping = self.env['qbo.mapping'].create({'connection_id': self.connection.id, 'mapping_type': 'tax',
                                                  'tax_id': self.tax_15.id, 'qbo_ref_id': self.tucson.id})
        self.assertEqual(mapping.rate_warning, "Odoo 15% ≠ QuickBooks 9.1%")
        self.assertFalse(self.env['qbo.mapping'].search([('tax_id', '=', self.tax_ca.id)]).rate_warning)
        # At send time: blocked on the document, nothing sent with the wrong tax.
        move = self._invoice(80.0, tax_ids=[Command.set(self.tax_15.ids)])
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'blocked')
        self.assertIn("Blocked: tax rate", binding.error_message)
        self.assertIn("Tucson", binding.error_message)
        self.assertIn("Map Sales 15% to a QuickBooks tax code of 15%", binding.error_message)
        self.assertFalse(self.qbo_all(self.realm, 'Invoice'))
        # Fixed (the Odoo tax's rate now agrees): queued again and sent.
        self.tax_15.amount = 9.1
        self.assertFalse(mapping.rate_warning)
        move.button_draft()
        move.action_post()
        move.action_qbo_send()
        self.assertIn(binding.state, ('sent', 'variance'), binding.error_message)

    def test_a_new_mapping_row_has_no_red_badge(self):
        row = self.env['qbo.mapping'].new({'connection_id': self.connection.id, 'mapping_type': 'tax'})
        self.assertFalse(row.health)
        self.assertFalse(row.rate_warning)


@tagged('post_install', '-at_install')
class TestQboForeignCurrency(QboFirstHourCommon):
    """Point 5: a EUR invoice when QuickBooks works in USD only, and a customer already in USD."""

    def _eur(self):
        eur = self.env.ref('base.EUR')
        eur.active = True
        self.env['res.currency.rate'].create({'currency_id': eur.id, 'rate': 0.8, 'name': '2020-01-01',
                                              'company_id': self.company.id})
        return eur

    def test_currency_checked_before_the_customer_is_created_then_the_advice_works(self):
        eur = self._eur()
        partner = self.env['res.partner'].create({'name': 'Euro Newcomer', 'is_company': True})
        move = self._invoice(100.0, partner=partner, currency=eur)
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'blocked')
        self.assertIn('turn on Multicurrency', binding.error_message)
        self.assertFalse([c for c in self.qbo_all(self.realm, 'Customer') if c['DisplayName'] == 'Euro Newcomer'],
                         "no USD customer created first")
        self.assertFalse(partner._qbo_binding(self.connection).qbo_id)
        # The advice followed: Multicurrency on, sent again -> a EUR customer and the invoice.
        self.qbo.set_preferences(self.realm, {'CurrencyPrefs': {'MultiCurrencyEnabled': True}})
        self.connection._qbo_refresh_company_info()
        move.action_qbo_send()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        customer = self.qbo_read(self.realm, 'Customer', partner._qbo_binding(self.connection).qbo_id)
        self.assertEqual(customer['CurrencyRef']['value'], 'EUR')

    def test_customer_already_in_another_currency_gets_the_documented_remedy(self):
        partner = self.env['res.partner'].create({'name': 'Heron Fittings', 'is_company': True,
                                                  'street': '1 Quay St', 'city': 'Boston'})
        self._invoice(50.0, partner=partner).action_qbo_send()            # in QuickBooks in USD
        self.qbo.set_preferences(self.realm, {'CurrencyPrefs': {'MultiCurrencyEnabled': True}})
        self.connection._qbo_refresh_company_info()
        eur = self._eur()
        move = self._invoice(100.0, partner=partner, currency=eur)
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'blocked')
        self.assertIn('create a separate company contact', binding.error_message)
        self.assertIn('Heron Fittings (EUR)', binding.error_message)
        # The remedy, as README.rst says: a separate contact for EUR, invoiced in EUR.
        euro_contact = partner.copy({'name': 'Heron Fittings (EUR)'})
        move.button_draft()
        move.partner_id = euro_contact
        move.action_post()
        move.action_qbo_send()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        invoice = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
        customer = self.qbo_read(self.realm, 'Customer', invoice['CustomerRef']['value'])
        self.assertEqual((customer['DisplayName'], customer['CurrencyRef']['value']), ('Heron Fittings (EUR)', 'EUR'))


@tagged('post_install', '-at_install')
class TestQboFirstHourDetails(QboFirstHourCommon):
    """Point 7: the smaller things a new accountant sees."""

    def _notes(self, move):
        return move.message_ids.mapped('body')

    def test_chatter_says_sent_then_updated(self):
        move = self._invoice(100.0)
        move.action_qbo_send()
        self.assertTrue(any('Sent to QuickBooks as Invoice' in body for body in self._notes(move)))
        move.button_draft()
        move.invoice_line_ids.price_unit = 120.0
        move.action_post()
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertTrue(any('Updated in QuickBooks: Invoice' in body for body in self._notes(move)))
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', binding.qbo_id)['TotalAmt'], move.amount_total)

    def test_long_description_is_cut_at_a_word_with_a_note(self):
        words = ' '.join(f"part{i:04d}" for i in range(540))           # 4,859 characters
        self.assertGreater(len(words), 4800)
        move = self._invoice(100.0, name=words)
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        [line] = [ln for ln in self.qbo_read(self.realm, 'Invoice', binding.qbo_id)['Line']
                  if ln.get('DetailType') == 'SalesItemLineDetail']
        description = line['Description']
        self.assertLessEqual(len(description), 4000)
        self.assertTrue(description.endswith(' [...]'))
        kept = description[:-len(' [...]')]
        self.assertTrue(words.startswith(kept) and words[len(kept)] == ' ', "cut between two words")
        self.assertTrue(any("Description cut to 4,000 characters" in body for body in self._notes(move)))

    def test_unmapped_product_sent_as_the_fallback_item_says_so(self):
        self.assertTrue(self.connection.fallback_item_ref_id)
        move = self._invoice(100.0)
        move.action_qbo_send()
        self.assertTrue(any(f"Sent as the QuickBooks item {self.connection.fallback_item_ref_id.name}" in body
                            and self.product_a.display_name in body for body in self._notes(move)))


@tagged('post_install', '-at_install')
class TestQboPaymentNotes(QboPaymentsCommon):
    """Point 7: a payment's note on the invoice speaks money."""

    def test_payment_note_is_money(self):
        invoice = self._sent(amount=1350.0)                           # 1,458.00
        self.qbo_pay([(invoice, 1458.0)])
        self.drain()
        [body] = [b for b in invoice.message_ids.mapped('body') if 'Payment received in QuickBooks' in b]
        self.assertIn('1,458.00', body)
        self.assertNotIn('1458.0 ', body)

    def test_void_is_explained_as_a_void_in_quickbooks(self):
        invoice = self._sent(amount=1350.0)                           # 1,458.00
        qbo_payment = self.qbo_pay([(invoice, 1458.0)])
        self.drain()
        payment = self.imported(qbo_payment).payment_id
        self.qbo.void_payment(self.realm, qbo_payment['Id'])
        self.drain()
        self.assertEqual(invoice.payment_state, 'not_paid')
        body = invoice.message_ids[0].body
        self.assertIn(f"Voided in QuickBooks. QuickBooks payment {qbo_payment['Id']} no longer pays anything there",
                      body)
        self.assertIn(payment.display_name, body)
        self.assertIn(f"1,458.00 of {invoice.name} is open again", body)
        for misleading in ('SyncToken', 'Changed in QuickBooks', 'cancelled in Odoo'):
            self.assertNotIn(misleading, body)


@tagged('post_install', '-at_install')
class TestQboFirstHourScreens(QboFirstHourCommon):
    """The screens of points 3, 4 and 7, in the browser (tours in static/tests/tours/qbo_first_hour_tours.js)."""

    def _form_url(self, move):
        return f'/odoo/action-account.action_move_out_invoice_type/{move.id}'

    def test_mapping_row_shows_the_rate_difference(self):
        tax_15 = self.env['account.tax'].create({'name': 'Sales 15%', 'amount': 15.0, 'type_tax_use': 'sale',
                                                 'company_id': self.company.id})
        tucson = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'TaxCode'),
                                             ('qbo_id', '=', '3')])
        self.env['qbo.mapping'].create({'connection_id': self.connection.id, 'mapping_type': 'tax',
                                        'tax_id': tax_15.id, 'qbo_ref_id': tucson.id})
        self.start_tour('/odoo/action-quickbooks_online.qbo_mapping_action', 'qbo_tour_first_hour_mappings',
                        login='qbo_admin')

    def test_updated_invoice_says_so_without_a_reload(self):
        move = self._invoice(100.0)
        move.action_qbo_send()
        move.button_draft()
        move.invoice_line_ids.price_unit = 120.0
        move.action_post()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'to_send')
        self.start_tour(self._form_url(move), 'qbo_tour_first_hour_update_invoice', login='qbo_admin')
        self.assertEqual(binding.state, 'sent')
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', binding.qbo_id)['TotalAmt'], move.amount_total)

    def test_auto_sent_invoice_shows_the_next_run(self):
        self.connection.sudo().auto_send = True
        move = self._invoice()
        self.assertEqual(move.qbo_state, 'to_send')
        self.assertTrue(move.qbo_next_export)
        self.start_tour(self._form_url(move), 'qbo_tour_first_hour_next_run', login='qbo_admin')

    def test_transfers_show_amounts_and_link_to_their_calls(self):
        partner = self.env['res.partner'].create({'name': 'Transfer Co', 'is_company': True})
        move = self._invoice(100.0, partner=partner)                   # 108.00
        move.action_qbo_send()
        self.assertEqual(move._qbo_binding(self.connection).state, 'sent')
        self.start_tour('/odoo/action-quickbooks_online.qbo_binding_action', 'qbo_tour_first_hour_transfers',
                        login='qbo_admin')

    def test_refused_credentials_say_reconnect_on_the_form_and_in_settings(self):
        move = self._invoice()
        self.start_tour(self._form_url(move), 'qbo_tour_first_hour_not_sent', login='qbo_admin')
        self.connection.sudo().client_secret = 'typo-in-the-secret'
        self._expire_access_token()
        move.action_qbo_send()
        self.assertEqual(move._qbo_binding(self.connection).state, 'to_send')
        self.start_tour(self._form_url(move), 'qbo_tour_first_hour_reconnect_invoice', login='qbo_admin')
        self.start_tour('/odoo/action-account.action_account_config', 'qbo_tour_first_hour_reconnect_settings',
                        login='qbo_admin')


@tagged('post_install', '-at_install')
class TestQboFirstHourLists(QboFirstHourCommon):
    """Point 7: the mappings list and the estimate of the next automatic send."""

    def test_mappings_list_has_one_odoo_record_column(self):
        arch = self.env['qbo.mapping'].get_views([(False, 'list')])['views']['list']['arch']
        self.assertEqual(arch.count('name="res_id"'), 1, "one 'Odoo record' column for every kind")
        for per_kind in ('tax_id', 'term_id', 'product_id', 'analytic_id', 'journal_id', 'account_id'):
            self.assertNotIn(f'name="{per_kind}"', arch)
        journal = self.env['account.journal'].search([('company_id', '=', self.company.id), ('type', '=', 'bank')],
                                                     limit=1)
        method = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id),
                                             ('entity', '=', 'PaymentMethod')], limit=1)
        mapping = self.env['qbo.mapping'].create({'connection_id': self.connection.id,
                                                  'mapping_type': 'payment_method', 'journal_id': journal.id,
                                                  'qbo_ref_id': method.id})
        self.assertEqual(mapping.res_id, journal.id)
        # Chosen in the one column (as the list writes it): the kind's field follows.
        term = self.env.ref('account.account_payment_term_30days')
        net_30 = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'Term'),
                                             ('name', '=', 'Net 30')])
        mapping.write({'mapping_type': 'term', 'res_id': term.id, 'qbo_ref_id': net_30.id})
        self.assertEqual((mapping.term_id, mapping.journal_id), (term, self.env['account.journal']))
        self.assertEqual(mapping.res_id, term.id)
        other = self.env.ref('account.account_payment_term_15days')
        mapping.write({'res_id': other.id})
        self.assertEqual(mapping.term_id, other)
        # While a tax row is edited, the rate check runs on the record chosen in the column.
        tax_15 = self.env['account.tax'].create({'name': 'Sales 15%', 'amount': 15.0, 'type_tax_use': 'sale',
                                                 'company_id': self.company.id})
        tucson = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'TaxCode'),
                                             ('qbo_id', '=', '3')])
        row = self.env['qbo.mapping'].new({'connection_id': self.connection.id, 'mapping_type': 'tax',
                                           'qbo_ref_id': tucson.id})
        row.res_id = tax_15.id
        self.assertIn('9.1%', row._onchange_tax_rate()['warning']['message'])
        self.assertEqual(row.tax_id, tax_15)
        # The column has no domain per kind: what a kind accepts is checked on save, saying what to choose.
        sales_journal = self.env['account.journal'].search([('company_id', '=', self.company.id),
                                                            ('type', '=', 'sale')], limit=1)
        with self.assertRaisesRegex(ValidationError, "not a bank, cash or credit card journal"):
            self.env['qbo.mapping'].create({'connection_id': self.connection.id, 'mapping_type': 'payment_method',
                                            'res_id': sales_journal.id, 'qbo_ref_id': method.id})

    def test_queued_document_shows_the_next_export_run(self):
        self.connection.sudo().auto_send = True
        move = self._invoice()
        self.assertEqual(move.qbo_state, 'to_send', "queued by auto-send when posted")
        cron = self.env.ref('quickbooks_online.ir_cron_qbo_export').sudo()
        self.assertEqual(move.qbo_next_export, cron.nextcall)
        self.env['qbo.binding']._cron_qbo_export()
        move.invalidate_recordset(['qbo_state', 'qbo_next_export'])
        self.assertEqual(move.qbo_state, 'sent')
        self.assertFalse(move.qbo_next_export)


@tagged('post_install', '-at_install')
class TestQboImportSummary(QboFirstHourCommon):
    """Point 7: Import says what changed, not only how many objects are known."""

    def test_import_says_what_changed(self):
        action = self.connection.action_qbo_import_references()
        self.assertTrue(action['params']['message'].startswith("Nothing changed in QuickBooks since the last import."),
                        action['params']['message'])
        self.qbo.seed(self.realm, 'Class', 3, prefix='Region')
        [term] = [t for t in self.qbo_all(self.realm, 'Term') if t['Name'] == 'Net 30']
        self.qbo.patch_entity(self.realm, 'Term', term['Id'], {'Name': 'Net 30 days'})
        self.qbo.patch_entity(self.realm, 'TaxCode', '3', {'Active': False})   # no longer listed
        action = self.connection.action_qbo_import_references()
        message = action['params']['message']
        self.assertTrue(message.startswith("3 new, 1 changed, 1 no longer in QuickBooks (kept, inactive)."), message)
        self.assertIn(f"{self.connection.ref_count} QuickBooks objects known.", message)
        tucson = self.env['qbo.ref'].with_context(active_test=False).search(
            [('connection_id', '=', self.connection.id), ('entity', '=', 'TaxCode'), ('qbo_id', '=', '3')])
        self.assertFalse(tucson.active)
        self.assertEqual(self.env['qbo.ref'].search([('connection_id', '=', self.connection.id),
                                                     ('entity', '=', 'Term'), ('qbo_id', '=', term['Id'])]).name,
                         'Net 30 days')


@tagged('post_install', '-at_install')
class TestQboWrongCompany(QboFirstHourCommon):
    """Point 7: connecting another QuickBooks company than intended is said at once."""

    def test_same_company_again_is_plain_success(self):
        self._qbo_connect(self.connection, self.realm)
        warnings, _notes = self.connection._qbo_company_check()
        self.assertFalse(warnings)
        feedback = self.env['qbo.connection'].qbo_connect_feedback()
        self.assertEqual(feedback['title'], "QuickBooks Online connected")
        self.assertNotIn("another QuickBooks company", feedback['message'])
        self.assertNotIn("check that this is the right QuickBooks company", feedback['message'])

    def test_another_realm_in_another_country_is_a_warning_saying_both(self):
        old_realm = self.realm
        other = self.qbo.create_company('Harbour Books Ltd', country='GB')['realm_id']
        self._qbo_connect(self.connection, other)
        self.assertEqual(self.connection.realm_id, other)
        feedback = self.env['qbo.connection'].qbo_connect_feedback()
        self.assertEqual(feedback['type'], 'warning')
        self.assertEqual(feedback['title'], "QuickBooks Online connected: check the company")
        message = feedback['message']
        self.assertIn(f"another QuickBooks company (Harbour Books Ltd, realm {other}) than the one connected before "
                      f"(realm {old_realm})", message)
        self.assertIn("is in GB, the Odoo company", message)
        self.assertIn("in US", message)
        self.assertIn("click Connect again", message)
        self.assertIn("named Harbour Books Ltd", message)
        self.assertIn("another QuickBooks company", self.connection.message_ids[0].body, "and in its history")
        # Connecting the same company again: nothing to warn about any more.
        self._qbo_connect(self.connection, other)
        self.assertFalse(self.connection.previous_realm_id)

    def test_names_sharing_a_word(self):
        Connection = self.env['qbo.connection']
        self.assertTrue(Connection._qbo_names_share_a_word("Heron Fittings LLC", "Heron Fittings, Inc."))
        self.assertFalse(Connection._qbo_names_share_a_word("Sandbox Company_US_1", "Heron Fittings Inc"))
