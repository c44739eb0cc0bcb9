"""Bill payments recorded in QuickBooks for bills sent from Odoo -> Odoo vendor payments reconciled with them.

QuickBooks is changed as a QuickBooks user would (the emulator's control API, or another app's API call);
Odoo learns it through the emulator's signed webhook or the change feed, and every assertion on
QuickBooks reads it back from the emulator.
"""
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .. import const
from .test_qbo_payables import QboPayablesCommon

VERIFIER = 'bill-payment-verifier'


@tagged('post_install', '-at_install')
class TestQboBillPaymentsInbound(QboPayablesCommon):
    """QuickBooks BillPayments (Check and CreditCard) -> Odoo outbound vendor payments, with the payment guards."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank = cls.company_data['default_journal_bank']
        cls.card = cls.env['account.journal'].create({'name': 'Visa card', 'type': 'credit', 'code': 'VISA',
                                                      'company_id': cls.company.id})
        cls.connection.sudo().write({'webhook_verifier_token': VERIFIER, 'payment_journal_id': cls.bank.id})

    def setUp(self):
        super().setUp()
        # The bank journal pays from Checking, the card journal from the Visa ("Bank or card account").
        self.checking = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id),
                                                    ('entity', '=', 'Account'), ('name', '=', 'Checking')])
        for journal, ref in ((self.bank, self.checking), (self.card, self.qbo_accounts['Company Visa'])):
            self._map('deposit_account', journal, ref)

    # ------------------------------------------------------------------ helpers

    def _sent_bill(self, amount, ref, move_type='in_invoice'):
        move = self._bill([self._line(amount)], move_type=move_type, ref=ref)
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        return move

    def _qbo_id(self, record):
        return record._qbo_binding(self.connection).qbo_id

    def _pay_in_qbo(self, bills, pay_type='Check', vendor_credits=(), **extra):
        """Pay bills in QuickBooks (Expenses > Pay bills): bills = [(move, amount or None for its balance)]."""
        account = {'bank_account_id': self.checking.qbo_id} if pay_type == 'Check' else \
            {'cc_account_id': self.qbo_accounts['Company Visa'].qbo_id}
        return self.qbo.record_bill_payment(
            self.realm, pay_type=pay_type, **account, **extra,
            bills=[{'id': self._qbo_id(move), 'amount': amount} for move, amount in bills],
            vendor_credits=[{'id': self._qbo_id(move), 'amount': amount} for move, amount in vendor_credits])

    def _pay_in_odoo(self, bill, journal):
        """Register a vendor payment for the whole of `bill` in `journal`, as the Register Payment button does."""
        return self.env['account.payment.register'].with_context(
            active_model='account.move', active_ids=bill.ids).create({'journal_id': journal.id})._create_payments()

    def drain(self):
        """One change-feed drain, as the cron runs it; returns the number of CDC calls it made."""
        before = len(self.qbo.requests_log(path_contains='/cdc'))
        self.connection._qbo_drain()
        return len(self.qbo.requests_log(path_contains='/cdc')) - before

    def imported(self, qbo_payment):
        return self.env['qbo.payment.import'].search([('connection_id', '=', self.connection.id),
                                                      ('qbo_entity', '=', 'BillPayment'),
                                                      ('qbo_id', '=', qbo_payment['Id'])])

    def vendor_payments(self):
        return self.env['account.payment'].search([('partner_id', '=', self.vendor.id),
                                                   ('state', '!=', 'canceled')])

    def qbo_balance(self, move):
        entity = 'Bill' if move.move_type == 'in_invoice' else 'VendorCredit'
        return self.qbo_read(self.realm, entity, self._qbo_id(move))['Balance']

    # ------------------------------------------------------------------ tests

    def test_check_payment_in_quickbooks_paid_in_odoo_through_the_webhook(self):
        """The emulator signs and POSTs the change to Odoo's endpoint; the cron's one CDC call pays the bill."""
        bill = self._sent_bill(640.0, 'CHK-WH')
        self.qbo.configure_webhook(self.base_url() + const.WEBHOOK_ROUTE, VERIFIER, realm_ids=[self.realm])
        self.addCleanup(self.qbo.configure_webhook, None, VERIFIER)
        with self.qbo_external_requests():
            self.qbo.flush_webhooks()  # the bill's and the vendor's own creation
        self.env['qbo.connection']._cron_qbo_change_feed()
        qbo_payment = self._pay_in_qbo([(bill, None)], reference='1001', private_note='March subcontracting')
        with self.qbo_external_requests():
            attempts = self.qbo.flush_webhooks()
        self.assertTrue(attempts and all(a['status'] == 200 for a in attempts), attempts)
        self.env.invalidate_all()
        event = self.env['qbo.webhook.event'].sudo().search([('entity', '=', 'BillPayment')])
        self.assertEqual((event.entity_id, event.state), (qbo_payment['Id'], 'pending'))
        before = len(self.qbo.requests_log())
        self.env['qbo.connection']._cron_qbo_change_feed()
        api_calls = [r for r in self.qbo.requests_log()[before:] if '/v3/company/' in r.get('path', '')]
        self.assertEqual(len(api_calls), 1, "one CDC call, the bill's Balance in the same answer: %s" % api_calls)
        self.assertIn('/cdc', api_calls[0]['path'])
        self.assertEqual(event.state, 'done')
        record = self.imported(qbo_payment)
        self.assertEqual(record.state, 'imported', record.message)
        payment = record.payment_id
        self.assertEqual((payment.payment_type, payment.partner_type), ('outbound', 'supplier'))
        self.assertEqual((payment.amount, payment.journal_id), (640.0, self.bank))
        self.assertEqual(payment.payment_reference, '1001')
        self.assertIn('March subcontracting', payment.memo)
        self.assertEqual(payment.outstanding_account_id, self.bank.default_account_id,
                         "paid from the bank account mapped to the journal")
        self.assertIn(bill.payment_state, ('paid', 'in_payment'))
        self.assertEqual(payment.reconciled_bill_ids, bill)
        self.assertEqual(self.qbo_balance(bill), 0)
        self.assertEqual(bill.amount_residual, 0)
        # Redelivered and read again: still one Odoo payment.
        self.drain()
        self.assertEqual(len(self.vendor_payments()), 1)

    def test_card_payment_and_partial_payment_by_the_change_feed(self):
        """No webhook: the hourly change feed brings a CreditCard bill payment and a partial Check one."""
        by_card, partly = self._sent_bill(99.0, 'CARD-1'), self._sent_bill(500.0, 'PART-1')
        card_payment = self._pay_in_qbo([(by_card, None)], pay_type='CreditCard')
        partial = self._pay_in_qbo([(partly, 200.0)])
        self.connection.sudo().last_cdc_date = fields.Datetime.now() - timedelta(hours=1)
        before = len(self.qbo.requests_log(path_contains='/cdc'))
        self.env['qbo.connection']._cron_qbo_change_feed()
        self.assertEqual(len(self.qbo.requests_log(path_contains='/cdc')), before + 1)
        card = self.imported(card_payment)
        self.assertEqual(card.state, 'imported', card.message)
        self.assertEqual(card.payment_id.journal_id, self.card, "the journal mapped to the card account")
        self.assertEqual(card.payment_id.outstanding_account_id, self.card.default_account_id)
        self.assertIn(by_card.payment_state, ('paid', 'in_payment'))
        record = self.imported(partial)
        self.assertEqual(record.state, 'imported', record.message)
        self.assertEqual(record.payment_id.journal_id, self.bank)
        self.assertEqual(partly.payment_state, 'partial')
        self.assertAlmostEqual(partly.amount_residual, 300.0)
        self.assertAlmostEqual(self.qbo_balance(partly), partly.amount_residual)

    def test_void_then_delete_in_quickbooks_cancel_the_odoo_payment(self):
        voided, deleted = self._sent_bill(120.0, 'VOID-1'), self._sent_bill(80.0, 'DEL-1')
        to_void, to_delete = self._pay_in_qbo([(voided, None)]), self._pay_in_qbo([(deleted, None)])
        self.drain()
        payments = self.imported(to_void).payment_id | self.imported(to_delete).payment_id
        self.assertEqual(len(payments), 2)
        self.assertIn(voided.payment_state, ('paid', 'in_payment'))
        self.qbo.void_entity(self.realm, 'BillPayment', to_void['Id'])
        self.qbo.delete_entity(self.realm, 'BillPayment', to_delete['Id'])
        self.drain()
        self.assertEqual(self.imported(to_void).state, 'voided')
        self.assertEqual(self.imported(to_delete).state, 'deleted')
        self.assertEqual(payments.mapped('state'), ['canceled', 'canceled'])
        for move, amount in ((voided, 120.0), (deleted, 80.0)):
            self.assertEqual(move.payment_state, 'not_paid')
            self.assertAlmostEqual(move.amount_residual, amount)
            self.assertAlmostEqual(self.qbo_balance(move), amount)

    def test_memo_only_edit_keeps_the_same_payment_and_its_reconciliation(self):
        bill = self._sent_bill(310.0, 'MEMO-1')
        qbo_payment = self._pay_in_qbo([(bill, None)], private_note='first note')
        self.drain()
        record = self.imported(qbo_payment)
        payment = record.payment_id
        number, partials = payment.name, bill.line_ids.matched_debit_ids
        self.assertTrue(partials)
        # Another user edits the memo in QuickBooks (a sparse update through the API).
        current = self.qbo_read(self.realm, 'BillPayment', qbo_payment['Id'])
        with self.connection._qbo_client_session() as client:
            client.update('BillPayment', {'Id': current['Id'], 'SyncToken': current['SyncToken'], 'sparse': True,
                                          'PrivateNote': 'paid early: 2% discount refused'}, 'test-memo-edit')
        self.assertNotEqual(self.qbo_read(self.realm, 'BillPayment', qbo_payment['Id'])['SyncToken'],
                            current['SyncToken'])
        self.drain()
        self.assertEqual(record.state, 'imported', record.message)
        self.assertEqual(record.payment_id, payment)
        self.assertFalse(record.adjustment_ids, "no amount changed: nothing booked again")
        self.assertEqual(payment.name, number)
        self.assertEqual(payment.state, 'paid')
        self.assertIn('paid early: 2% discount refused', payment.memo)
        self.assertEqual(bill.line_ids.matched_debit_ids, partials, "the same reconciliation")
        self.assertEqual(len(self.vendor_payments()), 1)

    def test_amount_change_books_only_the_difference(self):
        bill = self._sent_bill(400.0, 'AMT-1')
        qbo_payment = self._pay_in_qbo([(bill, 150.0)])
        self.drain()
        record = self.imported(qbo_payment)
        first = record.payment_id
        current = self.qbo_read(self.realm, 'BillPayment', qbo_payment['Id'])
        line = dict(current['Line'][0], Amount=250.0)
        with self.connection._qbo_client_session() as client:
            client.update('BillPayment', {'Id': current['Id'], 'SyncToken': current['SyncToken'], 'sparse': True,
                                          'TotalAmt': 250.0, 'Line': [line]}, 'test-amount-edit')
        self.drain()
        self.assertEqual(record.state, 'imported', record.message)
        self.assertEqual(record.payment_id, first)
        self.assertEqual(first.amount, 150.0, "the first payment stays as it is")
        self.assertEqual(record.adjustment_ids.mapped('amount'), [100.0])
        self.assertEqual(record.adjustment_ids.payment_type, 'outbound')
        self.assertAlmostEqual(bill.amount_residual, 150.0)
        self.assertAlmostEqual(self.qbo_balance(bill), bill.amount_residual)

    def test_bill_already_paid_in_odoo_is_listed_not_paid_twice(self):
        bill = self._sent_bill(210.0, 'TWICE-1')
        self._pay_in_odoo(bill, self.bank)  # registered in Odoo, not sent (payment export is off)
        self.assertIn(bill.payment_state, ('paid', 'in_payment'))
        qbo_payment = self._pay_in_qbo([(bill, None)])
        self.drain()
        record = self.imported(qbo_payment)
        self.assertEqual(record.state, 'unmatched')
        self.assertIn('also paid in Odoo', record.message)
        self.assertFalse(record.payment_id)
        self.assertEqual(len(self.vendor_payments()), 1, "paid once in Odoo")
        self.assertEqual(bill.amount_residual, 0)

    def test_vendor_credit_applied_in_a_bill_payment_is_reconciled_with_the_bill(self):
        bill = self._sent_bill(300.0, 'VC-BILL')
        credit = self._sent_bill(50.0, 'VC-1', move_type='in_refund')
        qbo_payment = self._pay_in_qbo([(bill, None)], vendor_credits=[(credit, None)])
        self.assertEqual(qbo_payment['TotalAmt'], 250.0)
        self.drain()
        record = self.imported(qbo_payment)
        self.assertEqual(record.state, 'imported', record.message)
        self.assertEqual(record.payment_id.amount, 250.0)
        self.assertEqual(record.move_ids, bill | credit)
        self.assertIn(bill.payment_state, ('paid', 'in_payment'))
        self.assertEqual(credit.amount_residual, 0)
        self.assertEqual((self.qbo_balance(bill), self.qbo_balance(credit)), (0, 0))

    def test_exported_bill_payments_are_not_imported_back_even_after_a_lost_answer(self):
        self.connection.sudo().payment_export = True
        sent, lost = self._sent_bill(75.0, 'OUT-1'), self._sent_bill(60.0, 'OUT-2')
        sent_payment = self._pay_in_odoo(sent, self.bank)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.assertEqual(sent_payment._qbo_binding(self.connection).state, 'sent')
        lost_payment = self._pay_in_odoo(lost, self.card)
        # The create commits in QuickBooks but Odoo never gets the answer (then 500s).
        self.qbo.inject_fault('timeout_after_commit', count=1, method='POST', path_contains='/billpayment',
                              realm_id=self.realm)
        self.qbo.inject_fault('500', count=3, method='POST', path_contains='/billpayment', realm_id=self.realm)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.qbo.clear_faults()
        binding = lost_payment._qbo_binding(self.connection)
        self.assertFalse(binding.qbo_id)
        self.assertTrue(binding.outcome_unknown)
        qbo_payments = self.qbo_all(self.realm, 'BillPayment')
        self.assertEqual(len(qbo_payments), 2)
        # The change feed reads both before the export retries: ours, linked, never imported back.
        self.drain()
        self.assertFalse(self.env['qbo.payment.import'].search([('connection_id', '=', self.connection.id)]))
        self.assertEqual(binding.state, 'sent')
        self.assertFalse(binding.outcome_unknown)
        self.assertIn(binding.qbo_id, [p['Id'] for p in qbo_payments])
        self.assertEqual(len(self.vendor_payments()), 2)
        for move in (sent, lost):
            self.assertEqual(move.amount_residual, 0)
            self.assertEqual(self.qbo_balance(move), 0)
        # The export runs again: nothing more is sent.
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.assertEqual(len(self.qbo_all(self.realm, 'BillPayment')), 2)
