"""A connection switched to another QuickBooks company starts clean and says what it reset."""
from odoo import Command, fields
from odoo.tests import tagged

from .common import QboTestCommon


@tagged('post_install', '-at_install')
class TestQboRealmChange(QboTestCommon):

    def _sent_invoice(self):
        partner = self.env['res.partner'].create({'name': 'Old Company Customer', 'is_company': True})
        move = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
            'invoice_line_ids': [Command.create({'product_id': self.product_a.id, 'quantity': 1, 'price_unit': 100.0,
                                                 'tax_ids': [Command.set(self.tax_ca.ids)]})],
        })
        move.action_post()
        move.action_qbo_send()
        self.assertEqual(move._qbo_binding(self.connection).state, 'sent')
        return move

    def test_switch_to_another_company_forgets_the_old_ids(self):
        move = self._sent_invoice()
        old_realm = self.realm
        old_refs = self.env['qbo.ref'].search([('connection_id', '=', self.connection.id)])
        self.assertTrue(old_refs)
        self.connection.sudo().cdc_checkpoint = fields.Datetime.subtract(fields.Datetime.now(), days=3)
        new_realm = self.qbo.create_company('New Company', country='US')['realm_id']
        action = self.connection.action_qbo_connect()
        location = self.qbo.consent(action['url'], realm_id=new_realm)
        query = location.split('?', 1)[1]
        params = dict(pair.split('=', 1) for pair in query.split('&'))
        self.connection._qbo_verify_state(params['state'])
        self.assertEqual(self.connection._qbo_complete_authorization(params['code'], new_realm), 'realm_change')
        self.connection.action_qbo_confirm_realm_change()
        self.assertEqual(self.connection.realm_id, new_realm)
        domain = [('connection_id', '=', self.connection.id)]
        self.assertFalse(self.env['qbo.binding'].search(domain), "links to the old company's Ids are gone")
        old_ref_ids = set(old_refs.ids)
        self.assertFalse(old_refs.exists(), "the old company's reference objects are gone")
        # What the new company's reference import proposes may be mapped again; nothing points at the old one.
        mappings = self.env['qbo.mapping'].search(domain)
        self.assertFalse(set(mappings.qbo_ref_id.ids) & old_ref_ids, "mappings to the old company's Ids are gone")
        self.assertFalse(mappings.filtered(lambda m: m.mapping_type == 'tax' and m.res_id == self.tax_ca.id))
        self.assertTrue(self.env['qbo.ref'].search(domain), "the new company's reference data is imported")
        self.assertGreater(self.connection.cdc_checkpoint, fields.Datetime.subtract(fields.Datetime.now(), minutes=5),
                           "the change feed starts at the switch, not at the old company's checkpoint")
        note = self.connection.message_ids.filtered(lambda m: 'Switched from QuickBooks company' in (m.body or ''))[:1]
        self.assertIn('links', note.body)
        self.assertIn('mappings', note.body)
        # Sent again, the invoice goes to the new company once its tax is mapped there; the old one keeps its own.
        new_ca = self.env['qbo.ref'].search(domain + [('entity', '=', 'TaxCode'), ('qbo_id', '=', '2')])
        self.env['qbo.mapping'].create({'connection_id': self.connection.id, 'mapping_type': 'tax',
                                        'res_id': self.tax_ca.id, 'qbo_ref_id': new_ca.id})
        move.action_qbo_send()
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'sent', binding.error_message)
        self.assertEqual(len(self.qbo_all(new_realm, 'Invoice')), 1)
        self.assertEqual(len(self.qbo_all(old_realm, 'Invoice')), 1)
