from psycopg2 import IntegrityError

from odoo import release
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..models import qbo_compat

# Declared through qbo_compat.Constraint: the same database constraints on 18.0 and 19.0.
CONSTRAINTS = {
    'qbo_connection_company_uniq': 'UNIQUE (company_id)',
    'qbo_token_connection_pending_uniq': 'UNIQUE (connection_id, is_pending)',
    'qbo_binding_record_uniq': 'UNIQUE (connection_id, res_model, res_id, entity)',
    'qbo_binding_qbo_object_uniq': 'UNIQUE (connection_id, entity, qbo_id)',
    'qbo_ref_qbo_ref_uniq': 'UNIQUE (connection_id, entity, qbo_id)',
    'qbo_mapping_mapping_uniq': 'UNIQUE (connection_id, mapping_type, res_id)',
}


@tagged('post_install', '-at_install')
class TestQboCompat(TransactionCase):
    """What differs between Odoo 18.0 and 19.0 behaves the same on the series this suite runs on."""

    def test_sql_constraints_exist_in_the_database(self):
        self.env.cr.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conname IN %s",
                            [tuple(CONSTRAINTS)])
        self.assertEqual(dict(self.env.cr.fetchall()), CONSTRAINTS)

    def test_unique_constraint_is_enforced_with_its_message_registered(self):
        company = self.env.company
        self.env['qbo.connection']._qbo_get_for_company(company, create=True)
        with self.assertRaises(IntegrityError), mute_logger('odoo.sql_db'), self.env.cr.savepoint():
            self.env['qbo.connection'].sudo().create({'company_id': company.id})
            self.env.flush_all()
        # The message shown to users is known to the ORM (ir.model.constraint) on both series.
        constraint = self.env['ir.model.constraint'].search([('name', '=', 'qbo_connection_company_uniq')])
        self.assertEqual(constraint.type, 'u')
        self.assertIn('single QuickBooks Online connection', constraint.message)

    def test_send_actions_restricted_to_invoicing_users(self):
        group = self.env.ref('account.group_account_invoice')
        for xmlid in ('quickbooks_online.action_server_qbo_send_moves',
                      'quickbooks_online.action_server_qbo_send_partners'):
            action = self.env.ref(xmlid)
            self.assertEqual(action[qbo_compat.groups_field(action)], group, xmlid)

    def test_manifest_version_carries_the_running_series(self):
        module = self.env['ir.module.module'].search([('name', '=', 'quickbooks_online')])
        self.assertEqual(module.latest_version, f'{release.major_version}.1.0.0')
        self.assertEqual(qbo_compat.SERIES, release.major_version)

    def test_customer_payload_phone_fields(self):
        connection = self.env['qbo.connection']._qbo_get_for_company(self.env.company, create=True)
        partner = self.env['res.partner'].create({'name': 'Compat Customer', 'phone': '+1 415 555 0100'})
        has_mobile = 'mobile' in partner._fields  # 18.0 only: 19.0 has a single phone field
        if has_mobile:
            partner.mobile = '+1 415 555 0199'
        vals = self.env['qbo.mapper']._qbo_prepare_customer_vals(partner, connection, partner.name)
        self.assertEqual(vals['PrimaryPhone'], {'FreeFormNumber': '+1 415 555 0100'})
        self.assertEqual(vals.get('Mobile'), {'FreeFormNumber': '+1 415 555 0199'} if has_mobile else None)
