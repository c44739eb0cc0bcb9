"""The whole document lifecycle against QuickBooks: cancel, reset to draft, delete, re-post, cash
rounding, and the customer changes QuickBooks has rules of its own for (archive with a balance, merge).

Every test ends by reading back what the emulator holds (live and voided documents, totals, the
customer's state); nothing is mocked.
"""
import re

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import QboTestCommon

VERIFIER = 'lifecycle-verifier-token'


@tagged('post_install', '-at_install')
class TestQboLifecycle(QboTestCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection.sudo().webhook_verifier_token = VERIFIER

    # ------------------------------------------------------------------ helpers

    def _partner(self, name):
        return self.env['res.partner'].create({'name': name, 'is_company': True})

    def _invoice(self, partner, amount=100.0, post=True, **vals):
        move = self.env['account.move'].create(dict({
            'move_type': 'out_invoice', 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'product_id': self.product_a.id, 'quantity': 1,
                                                 'price_unit': amount, 'tax_ids': [Command.set(self.tax_ca.ids)]})],
        }, **vals))
        if post:
            move.action_post()
        return move

    def _binding(self, record):
        return record._qbo_binding(self.connection)

    def _send(self, record):
        record.action_qbo_send()
        binding = self._binding(record)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        return binding

    def _qbo_documents(self, move, entity='Invoice'):
        """QuickBooks' documents of this Odoo move, every issue of it (marker ``...:<id>`` or ``...:<id>:<n>``),
        deleted ones left out."""
        dbuuid = self.env['ir.config_parameter'].sudo().get_param('database.uuid')
        ours = re.compile(rf"odoo:{dbuuid}:account\.move:{move.id}(:\d+)?$")
        return [doc for doc in self.qbo_all(self.realm, entity)
                if doc.get('status') != 'Deleted' and ours.search((doc.get('PrivateNote') or '').rstrip())]

    def _live(self, documents):
        return [doc for doc in documents if not (doc.get('PrivateNote') or '').startswith('Voided')]

    def _invoice_writes(self):
        return [r for r in self.qbo.requests_log(path_contains=f'/{self.realm}/invoice') if r['method'] == 'POST']

    def _notes(self, record):
        return ' '.join(record.message_ids.mapped('body'))

    # ------------------------------------------------------------------ cancel with an unknown create

    def test_cancel_after_unknown_create_looks_up_then_voids(self):
        """Timeout after QuickBooks committed the create, then Cancel: QuickBooks ends with no live invoice."""
        partner = self._partner('Lost Answer Ltd')
        self._send(partner)
        move = self._invoice(partner)
        self.env['qbo.binding']._qbo_get_or_create(self.connection, move, 'Invoice')
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains='/invoice', realm_id=self.realm,
                              method='POST')
        self.qbo.inject_fault('500', count=2, path_contains='/invoice', realm_id=self.realm, method='POST')
        self.env['qbo.binding']._cron_qbo_export()
        binding = self._binding(move)
        self.assertFalse(binding.qbo_id)
        self.assertTrue(binding.outcome_unknown)
        self.assertEqual(len(self._live(self._qbo_documents(move))), 1, "QuickBooks did create it")

        move.button_cancel()
        self.assertEqual(binding.state, 'to_send', "the cancel is queued although Odoo has no QuickBooks Id")
        writes_before = len(self._invoice_writes())
        self.qbo_drain()
        self.assertEqual(binding.state, 'voided', binding.error_message)
        self.assertFalse(binding.outcome_unknown)
        documents = self._qbo_documents(move)
        self.assertEqual(len(documents), 1, "looked up, never created a second time")
        self.assertEqual(binding.qbo_id, documents[0]['Id'])
        self.assertFalse(self._live(documents), "no live invoice left in QuickBooks")
        self.assertEqual(documents[0]['TotalAmt'], 0)
        self.assertEqual(len(self._invoice_writes()), writes_before + 1, "one write after the lookup: the void")

    def test_cancel_after_unknown_create_that_never_happened(self):
        """The create failed without an answer and QuickBooks holds nothing: closed without a write."""
        partner = self._partner('Never Arrived Inc')
        self._send(partner)
        move = self._invoice(partner)
        self.env['qbo.binding']._qbo_get_or_create(self.connection, move, 'Invoice')
        self.qbo.inject_fault('500', count=3, path_contains='/invoice', realm_id=self.realm, method='POST')
        self.env['qbo.binding']._cron_qbo_export()
        binding = self._binding(move)
        self.assertTrue(binding.outcome_unknown)
        self.assertFalse(self._qbo_documents(move))
        writes_before = len(self._invoice_writes())
        move.button_cancel()
        self.qbo_drain()
        self.assertEqual(binding.state, 'voided', binding.error_message)
        self.assertFalse(binding.outcome_unknown, "the lookup proved the absence")
        self.assertEqual(len(self._invoice_writes()), writes_before, "nothing to void: no write")
        self.assertFalse(self._qbo_documents(move))
        self.assertIn('nothing to void', self._notes(move))

    # ------------------------------------------------------------------ reset to draft and delete

    def test_sent_invoice_reset_to_draft_cannot_be_deleted_until_voided(self):
        """Deleting a draft that is live in QuickBooks is refused (it would stay open there); cancelled
        (voided in QuickBooks), it can be deleted, and its link goes with it."""
        partner = self._partner('Delete Me Co')
        move = self._invoice(partner)
        binding = self._send(move)
        qbo_id = binding.qbo_id
        move.button_draft()
        with self.assertRaisesRegex(UserError, 'is in QuickBooks .*Cancel it instead'):
            move.unlink()
        self.assertEqual(binding.state, 'sent')
        self.assertEqual(len(self._live(self._qbo_documents(move))), 1, "still live: nothing was deleted")

        move.button_cancel()
        self.qbo_drain()
        self.assertEqual(binding.state, 'voided', binding.error_message)
        self.assertFalse(self._live(self._qbo_documents(move)))
        marker = self.env['qbo.mapper']._qbo_marker(move)
        move.button_draft()
        move.unlink()
        self.assertFalse(binding.exists(), "the link goes with the document")
        voided = self.qbo_read(self.realm, 'Invoice', qbo_id)
        self.assertTrue(voided['PrivateNote'].startswith('Voided') and voided['PrivateNote'].endswith(marker))
        self.assertEqual(voided['TotalAmt'], 0)

    def test_unsent_draft_is_deleted_with_its_link(self):
        partner = self._partner('Never Sent Co')
        move = self._invoice(partner)
        binding = self.env['qbo.binding']._qbo_get_or_create(self.connection, move, 'Invoice')
        move.button_draft()
        move.unlink()
        self.assertFalse(binding.exists())

    def test_draft_with_unknown_create_cannot_be_deleted(self):
        partner = self._partner('Maybe There Co')
        self._send(partner)
        move = self._invoice(partner)
        self.env['qbo.binding']._qbo_get_or_create(self.connection, move, 'Invoice')
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains='/invoice', realm_id=self.realm,
                              method='POST')
        self.qbo.inject_fault('500', count=2, path_contains='/invoice', realm_id=self.realm, method='POST')
        self.env['qbo.binding']._cron_qbo_export()
        move.button_draft()
        with self.assertRaisesRegex(UserError, 'may already be in QuickBooks'):
            move.unlink()
        self.assertEqual(len(self._live(self._qbo_documents(move))), 1)

    # ------------------------------------------------------------------ re-post after a void

    def test_voided_invoice_reposted_is_sent_as_a_new_document(self):
        """Cancelled (voided in QuickBooks), reset to draft, edited, posted again: a new QuickBooks invoice,
        sent by the scheduler without any button; the voided one stays voided."""
        partner = self._partner('Second Life Ltd')
        move = self._invoice(partner)
        binding = self._send(move)
        first_id = binding.qbo_id
        move.button_cancel()
        self.qbo_drain()
        self.assertEqual(binding.state, 'voided', binding.error_message)

        move.button_draft()
        move.invoice_line_ids.price_unit = 150.0
        move.action_post()
        self.assertEqual(binding.state, 'to_send', "re-posting queues it, whatever the auto-send setting")
        self.assertFalse(binding.qbo_id)
        self.qbo_drain()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertNotEqual(binding.qbo_id, first_id)
        documents = self._qbo_documents(move)
        self.assertEqual(len(documents), 2)
        live = self._live(documents)
        self.assertEqual([doc['Id'] for doc in live], [binding.qbo_id], "exactly one live invoice: the new one")
        self.assertAlmostEqual(live[0]['TotalAmt'], move.amount_total)
        self.assertAlmostEqual(move.amount_total, 162.0)
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', first_id)['TotalAmt'], 0, "the old one stays voided")
        # Send now says it is in QuickBooks and unchanged, not "voided: skipped".
        notification = move.action_qbo_send()
        self.assertNotIn('skipped', str(notification))

    def test_reissued_invoice_with_unknown_create_then_cancelled_voids_the_new_one(self):
        """Re-issued after a void, its create times out, then it is cancelled again: the lookup finds the new
        document (its own marker), not the voided first one, and QuickBooks ends with no live invoice."""
        partner = self._partner('Twice Cancelled Ltd')
        move = self._invoice(partner)
        first_id = self._send(move).qbo_id
        move.button_cancel()
        self.qbo_drain()
        move.button_draft()
        move.action_post()
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains='/invoice', realm_id=self.realm,
                              method='POST')
        self.qbo.inject_fault('500', count=2, path_contains='/invoice', realm_id=self.realm, method='POST')
        self.qbo_drain()
        binding = self._binding(move)
        self.assertTrue(binding.outcome_unknown)
        self.assertEqual(len(self._live(self._qbo_documents(move))), 1, "the new one reached QuickBooks")
        move.button_cancel()
        self.qbo_drain()
        self.assertEqual(binding.state, 'voided', binding.error_message)
        self.assertNotEqual(binding.qbo_id, first_id)
        documents = self._qbo_documents(move)
        self.assertEqual(len(documents), 2)
        self.assertFalse(self._live(documents), "both issues voided")

    def test_voided_invoice_reposted_with_custom_numbers_gets_a_number_of_its_own(self):
        """QuickBooks keeps a voided invoice's number and refuses it again (6140): the new document is -2."""
        self.qbo.set_preferences(self.realm, {'SalesFormsPrefs': {'CustomTxnNumbers': True}})
        self.connection._qbo_refresh_company_info()
        move = self._invoice(self._partner('Numbered Twice Ltd'))
        binding = self._send(move)
        first_id = binding.qbo_id
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', first_id)['DocNumber'], move.name)
        move.button_cancel()
        self.qbo_drain()
        move.button_draft()
        move.action_post()
        self.qbo_drain()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertNotEqual(binding.qbo_id, first_id)
        live = self._live(self._qbo_documents(move))
        self.assertEqual([doc['Id'] for doc in live], [binding.qbo_id])
        self.assertEqual(live[0]['DocNumber'], f"{move.name}-2")
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', first_id)['DocNumber'], move.name)

    def test_credit_note_cancelled_and_reposted_is_a_new_credit_memo(self):
        """A credit memo has no void: the cancel deletes it in QuickBooks, the re-post creates a new one."""
        credit_note = self._invoice(self._partner('Refunded Twice Ltd'), 30.0, move_type='out_refund')
        binding = self._send(credit_note)
        first_id = binding.qbo_id
        credit_note.button_cancel()
        self.qbo_drain()
        self.assertEqual(binding.state, 'voided', binding.error_message)
        self.assertFalse(self._qbo_documents(credit_note, 'CreditMemo'), "deleted in QuickBooks")
        credit_note.button_draft()
        credit_note.action_post()
        self.qbo_drain()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertNotEqual(binding.qbo_id, first_id)
        documents = self._qbo_documents(credit_note, 'CreditMemo')
        self.assertEqual([doc['Id'] for doc in documents], [binding.qbo_id])
        self.assertAlmostEqual(documents[0]['TotalAmt'], credit_note.amount_total)

    def test_invoice_deleted_in_quickbooks_reposted_is_created_again(self):
        partner = self._partner('Deleted There Ltd')
        move = self._invoice(partner)
        binding = self._send(move)
        self.qbo.delete_entity(self.realm, 'Invoice', binding.qbo_id)
        move.button_draft()
        move.action_post()
        self.assertEqual(binding.state, 'to_send', "deleted in QuickBooks: Odoo does not know yet")
        self.qbo_drain()
        # The update met 610: the link says so, and re-posting (or 'Send again as new') creates it again.
        self.assertEqual(binding.state, 'deleted_in_qbo', binding.error_message)
        move.button_draft()
        move.action_post()
        self.qbo_drain()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        live = self._live(self._qbo_documents(move))
        self.assertEqual([doc['Id'] for doc in live], [binding.qbo_id])

    # ------------------------------------------------------------------ cash rounding

    def _cash_rounding(self, strategy):
        return self.env['account.cash.rounding'].create({
            'name': f'0.05 {strategy}', 'rounding': 0.05, 'strategy': strategy, 'rounding_method': 'HALF-UP',
            'profit_account_id': self.company_data['default_account_revenue'].id,
            'loss_account_id': self.company_data['default_account_expense'].id,
        })

    def test_cash_rounding_line_is_sent_totals_match_to_the_cent(self):
        """'Add a rounding line', 0.05: 10.03 + 8% = 10.83, rounded to 10.85 (and 10.01 + 8% = 10.81 to 10.80):
        QuickBooks holds Odoo's total to the cent, so a customer paying QuickBooks' total pays it all."""
        rounding = self._cash_rounding('add_invoice_line')
        partner = self._partner('Cash Rounding Shop')
        for price, total, difference in ((10.03, 10.85, 0.02), (10.01, 10.80, -0.01)):
            with self.subTest(price=price):
                move = self._invoice(partner, price, invoice_cash_rounding_id=rounding.id)
                self.assertAlmostEqual(move.amount_total, total, msg="the sample needs a rounding line")
                binding = self._send(move)
                invoice = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
                self.assertEqual(invoice['TotalAmt'], total)
                self.assertEqual(invoice['Balance'], total)
                self.assertEqual(invoice['TxnTaxDetail']['TotalTax'], move.amount_tax)
                amounts = [line['Amount'] for line in invoice['Line'] if line['DetailType'] == 'SalesItemLineDetail']
                self.assertIn(difference, amounts)
                self.qbo.record_payment(self.realm, invoices=[{'id': binding.qbo_id, 'amount': invoice['TotalAmt']}])
                self.assertEqual(self.qbo_read(self.realm, 'Invoice', binding.qbo_id)['Balance'], 0)
                self.assertFalse(move.currency_id.compare_amounts(invoice['TotalAmt'], move.amount_total))

    def test_cash_rounding_on_the_tax_keeps_parity(self):
        """'Modify tax amount': the rounding is in Odoo's tax total, which QuickBooks is sent as is."""
        rounding = self._cash_rounding('biggest_tax')
        move = self._invoice(self._partner('Rounded Tax Shop'), 10.03, invoice_cash_rounding_id=rounding.id)
        self.assertAlmostEqual(move.amount_total, 10.85)
        self.assertAlmostEqual(move.amount_tax, 0.82)
        binding = self._send(move)
        invoice = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
        self.assertEqual(invoice['TotalAmt'], 10.85)
        self.assertEqual(invoice['TxnTaxDetail']['TotalTax'], 0.82)
        self.assertEqual(len([line for line in invoice['Line'] if line['DetailType'] == 'SalesItemLineDetail']), 1,
                         "no rounding line: the tax carries it")

    # ------------------------------------------------------------------ customers: archive, merge

    def test_archived_customer_with_open_balance_stays_active_and_says_why(self):
        """QuickBooks refuses to make a customer with an open balance inactive (6000): the customer is kept
        active there, the rest of the update goes, the partner says why; once paid, it is made inactive."""
        partner = self._partner('Owes Money LLC')
        move = self._invoice(partner)
        invoice_binding = self._send(move)
        customer_binding = self._binding(partner)
        customer_id = customer_binding.qbo_id
        partner.write({'phone': '+1 555 0100'})
        partner.action_archive()
        self.assertEqual(customer_binding.state, 'to_send')
        self.qbo_drain()
        self.assertEqual(customer_binding.state, 'sent', customer_binding.error_message)
        customer = self.qbo_read(self.realm, 'Customer', customer_id)
        self.assertTrue(customer['Active'], "QuickBooks keeps a customer with a balance active")
        self.assertEqual(customer['Balance'], 108.0)
        self.assertEqual(customer['PrimaryPhone']['FreeFormNumber'], '+1 555 0100', "the rest of the update went")
        self.assertIn('open balance', self._notes(partner))
        self.assertEqual(invoice_binding.state, 'sent', "not an invoice error")

        self.qbo.record_payment(self.realm, invoices=[{'id': invoice_binding.qbo_id, 'amount': 108.0}])
        partner.action_qbo_send()
        self.assertEqual(customer_binding.state, 'sent', customer_binding.error_message)
        self.assertFalse(self.qbo_read(self.realm, 'Customer', customer_id)['Active'])

    def test_customer_merged_in_quickbooks_is_relinked_to_the_survivor(self):
        """A Merge event (webhook) moves the link to the surviving customer: the next invoice goes there
        instead of failing with 610 (inactive customer)."""
        for format in ('cloudevents', 'legacy'):
            with self.subTest(format=format):
                self.qbo_webhooks_on(VERIFIER, format)
                partner = self._partner(f'Merged Away {format}')
                self._send(self._invoice(partner))
                binding = self._binding(partner)
                merged_id = binding.qbo_id
                survivor_id = self.qbo.seed(self.realm, 'Customer', 1, prefix=f'Survivor {format}')['ids'][0]
                survivor = self.qbo_read(self.realm, 'Customer', survivor_id)
                self.qbo.merge(self.realm, 'Customer', merged_id, survivor['Id'])
                self.assertFalse(self.qbo_read(self.realm, 'Customer', merged_id)['Active'])
                self.qbo_deliver_webhooks()
                event = self.env['qbo.webhook.event'].sudo().search([('operation', '=', 'Merge'),
                                                                     ('merged_entity_id', '=', merged_id)])
                self.assertEqual(event.state, 'pending')
                self.env['qbo.connection']._cron_qbo_change_feed()
                self.assertEqual(event.state, 'done')
                self.assertEqual(binding.qbo_id, survivor['Id'])
                self.assertIn('Merged in QuickBooks', self._notes(partner))
                move = self._invoice(partner, 40.0)
                move_binding = self._send(move)
                invoice = self.qbo_read(self.realm, 'Invoice', move_binding.qbo_id)
                self.assertEqual(invoice['CustomerRef']['value'], survivor['Id'])
                self.assertEqual(invoice['TotalAmt'], move.amount_total)

    def test_customer_merged_into_another_linked_customer_is_blocked_with_advice(self):
        self.qbo_webhooks_on(VERIFIER, 'legacy')
        first, second = self._partner('Twin One'), self._partner('Twin Two')
        self._send(first)
        self._send(second)
        self.qbo.merge(self.realm, 'Customer', self._binding(first).qbo_id, self._binding(second).qbo_id)
        self.qbo_deliver_webhooks()
        self.env['qbo.connection']._cron_qbo_change_feed()
        self.assertEqual(self._binding(first).state, 'blocked')
        self.assertIn('Merge the two contacts in Odoo', self._binding(first).error_message)
        self.assertEqual(self._binding(second).state, 'sent')
