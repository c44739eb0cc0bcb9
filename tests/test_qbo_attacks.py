"""The attempts of issue 20, one test each: as an attacker or a careless user would, through Odoo's HTTP
stack where a route is concerned, against the emulator; the database and the emulator are read back.
"""
import base64
import hashlib
import hmac
import json
import socket
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from psycopg2.errors import UniqueViolation

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import JsonRpcException, new_test_user, tagged
from odoo.tools import mute_logger

from .. import const
from .test_qbo_payments import QboPaymentsCommon

PASSWORD = 'qbo-attacks-1'
VERIFIER = 'attack-verifier-token'


class QboAttacksCommon(QboPaymentsCommon):
    """Company A (connected in setUp), company B connected to a QuickBooks company of its own, users."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name='QBO Attacks B')['company']
        cls.change_company_country(cls.company_b, cls.env.ref('base.us'))
        cls.qbo_admin.company_ids = [Command.link(cls.company_b.id)]
        cls.realm_b = cls.qbo.create_company('Attacks B', country='US')['realm_id']
        cls.connection_b = cls._qbo_connect(cls._qbo_configure(cls.company_b), cls.realm_b)
        for connection in (cls.connection, cls.connection_b):
            connection.sudo().webhook_verifier_token = VERIFIER

        def user(login, groups, company):
            return new_test_user(cls.env, login=login, password=PASSWORD, groups=groups,
                                 company_id=company.id, company_ids=[Command.set(company.ids)])
        cls.user_a = user('qbo_att_invoicing_a', 'account.group_account_invoice', cls.company)
        cls.manager_a = user('qbo_att_manager_a', 'account.group_account_manager', cls.company)
        cls.user_b = user('qbo_att_invoicing_b', 'account.group_account_invoice', cls.company_b)
        cls.internal = user('qbo_att_internal', 'base.group_user', cls.company)
        cls.portal = user('qbo_att_portal', 'base.group_portal', cls.company)

    def token(self, connection=None):
        return self.env['qbo.token'].sudo().search([('connection_id', '=', (connection or self.connection).id),
                                                    ('is_pending', '=', False)])

    def code_exchanges(self):
        return [r for r in self.qbo.requests_log(path_contains='/tokens/bearer')
                if r.get('grant_type') == 'authorization_code']

    def consent(self, connection, realm):
        """Connect clicked, consent given at Intuit: the callback URL Intuit sends the browser to."""
        action = connection.with_company(connection.company_id).action_qbo_connect()
        return self.qbo.consent(action['url'], realm_id=realm)

    def open_callback(self, location):
        parts = urlsplit(location)
        return self.url_open(f"{parts.path}?{parts.query}", allow_redirects=False)

    def call_kw(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request(f'/web/dataset/call_kw/{model}/{method}', {
            'model': model, 'method': method, 'args': list(args), 'kwargs': kwargs})

    def post_webhook(self, body, signature=None):
        if signature is None:
            signature = base64.b64encode(hmac.new(VERIFIER.encode(), body, hashlib.sha256).digest()).decode()
        return self.url_open(const.WEBHOOK_ROUTE, data=body, headers={
            'Content-Type': 'application/json', 'intuit-signature': signature})

    def cloudevent(self, realm, entity='Payment', entity_id='1'):
        return {'specversion': '1.0', 'id': str(uuid.uuid4()), 'source': 'intuit.test',
                'type': f'qbo.{entity.lower()}.created.v1', 'time': '2026-11-29T10:00:00.000Z',
                'intuitentityid': entity_id, 'intuitaccountid': realm, 'data': {}}

    def events(self):
        return self.env['qbo.webhook.event'].sudo().search([])


@tagged('post_install', '-at_install')
class TestQboOAuthAttacks(QboAttacksCommon):
    """Replayed callbacks, a forged realmId, one QuickBooks company for two Odoo companies."""

    @mute_logger('odoo.addons.quickbooks_online.controllers.main')
    def test_callback_opened_again_is_refused_and_the_connection_kept(self):
        self.authenticate('qbo_admin', 'qbo_admin')
        action = self.connection.action_qbo_connect()
        first = self.qbo.consent(action['url'], realm_id=self.realm)
        # Same state, a fresh code (the consent page opened again from the history).
        second = self.qbo.consent(action['url'], realm_id=self.realm)
        self.qbo.clear_requests_log()
        self.assertEqual(self.open_callback(first).status_code, 303)
        self.env.invalidate_all()
        refresh_token = self.token().refresh_token
        for location in (first, second):
            with self.subTest(callback=location):
                response = self.open_callback(location)
                self.assertEqual(response.status_code, 400)
                self.assertIn('already used', response.text)
                self.assertNotIn('Traceback', response.text)
        self.assertEqual(len(self.code_exchanges()), 1, "the used code never went to Intuit again")
        self.env.invalidate_all()
        self.assertEqual(self.connection.state, 'connected')
        self.assertEqual(self.token().refresh_token, refresh_token, "the live tokens are untouched")
        self.assertFalse(self.env['qbo.oauth.nonce'].sudo().search([('connection_id', '=', self.connection.id)]))
        # And Intuit did not revoke the grant: the connection still works.
        result = self.connection.action_qbo_test()
        self.assertEqual(result['params']['type'], 'success', result['params']['message'])

    @mute_logger('odoo.addons.quickbooks_online.controllers.main',
                 'odoo.addons.quickbooks_online.models.qbo_connection')
    def test_forged_realm_in_the_callback_is_refused(self):
        self.authenticate('qbo_admin', 'qbo_admin')
        elsewhere = self.qbo.create_company('Not consented', country='US')['realm_id']
        refresh_token = self.token().refresh_token
        location = self.consent(self.connection, self.realm)
        query = parse_qs(urlsplit(location).query)
        forged = f"{const.OAUTH_CALLBACK_ROUTE}?code={query['code'][0]}&state={query['state'][0]}&realmId={elsewhere}"
        response = self.url_open(forged, allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertIn('did not confirm', response.text)
        self.env.invalidate_all()
        self.assertEqual(self.connection.realm_id, self.realm)
        self.assertFalse(self.connection.pending_realm_id)
        self.assertEqual(self.connection.state, 'connected')
        self.assertEqual(self.token().refresh_token, refresh_token)
        self.assertEqual(self.token().realm_id, self.realm)
        # A realmId that is not a QuickBooks id is refused before anything else.
        location = self.consent(self.connection, self.realm)
        query = parse_qs(urlsplit(location).query)
        response = self.url_open(f"{const.OAUTH_CALLBACK_ROUTE}?code={query['code'][0]}&state={query['state'][0]}"
                                 f"&realmId=1%2F..%2Fx", allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertIn('invalid company id', response.text)

    @mute_logger('odoo.addons.quickbooks_online.controllers.main',
                 'odoo.addons.quickbooks_online.models.qbo_connection')
    def test_a_second_company_cannot_connect_a_realm_already_used(self):
        self.authenticate('qbo_admin', 'qbo_admin')
        location = self.consent(self.connection_b, self.realm)
        self.qbo.clear_requests_log()
        response = self.open_callback(location)
        self.assertEqual(response.status_code, 400)
        self.assertIn('already connected to the Odoo company', response.text)
        self.assertIn(self.company.name, response.text)
        self.assertFalse(self.code_exchanges(), "refused before the code was spent")
        self.env.invalidate_all()
        self.assertEqual(self.connection_b.realm_id, self.realm_b)
        self.assertEqual(self.token(self.connection_b).realm_id, self.realm_b)
        # Once A is disconnected (its realm kept as history), B may connect to that QuickBooks company...
        self.connection.action_qbo_disconnect()
        self.env.flush_all()
        self.assertEqual(self.open_callback(self.consent(self.connection_b, self.realm)).status_code, 303)
        self.env.invalidate_all()
        self.assertEqual(self.connection_b.realm_id, self.realm)
        # ...its webhooks then go to B, never to A's disconnected connection that kept the realm...
        self.assertEqual(self.post_webhook(json.dumps([self.cloudevent(self.realm)]).encode()).status_code, 200)
        self.assertEqual(self.events().connection_id, self.connection_b)
        self.assertEqual(self.events().state, 'pending')
        # ...and A cannot take it back while B holds it.
        response = self.open_callback(self.consent(self.connection, self.realm))
        self.assertEqual(response.status_code, 400)
        self.assertIn(self.company_b.name, response.text)
        self.env.invalidate_all()
        self.assertEqual(self.connection.state, 'disconnected')

    def test_the_database_refuses_two_active_connections_on_one_realm(self):
        """The unique index behind the check: even a write that skips the check is refused."""
        with self.assertRaises(UniqueViolation) as caught, mute_logger('odoo.sql_db'), self.env.cr.savepoint():
            self.connection_b.sudo().write({'realm_id': self.realm})
            self.env.flush_all()
        self.assertIn('qbo_connection_realm_active_uniq', str(caught.exception))


@tagged('post_install', '-at_install')
class TestQboCopiedDatabase(QboAttacksCommon):
    """A copy of the database (new database.uuid) whose stored access token is still valid."""

    def become_a_copy(self):
        self.env['ir.config_parameter'].sudo().set_param('database.uuid', str(uuid.uuid4()))
        self.env.flush_all()
        self.connection.invalidate_recordset()

    @mute_logger('odoo.addons.quickbooks_online.models.qbo_connection')
    def test_copy_sends_nothing_says_why_and_can_become_the_real_database(self):
        self.become_a_copy()
        self.assertTrue(self.connection.database_copy)
        customers = len(self.qbo_all(self.realm, 'Customer'))
        self.qbo.clear_requests_log()
        result = self.connection.action_qbo_test()
        self.assertEqual(result['params']['type'], 'danger')
        self.assertIn('copy', result['params']['message'])
        partner = self.env['res.partner'].create({'name': 'Created In The Copy'})
        partner.action_qbo_send()
        self.assertEqual(partner._qbo_binding(self.connection).state, 'to_send', "kept queued, not failed")
        self.env['qbo.connection']._cron_qbo_change_feed()
        self.env['qbo.connection']._cron_qbo_keepalive()
        self.assertFalse(self.qbo.requests_log(), "not one request reached the original's QuickBooks")
        self.assertEqual(len(self.qbo_all(self.realm, 'Customer')), customers)
        # Only an administrator may declare the copy the real database.
        with self.assertRaises(AccessError):
            self.connection.with_user(self.manager_a).action_qbo_claim_database()
        action = self.connection.action_qbo_claim_database()
        self.assertEqual(action['type'], 'ir.actions.act_url')
        self.assertFalse(self.token(), "the original's tokens are gone from the copy")
        self.assertFalse(self.qbo.requests_log('/tokens/revoke'), "and were not revoked at Intuit")
        self.assertIn('declared this database the real one', self.connection.sudo().message_ids[0].body)
        location = self.qbo.consent(action['url'], realm_id=self.realm)
        query = parse_qs(urlsplit(location).query)
        self.connection._qbo_verify_state(query['state'][0])
        self.connection._qbo_complete_authorization(query['code'][0], query['realmId'][0])
        self.env.invalidate_all()
        self.assertFalse(self.connection.database_copy)
        self.assertEqual(self.token().database_uuid, self.env['qbo.connection']._qbo_database_identity())
        partner.action_qbo_send()
        self.assertEqual(partner._qbo_binding(self.connection).state, 'sent')
        self.assertEqual(len(self.qbo_all(self.realm, 'Customer')), customers + 1)

    @mute_logger('odoo.addons.quickbooks_online.models.qbo_connection')
    def test_copy_cancelling_a_realm_change_does_not_revoke(self):
        partner = self.env['res.partner'].create({'name': 'Linked Before'})
        partner.action_qbo_send()
        other_realm = self.qbo.create_company('Other company', country='US')['realm_id']
        location = self.consent(self.connection, other_realm)
        code = parse_qs(urlsplit(location).query)['code'][0]
        self.assertEqual(self.connection._qbo_complete_authorization(code, other_realm), 'realm_change')
        self.become_a_copy()
        self.qbo.clear_requests_log()
        self.connection.action_qbo_cancel_realm_change()
        self.assertFalse(self.qbo.requests_log('/tokens/revoke'))
        self.assertFalse(self.connection.pending_realm_id)


@tagged('post_install', '-at_install')
class TestQboInboundAttacks(QboAttacksCommon):
    """Webhook bodies and headers meant to break the endpoint; what users may read and run."""

    @mute_logger('odoo.addons.quickbooks_online.controllers.webhook')
    def test_non_ascii_or_non_base64_signature_is_a_401(self):
        body = json.dumps([self.cloudevent(self.realm)]).encode()
        for signature in ('signé+é==', '%%%not-base64', base64.b64encode(b'short').decode()):
            with self.subTest(signature=signature):
                self.assertEqual(self.post_webhook(body, signature=signature).status_code, 401)
        self.assertFalse(self.events())

    @mute_logger('odoo.addons.quickbooks_online.models.qbo_webhook_event')
    def test_signed_bodies_of_the_wrong_shape_are_acknowledged_never_a_500(self):
        realm = self.realm
        bodies = {
            'entities of numbers': {'eventNotifications': [{'realmId': realm, 'dataChangeEvent': {'entities': [1]}}]},
            'notifications of strings': {'eventNotifications': ['x']},
            'entities not a list': {'eventNotifications': [{'realmId': realm, 'dataChangeEvent': {'entities': 'x'}}]},
            'change event not an object': {'eventNotifications': [{'realmId': realm, 'dataChangeEvent': [1]}]},
            'cloudevents of lists': [[1], 'x', None, {'id': {'a': 1}, 'type': ['qbo']}],
            'a number': 7,
        }
        for case, payload in bodies.items():
            with self.subTest(case=case):
                response = self.post_webhook(json.dumps(payload).encode())
                self.assertEqual(response.status_code, 200, response.text[:300])
        deep = b'[' * 100000 + b']' * 100000
        self.assertEqual(self.post_webhook(deep).status_code, 200)
        self.assertFalse(self.events().filtered(lambda e: e.state == 'pending'), "nothing usable was stored")
        # Unsigned, the same body is refused before it is parsed.
        self.assertEqual(self.post_webhook(deep, signature='Zm9yZ2Vk').status_code, 401)
        # A good event next to garbage is still stored.
        mixed = [1, {'eventNotifications': 'x'}, self.cloudevent(realm)]
        self.assertEqual(self.post_webhook(json.dumps(mixed).encode()).status_code, 200)
        self.assertEqual(len(self.events().filtered(lambda e: e.state == 'pending')), 1)

    @mute_logger('odoo.addons.quickbooks_online.controllers.webhook')
    def test_large_body_is_refused_before_it_is_read(self):
        # Announced but never sent: a server that read the body first would wait for it (and time out).
        host, port = urlsplit(self.base_url()).hostname, urlsplit(self.base_url()).port
        with self.qbo_external_requests(), socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall((f"POST {const.WEBHOOK_ROUTE} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                          f"Content-Type: application/json\r\nintuit-signature: x\r\n"
                          f"Content-Length: {5 * 1024 * 1024}\r\n\r\n").encode())
            answer = sock.recv(4000).decode('latin-1')
        self.assertTrue(answer.startswith('HTTP/1.1 413'), answer)
        self.assertFalse(self.events())
        # Up to the limit, a body is read and handled as usual.
        event = json.dumps([self.cloudevent(self.realm)]).encode()
        self.assertEqual(self.post_webhook(event + b' ' * (const.WEBHOOK_MAX_BYTES - len(event))).status_code, 200)
        self.assertEqual(len(self.events()), 1)

    def test_company_less_events_are_for_administrators_only(self):
        self.post_webhook(json.dumps([self.cloudevent('4242424242'), self.cloudevent(self.realm)]).encode())
        stray = self.events().filtered(lambda e: not e.company_id)
        self.assertEqual(len(stray), 1)
        self.assertEqual(stray.state, 'ignored')
        self.assertFalse(self.env['qbo.webhook.event'].with_user(self.user_b).search([]))
        self.assertEqual(self.env['qbo.webhook.event'].with_user(self.user_a).search([]).company_id, self.company)
        with self.assertRaises(AccessError):
            stray.with_user(self.user_b).read(['realm_id'])
        self.assertIn(stray, self.env['qbo.webhook.event'].search([]), "administrators see them")

    @mute_logger('odoo.http')
    def test_settings_values_only_for_administrators(self):
        self.connection.sudo().write({'error_emails': 'cfo@example.com'})
        for login in ('qbo_att_portal', 'qbo_att_internal', 'qbo_att_invoicing_a'):
            with self.subTest(user=login):
                self.authenticate(login, PASSWORD)
                try:
                    values = self.call_kw('res.config.settings', 'get_values')
                except JsonRpcException:
                    continue  # refused outright: nothing leaked either
                leaked = {key: value for key, value in values.items() if key.startswith('qbo_') and value}
                self.assertFalse(leaked)
        self.authenticate('qbo_admin', 'qbo_admin')
        values = self.call_kw('res.config.settings', 'get_values')
        self.assertEqual(values['qbo_error_emails'], 'cfo@example.com')
        self.assertEqual(values['qbo_custom_base_url'], self.qbo_server.url)

    @mute_logger('odoo.http')
    def test_send_to_quickbooks_is_for_invoicing_users(self):
        """A portal user reads their own contact; an internal user reads every contact: neither may export."""
        for login, user in (('qbo_att_portal', self.portal), ('qbo_att_internal', self.internal)):
            with self.subTest(user=login):
                partner = user.partner_id
                partner.sudo().name = f'Not For QuickBooks {login}'
                self.authenticate(login, PASSWORD)
                with self.assertRaises(JsonRpcException):
                    self.call_kw('res.partner', 'action_qbo_send', [partner.id])
                self.assertFalse(partner.sudo().qbo_binding_ids)
                self.assertFalse([c for c in self.qbo_all(self.realm, 'Customer')
                                  if c['DisplayName'].startswith('Not For QuickBooks')])

    @mute_logger('odoo.http')
    def test_read_changes_is_a_managers_button(self):
        invoice = self._sent()
        self.qbo_pay([(invoice, 108.0)])
        before = len(self.qbo.requests_log(path_contains='/cdc'))
        self.authenticate('qbo_att_invoicing_a', PASSWORD)
        with self.assertRaises(JsonRpcException):
            self.call_kw('qbo.connection', 'action_qbo_read_changes', [self.connection.id])
        self.assertEqual(len(self.qbo.requests_log(path_contains='/cdc')), before, "no change-feed read")
        self.assertEqual(invoice.payment_state, 'not_paid')
        self.assertFalse(self.env['qbo.payment.import'].search([]))
        self.authenticate('qbo_att_manager_a', PASSWORD)
        result = self.call_kw('qbo.connection', 'action_qbo_read_changes', [self.connection.id])
        self.assertEqual(result['params']['type'], 'success', result['params']['message'])
        self.env.invalidate_all()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))

    def unmatched_payment(self, amount=20.0):
        """A QuickBooks payment of an invoice made in QuickBooks (unknown to Odoo): listed as Unmatched."""
        self.customer.action_qbo_send()
        customer = self.customer._qbo_binding(self.connection).qbo_id
        foreign = self.qbo_user_post('Invoice', {'CustomerRef': {'value': customer}, 'Line': [{
            'Amount': amount, 'DetailType': 'SalesItemLineDetail',
            'SalesItemLineDetail': {'ItemRef': {'value': '1'}, 'Qty': 1, 'UnitPrice': amount}}]})
        qbo_payment = self.qbo_user_post('Payment', {'CustomerRef': {'value': customer}, 'TotalAmt': amount, 'Line': [
            {'Amount': amount, 'LinkedTxn': [{'TxnId': foreign['Id'], 'TxnType': 'Invoice'}]}]})
        self.drain()
        record = self.imported(qbo_payment)
        self.assertEqual(record.state, 'unmatched', record.message)
        return qbo_payment, record

    @mute_logger('odoo.http')
    def test_payment_rows_are_read_only_and_retry_reads_quickbooks(self):
        invoice = self._sent(amount=20.0 / 1.08)
        qbo_payment, record = self.unmatched_payment(amount=invoice.amount_total)
        original_lines = record.data['Line']
        # The row pointed at an invoice Odoo knows: Retry from that would pay it in Odoo only.
        fabricated = dict(record.data, Line=[
            {'Amount': invoice.amount_total, 'LinkedTxn': [{'TxnId': self._qbo_id(invoice), 'TxnType': 'Invoice'}]}])
        self.authenticate('qbo_att_manager_a', PASSWORD)
        with self.assertRaises(JsonRpcException):
            self.call_kw('qbo.payment.import', 'write', [record.id], {'data': fabricated})
        with self.assertRaises(AccessError):
            record.with_user(self.manager_a).write({'state': 'error'})
        # Even a row changed in the database (by SQL, a restored dump) fabricates nothing: Retry
        # builds the payment from what QuickBooks says.
        record.sudo().write({'data': fabricated})
        self.env.flush_all()
        self.qbo.clear_requests_log()
        self.call_kw('qbo.payment.import', 'action_qbo_retry', [record.id])
        self.env.invalidate_all()
        self.assertEqual(len(self.qbo.requests_log(path_contains=f"/payment/{qbo_payment['Id']}")), 1)
        self.assertEqual(record.state, 'unmatched')
        self.assertFalse(record.payment_id)
        self.assertEqual(invoice.payment_state, 'not_paid')
        self.assertEqual(record.data['Line'], original_lines, "the row holds QuickBooks' version again")
        # Invoicing users may not retry.
        self.authenticate('qbo_att_invoicing_a', PASSWORD)
        with self.assertRaises(JsonRpcException):
            self.call_kw('qbo.payment.import', 'action_qbo_retry', [record.id])

    def test_retry_of_a_payment_deleted_in_quickbooks(self):
        qbo_payment, record = self.unmatched_payment()
        self.qbo_user_post('Payment', {'Id': qbo_payment['Id'], 'SyncToken': qbo_payment['SyncToken']},
                           params='&operation=delete')
        record.with_user(self.manager_a).action_qbo_retry()
        self.assertEqual(record.state, 'deleted')

    def test_expiry_email_escapes_names(self):
        self.company.name = 'Evil <img src=x onerror=alert(1)> Ltd'
        self.qbo_admin.email = 'admin@example.com'
        token = self.token()
        token.refresh_token_hard_expiry = fields.Datetime.now() + timedelta(days=5)
        token.refresh_token_expiry = fields.Datetime.now() + timedelta(days=90)
        self.env['qbo.connection']._cron_qbo_keepalive()
        mail = self.env['mail.mail'].sudo().search([('subject', 'like', 'QuickBooks Online: reconnect')], limit=1)
        self.assertTrue(mail)
        self.assertNotIn('<img', mail.body_html)
        self.assertIn('&lt;img', mail.body_html)

    def test_neutralize_clears_every_secret(self):
        for query in get_neutralization_queries(['quickbooks_online']):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        for connection in (self.connection, self.connection_b):
            conn = connection.sudo()
            self.assertFalse(conn.webhook_verifier_token)
            self.assertFalse(conn.client_secret)
            self.assertEqual(conn.state, 'disconnected')
        self.assertFalse(self.env['qbo.token'].sudo().search([]))


@tagged('post_install', '-at_install')
class TestQboErrorsShownToUsers(QboAttacksCommon):
    """People read advice and an incident id; details stay in the server log and the transfer history."""

    def test_two_partners_that_would_clash_get_a_clear_message(self):
        twins = self.env['res.partner'].create([{'name': 'Twin Supplies', 'email': 'ap@twin.example',
                                                 'is_company': True} for _i in range(2)])
        twins.action_qbo_send()
        first, second = (partner._qbo_binding(self.connection) for partner in twins)
        self.assertEqual(first.state, 'sent', first.error_message)
        self.assertEqual(second.state, 'error')
        for text in (second.error_message, twins[1].message_ids[0].body):
            with self.subTest(text=text[:60]):
                self.assertIn('same name and e-mail', text)
                for leak in ('Traceback', 'UniqueViolation', 'duplicate key', '.py'):
                    self.assertNotIn(leak, text)
        customers = [c for c in self.qbo_all(self.realm, 'Customer') if c['DisplayName'] == 'Twin Supplies']
        self.assertEqual(len(customers), 1)

    @mute_logger('odoo.addons.quickbooks_online.models.qbo_sync_log')
    def test_unexpected_error_shows_an_incident_id_and_logs_the_details(self):
        # A Payment as the change feed would hand it over, with an amount Odoo cannot read.
        outcome = self.env['qbo.payment.import'].sudo()._qbo_sync_payment(
            self.connection, {'Id': '777001', 'SyncToken': '0', 'TotalAmt': 'a lot', 'Line': []})
        self.assertEqual(outcome, 'error')
        record = self.env['qbo.payment.import'].search([('qbo_id', '=', '777001')])
        self.assertIn('incident', record.message)
        self.assertNotIn('ValueError', record.message)
        incident = record.message.split('incident ')[1].split(')')[0]
        log = self.env['qbo.sync.log'].search([('request_id', '=', incident)])
        self.assertEqual(log.connection_id, self.connection)
        self.assertEqual(log.error_code, 'unexpected')
        self.assertIn('ValueError', log.message)
        self.assertEqual(log.res_model, 'qbo.payment.import')
