import time
from urllib.parse import parse_qs, urlsplit

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..tools import QboOAuthClient, QboOAuthError
from ..tools.qbo_client import endpoints_for
from .common import CLIENT_ID, CLIENT_SECRET, QboTestCommon


@tagged('post_install', '-at_install')
class TestQboOAuth(QboTestCommon):
    """Connect / callback / test / disconnect against the emulator, through Odoo's HTTP stack."""

    def _start_consent(self, connection, approve=True):
        action = connection.action_qbo_connect()
        self.assertEqual(action['type'], 'ir.actions.act_url')
        return self.qbo.consent(action['url'], realm_id=self.realm, approve=approve)

    def _callback_path(self, location):
        parts = urlsplit(location)
        return f"{parts.path}?{parts.query}"

    def _token(self):
        return self.env['qbo.token'].sudo().search([('connection_id', '=', self.connection.id),
                                                    ('is_pending', '=', False)])

    def test_full_code_flow_through_the_callback(self):
        self.connection.action_qbo_disconnect()
        self.assertEqual(self.connection.state, 'disconnected')
        self.authenticate('qbo_admin', 'qbo_admin')
        location = self._start_consent(self.connection)
        self.qbo.clear_requests_log()
        response = self.url_open(self._callback_path(location), allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:500])
        # The callback exchanges the code and confirms the realm with one CompanyInfo read, nothing more.
        self.assertEqual([r['path'] for r in self.qbo.requests_log('/v3/company/')],
                         [f"/v3/company/{self.realm}/companyinfo/{self.realm}"])
        self.assertIn('action-quickbooks_online.qbo_action_connect_done', response.headers['Location'])
        self.connection.invalidate_recordset()
        self.assertEqual(self.connection.state, 'connected')
        self.assertEqual(self.connection.realm_id, self.realm)
        self.assertEqual(self.connection.connected_uid, self.qbo_admin)
        self.assertTrue(self._token().refresh_token)
        # The callback only stored the tokens; the triggered cron job imports the reference data.
        self.assertTrue(self.connection.reference_import_pending)
        self.env.ref('quickbooks_online.ir_cron_qbo_after_connect').method_direct_trigger()
        self.connection.invalidate_recordset()
        self.assertFalse(self.connection.reference_import_pending)
        self.assertTrue(self.qbo.requests_log('/query'), "the cron job read the reference data")
        self.assertGreater(self.connection.ref_count, 10, "reference data is imported after connecting")
        result = self.connection.action_qbo_test()
        self.assertEqual(result['params']['type'], 'success', result['params']['message'])
        self.assertIn('Odoo Test US', result['params']['message'])
        self.assertTrue(self.env['qbo.sync.log'].search([('connection_id', '=', self.connection.id),
                                                         ('operation', '=', 'read')]))

    def test_forged_expired_and_foreign_state_are_refused(self):
        self.authenticate('qbo_admin', 'qbo_admin')
        location = self._start_consent(self.connection)
        self.qbo.clear_requests_log()
        query = parse_qs(urlsplit(location).query)
        connection_id, uid, expires, nonce, signature = query['state'][0].split('.')
        cases = {
            'forged': f"{connection_id}.{uid}.{expires}.{nonce}.{'0' * len(signature)}",
            'non-ascii signature': f"{connection_id}.{uid}.{expires}.{nonce}.{'é' * len(signature)}",
            'expired': self._signed_state(int(connection_id), int(uid), int(time.time()) - 5, nonce),
            'foreign': self._signed_state(int(connection_id), self.env.ref('base.user_root').id,
                                          int(time.time()) + 300, nonce),
            'malformed': 'a.b.c.d',
        }
        messages = {'forged': 'did not issue', 'non-ascii signature': 'did not issue', 'expired': 'expired',
                    'foreign': 'another user', 'malformed': 'valid state'}
        for case, state in cases.items():
            with self.subTest(case=case):
                response = self.url_open(f"/quickbooks_online/oauth/callback?code={query['code'][0]}"
                                         f"&realmId={self.realm}&state={state}", allow_redirects=False)
                self.assertEqual(response.status_code, 400)
                self.assertIn(messages[case], response.text)
        # The code was never exchanged: it is still good for the genuine state.
        response = self.url_open(self._callback_path(location), allow_redirects=False)
        self.assertEqual(response.status_code, 303)

    def _signed_state(self, connection_id, uid, expires, nonce):
        signature = self.env['qbo.connection']._qbo_state_signature(connection_id, uid, expires, nonce)
        return f"{connection_id}.{uid}.{expires}.{nonce}.{signature}"

    def test_non_admin_is_refused(self):
        new_test_user(self.env, login='accountant', groups='account.group_account_manager', password='accountant1',
                      company_id=self.company.id, company_ids=[(6, 0, self.company.ids)])
        self.authenticate('accountant', 'accountant1')
        response = self.url_open('/quickbooks_online/oauth/callback?code=x&realmId=1&state=a.b.c.d',
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 403)
        self.assertIn('Only administrators', response.text)

    def test_cancelled_consent(self):
        self.connection.action_qbo_disconnect()
        self.authenticate('qbo_admin', 'qbo_admin')
        location = self._start_consent(self.connection, approve=False)
        self.assertIn('error=access_denied', location)
        response = self.url_open(self._callback_path(location), allow_redirects=False)
        self.assertEqual(response.status_code, 200)
        self.assertIn('cancelled', response.text)
        self.assertEqual(self.connection.state, 'disconnected')

    def test_wrong_client_secret(self):
        self.connection.action_qbo_disconnect()
        self.connection.sudo().client_secret = 'not-the-secret'
        self.authenticate('qbo_admin', 'qbo_admin')
        location = self._start_consent(self.connection)
        response = self.url_open(self._callback_path(location), allow_redirects=False)
        self.assertEqual(response.status_code, 400)
        self.assertIn('invalid_client', response.text)
        self.assertEqual(self.connection.state, 'disconnected')

    def test_disconnect_revokes_at_intuit(self):
        refresh_token = self._token().refresh_token
        self.connection.action_qbo_disconnect()
        self.assertEqual(self.connection.state, 'disconnected')
        self.assertFalse(self._token())
        self.assertEqual(self.connection.realm_id, self.realm, "the history is kept")
        oauth = QboOAuthClient(endpoints_for('custom', self.qbo_server.url), CLIENT_ID, CLIENT_SECRET)
        with self.assertRaises(QboOAuthError) as caught:
            oauth.refresh(refresh_token)
        self.assertEqual(caught.exception.code, 'invalid_grant')

    def test_expired_access_token_is_refreshed_once_on_401(self):
        self.qbo.expire_tokens('access', realm_id=self.realm)
        self.qbo.clear_requests_log()
        result = self.connection.action_qbo_test()
        self.assertEqual(result['params']['type'], 'success', result['params']['message'])
        refreshes = [r for r in self.qbo.requests_log(path_contains='/tokens/bearer')
                     if r.get('grant_type') == 'refresh_token']
        self.assertEqual(len(refreshes), 1)
        statuses = [r['status'] for r in self.qbo.requests_log(path_contains='/companyinfo/')]
        self.assertEqual(statuses, [401, 200])

    def test_dead_refresh_token_asks_admins_to_reconnect(self):
        self.qbo.expire_tokens('all', realm_id=self.realm)
        result = self.connection.action_qbo_test()
        self.assertEqual(result['params']['type'], 'danger')
        self.assertEqual(self.connection.state, 'reconnect')
        self.assertFalse(self._token())
        self.assertTrue(self.connection.sudo().activity_ids, "admins get an activity")
        # Queued work is not marked failed: the binding stays to send until reconnection.
        partner = self.env['res.partner'].create({'name': 'Queued Customer'})
        binding = self.env['qbo.binding']._qbo_get_or_create(self.connection, partner, 'Customer')
        binding._qbo_process()
        self.assertEqual(binding.state, 'to_send')
        self._qbo_connect(self.connection, self.realm)
        self.assertEqual(self.connection.state, 'connected')

    def test_secrets_are_admin_only(self):
        accountant = new_test_user(self.env, login='acc2', groups='account.group_account_manager', password='acc2acc2',
                                   company_id=self.company.id, company_ids=[(6, 0, self.company.ids)])
        connection = self.connection.with_user(accountant)
        self.assertEqual(connection.state, 'connected', "non-admins see the status")
        with self.assertRaises(AccessError):
            connection.read(['client_secret'])
        with self.assertRaises(AccessError):
            self.env['qbo.token'].with_user(accountant).search([])
        # Through RPC as well.
        uid = self.xmlrpc_common.authenticate(self.env.cr.dbname, 'acc2', 'acc2acc2', {})
        with self.assertRaises(Exception) as caught:
            self.xmlrpc_object.execute_kw(self.env.cr.dbname, uid, 'acc2acc2', 'qbo.connection', 'read',
                                          [[self.connection.id], ['client_secret']])
        self.assertIn('do not have enough rights', str(caught.exception))

    def test_takeover_needs_confirmation(self):
        other_admin = new_test_user(self.env, login='admin2', groups='base.group_system,account.group_account_manager',
                                    company_id=self.company.id, company_ids=[(6, 0, self.company.ids)])
        action = self.connection.with_user(other_admin).action_qbo_connect()
        self.assertEqual(action['res_model'], 'qbo.connect.wizard')
        wizard = self.env['qbo.connect.wizard'].with_user(other_admin).create({'connection_id': self.connection.id})
        self.assertIn(self.connection.connected_uid.name, wizard.message)
        self.assertEqual(wizard.action_confirm()['type'], 'ir.actions.act_url')

    def test_other_realm_needs_confirmation(self):
        partner = self.env['res.partner'].create({'name': 'Linked Before'})
        self.env['qbo.binding']._qbo_get_or_create(self.connection, partner, 'Customer').qbo_id = '99'
        other_realm = self.qbo.create_company('Another company', country='US')['realm_id']
        action = self.connection.action_qbo_connect()
        location = self.qbo.consent(action['url'], realm_id=other_realm)
        code = parse_qs(urlsplit(location).query)['code'][0]
        self.assertEqual(self.connection._qbo_complete_authorization(code, other_realm), 'realm_change')
        self.assertEqual(self.connection.realm_id, self.realm, "still on the old company until confirmed")
        self.assertEqual(self.connection.pending_realm_id, other_realm)
        self.connection.action_qbo_confirm_realm_change()
        self.assertEqual(self.connection.realm_id, other_realm)
        self.assertFalse(self.env['qbo.binding'].search([('connection_id', '=', self.connection.id)]))


@tagged('post_install', '-at_install')
class TestQboSettingsPage(QboTestCommon):
    """The settings block as an admin sees it in Odoo's web client (headless Chromium)."""

    def test_settings_page_shows_connection_and_tax_match(self):
        code = """
            const text = document.querySelector('.o_setting_container, .settings')?.innerText
                || document.body.innerText;
            const start = text.indexOf('QuickBooks Online');
            const block = start >= 0 ? text.slice(start, start + 3000) : '';
            const missing = ['Connected', 'Odoo Test US', 'Match', 'Test connection', 'Disconnect']
                .filter((word) => !block.includes(word));
            if (!block || missing.length) {
                console.error('QuickBooks block incomplete, missing: ' + missing.join(', ') + ' in: ' + block);
            } else {
                console.log('test successful');
            }
        """
        ready = "document.body.innerText.includes('Sales-tax default matching')"
        self.browser_js('/odoo/action-account.action_account_config', code, ready=ready, login='qbo_admin',
                        timeout=120)
