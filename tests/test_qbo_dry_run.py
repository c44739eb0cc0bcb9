import json

from odoo import Command, fields
from odoo.tests import tagged

from .common import QboTestCommon


@tagged('post_install', '-at_install')
class TestQboDryRun(QboTestCommon):
    """The dry run says, record by record, what the following real run does; it writes nothing."""

    def _invoice(self, partner, price=100.0):
        move = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'product_id': self.product_a.id, 'quantity': 1, 'price_unit': price,
                                                 'tax_ids': [Command.set(self.tax_ca.ids)]})],
        })
        move.action_post()
        return move

    def _snapshot(self):
        """{entity: {Id: SyncToken}} of what QuickBooks holds."""
        return {entity: {row['Id']: row.get('SyncToken') for row in self.qbo_all(self.realm, entity)}
                for entity in ('Customer', 'Invoice')}

    def _real_action(self, record, before_binding, before):
        """What the real run did with `record`, observed in QuickBooks and on its link."""
        binding = record._qbo_binding(self.connection)
        after = self._snapshot()
        if not binding or binding.state in ('blocked', 'error', 'to_send'):
            return 'skip'
        qbo_id, entity = binding.qbo_id, binding.entity
        if binding.state == 'voided' and before_binding.get('state') != 'voided':
            return 'void'
        if not before_binding.get('qbo_id'):
            return 'link' if qbo_id in before[entity] else 'create'
        return 'update' if after[entity][qbo_id] != before[entity][qbo_id] else 'skip'

    def test_dry_run_matches_the_real_run(self):
        new = self.env['res.partner'].create({'name': 'Dry Run New Co', 'is_company': True})
        # Same name and e-mail as a customer QuickBooks has: the exporter links it (after 6240).
        amy = self.env['res.partner'].create({'name': "Amy's Bird Sanctuary", 'email': 'birds@intuit.com'})
        edited = self.env['res.partner'].create({'name': 'Dry Run Edited', 'is_company': True, 'city': 'Austin'})
        edited.action_qbo_send()
        # A customer whose match waits for a person: skipped, and why.
        held = self.env['res.partner'].create({'name': 'Dry Run Held', 'is_company': True})
        qbo_customer = self.qbo_all(self.realm, 'Customer')[0]
        self.env['qbo.match'].sudo().create({'connection_id': self.connection.id, 'entity': 'Customer',
                                             'state': 'ambiguous', 'partner_id': held.id,
                                             'qbo_id': qbo_customer['Id'], 'qbo_name': qbo_customer['DisplayName']})
        repriced = self._invoice(edited)
        cancelled = self._invoice(edited, 70.0)
        (repriced | cancelled).action_qbo_send()
        edited.city = 'Dallas'  # after its invoices were sent: the partner alone is to send again
        repriced.button_draft()
        repriced.invoice_line_ids.price_unit = 80.0
        repriced.action_post()
        cancelled.button_draft()
        cancelled.button_cancel()
        fresh = self._invoice(new)
        linked = self._invoice(amy)
        selection = [fresh, linked, repriced, cancelled, held, edited]

        before = self._snapshot()
        usage = self.qbo.usage(self.realm)
        records = self.env['account.move'].concat(fresh, linked, repriced, cancelled)
        run = self.env['qbo.dry.run']._qbo_dry_run_records(records)
        run |= self.env['qbo.dry.run']._qbo_dry_run_records(held | edited)
        after_usage = self.qbo.usage(self.realm)
        self.assertEqual(after_usage['writes'], usage['writes'], "a dry run writes nothing")
        self.assertEqual(self._snapshot(), before)
        self.assertEqual(sum(run.mapped('reads')), after_usage['reads'] - usage['reads'], "its reads are counted")
        planned = {(line.res_model, line.res_id): line for line in run.line_ids}
        expected_keys = {(record._name, record.id) for record in selection} | {('res.partner', amy.id),
                                                                             ('res.partner', new.id)}
        self.assertEqual(set(planned), expected_keys)
        self.assertEqual(planned['res.partner', held.id].action, 'skip')
        self.assertIn('Match review', planned['res.partner', held.id].reason)
        self.assertIn('Dallas', planned['res.partner', edited.id].differences)
        self.assertIn('BillAddr', planned['res.partner', edited.id].differences)
        self.assertEqual(json.loads(planned['res.partner', new.id].payload)[0]['body']['DisplayName'], 'Dry Run New Co')

        bindings_before = {key: (self.env[key[0]].browse(key[1])._qbo_binding(self.connection).read(
            ['state', 'qbo_id'])[0] if self.env[key[0]].browse(key[1])._qbo_binding(self.connection) else {})
            for key in planned}
        records.action_qbo_send()
        (held | edited).action_qbo_send()
        real = {key: self._real_action(self.env[key[0]].browse(key[1]), bindings_before[key], before)
                for key in planned}
        self.assertEqual({key: line.action for key, line in planned.items()}, real)
        self.assertEqual({line.action for line in planned.values()}, {'create', 'link', 'update', 'void', 'skip'})
        # The payload planned is the payload sent.
        binding = new._qbo_binding(self.connection)
        self.assertEqual(self.qbo_read(self.realm, 'Customer', binding.qbo_id)['DisplayName'], 'Dry Run New Co')

    def test_dashboard(self):
        """The dashboard counts the queue per document type and the failures by code, over real sends."""
        sent = self.env['res.partner'].create({'name': 'Dashboard Sent', 'is_company': True})
        sent.action_qbo_send()
        held = self.env['res.partner'].create({'name': 'Dashboard Held', 'is_company': True})
        qbo_customer = self.qbo_all(self.realm, 'Customer')[0]
        self.env['qbo.match'].sudo().create({'connection_id': self.connection.id, 'entity': 'Customer',
                                             'state': 'proposed', 'partner_id': held.id, 'qbo_id': qbo_customer['Id'],
                                             'qbo_name': qbo_customer['DisplayName']})
        held.action_qbo_send()
        later = self._invoice(sent)
        binding = self.env['qbo.binding'].sudo()._qbo_get_or_create(self.connection, later, 'Invoice')
        binding._qbo_transition('to_send', next_retry_date=fields.Datetime.add(fields.Datetime.now(), hours=1))
        action = self.env['qbo.connection'].action_qbo_open_dashboard()
        dashboard = self.env['qbo.connection'].browse(action['res_id'])
        self.assertEqual(dashboard, self.connection)
        self.assertEqual(dashboard.dash_failed, 1)
        self.assertEqual(dashboard.dash_to_send, 1)
        self.assertIn('Invoice', dashboard.dash_queue_html)
        self.assertIn('Match review', dashboard.dash_failures_html)
        self.assertEqual(dashboard.qbo_match_undecided, 1)
        self.assertGreater(dashboard.dash_token_days_left, 0)
        sends = dashboard.action_qbo_dash_sends()
        groups = self.env['qbo.sync.log'].read_group(sends['domain'], ['operation'], ['create_date:day'])
        self.assertEqual(sum(group['create_date_count'] for group in groups), 1, "one write accepted")
