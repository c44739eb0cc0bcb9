import json
import urllib.request
from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import tagged

from .. import const
from .common import QboTestCommon


class QboPaymentsCommon(QboTestCommon):
    """Invoices sent to the emulator, then paid there as a QuickBooks user would (Accounting API)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env['res.partner'].create({'name': 'Heron Fittings', 'is_company': True,
                                                      'email': 'ap@heron.example'})
        cls.bank = cls.company_data['default_journal_bank']
        cls.connection.sudo().payment_journal_id = cls.bank

    def _sent(self, move_type='out_invoice', amount=100.0):
        """A posted invoice (or credit note) of `amount` + 8% tax, sent to QuickBooks."""
        move = self.env['account.move'].create({
            'move_type': move_type, 'partner_id': self.customer.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'product_id': self.product_a.id, 'quantity': 1,
                                                 'price_unit': amount, 'tax_ids': [Command.set(self.tax_ca.ids)]})],
        })
        move.action_post()
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        return move

    def _qbo_id(self, record):
        return record._qbo_binding(self.connection).qbo_id

    def qbo_user_post(self, entity, body, params=''):
        """What another QuickBooks user or app does: a call to the Accounting API, outside Odoo's client."""
        token = self.env['qbo.token'].sudo().search([('connection_id', '=', self.connection.id),
                                                     ('is_pending', '=', False)]).access_token
        url = f"{self.qbo_server.url}/v3/company/{self.realm}/{entity.lower()}?minorversion=75{params}"
        request = urllib.request.Request(url, data=json.dumps(body).encode(), method='POST', headers={
            'Authorization': f'Bearer {token}', 'Content-Type': 'application/json', 'Accept': 'application/json'})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())[entity]

    def qbo_pay(self, applications, total=None, **extra):
        """Record a payment in QuickBooks: applications = [(move, amount)] (credit notes included)."""
        customer = self.customer._qbo_binding(self.connection).qbo_id
        lines = [{'Amount': amount, 'LinkedTxn': [{'TxnId': self._qbo_id(move),
                                                   'TxnType': 'Invoice' if move.move_type == 'out_invoice'
                                                   else 'CreditMemo'}]}
                 for move, amount in applications]
        if total is None:
            total = sum(a if m.move_type == 'out_invoice' else -a for m, a in applications)
        return self.qbo_user_post('Payment', dict({'CustomerRef': {'value': customer}, 'TotalAmt': total,
                                                   'Line': lines}, **extra))

    def drain(self):
        """One change-feed drain, as the cron runs it; returns the number of CDC calls it made."""
        before = len(self.qbo.requests_log(path_contains='/cdc'))
        self.connection._qbo_drain()
        return len(self.qbo.requests_log(path_contains='/cdc')) - before

    def imported(self, qbo_payment):
        return self.env['qbo.payment.import'].search([('connection_id', '=', self.connection.id),
                                                      ('qbo_id', '=', qbo_payment['Id'])])


@tagged('post_install', '-at_install')
class TestQboPayments(QboPaymentsCommon):
    """QuickBooks payments -> Odoo payments reconciled exactly; the change feed; Odoo payments -> QuickBooks."""

    def test_full_payment_marks_the_invoice_paid_with_one_cdc_call(self):
        invoice = self._sent()
        qbo_payment = self.qbo_pay([(invoice, 108.0)], PaymentRefNum='CHK-1001')
        self.assertEqual(self.drain(), 1)
        record = self.imported(qbo_payment)
        self.assertEqual(record.state, 'imported', record.message)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        payment = record.payment_id
        self.assertEqual(payment.amount, 108.0)
        self.assertEqual(payment.journal_id, self.bank)
        self.assertEqual(payment.payment_reference, 'CHK-1001')
        self.assertNotEqual(payment.outstanding_account_id, self.bank.default_account_id,
                            "Undeposited Funds: outstanding receipts, not the bank account")
        self.assertEqual(payment.state, 'paid', "its invoice is paid")
        self.assertEqual(payment.reconciled_invoice_ids, invoice)
        # Read again (webhook redelivered, overlapping window): nothing new.
        self.drain()
        self.assertEqual(self.env['account.payment'].search_count([('partner_id', '=', self.customer.id)]), 1)

    def test_read_changes_now_button(self):
        invoice = self._sent()
        self.qbo_pay([(invoice, 108.0)])
        action = self.connection.action_qbo_read_changes()
        self.assertEqual(action['params']['type'], 'success', action['params']['message'])
        self.assertIn('1 request', action['params']['message'])
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))

    def test_partial_then_rest(self):
        invoice = self._sent()
        first = self.qbo_pay([(invoice, 40.0)])
        self.drain()
        self.assertEqual(invoice.payment_state, 'partial')
        self.assertAlmostEqual(invoice.amount_residual, 68.0)
        self.qbo_pay([(invoice, 68.0)])
        self.drain()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(self.imported(first).payment_id.state, 'paid')

    def test_one_payment_over_several_invoices_with_unapplied_credit(self):
        inv1, inv2 = self._sent(amount=100.0), self._sent(amount=50.0)
        # 108 pays inv1, 30 goes to inv2 (54), 20 stays as customer credit.
        qbo_payment = self.qbo_pay([(inv1, 108.0), (inv2, 30.0)], total=158.0)
        self.assertEqual(qbo_payment['UnappliedAmt'], 20.0)
        self.assertEqual(self.drain(), 1)
        record = self.imported(qbo_payment)
        self.assertEqual(record.state, 'imported', record.message)
        self.assertEqual(record.payment_id.amount, 158.0)
        self.assertIn(inv1.payment_state, ('paid', 'in_payment'))
        self.assertEqual(inv2.payment_state, 'partial')
        self.assertAlmostEqual(inv2.amount_residual, 24.0)
        credit = record.payment_id.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == 'asset_receivable' and not line.reconciled)
        self.assertAlmostEqual(sum(credit.mapped('amount_residual')), -20.0, msg="open customer credit")
        self.assertEqual(record.move_ids, inv1 | inv2)

    def test_zero_payment_applying_a_credit_memo(self):
        invoice = self._sent(amount=100.0)
        refund = self._sent('out_refund', amount=50.0)
        qbo_payment = self.qbo_pay([(invoice, 54.0), (refund, 54.0)], total=0)
        self.drain()
        record = self.imported(qbo_payment)
        self.assertEqual(record.state, 'imported', record.message)
        self.assertEqual(record.payment_id.amount, 0.0)
        self.assertEqual(invoice.payment_state, 'partial')
        self.assertAlmostEqual(invoice.amount_residual, 54.0)
        self.assertIn(refund.payment_state, ('paid', 'in_payment', 'reversed'))
        self.assertAlmostEqual(refund.amount_residual, 0.0)

    def test_void_then_delete_unreconcile_and_cancel(self):
        invoice = self._sent()
        voided = self.qbo_pay([(invoice, 108.0)])
        self.drain()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        current = self.qbo_read(self.realm, 'Payment', voided['Id'])
        self.qbo_user_post('Payment', {'Id': voided['Id'], 'SyncToken': current['SyncToken'], 'sparse': True},
                           '&operation=update&include=void')
        self.drain()
        record = self.imported(voided)
        self.assertEqual(record.state, 'voided')
        self.assertEqual(record.payment_id.state, 'canceled')
        self.assertEqual(invoice.payment_state, 'not_paid')
        deleted = self.qbo_pay([(invoice, 108.0)])
        self.drain()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        current = self.qbo_read(self.realm, 'Payment', deleted['Id'])
        self.qbo_user_post('Payment', {'Id': deleted['Id'], 'SyncToken': current['SyncToken']}, '&operation=delete')
        self.drain()
        record = self.imported(deleted)
        self.assertEqual(record.state, 'deleted')
        self.assertEqual(record.payment_id.state, 'canceled')
        self.assertEqual(invoice.payment_state, 'not_paid')
        self.assertIn('Deleted in QuickBooks.', invoice.message_ids[0].body)

    def _partials(self, payments):
        lines = payments.move_id.line_ids
        return lines.matched_debit_ids | lines.matched_credit_ids

    def _receivable(self, move):
        return move.line_ids.filtered(lambda line: line.account_id.account_type == 'asset_receivable')

    def test_memo_date_reference_and_deposit_edits_update_the_payment_in_place(self):
        invoice = self._sent()
        checking = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'Account'),
                                               ('name', '=', 'Checking')], limit=1)
        self.env['qbo.mapping'].create({'connection_id': self.connection.id, 'mapping_type': 'deposit_account',
                                        'res_id': self.bank.id, 'qbo_ref_id': checking.id})
        qbo_payment = self.qbo_pay([(invoice, 108.0)], PaymentRefNum='CHK-1')
        self.drain()
        payment = self.imported(qbo_payment).payment_id
        name, partials = payment.name, self._partials(payment)
        self.assertEqual(len(partials), 1)
        self.assertNotEqual(payment.outstanding_account_id, self.bank.default_account_id, "Undeposited Funds")
        # Same month and year as today: the payment's number stays valid for its new date.
        today = fields.Date.today()
        new_date = today.replace(day=15 if today.day != 15 else 16)
        self.qbo.edit_payment(self.realm, qbo_payment['Id'], private_note='Check 1234, deposited',
                              reference='CHK-2', txn_date=str(new_date), deposit_account_id=checking.qbo_id)
        held = self.qbo_read(self.realm, 'Payment', qbo_payment['Id'])
        self.assertEqual((held['SyncToken'], held['TotalAmt'], held['Line'][0]['Amount']), ('1', 108, 108))
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 0)
        self.assertEqual(self.drain(), 1)
        record = self.imported(qbo_payment)
        self.assertEqual(record.state, 'imported', record.message)
        self.assertEqual(record.payment_id, payment, "the same Odoo payment, not a new one")
        self.assertFalse(record.adjustment_ids)
        self.assertEqual(payment.name, name)
        self.assertEqual(payment.state, 'paid')
        self.assertEqual(self._partials(payment), partials, "its reconciliation untouched")
        self.assertTrue(partials.exists())
        self.assertEqual((payment.date, payment.move_id.date), (new_date, new_date))
        self.assertEqual(payment.payment_reference, 'CHK-2')
        self.assertIn('Check 1234, deposited', payment.memo)
        self.assertEqual(payment.outstanding_account_id, self.bank.default_account_id, "deposited: in the bank")
        self.assertEqual(payment.move_id.line_ids.filtered(lambda line: line.debit).account_id,
                         self.bank.default_account_id)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(self.env['account.payment'].search_count([('partner_id', '=', self.customer.id)]), 1)

    def test_amount_change_books_only_the_difference(self):
        invoice, other = self._sent(), self._sent(amount=50.0)
        # 50 on the invoice and 20 left as customer credit...
        qbo_payment = self.qbo_pay([(invoice, 50.0)], total=70.0)
        self.drain()
        record = self.imported(qbo_payment)
        first = record.payment_id
        name = first.name
        # ...which an Odoo user applies to another invoice: work QuickBooks' edits must not undo.
        credit = self._receivable(first.move_id).filtered(lambda line: not line.reconciled)
        (credit | self._receivable(other)).reconcile()
        users = credit.matched_debit_ids
        self.assertAlmostEqual(other.amount_residual, 34.0)
        # In QuickBooks the invoice now gets 108 (the credit stays): only the 58 more is booked.
        self.qbo.edit_payment(self.realm, qbo_payment['Id'], invoices=[{'id': self._qbo_id(invoice), 'amount': 108}])
        self.drain()
        self.assertEqual(record.state, 'imported', record.message)
        self.assertEqual(record.payment_id, first)
        self.assertEqual((first.move_id.state, first.name), ('posted', name), "not cancelled, same number")
        self.assertTrue(users.exists(), "the user's reconciliation is untouched")
        self.assertEqual(len(record.adjustment_ids), 1)
        self.assertEqual((record.adjustment_ids.payment_type, record.adjustment_ids.amount), ('inbound', 58.0))
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 0)
        # QuickBooks takes most of it back: 30 on the invoice.
        self.qbo.edit_payment(self.realm, qbo_payment['Id'], invoices=[{'id': self._qbo_id(invoice), 'amount': 30}])
        self.drain()
        self.assertEqual(record.state, 'imported', record.message)
        qbo_balance = self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance']
        self.assertEqual(qbo_balance, 78)
        self.assertAlmostEqual(invoice.amount_residual, qbo_balance)
        taken_back = record.adjustment_ids.filtered(lambda p: p.payment_type == 'outbound')
        self.assertEqual(taken_back.amount, 78.0)
        self.assertEqual((first.move_id.state, first.name), ('posted', name))
        self.assertTrue(users.exists())
        self.assertAlmostEqual(other.amount_residual, 34.0)
        live = record.payment_id | record.adjustment_ids
        self.assertEqual(len(live.filtered(lambda p: p.state != 'canceled')), 3)
        received = sum(p.amount if p.payment_type == 'inbound' else -p.amount for p in live)
        self.assertAlmostEqual(received, self.qbo_read(self.realm, 'Payment', qbo_payment['Id'])['TotalAmt'])
        # Read again: nothing more.
        self.drain()
        self.assertEqual(len(record.adjustment_ids), 2)
        # Voided in QuickBooks: the payment is gone there, everything booked for it goes in Odoo.
        self.qbo.void_payment(self.realm, qbo_payment['Id'])
        self.drain()
        self.assertEqual(record.state, 'voided')
        self.assertEqual(set(live.mapped('state')), {'canceled'})
        self.assertAlmostEqual(invoice.amount_residual, 108.0)
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 108)

    def test_payment_imported_by_an_earlier_version_gets_only_the_difference(self):
        invoice = self._sent()
        qbo_payment = self.qbo_pay([(invoice, 50.0)])
        self.drain()
        record = self.imported(qbo_payment)
        record.sudo().booked = False  # imported before the connector recorded what it booked (rows are read-only)
        self.qbo.edit_payment(self.realm, qbo_payment['Id'], invoices=[{'id': self._qbo_id(invoice), 'amount': 60}])
        self.drain()
        self.assertEqual(record.state, 'imported', record.message)
        self.assertEqual(record.adjustment_ids.amount, 10.0)
        self.assertAlmostEqual(invoice.amount_residual, 48.0)
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 48)

    def test_bank_statement_match_survives_quickbooks_edits(self):
        invoice = self._sent()
        checking = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id), ('entity', '=', 'Account'),
                                               ('name', '=', 'Checking')], limit=1)
        self.env['qbo.mapping'].create({'connection_id': self.connection.id, 'mapping_type': 'deposit_account',
                                        'res_id': self.bank.id, 'qbo_ref_id': checking.id})
        qbo_payment = self.qbo_pay([(invoice, 108.0)])
        self.drain()
        record = self.imported(qbo_payment)
        payment = record.payment_id
        # The accountant matches the bank statement with the payment (as Odoo's own tests do it; bank
        # statements need the bookkeeper group, which Odoo Accounting gives).
        statement_line = self.env['account.bank.statement.line'].sudo().create({
            'payment_ref': payment.name, 'journal_id': self.bank.id, 'partner_id': self.customer.id, 'amount': 108.0})
        _st_liquidity, suspense, _other = statement_line._seek_for_lines()
        liquidity = payment.move_id.line_ids.filtered(lambda line: line.account_id == payment.outstanding_account_id)
        suspense.account_id = liquidity.account_id
        (suspense | liquidity).reconcile()
        match = liquidity.matched_credit_ids
        self.assertEqual(len(match), 1)
        outstanding = liquidity.account_id
        # In QuickBooks: a memo and the deposit account (Undeposited Funds -> Checking).
        self.qbo.edit_payment(self.realm, qbo_payment['Id'], private_note='Deposit slip 42',
                              deposit_account_id=checking.qbo_id)
        self.drain()
        self.assertEqual(record.state, 'imported')
        self.assertEqual(record.payment_id, payment)
        self.assertIn('Deposit slip 42', payment.memo)
        self.assertTrue(match.exists(), "the bank-statement match is kept")
        self.assertEqual(liquidity.account_id, outstanding, "matched: the line stays on its account")
        self.assertIn('already matched', record.message)
        # Then the amount: QuickBooks now applies 100 only.
        self.qbo.edit_payment(self.realm, qbo_payment['Id'], invoices=[{'id': self._qbo_id(invoice), 'amount': 100}])
        self.drain()
        self.assertEqual(record.state, 'imported', record.message)
        self.assertTrue(match.exists(), "still matched with the bank statement")
        self.assertEqual(payment.move_id.state, 'posted')
        self.assertEqual((record.adjustment_ids.payment_type, record.adjustment_ids.amount), ('outbound', 8.0))
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 8)
        self.assertAlmostEqual(invoice.amount_residual, 8.0)
        # Voided in QuickBooks while the bank says the money came: not cancelled behind the accountant's back.
        self.qbo.void_payment(self.realm, qbo_payment['Id'])
        self.drain()
        self.assertEqual(record.state, 'error')
        self.assertIn('not cancelled automatically', record.message)
        self.assertTrue(match.exists())
        self.assertEqual(payment.move_id.state, 'posted')
        self.assertAlmostEqual(invoice.amount_residual, 8.0)
        # The accountant unmatches the statement: Retry cancels what was booked.
        match.unlink()
        record.action_qbo_retry()
        self.assertEqual(record.state, 'voided', record.message)
        self.assertEqual(payment.state, 'canceled')
        self.assertAlmostEqual(invoice.amount_residual, 108.0)

    def test_invoice_partly_paid_in_odoo_then_the_rest_in_quickbooks_is_listed(self):
        invoice = self._sent()
        self.env['account.payment.register'].with_context(active_model='account.move', active_ids=invoice.ids).create(
            {'journal_id': self.bank.id, 'amount': 50.0})._create_payments()
        # Exactly what Odoo has open: not an over-application, but QuickBooks never heard of the 50.
        qbo_payment = self.qbo_pay([(invoice, 58.0)])
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 50)
        self.drain()
        record = self.imported(qbo_payment)
        self.assertEqual(record.state, 'unmatched')
        self.assertIn('also paid in Odoo', record.message)
        self.assertAlmostEqual(invoice.amount_residual, 58.0, msg="not paid twice")
        self.assertEqual(self.env['account.payment'].search_count([('partner_id', '=', self.customer.id)]), 1)

    def test_payment_of_an_invoice_odoo_does_not_know_is_listed(self):
        invoice = self._sent()
        customer = self.customer._qbo_binding(self.connection).qbo_id
        foreign = self.qbo_user_post('Invoice', {'CustomerRef': {'value': customer}, 'Line': [{
            'Amount': 20.0, 'DetailType': 'SalesItemLineDetail',
            'SalesItemLineDetail': {'ItemRef': {'value': '1'}, 'Qty': 1, 'UnitPrice': 20.0}}]})
        body = {'CustomerRef': {'value': customer}, 'TotalAmt': 128.0, 'Line': [
            {'Amount': 108.0, 'LinkedTxn': [{'TxnId': self._qbo_id(invoice), 'TxnType': 'Invoice'}]},
            {'Amount': 20.0, 'LinkedTxn': [{'TxnId': foreign['Id'], 'TxnType': 'Invoice'}]}]}
        qbo_payment = self.qbo_user_post('Payment', body)
        self.drain()
        record = self.imported(qbo_payment)
        self.assertEqual(record.state, 'unmatched')
        self.assertIn(f"Invoice {foreign['Id']} is not linked", record.message)
        self.assertFalse(record.payment_id, "not guessed")
        self.assertEqual(invoice.payment_state, 'not_paid')

    def test_invoice_already_paid_in_odoo_is_listed_not_paid_twice(self):
        invoice = self._sent()
        self.env['account.payment.register'].with_context(active_model='account.move', active_ids=invoice.ids).create(
            {'journal_id': self.bank.id})._create_payments()
        qbo_payment = self.qbo_pay([(invoice, 108.0)])
        self.drain()
        record = self.imported(qbo_payment)
        self.assertEqual(record.state, 'unmatched')
        self.assertIn('also paid in Odoo', record.message)
        self.assertEqual(self.env['account.payment'].search_count([('partner_id', '=', self.customer.id)]), 1)

    def test_payment_method_mapped_to_a_journal_and_deposited(self):
        invoice = self._sent()
        Ref = self.env['qbo.ref']
        method = Ref.search([('connection_id', '=', self.connection.id), ('entity', '=', 'PaymentMethod')], limit=1)
        checking = Ref.search([('connection_id', '=', self.connection.id), ('entity', '=', 'Account'),
                               ('name', '=', 'Checking')], limit=1)
        cash = self.company_data['default_journal_cash']
        self.env['qbo.mapping'].create([
            {'connection_id': self.connection.id, 'mapping_type': 'payment_method', 'res_id': cash.id,
             'qbo_ref_id': method.id},
            {'connection_id': self.connection.id, 'mapping_type': 'deposit_account', 'res_id': self.bank.id,
             'qbo_ref_id': checking.id}])
        by_method = self.qbo_pay([(invoice, 8.0)], PaymentMethodRef={'value': method.qbo_id})
        deposited = self.qbo_pay([(invoice, 100.0)], DepositToAccountRef={'value': checking.qbo_id})
        self.drain()
        self.assertEqual(self.imported(by_method).payment_id.journal_id, cash)
        payment = self.imported(deposited).payment_id
        self.assertEqual(payment.journal_id, self.bank)
        self.assertEqual(payment.outstanding_account_id, self.bank.default_account_id, "deposited: in the bank")
        self.assertEqual(payment.state, 'paid')

    def test_invoice_voided_or_deleted_in_quickbooks_is_noticed_by_the_feed(self):
        voided, deleted = self._sent(), self._sent()
        self.qbo.void_entity(self.realm, 'Invoice', self._qbo_id(voided))
        self.qbo.delete_entity(self.realm, 'Invoice', self._qbo_id(deleted))
        self.drain()
        self.assertEqual(voided._qbo_binding(self.connection).state, 'voided')
        self.assertIn('voided in QuickBooks', voided.message_ids[0].body)
        self.assertEqual(deleted._qbo_binding(self.connection).state, 'deleted_in_qbo')
        self.assertIn('deleted in QuickBooks', deleted.message_ids[0].body)

    def test_checkpoint_older_than_30_days_falls_back_to_full_reconciliation(self):
        invoice = self._sent()
        kept = self.qbo_pay([(invoice, 50.0)])
        self.drain()
        gone = self.qbo_pay([(invoice, 58.0)])
        self.drain()
        current = self.qbo_read(self.realm, 'Payment', gone['Id'])
        self.qbo_user_post('Payment', {'Id': gone['Id'], 'SyncToken': current['SyncToken']}, '&operation=delete')
        self.connection.sudo().cdc_checkpoint = fields.Datetime.now() - timedelta(days=40)
        cdc_before = len(self.qbo.requests_log(path_contains='/cdc'))
        self.connection._qbo_drain()
        self.assertEqual(len(self.qbo.requests_log(path_contains='/cdc')), cdc_before, "queries, not CDC")
        self.assertTrue(self.connection.last_full_reconcile_date)
        self.assertEqual(self.imported(gone).state, 'deleted')
        self.assertEqual(self.imported(kept).state, 'imported')
        self.assertEqual(invoice.payment_state, 'partial')
        self.assertGreater(self.connection.cdc_checkpoint, fields.Datetime.now() - timedelta(minutes=5))

    def test_a_capped_window_is_split(self):
        invoices = [self._sent(amount=10.0 * (i + 1)) for i in range(3)]
        payments = []
        for move in invoices:
            self.qbo.advance_clock(10)  # distinct LastUpdatedTime per payment
            payments.append(self.qbo_pay([(move, move.amount_total)]))
        # QuickBooks caps a CDC answer at 1,000 objects; with a cap of 2 this window is "full".
        with patch.object(const, 'CDC_MAX_OBJECTS', 2):
            calls = self.drain()
        self.assertGreater(calls, 2, "the window was read again, entity by entity and in slices")
        for qbo_payment in payments:
            self.assertEqual(self.imported(qbo_payment).state, 'imported')
        for move in invoices:
            self.assertIn(move.payment_state, ('paid', 'in_payment'))
        self.assertEqual(self.env['account.payment'].search_count([('partner_id', '=', self.customer.id)]), 3)

    def test_foreign_currency_payment_at_quickbooks_rate(self):
        eur = self.qbo_enable_eur()
        invoice = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': self.customer.id, 'invoice_date': fields.Date.today(),
            'currency_id': eur.id, 'invoice_line_ids': [Command.create({
                'name': 'Service', 'quantity': 1, 'price_unit': 50.0, 'tax_ids': [Command.set(self.tax_ca.ids)]})]})
        invoice.action_post()
        invoice.action_qbo_send()
        self.assertEqual(invoice._qbo_binding(self.connection).state, 'sent')
        qbo_payment = self.qbo_pay([(invoice, 54.0)], ExchangeRate=1.3)
        self.assertEqual(qbo_payment['CurrencyRef']['value'], 'EUR')
        self.drain()
        payment = self.imported(qbo_payment).payment_id
        self.assertEqual(payment.currency_id, eur)
        self.assertEqual(payment.amount, 54.0)
        liquidity = payment.move_id.line_ids.filtered(lambda line: line.account_id == payment.outstanding_account_id)
        self.assertAlmostEqual(liquidity.balance, 70.2, msg="54 EUR at QuickBooks' rate 1.3")
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertAlmostEqual(invoice.amount_residual, 0.0)

    def test_checkpoint_only_moves_over_processed_windows(self):
        invoice = self._sent()
        self.drain()
        checkpoint = self.connection.cdc_checkpoint
        self.qbo_pay([(invoice, 108.0)])
        self.qbo.inject_fault('500', count=5, path_contains='/cdc', realm_id=self.realm)
        with self.assertRaises(Exception):
            self.connection._qbo_drain()
        self.assertEqual(self.connection.cdc_checkpoint, checkpoint)
        self.qbo.inject_fault('500', count=5, path_contains='/cdc', realm_id=self.realm)
        self.connection.sudo().last_cdc_date = False  # due
        self.env['qbo.connection']._cron_qbo_change_feed()
        self.assertTrue(self.connection.feed_error, "the failure is shown on the connection")
        self.assertEqual(self.connection.cdc_checkpoint, checkpoint)
        self.qbo.clear_faults()
        self.drain()
        self.assertFalse(self.connection.feed_error)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))


@tagged('post_install', '-at_install')
class TestQboPaymentExport(QboPaymentsCommon):
    """Odoo payments -> one QuickBooks Payment each (opt-in), never imported back."""

    def _register(self, invoice, amount):
        return self.env['account.payment.register'].with_context(
            active_model='account.move', active_ids=invoice.ids).create({
                'amount': amount, 'journal_id': self.bank.id, 'communication': 'WIRE-77'})._create_payments()

    def qbo_payments(self):
        return [p for p in self.qbo_all(self.realm, 'Payment') if p.get('status') != 'Deleted']

    def test_off_by_default(self):
        invoice = self._sent()
        self._register(invoice, 108.0)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.assertEqual(self.qbo_payments(), [])

    def test_payment_sent_once_and_not_imported_back(self):
        self.connection.sudo().payment_export = True
        invoice = self._sent()
        payment = self._register(invoice, 50.0)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        binding = payment._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        [qbo_payment] = self.qbo_payments()
        self.assertEqual(qbo_payment['TotalAmt'], 50.0)
        self.assertEqual(qbo_payment['PaymentRefNum'], 'WIRE-77')
        self.assertEqual(qbo_payment['Line'][0]['LinkedTxn'][0]['TxnId'], self._qbo_id(invoice))
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 58.0)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.drain()
        self.assertEqual(len(self.qbo_payments()), 1)
        self.assertFalse(self.imported(qbo_payment), "our own payment is not imported back")
        self.assertEqual(self.env['account.payment'].search_count([('partner_id', '=', self.customer.id)]), 1)

    def test_one_quickbooks_payment_after_timeouts_and_a_crash(self):
        self.connection.sudo().payment_export = True
        invoice = self._sent()
        payment = self._register(invoice, 108.0)
        # Timeout after QuickBooks committed, then a 500: the outcome is unknown.
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains='/payment', realm_id=self.realm)
        self.qbo.inject_fault('500', count=3, path_contains='/payment', realm_id=self.realm)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        binding = payment._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'to_send')
        self.qbo.clear_faults()
        # A crash after QuickBooks answered: Odoo's transaction is lost, binding and all.
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            binding.write({'next_retry_date': False})
            binding._qbo_process()
            self.assertTrue(binding.qbo_id)
            raise RuntimeError("worker killed")
        self.env.invalidate_all()
        self.assertFalse(binding.qbo_id)
        binding.write({'next_retry_date': False})
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertEqual(len(self.qbo_payments()), 1)
        self.assertEqual(self.qbo_payments()[0]['Id'], binding.qbo_id)

    def test_cancelled_in_odoo_voided_in_quickbooks(self):
        self.connection.sudo().payment_export = True
        invoice = self._sent()
        payment = self._register(invoice, 108.0)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        binding = payment._qbo_binding(self.connection)
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 0)
        payment.action_draft()
        payment.action_cancel()
        self.assertEqual(binding.state, 'to_send')
        binding._qbo_process()
        self.assertEqual(binding.state, 'voided', binding.error_message)
        self.assertEqual(self.qbo_read(self.realm, 'Payment', binding.qbo_id)['TotalAmt'], 0)
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 108.0)
        self.drain()  # the void's echo changes nothing
        self.assertEqual(binding.state, 'voided')

    def _lose_the_answer(self):
        """The next payment write commits in QuickBooks, but Odoo never gets the answer (then 500s)."""
        self.qbo.inject_fault('timeout_after_commit', count=1, method='POST', path_contains='/payment',
                              realm_id=self.realm)
        self.qbo.inject_fault('500', count=3, method='POST', path_contains='/payment', realm_id=self.realm)

    def test_exported_payment_whose_answer_was_lost_is_linked_not_imported(self):
        self.connection.sudo().payment_export = True
        invoice = self._sent()
        payment = self._register(invoice, 50.0)
        self._lose_the_answer()
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.qbo.clear_faults()
        binding = payment._qbo_binding(self.connection)
        self.assertFalse(binding.qbo_id)
        self.assertTrue(binding.outcome_unknown)
        [qbo_payment] = self.qbo_payments()
        database = self.env['ir.config_parameter'].sudo().get_param('database.uuid')
        self.assertTrue(qbo_payment['PrivateNote'].endswith(f"odoo:{database}:account.payment:{payment.id}"),
                        "an untranslated marker, per database")
        # The change feed reads it before the export retries: it is ours, linked, not imported back.
        self.drain()
        self.assertEqual(binding.qbo_id, qbo_payment['Id'])
        self.assertEqual(binding.state, 'sent')
        self.assertFalse(binding.outcome_unknown)
        self.assertFalse(self.imported(qbo_payment))
        self.assertAlmostEqual(invoice.amount_residual, 58.0, msg="paid once in Odoo")
        self.assertEqual(self.env['account.payment'].search_count([('partner_id', '=', self.customer.id)]), 1)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.assertEqual(len(self.qbo_payments()), 1)
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 58)

    def test_lookup_after_a_lost_answer_reads_every_page(self):
        self.connection.sudo().payment_export = True
        invoice, other = self._sent(), self._sent(amount=50.0)
        # Two payments of the same customer recorded in QuickBooks come before ours.
        self.qbo_pay([(other, 20.0)])
        self.qbo_pay([(other, 10.0)])
        payment = self._register(invoice, 108.0)
        self._lose_the_answer()
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.qbo.clear_faults()
        binding = payment._qbo_binding(self.connection)
        self.assertTrue(binding.outcome_unknown)
        before = len(self.qbo.requests_log(path_contains='/query'))
        binding.next_retry_date = False
        with patch.object(const, 'QUERY_PAGE_SIZE', 1):
            self.env['account.payment']._qbo_enqueue_payment_exports()
        self.assertGreaterEqual(len(self.qbo.requests_log(path_contains='/query')) - before, 3, "page after page")
        self.assertEqual(binding.state, 'sent', binding.error_message)
        ours = [p for p in self.qbo_payments() if p['TotalAmt'] == 108]
        self.assertEqual(len(ours), 1, "found on the third page, not created again")
        self.assertEqual(binding.qbo_id, ours[0]['Id'])
        self.assertEqual(len(self.qbo_payments()), 3)

    def test_void_after_an_unknown_outcome_goes_through_the_intent(self):
        self.connection.sudo().payment_export = True
        invoice = self._sent()
        payment = self._register(invoice, 108.0)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        binding = payment._qbo_binding(self.connection)
        payment.action_draft()
        payment.action_cancel()
        self._lose_the_answer()
        binding._qbo_process()
        self.qbo.clear_faults()
        self.assertEqual(binding.state, 'to_send')
        self.assertEqual(binding.intent_operation, 'void', "the void's intent is kept: outcome unknown")
        self.assertEqual(self.qbo_read(self.realm, 'Payment', binding.qbo_id)['TotalAmt'], 0, "voided meanwhile")
        voids = len([r for r in self.qbo.requests_log(path_contains='/payment')
                     if (r.get('query') or {}).get('include') == 'void'])
        binding.next_retry_date = False
        binding._qbo_process()
        self.assertEqual(binding.state, 'voided', binding.error_message)
        self.assertFalse(binding.outcome_unknown)
        self.assertEqual(len([r for r in self.qbo.requests_log(path_contains='/payment')
                              if (r.get('query') or {}).get('include') == 'void']), voids, "not voided twice")
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 108)

    def test_edits_of_a_sent_payment_are_sent(self):
        self.connection.sudo().payment_export = True
        invoice = self._sent()
        payment = self._register(invoice, 50.0)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        binding = payment._qbo_binding(self.connection)
        [qbo_payment] = self.qbo_payments()
        payment.memo = 'WIRE-78'
        self.assertEqual(binding.state, 'to_send')
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        [updated] = self.qbo_payments()
        self.assertEqual((updated['Id'], updated['PaymentRefNum']), (qbo_payment['Id'], 'WIRE-78'))
        self.assertEqual(updated['SyncToken'], '1')
        # Back to draft, 60 instead of 50, posted and reconciled with the invoice again.
        payment.action_draft()
        payment.amount = 60.0
        payment.action_post()
        receivable = payment.move_id.line_ids | invoice.line_ids
        receivable.filtered(lambda line: line.account_id.account_type == 'asset_receivable'
                            and not line.reconciled).reconcile()
        self.assertAlmostEqual(invoice.amount_residual, 48.0)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        [updated] = self.qbo_payments()
        self.assertEqual(updated['Id'], qbo_payment['Id'], "updated, not created again")
        self.assertEqual((updated['TotalAmt'], updated['Line'][0]['Amount']), (60, 60))
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 48)

    def test_exported_payment_edited_in_quickbooks(self):
        self.connection.sudo().payment_export = True
        invoice = self._sent()
        payment = self._register(invoice, 50.0)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        binding = payment._qbo_binding(self.connection)
        [qbo_payment] = self.qbo_payments()
        self.drain()  # its own echo
        self.assertEqual(binding.state, 'sent')
        # A memo written in QuickBooks: nothing to settle, the next update uses the new SyncToken.
        self.qbo.edit_payment(self.realm, qbo_payment['Id'], reference='CHK-5')
        self.drain()
        self.assertEqual((binding.state, binding.qbo_sync_token), ('sent', '1'))
        # The amount changed there: both systems no longer agree, which is shown, never imported.
        self.qbo.edit_payment(self.realm, qbo_payment['Id'], invoices=[{'id': self._qbo_id(invoice), 'amount': 40}])
        self.drain()
        self.assertEqual(binding.state, 'variance')
        self.assertIn('40.0', binding.error_message)
        self.assertFalse(self.imported(qbo_payment))
        # Sent again from Odoo: QuickBooks holds Odoo's 50 again.
        payment.action_qbo_send()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        held = self.qbo_read(self.realm, 'Payment', qbo_payment['Id'])
        self.assertEqual((held['TotalAmt'], held['Line'][0]['Amount']), (50, 50))
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 58)

    def test_payment_without_journal_entry_is_exported(self):
        """Odoo Accounting: no outstanding account on the payment method line, hence no journal entry
        (simulated as Odoo's own tests do: the 'in_payment' hook of the accountant module)."""
        self.connection.sudo().payment_export = True
        invoice = self._sent()
        self.bank.inbound_payment_method_line_ids.payment_account_id = self.env['account.account']
        with patch.object(self.env.registry['account.move'], '_get_invoice_in_payment_state',
                          return_value='in_payment'):
            payment = self._register(invoice, 108.0)
            self.assertFalse(payment.move_id)
            self.env['account.payment']._qbo_enqueue_payment_exports()
        binding = payment._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        [qbo_payment] = self.qbo_payments()
        self.assertEqual(qbo_payment['TotalAmt'], 108)
        self.assertEqual(qbo_payment['Line'][0]['LinkedTxn'][0]['TxnId'], self._qbo_id(invoice))
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 0)
        self.drain()
        self.assertFalse(self.imported(qbo_payment))

    def test_payment_queued_in_odoo_and_the_rest_paid_in_quickbooks(self):
        """Two real payments of one invoice, one in each system: the QuickBooks one is imported (the
        Odoo one is on its way there), and both systems end with the invoice paid once."""
        self.connection.sudo().payment_export = True
        invoice = self._sent()
        self._register(invoice, 50.0)
        qbo_payment = self.qbo_pay([(invoice, 58.0)])
        self.drain()
        record = self.imported(qbo_payment)
        self.assertEqual(record.state, 'imported', record.message)
        self.env['account.payment']._qbo_enqueue_payment_exports()
        self.assertEqual(len(self.qbo_payments()), 2)
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 0)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertAlmostEqual(invoice.amount_residual, 0.0)
