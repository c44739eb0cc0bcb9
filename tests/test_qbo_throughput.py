"""Many records at once: the button queues them for the cron instead of holding the browser."""
from odoo.tests import tagged

from ..models.qbo_sync_mixin import QUEUE_THRESHOLD
from .common import QboTestCommon


@tagged('post_install', '-at_install')
class TestQboQueueMany(QboTestCommon):

    def test_send_many_queues_for_the_cron(self):
        partners = self.env['res.partner'].create([
            {'name': f'Queued Customer {i:02d}', 'email': f'q{i}@example.com'} for i in range(QUEUE_THRESHOLD + 1)])
        cron = self.env.ref('quickbooks_online.ir_cron_qbo_export')
        triggers_before = self.env['ir.cron.trigger'].sudo().search_count([('cron_id', '=', cron.id)])
        self.qbo.clear_requests_log()
        action = partners.action_qbo_send()
        self.assertEqual(action['params']['title'], 'Queued for QuickBooks')
        self.assertIn(str(len(partners)), action['params']['message'])
        self.assertEqual(self.qbo.requests_log(path_contains='/customer'), [], "nothing sent in the request")
        bindings = self.env['qbo.binding'].search([('res_model', '=', 'res.partner'), ('res_id', 'in', partners.ids)])
        self.assertEqual(set(bindings.mapped('state')), {'to_send'})
        self.assertGreater(self.env['ir.cron.trigger'].sudo().search_count([('cron_id', '=', cron.id)]),
                           triggers_before, "the cron is woken up")
        self.env['qbo.binding']._cron_qbo_export()
        self.assertEqual(set(bindings.mapped('state')), {'sent'})
        names = {c['DisplayName'] for c in self.qbo_all(self.realm, 'Customer')}
        self.assertTrue(set(partners.mapped('name')) <= names)

    def test_send_few_is_immediate(self):
        partner = self.env['res.partner'].create({'name': 'Immediate Customer'})
        action = partner.action_qbo_send()
        self.assertEqual(action['params']['title'], 'Sent to QuickBooks')
        self.assertEqual(partner._qbo_binding(self.connection).state, 'sent')
