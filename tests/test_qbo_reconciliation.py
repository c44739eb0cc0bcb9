"""Reconciliation: ten differences planted between Odoo's and QuickBooks' open documents are found, each with
its kind, fixed (by the line's fix, or as a user would), and the next run finds none.

QuickBooks is changed as a QuickBooks user would (the emulator's control API, or another app's API call);
every fix goes through the connector (the engine's send, a link, the payment import) and the re-run reads
QuickBooks back through the change feed, then checks the totals against QuickBooks' aging reports.
"""
import json
import urllib.request

from odoo import Command, fields
from odoo.tests import tagged

from .test_qbo_payables import QboPayablesCommon


class QboReconciliationCommon(QboPayablesCommon):
    """Customer invoices and vendor bills sent to the emulator; payments in either ledger."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env['res.partner'].create({'name': 'Heron Fittings', 'is_company': True,
                                                      'email': 'ap@heron.example'})
        cls.other_customer = cls.env['res.partner'].create({'name': 'Osprey Tools', 'is_company': True})
        cls.bank = cls.company_data['default_journal_bank']
        cls.connection.sudo().write({'payment_journal_id': cls.bank.id, 'payment_export': True})

    def setUp(self):
        super().setUp()
        self.checking = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id),
                                                    ('entity', '=', 'Account'), ('name', '=', 'Checking')])
        self._map('deposit_account', self.bank, self.checking)

    def _invoice(self, amount=100.0, partner=None, taxed=True, post=True):
        move = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': (partner or self.customer).id,
            'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({
                'product_id': self.product_a.id, 'quantity': 1, 'price_unit': amount,
                'tax_ids': [Command.set(self.tax_ca.ids if taxed else [])]})],
        })
        if post:
            move.action_post()
        return move

    def _send(self, move):
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        return move

    def _qbo_id(self, record):
        return record._qbo_binding(self.connection).qbo_id

    def qbo_user_post(self, entity, body):
        """What another QuickBooks user or app does: a call to the Accounting API, outside Odoo's client."""
        token = self.env['qbo.token'].sudo().search([('connection_id', '=', self.connection.id),
                                                     ('is_pending', '=', False)]).access_token
        url = f"{self.qbo_server.url}/v3/company/{self.realm}/{entity.lower()}?minorversion=75"
        request = urllib.request.Request(url, data=json.dumps(body).encode(), method='POST', headers={
            'Authorization': f'Bearer {token}', 'Content-Type': 'application/json', 'Accept': 'application/json'})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())[entity]

    def _register(self, move):
        """Register Payment in Odoo for the whole of `move`."""
        return self.env['account.payment.register'].with_context(
            active_model='account.move', active_ids=move.ids).create({'journal_id': self.bank.id})._create_payments()

    def _edit_total(self, move, price):
        """Change a posted document in Odoo (reset to draft, new price, posted again): not sent yet."""
        move.button_draft()
        move.invoice_line_ids[0].price_unit = price
        move.action_post()

    def _kinds(self, run):
        return sorted((line.kind, line.move_id.id or line.qbo_id) for line in run.document_ids)


@tagged('post_install', '-at_install')
class TestQboReconciliation(QboReconciliationCommon):

    def test_ten_planted_differences_found_fixed_and_gone(self):
        today = fields.Date.to_string(fields.Date.today())
        # Receivables ---------------------------------------------------------------------------------
        never_sent = self._invoice()                                                  # 1 missing in QuickBooks
        total_edited = self._send(self._invoice())                                    # 3 total differs
        partly_paid = self._send(self._invoice())                                     # 4 open amount differs
        paid_in_qbo = self._send(self._invoice())                                     # 5 paid in QuickBooks only
        relinked = self._send(self._invoice(50.0))                                    # 6 linked to another doc
        paid_in_odoo = self._send(self._invoice(20.0))                                # 10 paid in Odoo only
        customer_id = self._qbo_id(self.customer)
        self._send(self._invoice(30.0, partner=self.other_customer))
        other_id = self._qbo_id(self.other_customer)
        qbo_only = self.qbo_user_post('Invoice', {                                     # 2 missing in Odoo
            'CustomerRef': {'value': customer_id}, 'TxnDate': today, 'DueDate': today,
            'Line': [{'DetailType': 'SalesItemLineDetail', 'Amount': 75.0,
                      'SalesItemLineDetail': {'ItemRef': {'value': '1'}, 'TaxCodeRef': {'value': 'NON'}}}]})
        self._edit_total(total_edited, 120.0)
        self.qbo.record_payment(self.realm, invoices=[{'id': self._qbo_id(partly_paid), 'amount': 40.0}])
        self.qbo.record_payment(self.realm, invoices=[self._qbo_id(paid_in_qbo)])
        wrong = self.qbo_user_post('Invoice', {
            'CustomerRef': {'value': other_id}, 'TxnDate': today,
            'Line': [{'DetailType': 'SalesItemLineDetail', 'Amount': 9.0,
                      'SalesItemLineDetail': {'ItemRef': {'value': '1'}, 'TaxCodeRef': {'value': 'NON'}}}]})
        self.qbo.void_entity(self.realm, 'Invoice', wrong['Id'])
        right_id = self._qbo_id(relinked)
        relinked._qbo_binding(self.connection).sudo().qbo_id = wrong['Id']  # a link gone wrong
        self._register(paid_in_odoo)  # queued for QuickBooks, not sent yet
        # Payables ------------------------------------------------------------------------------------
        bill_never_sent = self._bill([self._line(100.0)], ref='REC-1')                  # 7 missing in QuickBooks
        bill_paid_in_qbo = self._send(self._bill([self._line(200.0)], ref='REC-2'))     # 8 paid in QuickBooks only
        bill_edited = self._send(self._bill([self._line(300.0)], ref='REC-3'))          # 9 total differs
        self._send(self._bill([self._line(400.0)], ref='REC-4'))                        # the same on both sides
        self.qbo.record_bill_payment(self.realm, bills=[{'id': self._qbo_id(bill_paid_in_qbo)}],
                                     bank_account_id=self.checking.qbo_id)
        self._edit_total(bill_edited, 333.0)

        # The first run reads QuickBooks' open documents (one paged query per entity) and its two reports.
        reads_before = self.qbo.usage(self.realm)['reads']
        action = self.connection.action_qbo_reconcile()
        run = self.env['qbo.reconciliation'].browse(action['res_id'])
        reads = self.qbo.usage(self.realm)['reads'] - reads_before
        self.assertEqual(run.reads, reads, "every metered read is counted")
        self.assertEqual(reads, 4 + 2, "one query per document type and the two aging reports, never per document")
        self.assertEqual(self.connection.qbo_mirror_reads, 4)
        self.assertTrue(run.report_ok, run.report_check)
        expected = sorted([
            ('missing_qbo', never_sent.id), ('missing_odoo', qbo_only['Id']), ('total', total_edited.id),
            ('balance', partly_paid.id), ('paid', paid_in_qbo.id), ('other_doc', relinked.id),
            ('paid', paid_in_odoo.id), ('missing_qbo', bill_never_sent.id), ('paid', bill_paid_in_qbo.id),
            ('total', bill_edited.id)])
        self.assertEqual(self._kinds(run), expected)
        lines = {line.move_id.id or line.qbo_id: line for line in run.document_ids}
        self.assertEqual(lines[relinked.id].target_id.qbo_id, right_id, "the document that carries its number")
        self.assertEqual(lines[partly_paid.id].qbo_balance, 68.0)
        self.assertEqual({key: line.fix for key, line in lines.items()}, {
            never_sent.id: 'resend', qbo_only['Id']: False, total_edited.id: 'resend',
            partly_paid.id: 'import_payment', paid_in_qbo.id: 'import_payment', relinked.id: 'relink',
            paid_in_odoo.id: 'send_payment', bill_never_sent.id: 'resend', bill_paid_in_qbo.id: 'import_payment',
            bill_edited.id: 'resend'})
        # Per partner and month: the customer's month differs by what the documents say.
        month = run.line_ids.filtered(lambda line: line.partner_id == self.customer)
        self.assertEqual(len(month), 1)
        self.assertAlmostEqual(month.odoo_amount, 108 + 129.6 + 108 + 108 + 54)
        self.assertAlmostEqual(month.qbo_amount, 108 + 68 + 54 + 21.6 + 75)

        # The fixes: each line's button, and for the document only in QuickBooks what a user does (make it in
        # Odoo, choose it on the line, link).
        for key, line in lines.items():
            if line.fix:
                line.action_qbo_fix()
                self.assertTrue(line.fixed, (key, line.kind, line.fix_note))
        made = self._invoice(75.0, taxed=False)
        lines[qbo_only['Id']].move_id = made
        self.assertEqual(lines[qbo_only['Id']].fix, 'relink')
        lines[qbo_only['Id']].action_qbo_fix()
        # QuickBooks holds what Odoo sent.
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(total_edited))['TotalAmt'], 129.6)
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', self._qbo_id(paid_in_odoo))['Balance'], 0)
        self.assertEqual(self._qbo_id(relinked), right_id)
        self.assertEqual(partly_paid.amount_residual, 68.0)
        self.assertIn(bill_paid_in_qbo.payment_state, ('paid', 'in_payment'))

        # Run again: the change feed brings QuickBooks' changes to the mirror (one CDC call), nothing differs.
        cdc_before = len(self.qbo.requests_log(path_contains='/cdc'))
        run2 = self.env['qbo.reconciliation'].browse(run.action_qbo_rerun()['res_id'])
        self.assertEqual(len(self.qbo.requests_log(path_contains='/cdc')) - cdc_before, 1)
        self.assertEqual(self._kinds(run2), [])
        self.assertEqual(run2.month_difference_count, 0, run2.line_ids.mapped(
            lambda line: (line.partner_name, line.month, line.odoo_amount, line.qbo_amount)))
        self.assertTrue(run2.report_ok, run2.report_check)
        self.assertAlmostEqual(run2.odoo_receivable, run2.qbo_receivable)
        self.assertAlmostEqual(run2.odoo_payable, run2.qbo_payable)
        self.assertGreater(run2.qbo_payable, 0)
        mirrored = self.env['qbo.open.document'].search([('connection_id', '=', self.connection.id),
                                                         ('entity', '=', 'Invoice'),
                                                         ('qbo_id', '=', self._qbo_id(never_sent))])
        self.assertEqual(mirrored.binding_id, never_sent._qbo_binding(self.connection), "the feed kept the mirror")

        # A credit QuickBooks holds outside the documents (an unapplied payment): the report check says so.
        self.qbo.record_payment(self.realm, unapplied=5.0, customer_id=customer_id)
        run3 = self.env['qbo.reconciliation']._qbo_run(self.connection, read_changes=False)
        self.assertFalse(run3.report_ok)
        self.assertIn('Heron Fittings', run3.report_check)
        self.assertEqual(self._kinds(run3), [])


@tagged('post_install', '-at_install')
class TestQboReconciliationTour(QboReconciliationCommon):
    """In the browser: dashboard -> reconciliation -> a fix -> run again, nothing differs -> per partner and month."""

    def test_reconciliation_tour(self):
        partner = self.env['res.partner'].create({'name': 'Tour Heron Fittings', 'is_company': True})
        self._send(self._invoice(partner=partner))
        never_sent = self._invoice(partner=partner)
        self.start_tour('/odoo/action-quickbooks_online.qbo_action_open_dashboard', 'qbo_tour_reconciliation',
                        login='qbo_admin')
        self.env.invalidate_all()
        binding = never_sent._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent')
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', binding.qbo_id)['TotalAmt'], 108.0)
        runs = self.env['qbo.reconciliation'].search([('connection_id', '=', self.connection.id)])
        self.assertEqual(len(runs), 2)
        self.assertEqual(runs[0].difference_count, 0)
