from odoo import Command, fields
from odoo.tests import tagged

from .common import QboTestCommon


@tagged('post_install', '-at_install')
class TestQboExport(QboTestCommon):
    """Customers and invoices sent to the emulator; every assertion reads QuickBooks back."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env['res.partner'].create({
            'name': 'Bluebird Supplies', 'is_company': True, 'email': 'ap@bluebird.example',
            'street': '1 Main St', 'city': 'Austin', 'zip': '73301', 'country_id': cls.env.ref('base.us').id,
        })
        cls.product = cls.company_data['product'] if 'product' in cls.company_data else cls.product_a

    def _invoice(self, amounts=(100.0,), taxes=None, post=True, partner=None, discount=0.0):
        move = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': (partner or self.customer).id,
            'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({
                'product_id': self.product_a.id, 'quantity': 2, 'price_unit': amount / 2, 'discount': discount,
                'tax_ids': [Command.set((taxes or self.tax_ca).ids)]}) for amount in amounts],
        })
        if post:
            move.action_post()
        return move

    def _binding(self, record):
        return record._qbo_binding(self.connection)

    def test_customer_create_and_update_after_address_change(self):
        self.customer.action_qbo_send()
        binding = self._binding(self.customer)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo = self.qbo_read(self.realm, 'Customer', binding.qbo_id)
        self.assertEqual(qbo['DisplayName'], 'Bluebird Supplies')
        self.assertEqual(qbo['PrimaryEmailAddr']['Address'], 'ap@bluebird.example')
        self.assertEqual(qbo['BillAddr']['City'], 'Austin')
        self.customer.city = 'Dallas'
        self.assertEqual(binding.state, 'to_send')
        self.customer.action_qbo_send()
        qbo = self.qbo_read(self.realm, 'Customer', binding.qbo_id)
        self.assertEqual(qbo['BillAddr']['City'], 'Dallas')
        self.assertEqual(qbo['SyncToken'], '1')

    def test_duplicate_name_links_same_party_or_suffixes(self):
        existing = self.qbo.entities(self.realm, 'Customer')
        same = self.env['res.partner'].create({'name': "Amy's Bird Sanctuary", 'email': 'birds@intuit.com'})
        amy = next(c for c in existing if c['DisplayName'] == "Amy's Bird Sanctuary")
        same.action_qbo_send()
        self.assertEqual(self._binding(same).qbo_id, amy['Id'], self._binding(same).error_message)
        other = self.env['res.partner'].create({'name': "Amy's Bird Sanctuary", 'email': 'someone@else.example'})
        other.action_qbo_send()
        binding = self._binding(other)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertNotEqual(binding.qbo_id, amy['Id'])
        self.assertEqual(self.qbo_read(self.realm, 'Customer', binding.qbo_id)['DisplayName'],
                         f"Amy's Bird Sanctuary ({other.id})")

    def test_names_forbidden_characters_long_and_non_latin(self):
        names = {
            'Acme: West\tCoast': 'Acme- West Coast',
            'X' * 600: 'X' * 500,
            'Société Générale 株式会社': 'Société Générale 株式会社',
        }
        for name, expected in names.items():
            with self.subTest(name=name[:20]):
                partner = self.env['res.partner'].create({'name': name})
                partner.action_qbo_send()
                binding = self._binding(partner)
                self.assertEqual(binding.state, 'sent', binding.error_message)
                self.assertEqual(self.qbo_read(self.realm, 'Customer', binding.qbo_id)['DisplayName'], expected)

    def test_archiving_inactivates_the_customer(self):
        self.customer.action_qbo_send()
        binding = self._binding(self.customer)
        self.customer.action_archive()
        binding._qbo_process()
        self.assertFalse(self.qbo_read(self.realm, 'Customer', binding.qbo_id)['Active'])

    def test_invoice_button_sends_customer_first_and_totals_match(self):
        move = self._invoice(amounts=(100.0, 35.25))
        move.action_qbo_send()
        binding = self._binding(move)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
        self.assertEqual(qbo['CustomerRef']['value'], self._binding(self.customer).qbo_id)
        self.assertAlmostEqual(qbo['TotalAmt'], move.amount_total)
        self.assertAlmostEqual(qbo['TxnTaxDetail']['TotalTax'], move.amount_tax)
        self.assertEqual(qbo['TxnTaxDetail']['TxnTaxCodeRef']['value'], '2')
        self.assertIn(move.name, qbo['PrivateNote'])
        self.assertTrue(self.env['qbo.sync.log'].search([('res_model', '=', 'account.move'), ('res_id', '=', move.id)]))

    def test_discounted_line_amounts_match(self):
        move = self._invoice(amounts=(99.99,), discount=12.5)
        move.action_qbo_send()
        binding = self._binding(move)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertAlmostEqual(self.qbo_read(self.realm, 'Invoice', binding.qbo_id)['TotalAmt'], move.amount_total)

    def test_unknown_outcome_after_commit_leaves_exactly_one_invoice(self):
        move = self._invoice()
        self.customer.action_qbo_send()
        before = len(self.qbo_all(self.realm, 'Invoice'))
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains='/invoice', realm_id=self.realm)
        self.qbo.inject_fault('500', count=1, path_contains='/invoice', realm_id=self.realm)
        move.action_qbo_send()
        binding = self._binding(move)
        if binding.state == 'to_send':  # the retry budget ran out: the cron sends it later
            binding.next_retry_date = False
            binding._qbo_process()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        invoices = self.qbo_all(self.realm, 'Invoice')
        self.assertEqual(len(invoices), before + 1)

    def test_reset_and_repost_updates_then_cancel_voids(self):
        move = self._invoice()
        move.action_qbo_send()
        binding = self._binding(move)
        move.button_draft()
        move.invoice_line_ids[0].price_unit = 80.0
        move.action_post()
        self.assertEqual(binding.state, 'to_send')
        self.qbo.clear_requests_log()
        binding._qbo_process()
        qbo = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
        self.assertAlmostEqual(qbo['TotalAmt'], move.amount_total)
        self.assertEqual(qbo['SyncToken'], '1')
        move.button_draft()
        move.button_cancel()
        binding._qbo_process()
        self.assertEqual(binding.state, 'voided')
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', binding.qbo_id)['TotalAmt'], 0)
        self.assertEqual(self._metered_requests(), [], "update and void use the SyncToken we hold: no read")

    def test_updates_go_in_a_batch_with_the_synctoken_we_hold(self):
        """Re-posted invoices are updated in one batch request, without reading them first; the one
        changed in QuickBooks meanwhile (5010) is read and updated alone, the one voided there is
        recognised as voided, not resurrected."""
        moves = self.env['account.move'].concat(*[self._invoice(amounts=(100.0 + i,)) for i in range(4)])
        moves.action_qbo_send()
        bindings = [self._binding(move) for move in moves]
        self.assertEqual({b.state for b in bindings}, {'sent'})
        changed, voided = bindings[2], bindings[3]
        self.qbo.patch_entity(self.realm, 'Invoice', changed.qbo_id, {'PrivateNote': changed._qbo_marker()})
        self.qbo.void_entity(self.realm, 'Invoice', voided.qbo_id)
        moves.button_draft()
        for move in moves:
            move.invoice_line_ids[0].price_unit = 60.0
        moves.action_post()
        self.qbo.clear_requests_log()
        self.env['qbo.binding']._cron_qbo_export()
        self.assertEqual(len(self.qbo.requests_log(path_contains=f'/{self.realm}/batch')), 1)
        for move, binding in zip(moves[:3], bindings[:3]):
            self.assertEqual(binding.state, 'sent', binding.error_message)
            qbo = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
            self.assertAlmostEqual(qbo['TotalAmt'], move.amount_total)
            self.assertEqual(binding.qbo_sync_token, qbo['SyncToken'])
        self.assertEqual(voided.state, 'voided')
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', voided.qbo_id)['TotalAmt'], 0)
        self.assertEqual(len(self._metered_requests()), 2, "one read each for the two changed in QuickBooks")

    def _metered_requests(self):
        """The realm's metered API calls (reads and queries) in the emulator's request log."""
        return [r for r in self.qbo.requests_log(path_contains=f'/v3/company/{self.realm}/')
                if r['method'] == 'GET' or '/query' in r['path']]

    def test_update_after_a_change_in_quickbooks_reads_once(self):
        """A payment (or a user) moved the SyncToken in QuickBooks: 5010, one read, the update goes through."""
        move = self._invoice()
        move.action_qbo_send()
        binding = self._binding(move)
        self.qbo.patch_entity(self.realm, 'Invoice', binding.qbo_id, {'PrivateNote': binding._qbo_marker()})
        move.button_draft()
        move.invoice_line_ids[0].price_unit = 70.0
        move.action_post()
        self.qbo.clear_requests_log()
        binding._qbo_process()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
        self.assertAlmostEqual(qbo['TotalAmt'], move.amount_total)
        self.assertEqual(binding.qbo_sync_token, qbo['SyncToken'])
        self.assertEqual(len(self._metered_requests()), 1, "one read, after the 5010")

    def test_deleted_in_quickbooks_is_shown_not_recreated(self):
        move = self._invoice()
        move.action_qbo_send()
        binding = self._binding(move)
        count = len(self.qbo_all(self.realm, 'Invoice'))
        self.qbo.delete_entity(self.realm, 'Invoice', binding.qbo_id)
        binding._qbo_mark_to_send()
        binding._qbo_process()
        self.assertEqual(binding.state, 'deleted_in_qbo')
        self.assertEqual(len(self.qbo_all(self.realm, 'Invoice')), count)

    def test_quickbooks_keeps_odoo_tax_when_its_own_rate_differs(self):
        """The invoice carries Odoo's TotalTax, which QuickBooks (without AST) keeps: no Variance."""
        self.qbo.patch_entity(self.realm, 'TaxRate', '3', {'RateValue': 9})
        move = self._invoice()
        move.action_qbo_send()
        binding = self._binding(move)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
        self.assertAlmostEqual(qbo['TxnTaxDetail']['TotalTax'], move.amount_tax)
        self.assertAlmostEqual(qbo['TotalAmt'], move.amount_total)

    def test_custom_numbers_prefix_and_duplicate_number(self):
        self.qbo.set_preferences(self.realm, {'SalesFormsPrefs': {'CustomTxnNumbers': True}})
        self.connection._qbo_refresh_company_info()
        self.connection.sudo().doc_number_prefix = 'OD-'
        move = self._invoice()
        move.action_qbo_send()
        binding = self._binding(move)
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', binding.qbo_id)['DocNumber'], f"OD-{move.name}")
        # A foreign invoice already holds the next number: clear error naming it, nothing created.
        nxt = self._invoice(post=False)
        nxt.action_post()
        self.env['qbo.binding'].create({'connection_id': self.connection.id, 'res_model': 'account.move',
                                        'res_id': nxt.id, 'entity': 'Invoice'})
        foreign = {'CustomerRef': {'value': '1'}, 'DocNumber': f"OD-{nxt.name}", 'Line': [{
            'DetailType': 'SalesItemLineDetail', 'Amount': 5.0,
            'SalesItemLineDetail': {'ItemRef': {'value': '1'}, 'Qty': 1, 'UnitPrice': 5.0}}]}
        with self.connection._qbo_client_session() as client:
            client.create('Invoice', foreign, request_id='foreign-doc')
        nxt.action_qbo_send()
        self.assertEqual(self._binding(nxt).state, 'blocked')
        self.assertIn(f"OD-{nxt.name}", self._binding(nxt).error_message)
        # Too long for QuickBooks' 21 characters.
        self.connection.sudo().doc_number_prefix = 'A-VERY-LONG-PREFIX-'
        third = self._invoice()
        third.action_qbo_send()
        self.assertEqual(self._binding(third).state, 'blocked')
        self.assertIn('21', self._binding(third).error_message)

    def test_missing_tax_mapping_blocks_then_resumes(self):
        # (9.1 %: the rate of the code it is mapped to below, which a mapping must agree with.)
        unmapped = self.env['account.tax'].create({'name': 'TX 9.1%', 'amount': 9.1, 'type_tax_use': 'sale',
                                                   'company_id': self.company.id})
        move = self._invoice(taxes=unmapped)
        move.action_qbo_send()
        binding = self._binding(move)
        self.assertEqual(binding.state, 'blocked')
        self.assertIn('TX 9.1%', binding.error_message)
        tucson = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'TaxCode'),
                                             ('qbo_id', '=', '3')])
        self.env['qbo.mapping'].create({'connection_id': self.connection.id, 'mapping_type': 'tax',
                                        'res_id': unmapped.id, 'qbo_ref_id': tucson.id})
        self.assertEqual(binding.state, 'to_send', "queued again by itself once the mapping is set")
        binding._qbo_process()
        self.assertIn(binding.state, ('sent', 'variance'))
        qbo = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
        self.assertEqual(qbo['TxnTaxDetail']['TxnTaxCodeRef']['value'], '3')

    def test_cron_over_ready_and_failed_invoices(self):
        self.connection.sudo().write({'auto_send': True, 'error_emails': 'acc@example.com'})
        self.connection.sudo().next_auto_export = False  # due now
        ready = self._invoice()
        bad_tax = self.env['account.tax'].create({'name': 'Unmapped', 'amount': 3, 'type_tax_use': 'sale',
                                                  'company_id': self.company.id})
        failing = self._invoice(taxes=bad_tax)
        self.env['qbo.binding']._cron_qbo_export()
        self.assertEqual(self._binding(ready).state, 'sent', self._binding(ready).error_message)
        self.assertEqual(self._binding(failing).state, 'blocked')
        self.assertTrue(self.qbo_read(self.realm, 'Invoice', self._binding(ready).qbo_id))
        digest = self.env['mail.mail'].search([('email_to', '=', 'acc@example.com')])
        self.assertEqual(len(digest), 1)
        self.assertIn(failing.name, digest.body_html)


@tagged('post_install', '-at_install')
class TestQboTaxes(QboTestCommon):
    """Sales-tax default matching, AST, price-included and exempt taxes, 6140 linking."""

    def _send(self, taxes, price=100.0):
        move = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': self.partner_a.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'name': 'Work', 'quantity': 1, 'price_unit': price,
                                                 'tax_ids': [Command.set(taxes.ids)]})],
        })
        move.action_post()
        move.action_qbo_send()
        return move, move._qbo_binding(self.connection)

    def test_default_tax_match_flips_and_holds_exports(self):
        status = self.connection._qbo_default_tax_status()
        self.assertEqual(status[0], 'match', status)
        settings = self.env['res.config.settings'].create({})
        self.assertEqual(settings.qbo_tax_match, 'match')
        self.company.account_sale_tax_id = self.company_data['default_tax_sale']  # 15%, QuickBooks has 8%
        status = self.connection._qbo_default_tax_status()
        self.assertEqual(status[0], 'mismatch')
        self.assertIn('8', status[2])
        self.assertEqual(self.env['res.config.settings'].create({}).qbo_tax_match, 'mismatch')
        move, binding = self._send(self.tax_ca)
        self.assertEqual(binding.state, 'blocked')
        self.assertIn('default sales tax mismatch', binding.error_message)
        self.assertFalse(binding.qbo_id)
        # Fixing Odoo's default queues the held invoice again by itself.
        self.company.account_sale_tax_id = self.tax_ca
        self.assertEqual(binding.state, 'to_send')
        binding._qbo_process()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertAlmostEqual(self.qbo_read(self.realm, 'Invoice', binding.qbo_id)['TotalAmt'], move.amount_total)

    def test_admin_can_proceed_despite_mismatch(self):
        self.company.account_sale_tax_id = self.company_data['default_tax_sale']
        _move, binding = self._send(self.tax_ca)
        self.assertEqual(binding.state, 'blocked')
        self.connection.tax_mismatch_proceed = True
        self.assertEqual(binding.state, 'to_send')
        binding._qbo_process()
        self.assertEqual(binding.state, 'sent', binding.error_message)

    def test_price_included_and_exempt_taxes(self):
        included = self.env['account.tax'].create({
            'name': 'CA 8% incl.', 'amount': 8, 'type_tax_use': 'sale', 'price_include_override': 'tax_included',
            'company_id': self.company.id})
        self.env['qbo.mapping'].create({'connection_id': self.connection.id, 'mapping_type': 'tax',
                                        'res_id': included.id, 'qbo_ref_id': self.qbo_ca.id})
        move, binding = self._send(included, price=108.0)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
        self.assertAlmostEqual(qbo['TotalAmt'], move.amount_total)
        self.assertAlmostEqual(qbo['TotalAmt'], 108.0)
        exempt = self.env['account.tax'].create({'name': 'Exempt', 'amount': 0, 'type_tax_use': 'sale',
                                                 'company_id': self.company.id})
        move, binding = self._send(exempt)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
        line = next(line for line in qbo['Line'] if line['DetailType'] == 'SalesItemLineDetail')
        self.assertEqual(line['SalesItemLineDetail']['TaxCodeRef']['value'], 'NON')
        self.assertAlmostEqual(qbo['TotalAmt'], 100.0)

    def test_automated_sales_tax_sends_tax_non_only(self):
        self.qbo.set_preferences(self.realm, {'TaxPrefs': {'PartnerTaxEnabled': True}})
        self.connection._qbo_refresh_company_info()
        self.assertTrue(self.connection.automated_sales_tax)
        self.assertEqual(self.connection._qbo_default_tax_status()[0], 'na')
        _move, binding = self._send(self.tax_ca)
        self.assertIn(binding.state, ('sent', 'variance'), binding.error_message)
        qbo = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
        line = next(line for line in qbo['Line'] if line['DetailType'] == 'SalesItemLineDetail')
        self.assertEqual(line['SalesItemLineDetail']['TaxCodeRef']['value'], 'TAX')

    def test_duplicate_number_of_our_own_document_links_instead_of_duplicating(self):
        self.qbo.set_preferences(self.realm, {'SalesFormsPrefs': {'CustomTxnNumbers': True}})
        self.connection._qbo_refresh_company_info()
        move = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': self.partner_a.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'name': 'Work', 'quantity': 1, 'price_unit': 100,
                                                 'tax_ids': [Command.set(self.tax_ca.ids)]})],
        })
        move.action_post()
        # An earlier export created it, but its link was lost (e.g. restored database).
        mapper = self.env['qbo.mapper']
        with self.connection._qbo_client_session() as client:
            self.partner_a.action_qbo_send()
            payload = mapper._qbo_prepare_invoice_vals(move, self.connection,
                                                       self.partner_a._qbo_binding(self.connection).qbo_id)
            earlier = client.create('Invoice', payload, request_id='lost-link-1')
        before = len(self.qbo_all(self.realm, 'Invoice'))
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertEqual(binding.qbo_id, earlier['Id'])
        self.assertEqual(len(self.qbo_all(self.realm, 'Invoice')), before)


@tagged('post_install', '-at_install')
class TestQboItemsAndClasses(QboTestCommon):
    """Products without a mapping, and class tracking with overrides."""

    def _send_product_invoice(self, product, analytic=None):
        line = {'product_id': product.id, 'quantity': 1, 'price_unit': 40.0,
                'tax_ids': [Command.set(self.tax_ca.ids)]}
        if analytic:
            line['analytic_distribution'] = {str(analytic.id): 100}
        move = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': self.partner_a.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create(line)]})
        move.action_post()
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
        return next(line for line in qbo['Line'] if line['DetailType'] == 'SalesItemLineDetail')

    def test_unmapped_product_uses_the_unmatched_item(self):
        product = self.env['product.product'].create({'name': 'Unmapped gadget', 'lst_price': 40.0})
        line = self._send_product_invoice(product)
        self.assertEqual(line['SalesItemLineDetail']['ItemRef']['value'], self.connection.fallback_item_ref_id.qbo_id)

    def test_create_missing_items_once(self):
        self.connection.create_missing_items = True
        self.assertTrue(self.connection.income_account_ref_id, "the import proposes an income account")
        product = self.env['product.product'].create({'name': 'Brand new: service', 'default_code': 'BNS-1',
                                                      'lst_price': 40.0})
        line = self._send_product_invoice(product)
        item = self.qbo_read(self.realm, 'Item', line['SalesItemLineDetail']['ItemRef']['value'])
        self.assertEqual(item['Name'], 'Brand new- service')
        self.assertEqual(item['Type'], 'Service')
        self._send_product_invoice(product)
        self.assertEqual(len([i for i in self.qbo_all(self.realm, 'Item') if i['Name'] == 'Brand new- service']), 1)

    def test_class_default_and_override(self):
        self.qbo.seed(self.realm, 'Class', 2, prefix='Dept')
        self.connection.action_qbo_import_references()
        classes = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'Class')],
                                             order='qbo_id')
        self.assertEqual(len(classes), 2)
        self.connection.write({'use_classes': True, 'default_class_ref_id': classes[0].id})
        product = self.env['product.product'].create({'name': 'Classy', 'lst_price': 40.0})
        line = self._send_product_invoice(product)
        self.assertEqual(line['SalesItemLineDetail']['ClassRef']['value'], classes[0].qbo_id)
        plan = self.env['account.analytic.plan'].sudo().create({'name': 'Departments'})
        analytic = self.env['account.analytic.account'].sudo().create({'name': 'Sales dept', 'plan_id': plan.id})
        self.env['qbo.mapping'].create({'connection_id': self.connection.id, 'mapping_type': 'analytic',
                                        'res_id': analytic.id, 'qbo_ref_id': classes[1].id})
        line = self._send_product_invoice(product, analytic)
        self.assertEqual(line['SalesItemLineDetail']['ClassRef']['value'], classes[0].qbo_id,
                         "without 'Allow overrides' the default class wins")
        self.connection.allow_class_override = True
        line = self._send_product_invoice(product, analytic)
        self.assertEqual(line['SalesItemLineDetail']['ClassRef']['value'], classes[1].qbo_id)


@tagged('post_install', '-at_install')
class TestQboConcurrentEdits(QboTestCommon):
    """Edits made in QuickBooks meanwhile: stale SyncToken, voids, terms."""

    def test_stale_sync_token_is_reread_and_retried_once(self):
        partner = self.env['res.partner'].create({'name': 'Edited Elsewhere', 'email': 'e@x.example',
                                                  'city': 'Austin', 'street': '1 A St'})
        partner.action_qbo_send()
        binding = partner._qbo_binding(self.connection)
        # Someone edits the customer in QuickBooks: its SyncToken moves on.
        self.qbo.patch_entity(self.realm, 'Customer', binding.qbo_id, {'Notes': 'edited in QuickBooks'})
        self.qbo.clear_requests_log()
        partner.city = 'Houston'
        partner.action_qbo_send()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo = self.qbo_read(self.realm, 'Customer', binding.qbo_id)
        self.assertEqual(qbo['BillAddr']['City'], 'Houston')
        self.assertEqual(qbo['Notes'], 'edited in QuickBooks', "a sparse update keeps other fields")
        statuses = [r['status'] for r in self.qbo.requests_log(path_contains='/customer')]
        self.assertEqual(statuses, [400, 200, 200], "5010, re-read, retried once")

    def test_voided_in_quickbooks_is_detected(self):
        move = self.init_invoice('out_invoice', partner=self.partner_a, amounts=[100.0], taxes=self.tax_ca,
                                 post=True)
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.qbo.void_entity(self.realm, 'Invoice', binding.qbo_id)
        move.button_draft()
        move.action_post()
        binding._qbo_process()
        self.assertEqual(binding.state, 'voided')
        self.assertIn('voided in QuickBooks', binding.error_message)
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', binding.qbo_id)['TotalAmt'], 0,
                         "not resurrected by an update")

    def test_payment_term_is_sent_as_the_mapped_term(self):
        term_30 = self.env.ref('account.account_payment_term_30days')
        qbo_net30 = self.env['qbo.mapping']._qbo_find(self.connection, 'term', term_30)
        self.assertEqual(qbo_net30.name, 'Net 30', "terms are matched by days on import")
        move = self.init_invoice('out_invoice', partner=self.partner_a, amounts=[100.0], taxes=self.tax_ca)
        move.invoice_payment_term_id = term_30
        move.action_post()
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        qbo = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
        self.assertEqual(qbo['SalesTermRef']['value'], qbo_net30.qbo_id)
        self.assertEqual(qbo['DueDate'], str(move.invoice_date_due))


@tagged('post_install', '-at_install')
class TestQboListPerformance(QboTestCommon):

    def test_state_column_costs_no_query_per_row(self):
        """The invoice list shows the QuickBooks state: its cost must not grow with the rows."""
        moves = self.env['account.move']
        for _index in range(12):
            moves |= self.init_invoice('out_invoice', partner=self.partner_a, amounts=[10.0], taxes=self.tax_ca,
                                       post=True)
        moves[:3].action_qbo_send()

        def queries(records):
            records.invalidate_recordset()
            self.env['qbo.binding'].invalidate_model()
            before = self.env.cr.sql_log_count
            records.mapped('qbo_state')
            records.mapped('qbo_show_button')
            return self.env.cr.sql_log_count - before

        queries(moves[:1])  # warm: what is read once per list (the export job's next run), not per row
        self.assertEqual(queries(moves[:2]), queries(moves))
        self.assertEqual(moves[:3].mapped('qbo_state'), ['sent'] * 3)
        self.assertEqual(set(moves[3:].mapped('qbo_state')), {'not_sent'})
