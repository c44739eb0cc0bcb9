from odoo import Command, fields
from odoo.tests import tagged

from .test_qbo_payments import QboPaymentsCommon


@tagged('post_install', '-at_install')
class TestQboCreditApplication(QboPaymentsCommon):
    """A credit note Odoo reconciles with an invoice is applied in QuickBooks as QuickBooks does it (a $0
    Payment linking the CreditMemo and the Invoice), so each customer's balance agrees; undone with Odoo."""

    def _application(self, refund):
        application = self.env['qbo.credit.application'].search([('move_id', '=', refund.id)])
        return application, application._qbo_binding(self.connection)

    def _receivable(self, move):
        return move.line_ids.filtered(lambda line: line.account_id.account_type == 'asset_receivable')

    def assertBalancesAgree(self, expected):
        """The customer's balance in QuickBooks (read back from the emulator) is Odoo's receivable."""
        self.env.flush_all()
        self.customer.invalidate_recordset(['credit'])
        self.assertAlmostEqual(self.customer.credit, expected)
        customer_id = self.customer._qbo_binding(self.connection).qbo_id
        self.assertAlmostEqual(self.qbo_read(self.realm, 'Customer', customer_id)['Balance'], expected)

    def qbo_applications(self):
        return [p for p in self.qbo_payments() if p['TotalAmt'] == 0]

    def qbo_payments(self):
        return [p for p in self.qbo_all(self.realm, 'Payment') if p.get('status') != 'Deleted']

    def test_full_reversal_applies_the_credit_memo_to_the_invoice(self):
        invoice = self._sent(amount=2300.0)                           # 2,484.00 with 8 % tax
        [refund] = invoice._reverse_moves([{'invoice_date': fields.Date.today()}], cancel=True)
        self.assertIn(invoice.payment_state, ('reversed', 'paid'))
        refund.action_qbo_send()
        self.assertEqual(refund._qbo_binding(self.connection).state, 'sent')
        self.qbo_drain()
        application, binding = self._application(refund)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        [payment] = self.qbo_payments()
        self.assertEqual(payment['Id'], binding.qbo_id)
        self.assertEqual(payment['TotalAmt'], 0)
        self.assertEqual(sorted((lt['TxnType'], lt['TxnId'], line['Amount']) for line in payment['Line']
                                for lt in line['LinkedTxn']),
                         sorted([('Invoice', self._qbo_id(invoice), 2484.0),
                                 ('CreditMemo', self._qbo_id(refund), 2484.0)]))
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 0)
        self.assertEqual(self.qbo_read(self.realm, 'CreditMemo', self._qbo_id(refund))['RemainingCredit'], 0)
        self.assertBalancesAgree(0.0)
        # Sent once: another run, and the change feed reading our own payment, change nothing.
        self.qbo_drain()
        self.drain()
        self.assertEqual(len(self.qbo_payments()), 1)
        self.assertFalse(self.env['qbo.payment.import'].search([('qbo_id', '=', payment['Id'])]))
        self.assertEqual(binding.state, 'sent')
        self.assertTrue(any("Credit applied in QuickBooks" in body for body in refund.message_ids.mapped('body')))

    def test_partial_reversal_then_more_then_unreconciled(self):
        invoice = self._sent(amount=1000.0)                           # 1,080.00
        refund = self._sent('out_refund', amount=250.0)               # 270.00, sent before it is reconciled
        self.assertBalancesAgree(810.0)
        # Reconciled by hand, later (Odoo's "Add" on the invoice's outstanding credit).
        (self._receivable(invoice) | self._receivable(refund)).reconcile()
        self.assertAlmostEqual(invoice.amount_residual, 810.0)
        application, binding = self._application(refund)
        self.assertEqual(binding.state, 'to_send', "queued by the reconciliation")
        self.qbo_drain()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 810.0)
        self.assertEqual(self.qbo_read(self.realm, 'CreditMemo', self._qbo_id(refund))['RemainingCredit'], 0)
        self.assertBalancesAgree(810.0)
        self.assertEqual(len(self.qbo_applications()), 1)
        # Undone in Odoo: the QuickBooks payment applying it is deleted, both are open again there.
        invoice.js_remove_outstanding_partial(self._receivable(refund).matched_debit_ids.id)
        self.assertEqual(binding.state, 'to_send')
        self.qbo_drain()
        self.assertEqual(binding.state, 'voided', binding.error_message)
        self.assertEqual(self.qbo_applications(), [])
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 1080.0)
        self.assertEqual(self.qbo_read(self.realm, 'CreditMemo', self._qbo_id(refund))['RemainingCredit'], 270.0)
        self.assertBalancesAgree(810.0)
        # Applied again: a new QuickBooks payment (a new requestid), never the deleted one replayed.
        (self._receivable(invoice) | self._receivable(refund)).reconcile()
        self.qbo_drain()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        [payment] = self.qbo_applications()
        self.assertEqual(payment['Id'], binding.qbo_id)
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(invoice))['Balance'], 810.0)
        self.assertBalancesAgree(810.0)

    def test_credit_note_over_two_invoices_one_sent_later(self):
        first = self._sent(amount=100.0)                              # 108.00
        second = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': self.customer.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'product_id': self.product_a.id, 'quantity': 1,
                                                 'price_unit': 100.0, 'tax_ids': [Command.set(self.tax_ca.ids)]})],
        })
        second.action_post()
        refund = self._sent('out_refund', amount=150.0)               # 162.00: 108 + 54
        (self._receivable(first) | self._receivable(second) | self._receivable(refund)).reconcile()
        self.qbo_drain()
        application, binding = self._application(refund)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        applied = {(lt['TxnType'], lt['TxnId']): line['Amount'] for line in self.qbo_applications()[0]['Line']
                   for lt in line['LinkedTxn']}
        invoice_amount = applied[('Invoice', self._qbo_id(first))]
        self.assertEqual(applied, {('Invoice', self._qbo_id(first)): invoice_amount,
                                   ('CreditMemo', self._qbo_id(refund)): invoice_amount},
                         "only what QuickBooks has is applied")
        # The second invoice reaches QuickBooks: its part of the credit follows, in the same payment.
        second.action_qbo_send()
        self.assertEqual(binding.state, 'to_send')
        self.qbo_drain()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        [payment] = self.qbo_applications()
        self.assertEqual(sum(line['Amount'] for line in payment['Line']
                             if line['LinkedTxn'][0]['TxnType'] == 'CreditMemo'), 162.0)
        self.assertBalancesAgree(54.0)

    def test_one_application_after_timeouts(self):
        invoice = self._sent(amount=100.0)
        refund = self._sent('out_refund', amount=100.0)
        (self._receivable(invoice) | self._receivable(refund)).reconcile()
        application, binding = self._application(refund)
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains='/payment', realm_id=self.realm)
        self.qbo.inject_fault('500', count=3, path_contains='/payment', realm_id=self.realm)
        self.qbo_drain()
        self.assertEqual(binding.state, 'to_send')
        self.assertTrue(binding.outcome_unknown)
        self.qbo.clear_faults()
        binding.write({'next_retry_date': False})
        self.qbo_drain()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertEqual(len(self.qbo_applications()), 1)
        self.assertEqual(self.qbo_applications()[0]['Id'], binding.qbo_id)
        self.assertBalancesAgree(0.0)

    def test_lost_answer_is_linked_by_the_change_feed_not_imported(self):
        invoice = self._sent(amount=100.0)
        refund = self._sent('out_refund', amount=100.0)
        (self._receivable(invoice) | self._receivable(refund)).reconcile()
        application, binding = self._application(refund)
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains='/payment', realm_id=self.realm)
        self.qbo.inject_fault('500', count=3, path_contains='/payment', realm_id=self.realm)
        self.qbo_drain()
        self.qbo.clear_faults()
        [payment] = self.qbo_applications()
        self.drain()
        self.assertEqual(binding.qbo_id, payment['Id'])
        self.assertFalse(self.imported(payment), "ours: never imported back")
        self.assertAlmostEqual(invoice.amount_residual, 0.0)
        binding.write({'next_retry_date': False})
        self.qbo_drain()
        self.assertEqual(len(self.qbo_applications()), 1)
        self.assertBalancesAgree(0.0)
