"""Shared fixtures: a real QuickBooks emulator over HTTP and a connection made by the real OAuth flow.

Nothing is mocked: the emulator runs in this process on an ephemeral 127.0.0.1 port (Odoo's test
harness lets loopback requests through), the connection is made through Intuit's code flow as the
emulator serves it, and assertions read back what the emulator holds.
"""
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

from odoo import sql_db
from odoo.tests import HttpCase, new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from qbo_emulator import EmulatorServer
from qbo_emulator.testing import EmulatorControl

from .. import const


CLIENT_ID = 'odoo-test-client'
CLIENT_SECRET = 'odoo-test-secret'


class QboEmulatorMixin:
    """Starts one emulator per test class; `cls.qbo` is its control API client."""

    @classmethod
    def _qbo_start_emulator(cls):
        redirect_uri = cls.base_url() + const.OAUTH_CALLBACK_ROUTE
        cls.qbo_server = EmulatorServer(host='127.0.0.1', port=0, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                        redirect_uris=[redirect_uri])
        cls.qbo_server.start()
        cls.addClassCleanup(cls.qbo_server.stop)
        cls.qbo = EmulatorControl(cls.qbo_server.url)
        # The emulator is a Custom endpoint: allowed by the system parameter (no developer mode in tests).
        cls.env['ir.config_parameter'].sudo().set_param(const.PARAM_ALLOW_CUSTOM_ENDPOINT, 'True')

    @classmethod
    def _qbo_configure(cls, company, client_secret=CLIENT_SECRET):
        connection = cls.env['qbo.connection']._qbo_get_for_company(company, create=True).sudo()
        connection.write({'environment': 'custom', 'custom_base_url': cls.qbo_server.url,
                          'client_id': CLIENT_ID, 'client_secret': client_secret})
        return connection.sudo(False)

    @classmethod
    def _qbo_connect(cls, connection, realm_id):
        """Real code flow without the browser: authorize page -> consent form -> token exchange."""
        action = connection.action_qbo_connect()
        location = cls.qbo.consent(action['url'], realm_id=realm_id)
        query = parse_qs(urlsplit(location).query)
        connection._qbo_verify_state(query['state'][0])
        connection._qbo_complete_authorization(query['code'][0], query['realmId'][0])
        # What the cron job triggered by the callback does: company info and reference data.
        connection.env['qbo.connection']._cron_qbo_after_connect()
        return connection

    def qbo_read(self, realm_id, entity, qbo_id):
        """What QuickBooks holds (raw object from the emulator's store)."""
        return self.qbo.entity(realm_id, entity, qbo_id)

    def qbo_enable_eur(self):
        """Multicurrency on in QuickBooks, EUR active in Odoo at 1 EUR = 1.25 USD; return EUR."""
        self.qbo.set_preferences(self.realm, {'CurrencyPrefs': {'MultiCurrencyEnabled': True}})
        self.connection._qbo_refresh_company_info()
        eur = self.env.ref('base.EUR')
        eur.active = True
        self.env['res.currency.rate'].create({'currency_id': eur.id, 'rate': 0.8, 'name': '2020-01-01',
                                              'company_id': self.company.id})
        return eur

    def qbo_all(self, realm_id, entity):
        return self.qbo.entities(realm_id, entity)


class QboTestCommon(AccountTestInvoicingCommon, HttpCase, QboEmulatorMixin):
    """A US Odoo company connected to a fresh US QuickBooks company, with reference data imported."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._qbo_start_emulator()
        company = cls.env.company
        cls.change_company_country(company, cls.env.ref('base.us'))
        # The admin who connects (the connection holder); also used to log in for the callback.
        cls.qbo_admin = new_test_user(cls.env, login='qbo_admin', password='qbo_admin',
                                      groups='base.group_system,base.group_partner_manager,account.group_account_manager',
                                      company_id=company.id, company_ids=[(6, 0, company.ids)])
        cls.env = cls.env(user=cls.qbo_admin)
        # Odoo 19's setup_other_company() writes this category for the new company, which only the
        # current user (qbo_admin) is given: make it act as that user, as every other fixture here.
        cls.product_category = cls.product_category.with_env(cls.env)
        cls.realm = cls.qbo.create_company('Odoo Test US', country='US')['realm_id']
        cls.connection = cls._qbo_connect(cls._qbo_configure(company), cls.realm)
        cls.company = company
        # US sales tax: an Odoo 8% sale tax mapped to QuickBooks' California tax group (Id 2, 8%).
        cls.tax_ca = cls.env['account.tax'].create({
            'name': 'CA 8%', 'amount': 8.0, 'amount_type': 'percent', 'type_tax_use': 'sale',
            'company_id': company.id})
        cls.qbo_ca = cls.env['qbo.ref'].search([('connection_id', '=', cls.connection.id),
                                                ('entity', '=', 'TaxCode'), ('qbo_id', '=', '2')])
        cls.env['qbo.mapping'].create({'connection_id': cls.connection.id, 'mapping_type': 'tax',
                                       'res_id': cls.tax_ca.id, 'qbo_ref_id': cls.qbo_ca.id})
        # Odoo's default sales tax matches QuickBooks' default (California, 8%).
        company.account_sale_tax_id = cls.tax_ca

    @contextmanager
    def qbo_external_requests(self):
        """Let requests that do not come from this test's HTTP client reach Odoo (the emulator's webhook
        POSTs). Odoo 19's HttpCase refuses them outside ``allow_requests(all_requests=True)``; 18 serves them."""
        if hasattr(self, 'allow_requests'):
            with self.allow_requests(all_requests=True):
                yield
        else:
            yield

    def qbo_end_throttle(self):
        """The 429 pause is over: the connection's, and the shared limiter's (kept on a cursor of its own)."""
        self.connection.sudo().throttled_until = False
        with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
            cr.execute("UPDATE qbo_rate_limit SET paused_until = NULL")

    def qbo_drain(self):
        """Run the export cron as the scheduler would once every retry date (and any 429 pause) has passed."""
        self.env['qbo.binding'].search([('state', '=', 'to_send')]).write({'next_retry_date': False})
        self.qbo_end_throttle()
        self.env['qbo.binding']._cron_qbo_export()

    def qbo_webhooks_on(self, verifier, format='cloudevents'):
        """Webhooks on in the app (as in Intuit's developer portal): the emulator POSTs the changes to Odoo,
        only when the test flushes them (`qbo_deliver_webhooks`), never by its timer."""
        window = self.qbo.settings()['webhook_window_seconds']
        self.qbo.settings(webhook_window_seconds=3600)
        self.addCleanup(self.qbo.settings, webhook_window_seconds=window)
        self.qbo.configure_webhook(self.base_url() + const.WEBHOOK_ROUTE, verifier, format=format,
                                   realm_ids=[self.realm])
        self.addCleanup(self.qbo.configure_webhook, None, verifier)

    def qbo_deliver_webhooks(self):
        """Deliver the webhooks the emulator holds; each must be answered 200."""
        with self.qbo_external_requests():
            attempts = self.qbo.flush_webhooks()
        self.assertTrue(attempts and all(a['status'] == 200 for a in attempts), attempts)
        self.env.invalidate_all()

    def setUp(self):
        super().setUp()
        # The emulator outlives each test's rolled-back transaction: give every test a fresh QuickBooks
        # company (same seeded reference ids) and its own consent, so nothing leaks between tests.
        self.realm = self.qbo.create_company('Odoo Test US', country='US')['realm_id']
        self._qbo_reconnect_same_company(self.connection, self.realm)

    @classmethod
    def _qbo_reconnect_same_company(cls, connection, realm_id):
        """Connect to a fresh emulator company that stands for the same QuickBooks company (same seeded
        reference ids): the connection is told so first, so that its mappings are kept. A real switch to
        another company resets them (see TestQboRealmChange)."""
        connection.sudo().realm_id = realm_id
        cls._qbo_connect(connection, realm_id)
