import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from .. import const
from ..models import qbo_compat
from ..models.qbo_errors import QboReconnectNeeded
from .test_qbo_payments import QboPaymentsCommon

VERIFIER = 'emulator-verifier-token'


@tagged('post_install', '-at_install')
class TestQboWebhook(QboPaymentsCommon):
    """The signed webhook endpoint over real HTTP, its inbox, and the cron's CDC without webhooks."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection.sudo().webhook_verifier_token = VERIFIER

    def events(self):
        return self.env['qbo.webhook.event'].sudo().search([])

    def post(self, payload, token=VERIFIER, signature=None):
        body = json.dumps(payload).encode()
        if signature is None:
            signature = base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()
        headers = {'Content-Type': 'application/json; charset=utf-8', 'intuit-signature': signature}
        return self.url_open(const.WEBHOOK_ROUTE, data=body, headers=headers)

    def cloudevent(self, entity, entity_id, verb='created', event_id=None, realm=None):
        return {'specversion': '1.0', 'id': event_id or str(uuid.uuid4()), 'source': 'intuit.test',
                'type': f'qbo.{entity.lower()}.{verb}.v1', 'datacontenttype': 'application/json',
                'time': '2026-11-29T10:00:00.000Z', 'intuitentityid': str(entity_id),
                'intuitaccountid': realm or self.realm, 'data': {}}

    def test_forged_or_missing_signature_is_refused_and_nothing_stored(self):
        payload = [self.cloudevent('Payment', '1')]
        self.assertEqual(self.post(payload, token='not-the-verifier').status_code, 401)
        self.assertEqual(self.post(payload, signature='').status_code, 401)
        self.assertEqual(self.post(payload, signature='Zm9yZ2Vk').status_code, 401)
        self.assertFalse(self.events())

    def test_signed_but_unreadable_body_is_acknowledged_not_stored(self):
        body = b'not json'
        signature = base64.b64encode(hmac.new(VERIFIER.encode(), body, hashlib.sha256).digest()).decode()
        response = self.url_open(const.WEBHOOK_ROUTE, data=body, headers={'intuit-signature': signature})
        self.assertEqual(response.status_code, 200, "a 4xx would make Intuit retry it for days")
        self.assertFalse(self.events())

    def test_same_event_delivered_five_times_creates_one_payment(self):
        invoice = self._sent()
        qbo_payment = self.qbo_pay([(invoice, 108.0)])
        event = self.cloudevent('Payment', qbo_payment['Id'])
        for _attempt in range(5):
            response = self.post([event])
            self.assertEqual(response.status_code, 200)
            self.assertLess(response.elapsed.total_seconds(), 3, "Intuit waits 3 seconds at most")
        self.assertEqual(len(self.events()), 1)
        self.assertEqual(self.events().state, 'pending')
        before = len(self.qbo.requests_log(path_contains='/cdc'))
        self.env['qbo.connection']._cron_qbo_change_feed()
        self.assertEqual(len(self.qbo.requests_log(path_contains='/cdc')) - before, 1)
        self.assertEqual(self.events().state, 'done')
        self.assertEqual(self.env['account.payment'].search_count([('partner_id', '=', self.customer.id)]), 1)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        # Redelivered after processing: still one row, one payment.
        self.post([event])
        self.env['qbo.connection']._cron_qbo_change_feed()
        self.assertEqual(len(self.events()), 1)
        self.assertEqual(self.env['account.payment'].search_count([('partner_id', '=', self.customer.id)]), 1)

    def test_many_events_one_cdc_call(self):
        invoices = [self._sent(amount=10.0 * (i + 1)) for i in range(3)]
        payments = [self.qbo_pay([(move, move.amount_total)]) for move in invoices]
        self.post([self.cloudevent('Payment', p['Id']) for p in payments]
                  + [self.cloudevent('Invoice', self._qbo_id(m), 'updated') for m in invoices])
        self.assertEqual(len(self.events()), 6)
        before = len(self.qbo.requests_log())
        self.env['qbo.connection']._cron_qbo_change_feed()
        api_calls = [r for r in self.qbo.requests_log()[before:] if '/v3/company/' in r.get('path', '')]
        self.assertEqual(len(api_calls), 1, api_calls)
        for move in invoices:
            self.assertIn(move.payment_state, ('paid', 'in_payment'))

    def test_legacy_format_unknown_entity_and_unknown_realm(self):
        invoice = self._sent()
        qbo_payment = self.qbo_pay([(invoice, 108.0)])
        legacy = {'eventNotifications': [{'realmId': self.realm, 'dataChangeEvent': {'entities': [
            {'id': qbo_payment['Id'], 'operation': 'Create', 'name': 'Payment',
             'lastUpdated': '2026-11-29T10:00:00.000Z'},
            {'id': '7', 'operation': 'Update', 'name': 'Account', 'lastUpdated': '2026-11-29T10:00:00.000Z'}]}}]}
        self.assertEqual(self.post(legacy).status_code, 200)
        self.assertEqual(self.post(legacy).status_code, 200)
        self.assertEqual(self.post([self.cloudevent('Employee', '3'),
                                    self.cloudevent('Payment', '9', realm='999999')]).status_code, 200)
        events = self.events()
        self.assertEqual(len(events), 4)
        self.assertEqual(events.filtered(lambda e: e.state == 'pending').mapped('entity'), ['Payment'])
        self.assertEqual(events.filtered(lambda e: e.state == 'pending').payload_format, 'legacy')
        self.assertEqual(len(events.filtered(lambda e: e.state == 'ignored')), 3)
        self.assertFalse(events.filtered(lambda e: e.state == 'pending').note, "an empty Note, not 'false'")
        self.env['qbo.connection']._cron_qbo_change_feed()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))

    def test_webhooks_off_the_cron_still_brings_every_payment(self):
        invoices = [self._sent(amount=20.0), self._sent(amount=30.0)]
        refund = self._sent('out_refund', amount=10.0)
        self.qbo_pay([(invoices[0], 21.6)])
        self.qbo_pay([(invoices[1], 10.0)])
        self.qbo_pay([(invoices[1], 10.8), (refund, 10.8)], total=0)
        self.assertFalse(self.events())
        # Polled recently and no event waiting: the cron does not call QuickBooks.
        self.connection.sudo().last_cdc_date = fields.Datetime.now()
        before = len(self.qbo.requests_log(path_contains='/cdc'))
        self.env['qbo.connection']._cron_qbo_change_feed()
        self.assertEqual(len(self.qbo.requests_log(path_contains='/cdc')), before)
        # An hour later: it reads everything, with one call.
        self.connection.sudo().last_cdc_date = fields.Datetime.now() - timedelta(hours=1)
        self.env['qbo.connection']._cron_qbo_change_feed()
        self.assertEqual(len(self.qbo.requests_log(path_contains='/cdc')), before + 1)
        self.assertIn(invoices[0].payment_state, ('paid', 'in_payment'))
        self.assertEqual(invoices[1].payment_state, 'partial')
        self.assertAlmostEqual(invoices[1].amount_residual, 11.6)
        self.assertEqual(len(self.env['qbo.payment.import'].search([('state', '=', 'imported')])), 3)

    def test_emulator_emits_the_webhook_and_odoo_shows_the_invoice_paid(self):
        """Webhooks on: the emulator signs and POSTs the change to Odoo's endpoint over HTTP, like Intuit."""
        invoice = self._sent()
        self.qbo.configure_webhook(self.base_url() + const.WEBHOOK_ROUTE, VERIFIER, realm_ids=[self.realm])
        self.addCleanup(self.qbo.configure_webhook, None, VERIFIER)
        with self.qbo_external_requests():
            self.qbo.flush_webhooks()  # the invoice's own creation
        self.env['qbo.connection']._cron_qbo_change_feed()
        qbo_payment = self.qbo.record_payment(self.realm, invoices=[{'id': self._qbo_id(invoice), 'amount': 108.0}])
        with self.qbo_external_requests():
            attempts = self.qbo.flush_webhooks()
        self.assertTrue(attempts and all(a['status'] == 200 for a in attempts), attempts)
        self.env.invalidate_all()
        event = self.events().filtered(lambda e: e.entity == 'Payment')
        self.assertEqual(event.entity_id, qbo_payment['Id'])
        self.assertEqual(event.payload_format, 'cloudevents')
        before = len(self.qbo.requests_log(path_contains='/cdc'))
        self.env['qbo.connection']._cron_qbo_change_feed()
        self.assertEqual(len(self.qbo.requests_log(path_contains='/cdc')), before + 1)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertFalse(self.events().filtered(lambda e: e.state == 'pending'))


@tagged('post_install', '-at_install')
class TestQboConnectionHealth(QboPaymentsCommon):
    """Keep-alive before the 100-day inactivity limit, hard-expiry warnings, the Reconnect URL."""

    def token(self):
        return self.env['qbo.token'].sudo().search([('connection_id', '=', self.connection.id),
                                                    ('is_pending', '=', False)])

    def test_keepalive_refreshes_idle_connections_only(self):
        token = self.token()
        now = fields.Datetime.now()
        token.refresh_token_expiry = now + timedelta(days=const.KEEPALIVE_MARGIN_DAYS + 5)
        before = self.requests_count()
        self.env['qbo.connection']._cron_qbo_keepalive()
        self.assertEqual(self.requests_count(), before, "used recently enough: left alone")
        self.assertFalse(self.connection.last_keepalive_date)
        old_refresh = token.refresh_token
        token.refresh_token_expiry = now + timedelta(days=const.KEEPALIVE_MARGIN_DAYS - 1)
        # The refresh commits on a cursor of its own: our pending write must reach the row first.
        self.env.flush_all()
        self.env['qbo.connection']._cron_qbo_keepalive()
        self.env.invalidate_all()
        self.assertEqual(self.requests_count(), before + 1)
        self.assertNotEqual(token.refresh_token, old_refresh)
        self.assertGreater(token.refresh_token_expiry, now + timedelta(days=90), "100 days again")
        self.assertTrue(self.connection.last_keepalive_date)

    def test_keepalive_beats_the_100_day_limit_on_the_emulator_clock(self):
        day = 86400
        # 71 idle days, in QuickBooks (emulator clock) and in Odoo (the expiry Odoo computed at the last refresh).
        self.qbo.advance_clock(71 * day)
        self.token().refresh_token_expiry = fields.Datetime.now() + timedelta(days=101 - 71)
        self.env.flush_all()
        self.env['qbo.connection']._cron_qbo_keepalive()
        self.assertTrue(self.connection.last_keepalive_date)
        # 71 more days: 142 days after the consent, the kept-alive connection still works...
        self.qbo.advance_clock(71 * day)
        self.connection._qbo_get_access_token(force_refresh=True)
        self.assertEqual(self.connection.state, 'connected')
        # ...while one left idle past 100 days is refused by QuickBooks: reconnection needed.
        self.qbo.advance_clock(102 * day)
        self.env.flush_all()  # the refresh writes the state on a cursor of its own: nothing pending here
        # Not assertRaises: Odoo's rolls its block back, and the reconnect state is what we check.
        try:
            self.connection._qbo_get_access_token(force_refresh=True)
            refused = None
        except QboReconnectNeeded as exc:
            refused = exc
        self.assertIn('invalid_grant', str(refused))
        self.env.invalidate_all()
        self.assertEqual(self.connection.state, 'reconnect')

    def requests_count(self):
        return len(self.qbo.requests_log(path_contains='/oauth2/v1/tokens/bearer'))

    def test_hard_expiry_warnings_at_30_and_7_days(self):
        token = self.token()
        now = fields.Datetime.now()
        Mail = self.env['mail.mail'].sudo()

        def run(days):
            token.refresh_token_hard_expiry = now + timedelta(days=days, hours=1)
            mails = Mail.search_count([('subject', 'like', 'QuickBooks Online: reconnect')])
            self.env['qbo.connection']._cron_qbo_keepalive()
            activities = self.connection.sudo().activity_ids.filtered(lambda a: 'Reconnect' in (a.summary or ''))
            return len(activities), Mail.search_count([('subject', 'like', 'QuickBooks Online: reconnect')]) - mails

        admins = len(qbo_compat.group_users(self.env.ref('base.group_system')).filtered(
            lambda u: not u.share and self.company in u.company_ids))
        self.assertGreaterEqual(admins, 1)
        self.assertEqual(run(31), (0, 0))
        self.assertEqual(run(30), (admins, 1), "one activity per administrator, one email to them all")
        self.assertEqual(self.connection.hard_expiry_warned, '30')
        self.assertEqual(run(29), (admins, 0), "once per threshold")
        self.assertEqual(run(8), (admins, 0))
        self.assertEqual(run(7), (2 * admins, 1))
        self.assertEqual(self.connection.hard_expiry_warned, '7')
        self.assertEqual(run(6), (2 * admins, 0))
        self.assertIn(const.RECONNECT_ROUTE, self.connection.message_ids[0].body)

    def test_reconnect_url_goes_to_the_consent_page_of_the_right_company(self):
        self.authenticate('qbo_admin', 'qbo_admin')
        response = self.url_open(f"{const.RECONNECT_ROUTE}?realmId={self.realm}", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        location = response.headers['Location']
        self.assertTrue(location.startswith(self.qbo_server.url + '/connect/oauth2'), location)
        self.assertIn(f"state={self.connection.id}.", location)
        # The consent page it leads to is a real one: approving it connects again.
        callback = self.qbo.consent(location, realm_id=self.realm)
        self.assertIn('code=', callback)

    def test_reconnect_url_is_for_administrators(self):
        new_test_user(self.env, login='qbo_clerk', password='qbo_clerk_pw', groups='account.group_account_invoice')
        self.authenticate('qbo_clerk', 'qbo_clerk_pw')
        response = self.url_open(const.RECONNECT_ROUTE, allow_redirects=False)
        self.assertEqual(response.status_code, 403)
