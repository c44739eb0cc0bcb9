import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .. import const
from .test_qbo_payments import QboPaymentsCommon

VERIFIER = 'change-feed-verifier'


@tagged('post_install', '-at_install')
class TestQboChangeFeed(QboPaymentsCommon):
    """Webhook events closed only by what QuickBooks returned; the daily catch-up window behind the checkpoint."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection.sudo().webhook_verifier_token = VERIFIER

    def receive(self, entity, entity_id, time=None):
        """A signed CloudEvents notification, stored as the webhook controller stores it."""
        body = json.dumps([{
            'specversion': '1.0', 'id': str(uuid.uuid4()), 'source': 'intuit.test',
            'type': f'qbo.{entity.lower()}.updated.v1', 'time': time or fields.Datetime.now().isoformat() + 'Z',
            'intuitentityid': str(entity_id), 'intuitaccountid': self.realm, 'data': {}}]).encode()
        signature = base64.b64encode(hmac.new(VERIFIER.encode(), body, hashlib.sha256).digest()).decode()
        Event = self.env['qbo.webhook.event'].sudo()
        self.assertEqual(Event._qbo_receive(body, signature), 1)
        return Event.search([('entity_id', '=', str(entity_id))], limit=1)

    def changed_since(self):
        """changedSince of the last CDC call the emulator received."""
        return self.qbo.requests_log(path_contains='/cdc')[-1]['query']['changedSince']

    def test_event_is_done_only_when_its_object_came_back(self):
        invoice = self._sent()
        qbo_payment = self.qbo_pay([(invoice, 108.0)])
        seen = self.receive('Payment', qbo_payment['Id'])
        # Announced, but no answer returns it (not committed yet in QuickBooks, or another company's).
        unseen = self.receive('Payment', '999999')
        self.connection._qbo_drain()
        self.assertEqual(seen.state, 'done')
        self.assertEqual(self.imported(qbo_payment).state, 'imported')
        self.assertEqual((unseen.state, unseen.read_count), ('pending', 1))
        self.assertIn('1 of', unseen.note)
        for _read in range(const.WEBHOOK_EVENT_MAX_TRIES - 2):
            self.connection._qbo_drain()
        self.assertEqual((unseen.state, unseen.read_count), ('pending', const.WEBHOOK_EVENT_MAX_TRIES - 1))
        self.connection._qbo_drain()
        self.assertEqual(unseen.state, 'unseen', "bounded: a clear state after the last read")
        self.assertIn('did not return Payment 999999', unseen.note)
        # The cron no longer drains for it.
        self.connection.sudo().last_cdc_date = fields.Datetime.now()
        before = len(self.qbo.requests_log(path_contains='/cdc'))
        self.env['qbo.connection']._cron_qbo_change_feed()
        self.assertEqual(len(self.qbo.requests_log(path_contains='/cdc')), before)
        self.assertEqual(self.env['account.payment'].search_count([('partner_id', '=', self.customer.id)]), 1)

    def test_deleted_object_closes_its_event(self):
        invoice = self._sent()
        qbo_payment = self.qbo_pay([(invoice, 108.0)])
        self.qbo.delete_payment(self.realm, qbo_payment['Id'])
        event = self.receive('Payment', qbo_payment['Id'])
        self.connection._qbo_drain()
        self.assertEqual(event.state, 'done', "proved deleted: CDC returned it as Deleted")
        self.assertEqual(invoice.payment_state, 'not_paid')

    def test_late_event_widens_the_window(self):
        invoice = self._sent()
        qbo_payment = self.qbo_pay([(invoice, 108.0)])
        stamp = self.qbo_read(self.realm, 'Payment', qbo_payment['Id'])['MetaData']['LastUpdatedTime']
        # The checkpoint already passed the payment's stamp (QuickBooks committed it late), today's catch-up done.
        now = fields.Datetime.now()
        self.connection.sudo().write({'cdc_checkpoint': now + timedelta(minutes=30), 'cdc_catchup_date': now})
        self.connection._qbo_drain()
        self.assertFalse(self.imported(qbo_payment), "outside the window")
        self.connection.sudo().cdc_checkpoint = now + timedelta(minutes=30)
        event = self.receive('Payment', qbo_payment['Id'], time=stamp)
        self.connection._qbo_drain()
        self.assertEqual(event.state, 'done')
        self.assertEqual(self.imported(qbo_payment).state, 'imported')
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))

    def test_daily_catch_up_rereads_the_day_behind_the_checkpoint_without_duplicates(self):
        first, late = self._sent(), self._sent(amount=50.0)
        imported = self.qbo_pay([(first, 108.0)])
        self.drain()
        self.assertEqual(self.imported(imported).state, 'imported')
        self.assertTrue(self.connection.cdc_catchup_date, "the first drain caught up")
        missed = self.qbo_pay([(late, 54.0)])
        # Stamped behind the checkpoint: the hourly window does not see it.
        now = fields.Datetime.now()
        self.connection.sudo().write({'cdc_checkpoint': now + timedelta(minutes=30),
                                      'cdc_catchup_date': now - timedelta(hours=1)})
        self.drain()
        self.assertFalse(self.imported(missed))
        self.assertGreaterEqual(self.changed_since(), qbo_format(now + timedelta(minutes=29)))
        # A day later the drain also re-reads the 24 hours behind its checkpoint, once.
        self.connection.sudo().write({'cdc_checkpoint': now + timedelta(minutes=30),
                                      'cdc_catchup_date': now - timedelta(hours=const.CDC_CATCHUP_HOURS, minutes=1)})
        self.drain()
        self.assertLessEqual(self.changed_since(), qbo_format(now + timedelta(minutes=30)
                                                             - timedelta(hours=const.CDC_CATCHUP_HOURS)))
        self.assertEqual(self.imported(missed).state, 'imported')
        self.assertIn(late.payment_state, ('paid', 'in_payment'))
        self.assertGreaterEqual(self.connection.cdc_catchup_date, now)
        # What the catch-up read again changed nothing: one Odoo payment per QuickBooks payment.
        self.assertEqual(self.env['account.payment'].search_count([('partner_id', '=', self.customer.id)]), 2)
        self.assertEqual(self.imported(imported).payment_id.state, 'paid')
        self.drain()
        self.assertGreater(self.changed_since(), qbo_format(now - timedelta(hours=1)), "once a day")
        self.assertEqual(self.env['account.payment'].search_count([('partner_id', '=', self.customer.id)]), 2)


def qbo_format(moment):
    return moment.replace(microsecond=0).isoformat() + '+00:00'
