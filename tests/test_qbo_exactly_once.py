"""Exactly once under the events that break connectors: unknown outcomes, refusals fixed in
QuickBooks, expired and refused tokens, throttling, a record that crashes the export.

Every assertion reads QuickBooks (the emulator) back; nothing is mocked.
"""
import time
from datetime import timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import config, mute_logger

from qbo_emulator import EmulatorServer
from qbo_emulator.testing import EmulatorControl

from ..tools import QboRateLimitError
from ..tools.qbo_exceptions import never_executed, outcome_unknown
from .common import CLIENT_ID, CLIENT_SECRET, QboTestCommon


@tagged('post_install', '-at_install')
class TestQboExactlyOnce(QboTestCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cron = cls.env.ref('quickbooks_online.ir_cron_qbo_export').sudo()

    def _partner(self, name, **vals):
        # No e-mail and no VAT: nothing but our marker can tell this customer apart from a namesake.
        return self.env['res.partner'].create(dict({'name': name, 'is_company': True}, **vals))

    def _invoice(self, partner, amount=100.0):
        move = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'product_id': self.product_a.id, 'quantity': 1,
                                                 'price_unit': amount, 'tax_ids': [Command.set(self.tax_ca.ids)]})],
        })
        move.action_post()
        return move

    def _queue(self, *records):
        return self.env['qbo.binding'].concat(*[
            self.env['qbo.binding']._qbo_get_or_create(self.connection, record, record._qbo_entity())
            for record in records])


    def test_a_killed_run_s_lease_wakes_the_cron_when_it_expires(self):
        """A worker killed mid-run (kill -9, a restart) leaves its bindings leased until its deadline: the next
        run cannot take them (see TestQboExactlyOnceCommitted), and plans a wake-up for when the lease expires
        instead of leaving them to the next scheduled run (an hour later; found by the bench's crash phase)."""
        binding = self._queue(self._invoice(self._partner('Leased Away')))
        until = fields.Datetime.now() + timedelta(seconds=90)
        binding.write({'lease_owner': 'killed-worker', 'lease_until': until})
        self.env['ir.cron.trigger'].sudo().search([('cron_id', '=', self.cron.id)]).unlink()
        self.env['qbo.binding']._qbo_schedule_deferred()  # the end of the run that found them leased
        wake = self.env['ir.cron.trigger'].sudo().search([('cron_id', '=', self.cron.id),
                                                          ('call_at', '>', fields.Datetime.now())])
        self.assertIn(until, wake.mapped('call_at'), "the export wakes up when the lease expires")
    def _unknown_outcome_on(self, path):
        """The next POST to `path` is executed by QuickBooks but its answer never arrives, and the
        client's own retries (same requestid) fail too: Odoo does not know what happened."""
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains=path, realm_id=self.realm, method='POST')
        self.qbo.inject_fault('500', count=2, path_contains=path, realm_id=self.realm, method='POST')

    def _writes(self, path=''):
        return [r for r in self.qbo.requests_log(path_contains=f'/{self.realm}/{path}') if r['method'] == 'POST']

    def _customers_named(self, name):
        return [c for c in self.qbo_all(self.realm, 'Customer') if c['DisplayName'].startswith(name)]

    def _invoices_of(self, customer_id):
        return [i for i in self.qbo_all(self.realm, 'Invoice')
                if i['CustomerRef']['value'] == customer_id and i.get('status') != 'Deleted']

    def test_crash_between_quickbooks_commit_and_odoo_commit(self):
        """Customer without e-mail and its invoice, each created in QuickBooks while Odoo lost the answer."""
        partner = self._partner('Crash Test Dummies')
        move = self._invoice(partner)
        self._queue(move)
        self._unknown_outcome_on('/customer')
        self.env['qbo.binding']._cron_qbo_export()
        customer_binding = partner._qbo_binding(self.connection)
        self.assertEqual(customer_binding.state, 'to_send')
        self.assertTrue(customer_binding.outcome_unknown, "the intent survives the failed attempt")
        self.assertEqual(len(self._customers_named('Crash Test Dummies')), 1, "QuickBooks did create it")
        self._unknown_outcome_on('/invoice')
        self.qbo_drain()
        self.assertTrue(customer_binding.qbo_id, customer_binding.error_message)
        self.assertTrue(move._qbo_binding(self.connection).outcome_unknown)
        self.qbo_drain()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        customers = self._customers_named('Crash Test Dummies')
        self.assertEqual(len(customers), 1, "one customer, never a suffixed second one")
        self.assertEqual(customers[0]['Id'], customer_binding.qbo_id)
        invoices = self._invoices_of(customer_binding.qbo_id)
        self.assertEqual(len(invoices), 1)
        self.assertEqual(invoices[0]['Id'], binding.qbo_id)
        self.assertAlmostEqual(invoices[0]['TotalAmt'], move.amount_total)
        self.assertFalse(binding.outcome_unknown)
        # Every requestid fits a batch request (36 characters).
        rids = [r['requestid'] for r in self.qbo.requests_log(path_contains=self.realm) if r.get('requestid')]
        self.assertTrue(rids and all(len(rid) <= 36 for rid in rids), rids)

    def test_duplicate_name_of_our_own_customer_links_it(self):
        """6240 on a customer we created (its link lost): linked by our marker, not suffixed."""
        partner = self._partner('Marker Mill')
        partner.action_qbo_send()
        binding = partner._qbo_binding(self.connection)
        first_id = binding.qbo_id
        dbuuid = self.env['ir.config_parameter'].sudo().get_param('database.uuid')
        self.assertTrue(self.qbo_read(self.realm, 'Customer', first_id).get('Notes', '').endswith(
            f"odoo:{dbuuid}:res.partner:{partner.id}"))
        binding.unlink()  # the link is lost (e.g. a restored backup)
        partner.action_qbo_send()
        self.assertEqual(partner._qbo_binding(self.connection).qbo_id, first_id)
        self.assertEqual(len(self._customers_named('Marker Mill')), 1)

    def test_suffixed_name_taken_by_our_own_lost_customer_links_it(self):
        """Chaos seed 3, episode 19 (both series): the name clashed with someone else's vendor, our customer
        was created under the suffixed name and its link was lost; sent again, both names clash (6240):
        the suffixed one is ours (marker), so it is linked, not left in error."""
        namesake = self._partner('Suffixed Twice')
        vendor_binding = self.env['qbo.binding']._qbo_get_or_create(self.connection, namesake, 'Vendor')
        self.qbo_drain()
        self.assertEqual(vendor_binding.state, 'sent', vendor_binding.error_message)
        partner = self._partner('Suffixed Twice')
        partner.action_qbo_send()
        binding = partner._qbo_binding(self.connection)
        first_id = binding.qbo_id
        self.assertTrue(first_id and binding.qbo_sent_name != 'Suffixed Twice', binding.error_message)
        binding.unlink()  # the link is lost (a crashed run)
        partner.action_qbo_send()
        binding = partner._qbo_binding(self.connection)
        self.assertEqual((binding.state, binding.qbo_id), ('sent', first_id), binding.error_message)

    def test_batch_lookup_keeps_the_suffixed_name_of_a_found_customer(self):
        """Chaos seed 3, episode 19 (both series): a list Send created two customers, one under a suffixed
        name (its plain name is someone else's vendor), and died; the next run's one lookup found both.
        The update that follows keeps the suffixed name QuickBooks has: it does not rename it into the
        clash (6240) and leave the link in error."""
        namesake = self._partner('Lookup Clash')
        vendor_binding = self.env['qbo.binding']._qbo_get_or_create(self.connection, namesake, 'Vendor')
        self.qbo_drain()
        self.assertEqual(vendor_binding.state, 'sent', vendor_binding.error_message)
        partners = self._partner('Lookup Clash') | self._partner('Lookup Plain')
        bindings = self._queue(*partners)
        self._crash(partners.action_qbo_send)
        self.assertEqual(len(self._customers_named('Lookup Plain')), 1, "QuickBooks kept what the dead request made")
        self.qbo_drain()
        for binding in bindings:
            self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertTrue(bindings[0].qbo_sent_name.startswith('Lookup Clash ('), bindings[0].qbo_sent_name)
        self.assertEqual(len(self._customers_named('Lookup Plain')), 1)

    def test_retry_after_fixing_the_cause_in_quickbooks(self):
        """6140, then the clashing document is deleted in QuickBooks: Retry sends it (no replayed refusal)."""
        self.qbo.set_preferences(self.realm, {'SalesFormsPrefs': {'CustomTxnNumbers': True}})
        self.connection._qbo_refresh_company_info()
        partner = self._partner('Renumbered Ltd')
        partner.action_qbo_send()
        move = self._invoice(partner)
        clash = {'CustomerRef': {'value': '1'}, 'DocNumber': move.name, 'Line': [{
            'DetailType': 'SalesItemLineDetail', 'Amount': 5.0,
            'SalesItemLineDetail': {'ItemRef': {'value': '1'}, 'Qty': 1, 'UnitPrice': 5.0}}]}
        with self.connection._qbo_client_session() as client:
            foreign = client.create('Invoice', clash, request_id='someone-else-1')
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'blocked')
        self.qbo.delete_entity(self.realm, 'Invoice', foreign['Id'])
        binding.action_qbo_retry()
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertEqual(self.qbo_read(self.realm, 'Invoice', binding.qbo_id)['DocNumber'], move.name)
        self.assertEqual(len(self._customers_named('Renumbered Ltd')), 1)

    def test_persistent_auth_failure_stops_the_connection_records_stay_queued(self):
        partners = [self._partner(f'Locked Out {i}') for i in range(3)]
        bindings = self._queue(*partners)
        self.qbo.inject_fault('401', count=20, realm_id=self.realm, path_contains='/v3/')
        self.env['qbo.binding']._cron_qbo_export()
        self.assertEqual(self.connection.state, 'reconnect')
        self.assertEqual(set(bindings.mapped('state')), {'to_send'})
        # No record is failed one by one: each stays queued, and says the one thing to do (issue 24, point 4).
        messages = [message for message in bindings.mapped('error_message') if message]
        self.assertTrue(messages and all('reconnect' in message.lower() for message in messages), messages)
        self.assertEqual(len(self._writes()), 2, "one call, one refresh, one retry: then the connection stops")
        self.qbo.clear_faults()
        self._qbo_connect(self.connection, self.realm)
        self.qbo_drain()
        self.assertEqual(set(bindings.mapped('state')), {'sent'})

    def test_forbidden_stops_the_connection(self):
        partner = self._partner('Forbidden Fruit')
        binding = self._queue(partner)
        self.qbo.inject_fault('403', count=1, realm_id=self.realm, path_contains='/customer')
        self.env['qbo.binding']._cron_qbo_export()
        self.assertEqual(self.connection.state, 'reconnect')
        self.assertEqual(binding.state, 'to_send')

    def test_429_is_retried_by_itself_within_minutes(self):
        partners = [self._partner(f'Throttled {i}') for i in range(3)]
        bindings = self._queue(*partners)
        self.qbo.inject_fault('429', count=1, realm_id=self.realm, path_contains='/v3/')
        before = fields.Datetime.now()
        self.env['qbo.binding']._cron_qbo_export()
        self.assertEqual(set(bindings.mapped('state')), {'to_send'}, "the rest of the run waits")
        self.assertFalse(any(bindings.mapped('error_message')), "a 429 is no error of a record")
        retry_at = bindings[0].next_retry_date
        self.assertTrue(before + timedelta(seconds=59) <= retry_at <= before + timedelta(seconds=80), retry_at)
        self.assertTrue(self.connection.throttled_until)
        triggers = self.env['ir.cron.trigger'].sudo().search([('cron_id', '=', self.cron.id),
                                                              ('call_at', '>', before)])
        self.assertTrue(triggers and min(triggers.mapped('call_at')) <= retry_at + timedelta(seconds=15),
                        "the cron wakes itself at the retry date")
        self.assertEqual(len(self._writes()), 1, "nothing sent while paused")
        self.qbo_drain()  # the trigger fires
        self.assertEqual(set(bindings.mapped('state')), {'sent'})
        self.assertEqual(len(self._customers_named('Throttled')), 3)

    def test_batch_items_land_on_their_own_bindings(self):
        """One batch request for the customers; a per-item 6240 (someone else's name) is handled alone."""
        partners = [self._partner(f'Batch Buyer {i}') for i in range(3)]
        namesake = self._partner("Amy's Bird Sanctuary", email='not.amy@example.com')
        bindings = self._queue(*partners, namesake)
        self.env['qbo.binding']._cron_qbo_export()
        self.assertEqual(len(self.qbo.requests_log(path_contains=f'/{self.realm}/batch')), 1)
        for partner in partners:
            binding = partner._qbo_binding(self.connection)
            self.assertEqual(binding.state, 'sent', binding.error_message)
            self.assertEqual(self.qbo_read(self.realm, 'Customer', binding.qbo_id)['DisplayName'], partner.name)
        suffixed = namesake._qbo_binding(self.connection)
        self.assertEqual(suffixed.state, 'sent', suffixed.error_message)
        self.assertEqual(self.qbo_read(self.realm, 'Customer', suffixed.qbo_id)['DisplayName'],
                         f"Amy's Bird Sanctuary ({namesake.id})")
        self.assertEqual(len(set(bindings.mapped('last_request_id'))), 4, "each item has its own requestid")

    def test_batch_with_unknown_outcome_is_looked_up_not_resent(self):
        partners = [self._partner(f'Lost Batch {i}') for i in range(3)]
        moves = [self._invoice(partner) for partner in partners]
        self._queue(*moves)
        self._unknown_outcome_on('/batch')  # the customers' batch executes, its answer is lost
        self.env['qbo.binding']._cron_qbo_export()
        self.assertTrue(self._writes('batch'), "the three customers go in one batch request")
        self.assertEqual(len(self._customers_named('Lost Batch')), 3)
        self._unknown_outcome_on('/batch')  # the customers are found; the invoices' batch is lost too
        self.qbo_drain()
        self.qbo_drain()
        customers = self._customers_named('Lost Batch')
        self.assertEqual(len(customers), 3, "no customer created twice")
        for move in moves:
            binding = move._qbo_binding(self.connection)
            self.assertEqual(binding.state, 'sent', binding.error_message)
        for customer in customers:
            self.assertEqual(len(self._invoices_of(customer['Id'])), 1, "one invoice per customer")

    def test_one_record_raising_an_unexpected_exception_does_not_stop_the_rest(self):
        # A link left behind by an uninstalled customisation: its model has no exporter any more.
        broken = self.env['qbo.binding'].sudo().create({
            'connection_id': self.connection.id, 'res_model': 'res.country', 'res_id': self.env.ref('base.be').id,
            'entity': 'Customer'})
        partners = [self._partner(f'Survivor {i}') for i in range(2)]
        bindings = self._queue(*partners)
        # The broken link's tracebacks are logged as errors, on purpose: keep them out of the test log.
        with mute_logger('odoo.addons.quickbooks_online.models.qbo_binding',
                         'odoo.addons.quickbooks_online.models.qbo_sync_log'):
            self.env['qbo.binding']._cron_qbo_export()
        self.assertEqual(broken.state, 'error')
        # The person reads advice and an incident id; the transfer history keeps the details under it.
        self.assertIn('incident', broken.error_message)
        self.assertNotIn('AttributeError', broken.error_message)
        incident = broken.error_message.split('incident ')[1].split(')')[0]
        log = self.env['qbo.sync.log'].search([('request_id', '=', incident)])
        self.assertIn('AttributeError', log.message)
        self.assertEqual((log.res_model, log.res_id), ('res.country', broken.res_id))
        self.assertEqual(set(bindings.mapped('state')), {'sent'})
        self.assertEqual(len(self._customers_named('Survivor')), 2)

    def test_marker_lookup_for_a_user_in_another_language(self):
        self.env['res.lang']._activate_lang('fr_FR')
        french = new_test_user(self.env, login='qbo_fr',
                               groups='account.group_account_invoice,base.group_partner_manager',
                               company_id=self.company.id, company_ids=[(6, 0, self.company.ids)], lang='fr_FR')
        partner = self._partner('Boulangerie Dupont')
        move = self._invoice(partner)
        partner.action_qbo_send()
        self._unknown_outcome_on('/invoice')
        move.with_user(french).with_context(lang='fr_FR').action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertTrue(binding.outcome_unknown)
        self.qbo_drain()  # the cron, in English
        self.assertEqual(binding.state, 'sent', binding.error_message)
        customer_id = partner._qbo_binding(self.connection).qbo_id
        invoices = self._invoices_of(customer_id)
        self.assertEqual(len(invoices), 1)
        dbuuid = self.env['ir.config_parameter'].sudo().get_param('database.uuid')
        self.assertTrue(invoices[0]['PrivateNote'].endswith(f"odoo:{dbuuid}:account.move:{move.id}"))


    # ------------------------------------------------------------------ a timeout, then a 429 on the retry

    def _timeout_then_429_on(self, path):
        """The next POST to `path` is executed by QuickBooks but its answer is lost; the client's retry
        (same requestid) is throttled: the last attempt says "never executed", the first does not."""
        self.qbo.inject_fault('timeout_after_commit', count=1, path_contains=path, realm_id=self.realm, method='POST')
        self.qbo.inject_fault('429', count=1, path_contains=path, realm_id=self.realm, method='POST')

    def _assert_each_once(self, moves, customer_id):
        """QuickBooks holds exactly one live invoice per Odoo invoice (by our marker), at Odoo's total."""
        invoices = self._invoices_of(customer_id)
        markers = [i['PrivateNote'].split()[-1] for i in invoices]
        self.assertEqual(len(markers), len(set(markers)), "an invoice is in QuickBooks twice")
        dbuuid = self.env['ir.config_parameter'].sudo().get_param('database.uuid')
        by_marker = {i['PrivateNote'].split()[-1]: i for i in invoices}
        for move in moves:
            invoice = by_marker.get(f"odoo:{dbuuid}:account.move:{move.id}")
            self.assertTrue(invoice, f"{move.name} is not in QuickBooks")
            self.assertAlmostEqual(float(invoice['TotalAmt']), move.amount_total, places=2)
        self.assertEqual(len(invoices), len(moves))

    def test_cron_batch_timeout_then_429_then_one_more_invoice(self):
        """The batch of 10 commits in QuickBooks, its answer is lost and its retry throttled; one more
        invoice is queued before the next run: each of the 11 is in QuickBooks once, and the recovery
        costs one lookup for the whole batch, not one per invoice."""
        partner = self._partner('Timeout Then Throttle')
        partner.action_qbo_send()
        customer_id = partner._qbo_binding(self.connection).qbo_id
        moves = self.env['account.move'].concat(*[self._invoice(partner, 100.0 + i) for i in range(10)])
        bindings = self._queue(*moves)
        self._timeout_then_429_on('/batch')
        self.env['qbo.binding']._cron_qbo_export()
        self.assertEqual(len(self._invoices_of(customer_id)), 10, "the lost batch was executed by QuickBooks")
        self.assertTrue(all(bindings.mapped('outcome_unknown')), "a 429 after a timeout is still unknown")
        self.assertEqual(set(bindings.mapped('state')), {'to_send'})
        extra = self._invoice(partner, 999.0)
        self._queue(extra)
        before = len(self.qbo.requests_log(path_contains=f'/{self.realm}/'))
        self.qbo_drain()
        recovery = self.qbo.requests_log(path_contains=f'/{self.realm}/')[before:]
        lookups = [r for r in recovery if '/query' in r['path']]
        self.assertEqual(len(lookups), 1, "one lookup for the batch's unknown items")
        self._assert_each_once(moves | extra, customer_id)
        self.assertEqual(set((bindings | extra._qbo_binding(self.connection)).mapped('state')), {'sent'})

    def test_send_button_timeout_then_429_then_send_again_with_one_more(self):
        """Send on 5 invoices: the batch commits, its answer is lost, the retry is throttled; Send again
        with one more invoice selected: each of the 6 is in QuickBooks once."""
        partner = self._partner('Button Timeout Then Throttle')
        partner.action_qbo_send()
        customer_id = partner._qbo_binding(self.connection).qbo_id
        moves = self.env['account.move'].concat(*[self._invoice(partner, 50.0 + i) for i in range(5)])
        self._timeout_then_429_on('/batch')
        moves.action_qbo_send()
        self.assertEqual(len(self._invoices_of(customer_id)), 5)
        self.qbo_end_throttle()
        extra = self._invoice(partner, 77.0)
        (moves | extra).action_qbo_send()
        self._assert_each_once(moves | extra, customer_id)

    def test_unknown_customer_creates_are_resolved_by_one_lookup(self):
        """Three new customers in one batch whose answer is lost: one query finds them, none is duplicated."""
        partners = self.env['res.partner'].concat(*[self._partner(f'Lost Answer {i}') for i in range(3)])
        bindings = self._queue(*partners)
        self._unknown_outcome_on('/batch')
        self.env['qbo.binding']._cron_qbo_export()
        self.assertTrue(all(bindings.mapped('outcome_unknown')))
        before = len(self.qbo.requests_log(path_contains=f'/{self.realm}/'))
        self.qbo_drain()
        recovery = self.qbo.requests_log(path_contains=f'/{self.realm}/')[before:]
        self.assertEqual(len([r for r in recovery if '/query' in r['path']]), 1)
        self.assertEqual(set(bindings.mapped('state')), {'sent'}, bindings.mapped('error_message'))
        for i in range(3):
            self.assertEqual(len(self._customers_named(f'Lost Answer {i}')), 1)

    def test_no_run_outlasts_the_time_limit_under_repeated_429s(self):
        """Every request throttled (429) or slow: the run ends inside Odoo's limit_time_real, records stay
        queued (nothing in error) and a later run sends each once."""
        partner = self._partner('Slow And Throttled')
        partner.action_qbo_send()
        customer_id = partner._qbo_binding(self.connection).qbo_id
        moves = self.env['account.move'].concat(*[self._invoice(partner, 10.0 + i) for i in range(3)])
        bindings = self._queue(*moves)
        self.qbo.inject_fault('delay', count=20, delay_seconds=3, realm_id=self.realm, path_contains='/batch')
        self.qbo.inject_fault('429', count=20, realm_id=self.realm, path_contains='/batch')
        limit = 30
        with patch.dict(config.options, {'limit_time_real': limit, 'limit_time_real_cron': -1}):
            started = time.time()
            self.env['qbo.binding'].with_context(qbo_in_cron=True)._cron_qbo_export()
            self.env['qbo.binding'].with_context(qbo_in_cron=True)._cron_qbo_export()
            elapsed = time.time() - started
        self.assertLess(elapsed, 2 * limit)
        self.assertNotIn('error', bindings.mapped('state'))
        self.qbo.clear_faults()
        self.qbo_drain()
        self._assert_each_once(moves, customer_id)

    def test_client_attempt_history_makes_timeout_then_429_unknown(self):
        """The client's exception carries its attempts: any unknown attempt makes the request unknown."""
        client = self.connection._qbo_get_client([])
        self._timeout_then_429_on('/customer')
        with self.assertRaises(QboRateLimitError) as caught:
            client.create('Customer', {'DisplayName': 'History Of Attempts'}, 'history-of-attempts-1')
        error = caught.exception
        self.assertEqual([type(a).__name__ for a in error.attempts], ['QboConnectionError'])
        self.assertFalse(never_executed(error), "the first attempt may have created the customer")
        self.assertTrue(outcome_unknown(error))
        self.assertEqual(len(self._customers_named('History Of Attempts')), 1)


    # ------------------------------------------------------------------ crashes found by the chaos suite

    def _crash(self, action):
        """Run `action`, let its requests reach QuickBooks, then lose Odoo's transaction (a killed worker).
        A token refresh commits on a cursor of its own: it is kept, as a real crash keeps it."""
        tokens = self.env['qbo.token'].sudo().search([('connection_id', '=', self.connection.id)])
        savepoint = self.env.cr.savepoint()
        try:
            action()
            kept = tokens.read(['access_token', 'refresh_token', 'access_token_expiry'], load=None)
        finally:
            savepoint.close(rollback=True)
        self.env.invalidate_all()
        for values in kept:
            tokens.browse(values.pop('id')).write(values)

    def _live(self, move):
        dbuuid = self.env['ir.config_parameter'].sudo().get_param('database.uuid')
        marker = f"odoo:{dbuuid}:account.move:{move.id}"
        return [i for i in self.qbo_all(self.realm, 'Invoice') if i.get('status') != 'Deleted'
                and (i.get('PrivateNote') or '').split()[-1:] == [marker] and float(i.get('TotalAmt') or 0)]

    def test_two_crashed_runs_in_a_row_then_one_invoice(self):
        """Chaos seed 7 (18.0): the first run's create and the second run's lookup-and-update are both lost
        with their transactions; the third run finds the invoice instead of creating it again."""
        partner = self._partner('Crashed Twice')
        move = self._invoice(partner)
        self._queue(move)
        self._crash(lambda: self.env['qbo.binding']._cron_qbo_export())
        self._crash(lambda: self.env['qbo.binding']._cron_qbo_export())
        self.qbo_drain()
        self.assertEqual(len(self._live(move)), 1)
        self.assertEqual(len(self._customers_named('Crashed Twice')), 1)
        self.assertEqual(move._qbo_binding(self.connection).state, 'sent')

    def test_cancel_after_a_crashed_send_voids_what_quickbooks_holds(self):
        """Chaos seed 11 (19.0): Send creates the customer and the invoice, the request dies, the user
        cancels: the link knows neither Id, the lookup needs none, and the invoice is voided."""
        partner = self._partner('Crashed Then Cancelled')
        move = self._invoice(partner)
        self._crash(move.action_qbo_send)
        self.assertEqual(len(self._live(move)), 1, "QuickBooks kept what the dead request created")
        move.button_cancel()
        self.qbo_drain()
        self.assertFalse(self._live(move), "no live invoice for a cancelled one")
        self.assertEqual(move._qbo_binding(self.connection).state, 'voided')

    def test_delete_after_a_crashed_send_of_queued_invoices_is_refused(self):
        """Chaos seed 3, episode 7 (both series): the invoices were queued (automatic sending) before the list's
        Send whose request died; their links survived the lost transaction, their intents did not, and a
        reset invoice could be deleted while QuickBooks kept it live. The logged intent is adopted: the
        delete is refused, and a cancel voids what QuickBooks holds."""
        partner = self._partner('Queued Then Crashed')
        moves = self._invoice(partner, 10.0) | self._invoice(partner, 20.0)
        self._queue(*moves)
        self._crash(moves.action_qbo_send)
        move = moves[0]
        self.assertEqual(len(self._live(move)), 1, "QuickBooks kept what the dead request created")
        move.button_draft()
        with self.assertRaisesRegex(UserError, "may already be in QuickBooks"):
            move.unlink()
        move.button_cancel()
        self.qbo_drain()
        self.assertFalse(self._live(move), "no live invoice for a cancelled one")
        self.assertEqual(move._qbo_binding(self.connection).state, 'voided')
        self.assertEqual(len(self._live(moves[1])), 1, "the other one is found, not sent again")
        self.assertEqual(moves[1]._qbo_binding(self.connection).state, 'sent')

    def _edit(self, move, amount):
        move.button_draft()
        move.invoice_line_ids[:1].price_unit = amount
        move.action_post()

    def test_edit_after_a_crashed_update_is_applied_not_replayed(self):
        """Chaos seed 7 (18.0): an update reached QuickBooks, its request died; edited again, the next update
        must apply the new amounts (a new requestid after the read), not replay the old answer."""
        partner = self._partner('Edited After Crash')
        move = self._invoice(partner, 100.0)
        move.action_qbo_send()
        self._edit(move, 200.0)
        self._crash(move.action_qbo_send)
        self._edit(move, 300.0)
        move.action_qbo_send()
        self.qbo_drain()
        [document] = self._live(move)
        self.assertAlmostEqual(float(document['TotalAmt']), move.amount_total, places=2)
        self.assertEqual(move._qbo_binding(self.connection).state, 'sent')

@tagged('post_install', '-at_install')
class TestQboExactlyOnceCommitted(TransactionCase):
    """The cron on real, committed transactions (as a server runs it): what only shows between two
    transactions, such as a token refreshed after the run's snapshot was taken.

    Creates and removes its own committed data.
    """

    def setUp(self):
        super().setUp()
        base_url = self.env['ir.config_parameter'].sudo().get_param('web.base.url')
        self.server = EmulatorServer(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                     redirect_uris=[base_url + '/quickbooks_online/oauth/callback'])
        self.server.start()
        self.addCleanup(self.server.stop)
        self.control = EmulatorControl(self.server.url)
        self.realm = self.control.create_company('Committed Co', country='US')['realm_id']
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env['ir.config_parameter'].set_param('quickbooks_online.allow_custom_endpoint', 'True')
            company = env['res.company'].create({'name': f'QBO committed company ({self._testMethodName})',
                                                 'currency_id': env.ref('base.USD').id,
                                                 'country_id': env.ref('base.us').id})
            env.user.company_ids = [Command.link(company.id)]
            connection = env['qbo.connection'].create({
                'company_id': company.id, 'environment': 'custom', 'custom_base_url': self.server.url,
                'client_id': CLIENT_ID, 'client_secret': CLIENT_SECRET})
        # Committed first: the code exchange runs on a cursor of its own, which must see the connection.
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            connection = env['qbo.connection'].browse(connection.id)
            company = connection.company_id
            action = connection.action_qbo_connect()
            location = self.control.consent(action['url'], realm_id=self.realm)
            code = location.split('code=')[1].split('&')[0]
            connection._qbo_complete_authorization(code, self.realm)
            cr.commit()  # the exchange committed on a cursor of its own: see its tokens
            connection.invalidate_recordset()
            partners = env['res.partner'].create([{'name': f'Committed {i}', 'is_company': True} for i in range(4)])
            for partner in partners:
                env['qbo.binding']._qbo_get_or_create(connection, partner, 'Customer')
            self.ids = {'company': company.id, 'connection': connection.id, 'partners': partners.ids}
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env['qbo.connection'].browse(self.ids['connection']).unlink()
            env['res.partner'].browse(self.ids['partners']).unlink()
            env.user.company_ids = [Command.unlink(self.ids['company'])]
            env['res.company'].browse(self.ids['company']).active = False

    def _run_cron(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {'qbo_cron_commit': True})
            env['qbo.binding']._cron_qbo_export()

    def test_401_mid_run_one_refresh_nothing_in_error(self):
        # QuickBooks expires the access token while Odoo still believes it valid.
        self.control.expire_tokens('access', realm_id=self.realm)
        self._run_cron()
        refreshes = [r for r in self.control.requests_log(path_contains='/tokens/bearer')
                     if r.get('grant_type') == 'refresh_token']
        self.assertEqual(len(refreshes), 1)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            bindings = env['qbo.binding'].search([('connection_id', '=', self.ids['connection'])])
            self.assertEqual(set(bindings.mapped('state')), {'sent'}, bindings.mapped('error_message'))
            self.assertEqual(env['qbo.connection'].browse(self.ids['connection']).state, 'connected')
        names = {c['DisplayName'] for c in self.control.entities(self.realm, 'Customer')}
        self.assertTrue({f'Committed {i}' for i in range(4)} <= names)

    def test_two_cron_workers_lease_disjoint_bindings(self):
        """Each export run leases the next free bindings (committed leases, each worker on its own
        connection): two workers never take the same binding, a binding is free again once its run
        gives it back, and a killed worker's lease expires by itself: nothing outlives its run."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            ids = env['qbo.binding'].search([('connection_id', '=', self.ids['connection'])], order='id').ids
        self.assertEqual(len(ids), 4)
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            first = api.Environment(cr1, SUPERUSER_ID, {})['qbo.binding']
            second = api.Environment(cr2, SUPERUSER_ID, {})['qbo.binding']
            taken_1 = first.browse(ids)._qbo_claim(2, 'worker-1')
            taken_2 = second.browse(ids)._qbo_claim(2, 'worker-2')
            self.assertEqual(taken_1.ids, ids[:2])
            self.assertEqual(taken_2.ids, ids[2:], "the second worker takes the next free ones")
            self.assertFalse(second.browse(ids)._qbo_claim(2, 'worker-3'), "nothing left to take")
            first._qbo_release('worker-1')
            again = second.browse(ids)._qbo_claim(2, 'worker-3')
            self.assertEqual(again.ids, ids[:2], "given back: free for the other worker")
            # worker-2 is killed (no release): once its lease has run out, its bindings are free again.
            cr1.execute("UPDATE qbo_binding SET lease_until = now() at time zone 'UTC' - interval '1 second' "
                        "WHERE lease_owner = 'worker-2'")
            cr1.commit()
            self.assertEqual(first.browse(ids)._qbo_claim(4, 'worker-4').ids, ids[2:])
            first._qbo_release('worker-4')
            second._qbo_release('worker-3')
            cr1.execute("SELECT count(*) FROM qbo_binding WHERE id = ANY(%s) AND lease_owner IS NOT NULL", [ids])
            self.assertEqual(cr1.fetchone()[0], 0, "no lease outlives its run")

    def test_cron_run_leaves_no_lease(self):
        self._run_cron()
        with self.registry.cursor() as cr:
            cr.execute("SELECT count(*) FROM qbo_binding WHERE connection_id = %s AND lease_owner IS NOT NULL",
                       [self.ids['connection']])
            self.assertEqual(cr.fetchone()[0], 0)


@tagged('post_install', '-at_install')
class TestQboFirstHour(QboTestCommon):
    """What a new admin and accountant hit first: settings not read yet, a summary that counts what they chose."""

    def test_send_summary_counts_the_chosen_records_not_their_customers(self):
        partners = self.env['res.partner'].create([{'name': f'Counted {i}', 'is_company': True} for i in range(3)])
        moves = self.env['account.move'].create([{
            'move_type': 'out_invoice', 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'product_id': self.product_a.id, 'quantity': 1, 'price_unit': 10.0,
                                                 'tax_ids': [Command.set(self.tax_ca.ids)]})],
        } for partner in partners])
        moves.action_post()
        action = moves[:1].action_qbo_send()
        self.assertTrue(action['params']['message'].startswith('1 sent.'), action['params']['message'])
        action = moves[1:].action_qbo_send()
        self.assertTrue(action['params']['message'].startswith('2 sent.'), action['params']['message'])
        customers = [c for c in self.qbo_all(self.realm, 'Customer') if c['DisplayName'].startswith('Counted')]
        self.assertEqual(len(customers), 3)

    def test_send_before_the_connection_is_finished_reads_the_settings_first(self):
        # Connected, but the job that reads the company's settings has not run yet.
        self.connection.sudo().write({'qbo_preferences': False, 'qbo_company_info': False})
        partner = self.env['res.partner'].create({'name': 'Early Bird', 'is_company': True})
        move = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'product_id': self.product_a.id, 'quantity': 1, 'price_unit': 200.0,
                                                 'tax_ids': [Command.set(self.tax_ca.ids)]})],
        })
        move.action_post()
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertTrue(self.connection.qbo_preferences, "the settings were read before anything was sent")
        invoice = self.qbo_read(self.realm, 'Invoice', binding.qbo_id)
        self.assertAlmostEqual(float(invoice['TotalAmt']), move.amount_total, places=2)
        self.assertAlmostEqual(move.amount_total, 216.0, places=2)
