"""Who may read and change what: two companies, two users, a portal user and a public request.

Every access is tried three ways: the ORM as that user, XML-RPC (/xmlrpc/2/object) and the web
client's JSON-RPC route (/web/dataset/call_kw), through Odoo's real HTTP stack.
"""
from datetime import timedelta
from xmlrpc.client import Fault

import odoo
from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import JsonRpcException, new_test_user, tagged
from odoo.tools import mute_logger

from .. import const
from .common import QboTestCommon

PASSWORD = 'qbo-security-1'
# What must never leak to the wrong people, per model: fields read in each attempt.
SENSITIVE = {
    'qbo.token': ['access_token', 'refresh_token'],
    'qbo.connection': ['client_id', 'client_secret'],
    'qbo.binding': ['qbo_id', 'state'],
    'qbo.ref': ['name', 'qbo_id'],
    'qbo.sync.log': ['operation', 'message'],
    'qbo.mapping': ['mapping_type'],
}


@tagged('post_install', '-at_install')
class TestQboSecurity(QboTestCommon):
    """Company A (connected in setUp) and company B (its own connection and realm)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name='QBO Security B')['company']
        cls.change_company_country(cls.company_b, cls.env.ref('base.us'))
        cls.qbo_admin.company_ids = [Command.link(cls.company_b.id)]
        cls.realm_b = cls.qbo.create_company('Security B', country='US')['realm_id']
        cls.connection_b = cls._qbo_connect(cls._qbo_configure(cls.company_b), cls.realm_b)
        partner_b = cls.env['res.partner'].create({'name': 'Customer Of B', 'company_id': cls.company_b.id})
        partner_b.with_company(cls.company_b).action_qbo_send()
        cls.binding_b = partner_b._qbo_binding(cls.connection_b)

        def user(login, groups, company):
            return new_test_user(cls.env, login=login, password=PASSWORD, groups=groups,
                                 company_id=company.id, company_ids=[Command.set(company.ids)])
        cls.user_a = user('qbo_invoicing_a', 'account.group_account_invoice', cls.company)
        cls.manager_a = user('qbo_manager_a', 'account.group_account_manager', cls.company)
        cls.user_b = user('qbo_invoicing_b', 'account.group_account_invoice', cls.company_b)
        cls.portal = user('qbo_portal', 'base.group_portal', cls.company)
        cls.public = cls.env.ref('base.public_user').sudo()  # its company is not the admin's

    def setUp(self):
        super().setUp()
        partner = self.env['res.partner'].create({'name': 'Customer Of A', 'email': 'a@example.com'})
        partner.action_qbo_send()
        self.binding_a = partner._qbo_binding(self.connection)
        self.assertEqual(self.binding_b.state, 'sent', self.binding_b.error_message)
        self.assertEqual(self.binding_a.state, 'sent', self.binding_a.error_message)
        # One record of company A per model: what the others try to read.
        sudo = self.env(su=True)
        self.records_a = {
            'qbo.token': sudo['qbo.token'].search([('connection_id', '=', self.connection.id)], limit=1),
            'qbo.connection': self.connection.sudo(),
            'qbo.binding': self.binding_a.sudo(),
            'qbo.ref': sudo['qbo.ref'].search([('connection_id', '=', self.connection.id)], limit=1),
            'qbo.sync.log': sudo['qbo.sync.log'].search([('connection_id', '=', self.connection.id)], limit=1),
            'qbo.mapping': sudo['qbo.mapping'].search([('connection_id', '=', self.connection.id)], limit=1),
        }
        for model, record in self.records_a.items():
            self.assertTrue(record, f"fixture: no {model} of company A")
            self.assertEqual(record.company_id, self.company, model)

    # ------------------------------------------------------------------ ORM

    def test_orm_every_model_is_company_scoped(self):
        """An invoicing user of B sees B's records only and cannot read A's, whatever the model."""
        env_b = self.env(user=self.user_b, context={'active_test': False})
        for model in ('qbo.binding', 'qbo.ref', 'qbo.sync.log', 'qbo.mapping', 'qbo.connection'):
            with self.subTest(model=model):
                found = env_b[model].search([])
                self.assertTrue(found, f"B sees its own {model}")
                self.assertEqual(found.company_id, self.company_b)
                with self.assertRaises(AccessError):
                    env_b[model].browse(self.records_a[model].id).read(['company_id'])
        # The user of A, symmetrically, sees A's and not B's.
        env_a = self.env(user=self.user_a)
        self.assertEqual(env_a['qbo.binding'].search([]).company_id, self.company)
        with self.assertRaises(AccessError):
            self.binding_b.with_user(self.user_a).read(['qbo_id'])

    def test_orm_tokens_and_secrets_are_admin_only(self):
        for user in (self.user_a, self.manager_a, self.user_b, self.portal, self.public):
            env = self.env(user=user)
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    env['qbo.token'].search_read([], ['access_token', 'refresh_token'])
                with self.assertRaises(AccessError):
                    env['qbo.oauth.nonce'].search_read([], ['nonce'])
                with self.assertRaises(AccessError):
                    env['qbo.connection'].browse(self.connection.id).read(['client_secret'])
        # The admin of A cannot read B's tokens either while B is not one of the admin's companies.
        admin_a_only = self.env(user=self.qbo_admin, context={'allowed_company_ids': self.company.ids})
        self.assertEqual(admin_a_only['qbo.token'].search([]).company_id, self.company)

    def test_orm_portal_and_public_read_nothing(self):
        for user in (self.portal, self.public):
            env = self.env(user=user)
            for model, record in self.records_a.items():
                with self.subTest(user=user.login, model=model), self.assertRaises(AccessError):
                    env[model].browse(record.id).read(SENSITIVE[model])

    def test_orm_bindings_are_read_only_to_users(self):
        """Users cannot point a record at another QuickBooks id; the machinery still writes."""
        for user in (self.user_a, self.manager_a):
            binding = self.binding_a.with_user(user)
            with self.subTest(user=user.login):
                self.assertEqual(binding.qbo_id, self.binding_a.qbo_id, "readable")
                with self.assertRaises(AccessError):
                    binding.write({'qbo_id': '1'})
                with self.assertRaises(AccessError):
                    self.env(user=user)['qbo.binding'].create({
                        'connection_id': self.connection.id, 'res_model': 'res.partner',
                        'res_id': user.partner_id.id, 'entity': 'Customer', 'qbo_id': '1'})
                with self.assertRaises(AccessError):
                    binding.unlink()
                with self.assertRaises(AccessError):
                    self.env(user=user)['qbo.ref'].create({'connection_id': self.connection.id,
                                                            'entity': 'Item', 'qbo_id': '999', 'name': 'Forged'})
        # The Retry button and the Send button still work for the invoicing user.
        partner = self.binding_a._qbo_record()
        partner.write({'phone': '+1 555 0100'})
        self.assertEqual(self.binding_a.state, 'to_send')
        self.binding_a.with_user(self.user_a).action_qbo_retry()
        self.assertEqual(self.binding_a.state, 'sent', self.binding_a.error_message)
        customer = self.qbo_read(self.realm, 'Customer', self.binding_a.qbo_id)
        self.assertEqual(customer['PrimaryPhone']['FreeFormNumber'], '+1 555 0100')

    # ------------------------------------------------------------------ XML-RPC

    def _xmlrpc(self, user, password, model, method, *args, **kwargs):
        return self.xmlrpc_object.execute_kw(self.env.cr.dbname, user.id, password, model, method,
                                             list(args), kwargs)

    @mute_logger('odoo.http', 'odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_model')
    def test_xmlrpc_refused(self):
        for user, password in ((self.portal, PASSWORD), (self.user_b, PASSWORD), (self.public, '')):
            for model, record in self.records_a.items():
                with self.subTest(user=user.login, model=model), self.assertRaises(Fault):
                    self._xmlrpc(user, password, model, 'read', [record.id], fields=SENSITIVE[model])
        # What B may list is B's only.
        for model in ('qbo.binding', 'qbo.ref', 'qbo.sync.log'):
            rows = self._xmlrpc(self.user_b, PASSWORD, model, 'search_read', [], fields=['company_id'])
            self.assertTrue(rows)
            self.assertEqual({row['company_id'][0] for row in rows}, {self.company_b.id}, model)
        with self.assertRaises(Fault):
            self._xmlrpc(self.user_b, PASSWORD, 'qbo.token', 'search_read', [], fields=['refresh_token'])
        with self.assertRaises(Fault):
            self._xmlrpc(self.user_b, PASSWORD, 'qbo.binding', 'write', [self.binding_b.id], {'qbo_id': '1'})

    # ------------------------------------------------------------------ web client (JSON-RPC)

    def _call_kw(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request(f'/web/dataset/call_kw/{model}/{method}', {
            'model': model, 'method': method, 'args': list(args), 'kwargs': kwargs})

    @mute_logger('odoo.http', 'odoo.addons.base.models.ir_rule', 'odoo.addons.base.models.ir_model')
    def test_web_client_routes_refused(self):
        for login in ('qbo_portal', 'qbo_invoicing_b', None):
            self.authenticate(login, PASSWORD if login else None)
            for model, record in self.records_a.items():
                with self.subTest(user=login, model=model), self.assertRaises(JsonRpcException):
                    self._call_kw(model, 'read', [record.id], fields=SENSITIVE[model])
                with self.subTest(user=login, model=model, method='web_read'), \
                        self.assertRaises(JsonRpcException):
                    self._call_kw(model, 'web_read', [record.id], specification={f: {} for f in SENSITIVE[model]})
        self.authenticate('qbo_invoicing_b', PASSWORD)
        rows = self._call_kw('qbo.ref', 'search_read', [], fields=['company_id'])
        self.assertEqual({row['company_id'][0] for row in rows}, {self.company_b.id})
        with self.assertRaises(JsonRpcException):
            self._call_kw('qbo.binding', 'write', [self.binding_b.id], {'qbo_id': '1'})

    # ------------------------------------------------------------------ accounting managers

    def test_manager_uses_test_and_import_but_not_admin_buttons(self):
        connection = self.connection.with_user(self.manager_a)
        result = connection.action_qbo_test()
        self.assertEqual(result['params']['type'], 'success', result['params']['message'])
        result = connection.action_qbo_import_references()
        self.assertEqual(result['params']['type'], 'success')
        with self.assertRaises(AccessError):
            connection.write({'environment': 'production'})
        with self.assertRaises(AccessError):
            connection.action_qbo_disconnect()
        arch = connection.get_view(self.env.ref('quickbooks_online.qbo_connection_view_form').id)['arch']
        for button in ('action_qbo_test', 'action_qbo_import_references'):
            self.assertIn(f'name="{button}"', arch)
        for button in ('action_qbo_connect', 'action_qbo_disconnect'):
            self.assertNotIn(f'name="{button}"', arch)
        # An invoicing user sees none of them, and calling them anyway is refused.
        as_user = self.connection.with_user(self.user_a)
        arch = as_user.get_view(self.env.ref('quickbooks_online.qbo_connection_view_form').id)['arch']
        self.assertNotIn('name="action_qbo_test"', arch)
        self.assertNotIn('name="action_qbo_import_references"', arch)
        for action in ('action_qbo_test', 'action_qbo_import_references'):
            with self.subTest(action=action), self.assertRaises(AccessError):
                getattr(as_user, action)()

    # ------------------------------------------------------------------ database copies

    def _token(self):
        return self.env['qbo.token'].sudo().search([('connection_id', '=', self.connection.id),
                                                    ('is_pending', '=', False)])

    def test_database_copy_never_refreshes_nor_revokes(self):
        token = self._token()
        uuid = self.env['ir.config_parameter'].sudo().get_param('database.uuid')
        self.assertEqual(token.database_uuid, f"{uuid}/{self.env.cr.dbname}")
        # Simulate a dump restored by hand under another name (same uuid): not the database that connected.
        token.database_uuid = f"{uuid}/production"
        token.access_token_expiry = fields.Datetime.now() - timedelta(minutes=1)
        self.env.flush_all()  # the refresh reads the token row on a cursor of its own
        refresh_token = token.refresh_token
        self.qbo.clear_requests_log()
        result = self.connection.action_qbo_test()
        self.assertEqual(result['params']['type'], 'danger')
        self.assertIn('copy', result['params']['message'])
        self.assertIn('neutralize', result['params']['message'])
        self.assertFalse(self.qbo.requests_log('/tokens/bearer'), "no refresh was attempted")
        self.assertEqual(self._token().refresh_token, refresh_token)
        # Disconnecting the copy wipes its tokens but does not revoke them at Intuit.
        self.connection.action_qbo_disconnect()
        self.assertFalse(self.qbo.requests_log('/tokens/revoke'))
        # Reconnecting from this database makes it the holder: refresh works again.
        self._qbo_connect(self.connection, self.realm)
        self._token().access_token_expiry = fields.Datetime.now() - timedelta(minutes=1)
        self.env.flush_all()
        result = self.connection.action_qbo_test()
        self.assertEqual(result['params']['type'], 'success', result['params']['message'])
        self.assertTrue(self.qbo.requests_log('/tokens/bearer'))

    # ------------------------------------------------------------------ custom endpoint

    def test_custom_endpoint_needs_developer_mode_or_parameter(self):
        ICP = self.env['ir.config_parameter'].sudo()
        ICP.set_param(const.PARAM_ALLOW_CUSTOM_ENDPOINT, False)
        connection = self.connection.sudo()
        connection.write({'environment': 'sandbox'})
        with self.assertRaises(ValidationError) as caught:
            connection.write({'environment': 'custom', 'custom_base_url': 'https://attacker.example'})
        self.assertIn(const.PARAM_ALLOW_CUSTOM_ENDPOINT, str(caught.exception))
        # Through the web client: refused without developer mode, accepted with it.
        self.authenticate('qbo_admin', 'qbo_admin')
        vals = {'environment': 'custom', 'custom_base_url': self.qbo_server.url}
        with self.assertRaises(JsonRpcException), mute_logger('odoo.http'):
            self._call_kw('qbo.connection', 'write', [self.connection.id], vals)
        self.session.debug = '1'
        odoo.http.root.session_store.save(self.session)
        self.assertTrue(self._call_kw('qbo.connection', 'write', [self.connection.id], vals))
        self.connection.invalidate_recordset()
        self.assertEqual(self.connection.environment, 'custom')
        # The system parameter allows it without developer mode.
        ICP.set_param(const.PARAM_ALLOW_CUSTOM_ENDPOINT, 'True')
        connection.write({'environment': 'sandbox'})
        connection.write({'environment': 'custom'})

    # ------------------------------------------------------------------ Odoo conventions

    def test_search_views_search_stored_or_searchable_fields(self):
        """The Transfers and Transfer history search boxes really filter (no ignored non-stored field)."""
        for model in ('qbo.binding', 'qbo.sync.log'):
            arch = self.env[model].get_view(view_type='search')['arch']
            names = [part.split('"')[1] for part in arch.split('<field name=')[1:]]
            self.assertTrue(names, model)
            for name in names:
                field = self.env[model]._fields[name]
                with self.subTest(model=model, field=name):
                    self.assertTrue(field.store or field.search, f"{model}.{name} cannot be searched")
        found = self.env['qbo.binding'].with_user(self.user_a).search([('record_name', 'ilike', 'Customer Of A')])
        self.assertEqual(found, self.binding_a)
        self.assertFalse(self.env['qbo.binding'].search([('record_name', 'ilike', 'No Such Customer')]))
