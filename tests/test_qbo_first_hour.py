from datetime import timedelta

from odoo import Command, fields
from odoo.tests import tagged

from .common import QboTestCommon


class QboFirstHourCommon(QboTestCommon):
    """Issue 24: what a new admin and a new accountant hit in their first hour."""

    def _invoice(self, price=100.0, partner=None, currency=None, **line):
        partner = partner or self.env['res.partner'].create({'name': 'First Hour Co', 'is_company': True})
        vals = {'move_type': 'out_invoice', 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
                'invoice_line_ids': [Command.create(dict({'product_id': self.product_a.id, 'quantity': 1,
                                                          'price_unit': price,
                                                          'tax_ids': [Command.set(self.tax_ca.ids)]}, **line))]}
        if currency:
            vals['currency_id'] = currency.id
        move = self.env['account.move'].create(vals)
        move.action_post()
        return move

    def _token(self):
        return self.env['qbo.token'].sudo().search([('connection_id', '=', self.connection.id),
                                                    ('is_pending', '=', False)])

    def _expire_access_token(self):
        """The access token is due for a refresh (an hour after connecting)."""
        self._token().access_token_expiry = fields.Datetime.now() - timedelta(minutes=1)
        self.env.flush_all()  # the refresh reads the token row on a cursor of its own


@tagged('post_install', '-at_install')
class TestQboReconnect(QboFirstHourCommon):
    """Point 4: a refusal only reconnecting can fix says "reconnect" at once, everywhere."""

    def assertSaysReconnect(self, move, action):
        params = action['params']
        self.assertEqual(params['type'], 'danger', params['message'])
        self.assertEqual(params['title'], "Reconnect QuickBooks Online")
        self.assertNotIn('nothing to do', params['message'])
        self.assertIn('reconnect', params['message'])
        binding = move._qbo_binding(self.connection)
        self.assertEqual(binding.state, 'to_send', "kept queued: it goes after reconnecting")

    def test_wrong_client_secret_says_reconnect(self):
        move = self._invoice()
        self.connection.sudo().client_secret = 'not-the-secret'
        self._expire_access_token()
        action = move.action_qbo_send()
        self.assertSaysReconnect(move, action)
        self.assertIn('invalid_client', self.connection.last_error)
        self.assertEqual(self.connection.state, 'reconnect')
        self.assertTrue(move.qbo_reconnect, "the document's status says reconnect")
        # Reconnected with the right secret: the queued document goes.
        self.connection.sudo().client_secret = 'odoo-test-secret'
        self._qbo_connect(self.connection, self.realm)
        move.invalidate_recordset(['qbo_reconnect'])
        self.assertFalse(move.qbo_reconnect)
        move.action_qbo_send()
        self.assertEqual(move._qbo_binding(self.connection).state, 'sent')

    def test_app_revoked_in_quickbooks_says_reconnect(self):
        move = self._invoice()
        self.qbo.revoke_tokens(realm_id=self.realm)
        action = move.action_qbo_send()
        self.assertSaysReconnect(move, action)
        self.assertIn('invalid_grant', action['params']['message'])
        # (The connection is stopped on a cursor of its own, committed at once outside tests.)
        customer = move.partner_id._qbo_binding(self.connection)
        self.assertIn('reconnect', customer.error_message)

    def test_connection_test_with_refused_credentials_is_not_connected(self):
        self.connection.sudo().client_secret = 'not-the-secret'
        self._expire_access_token()
        action = self.connection.action_qbo_test()
        self.assertEqual(action['params']['type'], 'danger')
        self.assertIn('econnect', action['params']['message'])
        self.assertEqual(self.connection.state, 'reconnect', "no green Connected badge next to the error")
        settings = self.env['res.config.settings'].create({})
        self.assertEqual(settings.qbo_state, 'reconnect')

    def test_saving_new_credentials_tests_them_with_intuit(self):
        self.qbo.clear_requests_log()
        self.env['res.config.settings'].create({'qbo_client_secret': 'typo-in-the-secret'}).execute()
        self.assertTrue(self.qbo.requests_log('/tokens/bearer'), "checked at Intuit's token endpoint")
        self.assertEqual(self.connection.state, 'reconnect')
        self.assertIn("Intuit refused the Client ID / Client Secret saved here", self.connection.last_error)
        settings = self.env['res.config.settings'].create({})
        self.assertIn("Intuit refused", settings.qbo_last_error)
        # The right secret saved: accepted (the connection still needs the reconnect its tokens need).
        self.env['res.config.settings'].create({'qbo_client_secret': 'odoo-test-secret'}).execute()
        self._qbo_connect(self.connection, self.realm)
        self.assertEqual(self.connection.state, 'connected')
        self.assertFalse(self.connection.last_error)
        # Unchanged credentials saved again: no call.
        self.qbo.clear_requests_log()
        self.env['res.config.settings'].create({}).execute()
        self.assertFalse(self.qbo.requests_log('/tokens/bearer'))
