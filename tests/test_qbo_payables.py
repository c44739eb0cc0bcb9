"""Payables: vendors, vendor bills and vendor refunds sent to the emulator; every assertion reads QuickBooks back."""
from odoo import Command, fields
from odoo.tests import tagged

from .common import QboTestCommon


class QboPayablesCommon(QboTestCommon):
    """A US company with two QuickBooks expense accounts and an A/P account mapped to Odoo's accounts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Account = cls.env['account.account']
        cls.odoo_subcontractors = Account.create({'name': 'Subcontractors', 'code': '619901',
                                                  'account_type': 'expense'})
        cls.odoo_software = Account.create({'name': 'Software subscriptions', 'code': '619902',
                                            'account_type': 'expense'})
        cls.vendor = cls.env['res.partner'].create({
            'name': 'Northwind Consulting', 'is_company': True, 'email': 'billing@northwind.example', 'ref': 'NW-7',
            'street': '5 Harbor Rd', 'city': 'Seattle', 'zip': '98101', 'country_id': cls.env.ref('base.us').id})
        cls.project_customer = cls.env['res.partner'].create({'name': 'Blue Yonder Airlines', 'is_company': True})
        plan = cls.env['account.analytic.plan'].sudo().create({'name': 'Projects'})
        cls.project = cls.env['account.analytic.account'].sudo().create({
            'name': 'Blue Yonder rollout', 'plan_id': plan.id, 'partner_id': cls.project_customer.id})

    def setUp(self):
        super().setUp()
        # Each test has a fresh QuickBooks company: its expense and A/P accounts are made there through the
        # API (same order, same Ids every time), imported, then mapped to the Odoo accounts.
        with self.connection._qbo_client_session() as client:
            for name, kind, subtype in (('Subcontractors', 'Expense', 'OtherMiscellaneousServiceCost'),
                                        ('Software', 'Expense', 'OtherMiscellaneousServiceCost'),
                                        ('Trade payables', 'Accounts Payable', 'AccountsPayable'),
                                        ('Company Visa', 'Credit Card', 'CreditCard')):
                client.create('Account', {'Name': name, 'AccountType': kind, 'AccountSubType': subtype},
                              request_id=f"test-account-{name}-{self.realm}")
        self.connection._qbo_import_references()
        Ref = self.env['qbo.ref']
        self.qbo_accounts = {ref.name: ref for ref in Ref.search([('connection_id', '=', self.connection.id),
                                                                   ('entity', '=', 'Account')])}
        payable = self.vendor.property_account_payable_id
        for odoo_account, name in ((self.odoo_subcontractors, 'Subcontractors'), (self.odoo_software, 'Software'),
                                   (payable, 'Trade payables')):
            self._map('account', odoo_account, self.qbo_accounts[name])

    def _map(self, mapping_type, record, ref):
        """Map `record` to `ref` (the import may have proposed a mapping already: it is replaced)."""
        Mapping = self.env['qbo.mapping']
        mapping = Mapping.search([('connection_id', '=', self.connection.id), ('mapping_type', '=', mapping_type),
                                  ('res_id', '=', record.id)])
        if mapping:
            mapping.qbo_ref_id = ref
        else:
            Mapping.create({'connection_id': self.connection.id, 'mapping_type': mapping_type, 'res_id': record.id,
                            'qbo_ref_id': ref.id})

    def _bill(self, lines, move_type='in_invoice', partner=None, ref='INV-2291', post=True):
        move = self.env['account.move'].create({
            'move_type': move_type, 'partner_id': (partner or self.vendor).id, 'ref': ref,
            'invoice_date': fields.Date.today(), 'invoice_line_ids': [Command.create(line) for line in lines]})
        if post:
            move.action_post()
        return move

    def _line(self, amount, account=None, name='Consulting', **extra):
        return dict({'name': name, 'quantity': 1, 'price_unit': amount, 'tax_ids': [Command.clear()],
                     'account_id': (account or self.odoo_subcontractors).id}, **extra)


@tagged('post_install', '-at_install')
class TestQboPayables(QboPayablesCommon):

    def test_bill_with_account_item_and_rebilled_lines(self):
        """Two expense-account lines, an item line, a line rebilled to a project's customer: same total,
        lines, accounts and billable status in QuickBooks; the vendor created once with its reference."""
        item = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'Item'),
                                           ('qbo_id', '=', '1')])
        self._map('product', self.product_a, item)
        # A class from the analytic account of the travel line's project (classes per line).
        self.qbo.seed(self.realm, 'Class', 1, prefix='Delivery')
        self.connection._qbo_import_references()
        delivery = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'Class')])
        self.connection.write({'use_classes': True, 'allow_class_override': True})
        self._map('analytic', self.project, delivery)
        move = self._bill([
            self._line(1200.0, name='March consulting'),
            self._line(89.99, self.odoo_software, name='Design tool licence'),
            dict(self._line(250.0, name='Hardware kit'), product_id=self.product_a.id, quantity=2, price_unit=125.0),
            self._line(430.5, name='Travel to client site',
                       analytic_distribution={str(self.project.id): 100}),
        ])
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual((binding.entity, binding.state), ('Bill', 'sent'), binding.error_message)
        bill = self.qbo_read(self.realm, 'Bill', binding.qbo_id)
        self.assertAlmostEqual(bill['TotalAmt'], move.amount_total)
        self.assertEqual(bill['DocNumber'], 'INV-2291')
        self.assertEqual(bill['APAccountRef']['value'], self.qbo_accounts['Trade payables'].qbo_id)
        vendor = self.qbo_read(self.realm, 'Vendor', bill['VendorRef']['value'])
        self.assertEqual((vendor['DisplayName'], vendor['AcctNum']), ('Northwind Consulting', 'NW-7'))
        lines = [line for line in bill['Line'] if line.get('DetailType') != 'DescriptionOnly']
        self.assertEqual(len(lines), 4)
        by_description = {line['Description']: line for line in lines}
        consulting = by_description['March consulting']['AccountBasedExpenseLineDetail']
        self.assertEqual(consulting['AccountRef']['value'], self.qbo_accounts['Subcontractors'].qbo_id)
        software = by_description['Design tool licence']['AccountBasedExpenseLineDetail']
        self.assertEqual(software['AccountRef']['value'], self.qbo_accounts['Software'].qbo_id)
        kit = by_description['Hardware kit']
        self.assertEqual(kit['DetailType'], 'ItemBasedExpenseLineDetail')
        self.assertEqual((kit['ItemBasedExpenseLineDetail']['ItemRef']['value'], kit['Amount']), ('1', 250.0))
        travel = by_description['Travel to client site']['AccountBasedExpenseLineDetail']
        customer = self.project_customer._qbo_binding(self.connection, 'Customer')
        self.assertEqual((travel['CustomerRef']['value'], travel['BillableStatus']), (customer.qbo_id, 'Billable'))
        self.assertEqual(travel['ClassRef']['value'], delivery.qbo_id)
        self.assertNotIn('ClassRef', consulting, "no analytic account, no default class: no class")
        vendors = [v['DisplayName'] for v in self.qbo_all(self.realm, 'Vendor')]
        self.assertEqual(vendors.count('Northwind Consulting'), 1, vendors)

    def test_us_bill_tax_is_kept_in_the_total(self):
        """US companies track no purchase tax: Odoo's booked tax is in the lines, the totals agree."""
        purchase_tax = self.env['account.tax'].create({'name': 'Use tax 8%', 'amount': 8.0,
                                                       'type_tax_use': 'purchase', 'company_id': self.company.id})
        move = self._bill([dict(self._line(99.99), tax_ids=[Command.set(purchase_tax.ids)])])
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        bill = self.qbo_read(self.realm, 'Bill', binding.qbo_id)
        self.assertAlmostEqual(bill['TotalAmt'], move.amount_total)
        self.assertAlmostEqual(move.amount_total, 107.99)

    def test_vendor_credit_and_cancel_deletes(self):
        refund = self._bill([self._line(75.25)], move_type='in_refund', ref='CN-17')
        refund.action_qbo_send()
        binding = refund._qbo_binding(self.connection)
        self.assertEqual((binding.entity, binding.state), ('VendorCredit', 'sent'), binding.error_message)
        credit = self.qbo_read(self.realm, 'VendorCredit', binding.qbo_id)
        self.assertAlmostEqual(credit['TotalAmt'], 75.25)
        refund.button_draft()
        refund.button_cancel()
        binding._qbo_process()
        self.assertEqual(binding.state, 'voided', binding.error_message)
        live = [c['Id'] for c in self.qbo_all(self.realm, 'VendorCredit') if c.get('status') != 'Deleted']
        self.assertNotIn(binding.qbo_id, live)

    def test_partner_both_customer_and_vendor_exists_once_on_each_side(self):
        """Whatever the order of sends, one Customer and one Vendor for a partner that is both."""
        for first in ('bill', 'invoice'):
            with self.subTest(first=first):
                partner = self.env['res.partner'].create({'name': f'Contoso {first}', 'is_company': True})
                invoice = self.env['account.move'].create({
                    'move_type': 'out_invoice', 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
                    'invoice_line_ids': [Command.create({'product_id': self.product_a.id, 'price_unit': 10,
                                                         'tax_ids': [Command.set(self.tax_ca.ids)]})]})
                invoice.action_post()
                bill = self._bill([self._line(20.0)], partner=partner, ref=f'B-{first}')
                docs = (bill, invoice) if first == 'bill' else (invoice, bill)
                for doc in docs + docs:  # twice each: a second send changes nothing
                    doc._qbo_binding(self.connection).write({'state': 'to_send'})
                    doc.action_qbo_send()
                names = [c['DisplayName'] for c in self.qbo_all(self.realm, 'Customer')]
                vendors = [v['DisplayName'] for v in self.qbo_all(self.realm, 'Vendor')]
                self.assertEqual(sum(name.startswith(partner.name) for name in names), 1, names)
                self.assertEqual(sum(name.startswith(partner.name) for name in vendors), 1, vendors)
                self.assertEqual(bill._qbo_binding(self.connection).state, 'sent')
                self.assertEqual(invoice._qbo_binding(self.connection).state, 'sent')

    def test_unmapped_expense_account_blocks_with_advice(self):
        other = self.env['account.account'].create({'name': 'Office supplies', 'code': '619903',
                                                    'account_type': 'expense'})
        move = self._bill([self._line(12.0, other)])
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'blocked')
        self.assertIn('Office supplies', binding.error_message)
        self.assertIn('Mappings', binding.error_message)
        self.assertFalse(self.qbo_all(self.realm, 'Bill'))

    def test_bill_create_timeout_then_429_is_sent_once(self):
        """The create commits in QuickBooks but its answer is lost, the retry gets a 429: one bill."""
        move = self._bill([self._line(310.0)])
        self.vendor.action_qbo_send()
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains='/bill', realm_id=self.realm,
                              method='POST')
        self.qbo.inject_fault('429', count=1, path_contains='/bill', realm_id=self.realm, method='POST')
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'to_send')
        self.qbo.clear_faults()
        self.qbo_end_throttle()
        binding.write({'next_retry_date': False})
        binding._qbo_process()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertEqual(len(self.qbo_all(self.realm, 'Bill')), 1)

    def test_bill_edit_updates_in_place(self):
        move = self._bill([self._line(500.0)])
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        move.button_draft()
        move.invoice_line_ids[0].price_unit = 550.0
        move.action_post()
        self.assertEqual(binding.state, 'to_send')
        binding._qbo_process()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        bills = self.qbo_all(self.realm, 'Bill')
        self.assertEqual(len(bills), 1)
        self.assertAlmostEqual(bills[0]['TotalAmt'], 550.0)

    def _pay(self, bill, journal, amount=None):
        """Register a vendor payment for `bill` in `journal`, as the Register Payment button does."""
        wizard = self.env['account.payment.register'].with_context(
            active_model='account.move', active_ids=bill.ids).create({
                'journal_id': journal.id, **({'amount': amount} if amount else {})})
        return wizard._create_payments()

    def _bill_payment_setup(self):
        """Vendor payments sent to QuickBooks; the bank journal pays from Checking, a card journal from the Visa."""
        self.connection.sudo().payment_export = True
        bank = self.company_data['default_journal_bank']
        card = self.env['account.journal'].create({'name': 'Visa card', 'type': 'credit', 'code': 'VISA',
                                                   'company_id': self.company.id})
        Ref = self.env['qbo.ref']
        checking = Ref.search([('connection_id', '=', self.connection.id), ('entity', '=', 'Account'),
                               ('name', '=', 'Checking')])
        for journal, ref in ((bank, checking), (card, self.qbo_accounts['Company Visa'])):
            self._map('deposit_account', journal, ref)
        return bank, card

    def test_bills_paid_by_check_and_by_card_become_bill_payments(self):
        bank, card = self._bill_payment_setup()
        by_check = self._bill([self._line(640.0)], ref='CHK-1')
        by_card = self._bill([self._line(99.0, self.odoo_software)], ref='CARD-1')
        (by_check | by_card).action_qbo_send()
        partial = self._pay(by_check, bank, amount=400.0)
        card_payment = self._pay(by_card, card)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        for payment, bill, pay_type, account, amount in (
                (partial, by_check, 'Check', 'Checking', 400.0),
                (card_payment, by_card, 'CreditCard', 'Company Visa', 99.0)):
            binding = payment._qbo_binding(self.connection)
            self.assertEqual((binding.entity, binding.state), ('BillPayment', 'sent'), binding.error_message)
            qbo = self.qbo_read(self.realm, 'BillPayment', binding.qbo_id)
            self.assertEqual(qbo['PayType'], pay_type)
            detail = qbo['CheckPayment']['BankAccountRef'] if pay_type == 'Check' else \
                qbo['CreditCardPayment']['CCAccountRef']
            expected = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id),
                                                   ('entity', '=', 'Account'), ('name', '=', account)])
            self.assertEqual(detail['value'], expected.qbo_id)
            self.assertAlmostEqual(qbo['TotalAmt'], amount)
            bill_id = bill._qbo_binding(self.connection).qbo_id
            self.assertEqual(qbo['Line'][0]['LinkedTxn'][0], {'TxnId': bill_id, 'TxnType': 'Bill'})
            self.assertAlmostEqual(self.qbo_read(self.realm, 'Bill', bill_id)['Balance'], bill.amount_residual)
        # Sent once: a second pass sends nothing more; a cancel voids it and the bill is open again.
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.assertEqual(len(self.qbo_all(self.realm, 'BillPayment')), 2)
        card_payment.action_draft()
        card_payment.action_cancel()
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.assertEqual(card_payment._qbo_binding(self.connection).state, 'voided')
        self.assertAlmostEqual(self.qbo_read(self.realm, 'Bill', by_card._qbo_binding(self.connection).qbo_id)
                               ['Balance'], 99.0)

    def test_vendor_refund_reconciled_with_a_bill_is_applied_in_quickbooks(self):
        """A vendor refund reconciled with a bill in Odoo: QuickBooks applies the VendorCredit to the Bill with
        a BillPayment of 0, so both ledgers show the same open amount; unreconciled, it is deleted there."""
        bank, _card = self._bill_payment_setup()
        self.connection.sudo().payment_journal_id = bank
        bill = self._bill([self._line(500.0)], ref='APPLY-1')
        refund = self._bill([self._line(200.0)], move_type='in_refund', ref='APPLY-CN')
        (bill | refund).action_qbo_send()
        payable = (bill | refund).line_ids.filtered(lambda line: line.account_id.account_type == 'liability_payable')
        payable.reconcile()
        self.assertEqual(bill.amount_residual, 300.0)
        applications = self.env['qbo.binding'].search([('connection_id', '=', self.connection.id),
                                                       ('res_model', '=', 'qbo.credit.application')])
        self.assertEqual(applications.entity, 'BillPayment')
        applications._qbo_process()
        self.assertEqual(applications.state, 'sent', applications.error_message)
        payment = self.qbo_read(self.realm, 'BillPayment', applications.qbo_id)
        self.assertEqual(float(payment['TotalAmt']), 0.0)
        links = sorted((line['LinkedTxn'][0]['TxnType'], float(line['Amount'])) for line in payment['Line'])
        self.assertEqual(links, [('Bill', 200.0), ('VendorCredit', 200.0)])
        bill_id = bill._qbo_binding(self.connection).qbo_id
        self.assertAlmostEqual(self.qbo_read(self.realm, 'Bill', bill_id)['Balance'], bill.amount_residual)
        payable.remove_move_reconcile()
        applications._qbo_process()
        self.assertAlmostEqual(self.qbo_read(self.realm, 'Bill', bill_id)['Balance'], 500.0)

    def test_invoice_pdf_is_attached_once(self):
        """With 'Attach documents', the PDF of a sent invoice (the one Odoo keeps for it) is attached to the
        QuickBooks Invoice, once, whatever the later sends."""
        self.connection.sudo().send_attachments = True
        invoice = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': self.project_customer.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'product_id': self.product_a.id, 'price_unit': 80.0,
                                                 'tax_ids': [Command.set(self.tax_ca.ids)]})]})
        invoice.action_post()
        pdf = self.env['ir.attachment'].create({'name': f'{invoice.name}.pdf', 'raw': b'%PDF-1.4 invoice',
                                                'mimetype': 'application/pdf', 'res_model': 'account.move',
                                                'res_id': invoice.id, 'res_field': 'invoice_pdf_report_file'})
        invoice.invalidate_recordset(['invoice_pdf_report_id'])
        self.assertEqual(invoice.invoice_pdf_report_id, pdf)
        invoice.action_qbo_send()
        invoice.action_qbo_send()
        binding = invoice._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        attached = [a for a in self.qbo_all(self.realm, 'Attachable')
                    if any(ref['EntityRef']['value'] == binding.qbo_id and ref['EntityRef']['type'] == 'Invoice'
                           for ref in a.get('AttachableRef') or [])]
        self.assertEqual([a['FileName'] for a in attached], [pdf.name])

    def test_journal_entry_with_analytic_split_lands_balanced(self):
        """A miscellaneous entry of a journal that sends its entries: one line per class of a split line,
        the payable line names its vendor, debits equal credits to the cent, sent once."""
        self.qbo.seed(self.realm, 'Class', 2, prefix='Team')
        self.connection._qbo_import_references()
        classes = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'Class')],
                                             order='qbo_id')
        self.connection.use_classes = True
        plan = self.env['account.analytic.plan'].sudo().create({'name': 'Teams'})
        teams = self.env['account.analytic.account'].sudo().create([{'name': name, 'plan_id': plan.id}
                                                             for name in ('Team east', 'Team west')])
        for team, ref in zip(teams, classes):
            self._map('analytic', team, ref)
        journal = self.company_data['default_journal_misc']
        journal.qbo_send_entries = True
        payable = self.vendor.property_account_payable_id
        entry = self.env['account.move'].create({
            'move_type': 'entry', 'journal_id': journal.id, 'date': fields.Date.today(), 'ref': 'Accrual',
            'line_ids': [
                Command.create({'name': 'Accrued consulting', 'account_id': self.odoo_subcontractors.id,
                                'debit': 1000.01, 'analytic_distribution': {str(teams[0].id): 33.33,
                                                                             str(teams[1].id): 66.67}}),
                Command.create({'name': 'Accrued consulting', 'account_id': payable.id,
                                'partner_id': self.vendor.id, 'credit': 1000.01}),
            ]})
        entry.action_post()
        binding = entry._qbo_binding(self.connection)
        self.assertEqual(binding.entity, 'JournalEntry')
        self.assertEqual(binding.state, 'to_send', "queued by itself: the journal sends its entries")
        entry.action_qbo_send()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo = self.qbo_read(self.realm, 'JournalEntry', binding.qbo_id)
        details = [(line['JournalEntryLineDetail'], line['Amount']) for line in qbo['Line']]
        debits = [(d.get('ClassRef', {}).get('value'), amount) for d, amount in details if d['PostingType'] == 'Debit']
        credits = [(d, amount) for d, amount in details if d['PostingType'] == 'Credit']
        self.assertEqual(sorted(debits), sorted([(classes[0].qbo_id, 333.30), (classes[1].qbo_id, 666.71)]))
        self.assertAlmostEqual(sum(amount for _d, amount in credits), 1000.01)
        vendor = self.vendor._qbo_binding(self.connection, 'Vendor')
        self.assertEqual(credits[0][0]['Entity']['EntityRef']['value'], vendor.qbo_id)
        self.assertAlmostEqual(qbo['TotalAmt'], 1000.01)
        entry.action_qbo_send()
        self.assertEqual(len(self.qbo_all(self.realm, 'JournalEntry')), 1)

    def test_bill_attachment_is_attached_once(self):
        """With 'Attach documents', the vendor's scan is attached to the Bill in QuickBooks, once."""
        self.connection.sudo().send_attachments = True
        move = self._bill([self._line(42.0)], post=False)
        scan = self.env['ir.attachment'].create({'name': 'northwind-2291.pdf', 'raw': b'%PDF-1.4 vendor bill scan',
                                                 'mimetype': 'application/pdf', 'res_model': 'account.move',
                                                 'res_id': move.id})
        move.message_main_attachment_id = scan
        move.action_post()
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertTrue(binding.qbo_attachable_id)
        move.button_draft()
        move.invoice_line_ids[0].price_unit = 43.0
        move.action_post()
        binding._qbo_process()
        attachables = [a for a in self.qbo_all(self.realm, 'Attachable')
                       if any(ref['EntityRef']['value'] == binding.qbo_id for ref in a.get('AttachableRef') or [])]
        self.assertEqual(len(attachables), 1)
        self.assertEqual(attachables[0]['FileName'], 'northwind-2291.pdf')



@tagged('post_install', '-at_install')
class TestQboPayablesTour(QboPayablesCommon):
    """Through the browser: map an expense account, send a bill of three lines, see it paid once QuickBooks
    has the payment."""

    def test_map_send_and_see_a_bill_paid(self):
        consulting = self.env['account.account'].create({'name': 'Tour consulting', 'code': '619909',
                                                         'account_type': 'expense'})
        vendor = self.env['res.partner'].create({'name': 'Tour Vendor', 'is_company': True})
        bill = self._bill([self._line(300.0, consulting, name='Design sprint'),
                           self._line(120.0, consulting, name='Review'),
                           self._line(45.5, self.odoo_software, name='Licence')],
                          partner=vendor, ref='TOUR-BILL-3')
        self.start_tour('/odoo/action-account.action_move_in_invoice_type', 'qbo_tour_payables_send_bill',
                        login='qbo_admin')
        self.env.invalidate_all()
        binding = bill._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        qbo_bill = self.qbo_read(self.realm, 'Bill', binding.qbo_id)
        self.assertAlmostEqual(qbo_bill['TotalAmt'], 465.5)
        accounts = {line['AccountBasedExpenseLineDetail']['AccountRef']['value'] for line in qbo_bill['Line']}
        self.assertEqual(accounts, {self.qbo_accounts['Subcontractors'].qbo_id, self.qbo_accounts['Software'].qbo_id})
        # Paid in QuickBooks (Expenses > Pay bills, by check): the change feed brings it back, the bill shows paid.
        self.connection.sudo().payment_journal_id = self.company_data['default_journal_bank']
        checking = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'Account'),
                                               ('name', '=', 'Checking')])
        self.qbo.record_bill_payment(self.realm, pay_type='Check', bank_account_id=checking.qbo_id,
                                     bills=[{'id': binding.qbo_id}])
        self.connection._qbo_drain()
        self.assertEqual(bill.amount_residual, 0.0)
        self.start_tour(f'/odoo/action-account.action_move_in_invoice_type/{bill.id}', 'qbo_tour_payables_bill_paid',
                        login='qbo_admin')


@tagged('post_install', '-at_install')
class TestQboPayablesGB(QboTestCommon):
    """GB VAT on purchases: price-included and price-excluded bills carry Odoo's booked VAT per rate."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref('base.GBP').active = True
        cls.gb_company = cls.setup_other_company(name='Payables UK', currency_id=cls.env.ref('base.GBP').id)['company']
        cls.change_company_country(cls.gb_company, cls.env.ref('base.uk'))
        cls.qbo_admin.company_ids = [Command.link(cls.gb_company.id)]
        cls.gb_expense = cls.env['account.account'].create({
            'name': 'Contractors UK', 'code': '629901', 'account_type': 'expense',
            'company_ids': [Command.set(cls.gb_company.ids)]})
        cls.supplier = cls.env['res.partner'].create({'name': 'Fabrikam Ltd', 'is_company': True})

    def setUp(self):
        super().setUp()
        self.gb_realm = self.qbo.create_company('Payables UK', country='GB', currency='GBP')['realm_id']
        self.gb_connection = self._qbo_connect(self._qbo_configure(self.gb_company), self.gb_realm)
        Ref = self.env['qbo.ref']
        purchases = Ref.search([('connection_id', '=', self.gb_connection.id), ('entity', '=', 'Account'),
                                ('name', '=', 'Purchases')])
        self.env['qbo.mapping'].create({'connection_id': self.gb_connection.id, 'mapping_type': 'account',
                                        'res_id': self.gb_expense.id, 'qbo_ref_id': purchases.id})
        vat20 = Ref.search([('connection_id', '=', self.gb_connection.id), ('entity', '=', 'TaxCode'),
                            ('qbo_id', '=', '2')])
        self.vat = {}
        for name, included in (('VAT 20% purchases incl.', True), ('VAT 20% purchases', False)):
            tax = self.env['account.tax'].create({
                'name': name, 'amount': 20, 'type_tax_use': 'purchase', 'company_id': self.gb_company.id,
                'price_include_override': 'tax_included' if included else 'tax_excluded'})
            self.env['qbo.mapping'].create({'connection_id': self.gb_connection.id, 'mapping_type': 'tax',
                                            'res_id': tax.id, 'qbo_ref_id': vat20.id})
            self.vat[included] = tax

    def test_vat_bills_inclusive_and_exclusive_to_the_cent(self):
        for included, mode in ((True, 'TaxInclusive'), (False, 'TaxExcluded')):
            with self.subTest(mode=mode):
                move = self.env['account.move'].with_company(self.gb_company).create({
                    'move_type': 'in_invoice', 'partner_id': self.supplier.id, 'invoice_date': fields.Date.today(),
                    'ref': f'UK-{mode}', 'invoice_line_ids': [Command.create({
                        'name': f'Line {index}', 'quantity': qty, 'price_unit': price,
                        'account_id': self.gb_expense.id, 'tax_ids': [Command.set(self.vat[included].ids)]})
                        for index, (qty, price) in enumerate(((3, 33.33), (1, 19.99), (2.5, 7.77)))]})
                move.action_post()
                move.with_company(self.gb_company).action_qbo_send()
                binding = move._qbo_binding(self.gb_connection)
                self.assertEqual(binding.state, 'sent', binding.error_message)
                bill = self.qbo.entity(self.gb_realm, 'Bill', binding.qbo_id)
                self.assertEqual(bill['GlobalTaxCalculation'], mode)
                self.assertAlmostEqual(bill['TotalAmt'], move.amount_total)
                self.assertAlmostEqual(bill['TxnTaxDetail']['TotalTax'], move.amount_tax)
                lines = [line for line in bill['Line'] if line['DetailType'] == 'AccountBasedExpenseLineDetail']
                self.assertAlmostEqual(sum(line['Amount'] for line in lines), move.amount_untaxed)
