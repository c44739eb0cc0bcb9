from odoo import Command, fields
from odoo.tests import tagged

from .common import QboTestCommon


@tagged('post_install', '-at_install')
class TestQboOnboardingTour(QboTestCommon):
    """Through the browser: the dashboard, the match review (a proposal confirmed) and the dry run."""

    def test_onboarding_tour(self):
        self.qbo.bulk_seed(self.realm, [
            {'entity': 'Customer', 'key': 'same', 'body': {'DisplayName': 'Tour Harbor Supplies, Inc.'}},
            {'entity': 'Customer', 'key': 'typo', 'body': {'DisplayName': 'Tour Brook Labs'}},
        ])
        same = self.env['res.partner'].create({'name': 'TOUR HARBOR SUPPLIES', 'is_company': True})
        typo = self.env['res.partner'].create({'name': 'Tour Brok Labs', 'is_company': True})
        self.connection.action_qbo_match_import()
        move = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': same.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'product_id': self.product_a.id, 'quantity': 1, 'price_unit': 10.0,
                                                 'tax_ids': [Command.set(self.tax_ca.ids)]})],
        })
        move.action_post()
        self.env['qbo.binding']._qbo_get_or_create(self.connection, move, 'Invoice')
        writes = self.qbo.usage(self.realm)['writes']
        self.start_tour('/odoo/action-quickbooks_online.qbo_action_open_dashboard', 'qbo_tour_onboarding',
                        login='qbo_admin')
        self.env.invalidate_all()
        binding = typo._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent')
        customers = {c['DisplayName']: c['Id'] for c in self.qbo_all(self.realm, 'Customer')}
        self.assertEqual(binding.qbo_id, customers['Tour Brook Labs'])
        run = self.env['qbo.dry.run'].search([('connection_id', '=', self.connection.id)], limit=1)
        self.assertEqual(run.line_ids.filtered(lambda line: line.res_id == move.id).action, 'create')
        self.assertEqual(self.qbo.usage(self.realm)['writes'], writes, "the dry run wrote nothing")
