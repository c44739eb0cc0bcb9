"""Prepare the demo database: install the addon, connect it to the running emulator, add sample data.

Called by scripts/demo (in-process Odoo, like scripts/odoo_suite.py). Idempotent: a new database is
created, installed and filled with sample customers and posted invoices; an existing one is upgraded
and only reconnected when its QuickBooks company (realm) or tokens are gone from the emulator.
The connection is made through the real OAuth code flow, as the admin user (the OAuth state is bound
to the user who clicks Connect).
"""
import argparse
import sys
from urllib.parse import parse_qs, urlsplit

import qbo_addons

ADDON = 'quickbooks_online'
DEMO_COMPANY_NAME = 'Odoo Demo US'
TAX_NAME = 'Sales Tax 8%'
QBO_TAX_CODE = '2'  # the emulator's US tax group at 8% (California)

CUSTOMERS = [
    {'name': 'Acme Corporation', 'is_company': True, 'email': 'billing@acme.example.com',
     'phone': '+1 415 555 0100', 'street': '100 Market Street', 'city': 'San Francisco', 'zip': '94105',
     'state': 'CA',
     'contacts': [{'name': 'Acme Accounts Payable', 'type': 'invoice', 'email': 'ap@acme.example.com',
                   'street': 'PO Box 4410', 'city': 'San Francisco', 'zip': '94120', 'state': 'CA'},
                  {'name': 'Acme Warehouse', 'type': 'delivery', 'street': '2500 Industrial Way',
                   'city': 'Oakland', 'zip': '94601', 'state': 'CA'}]},
    {'name': 'Bluebird Cafe', 'is_company': True, 'email': 'owner@bluebird.example.com',
     'street': '12 Harbor Road', 'city': 'San Diego', 'zip': '92101', 'state': 'CA', 'contacts': []},
    {'name': 'Jane Cooper', 'is_company': False, 'email': 'jane.cooper@example.com',
     'street': '88 Elm Avenue', 'street2': 'Apt 4B', 'city': 'Sacramento', 'zip': '95814', 'state': 'CA',
     'contacts': []},
]
INVOICES = [
    ('Acme Corporation', [('Consulting (hours)', 12, 150.0), ('Setup fee', 1, 500.0)]),
    ('Bluebird Cafe', [('Espresso machine maintenance', 1, 320.0)]),
    ('Jane Cooper', [('Website design', 1, 1200.0), ('Hosting (months)', 6, 25.0)]),
]


def database_exists(name):
    import psycopg2  # noqa: PLC0415 - psycopg2 comes with Odoo's requirements
    conn = psycopg2.connect(dbname='postgres')
    try:
        with conn.cursor() as cr:
            cr.execute('SELECT 1 FROM pg_database WHERE datname = %s', (name,))
            return bool(cr.fetchone())
    finally:
        conn.close()


def addon_installed(name):
    import psycopg2  # noqa: PLC0415
    conn = psycopg2.connect(dbname=name)
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT to_regclass('ir_module_module') IS NOT NULL")
            if not cr.fetchone()[0]:
                return False
            cr.execute('SELECT state FROM ir_module_module WHERE name = %s', (ADDON,))
            row = cr.fetchone()
            return bool(row and row[0] == 'installed')
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--odoo-src', required=True)
    parser.add_argument('--addons-path', required=True)
    parser.add_argument('--db', required=True)
    parser.add_argument('--http-port', default='8069')
    # What a browser opens (web.base.url, hence the OAuth redirect URI) and where the emulator reaches Odoo.
    parser.add_argument('--base-url')
    parser.add_argument('--odoo-url')
    parser.add_argument('--emulator-url', required=True)
    parser.add_argument('--client-id', required=True)
    parser.add_argument('--client-secret', required=True)
    parser.add_argument('--logfile')
    args = parser.parse_args()
    args.base_url = args.base_url or f'http://localhost:{args.http_port}'
    args.odoo_url = args.odoo_url or f'http://127.0.0.1:{args.http_port}'

    sys.path.insert(0, args.odoo_src)
    # Explicit submodule imports: Odoo 19's `odoo` package no longer imports them by itself.
    import odoo.modules.registry  # noqa: PLC0415
    import odoo.netsvc  # noqa: PLC0415
    import odoo.release  # noqa: PLC0415
    import odoo.service.db  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    new_db = not database_exists(args.db)
    installed = not new_db and addon_installed(args.db)
    series19 = odoo.release.version_info[0] >= 19
    # No demo data: 19 has none unless --with-demo; 18 needs --without-demo (a value that 19 rejects).
    options = ['-d', args.db, '--addons-path', args.addons_path, *([] if series19 else ['--without-demo', 'all']),
               '--http-port', str(args.http_port), '--max-cron-threads', '0', '--log-level', 'info']
    # Install on first run; upgrade afterwards so that the demo always shows the current code. The bridge
    # addons (bridges/) come with the Odoo apps they join: installed when missing, upgraded with the core.
    bridges = qbo_addons.bridges()
    options += ['-u', ADDON, *(['-i', ','.join(bridges)] if bridges else [])] if installed \
        else ['-i', ','.join([ADDON, *bridges])]
    if args.logfile:
        options += ['--logfile', args.logfile]
    config.parse_config(options, setup_logging=True)
    # parse_config only reads the options: the log file is opened by init_logger (odoo-bin calls it
    # when it starts a server, which this script does not), hence the empty setup.log before.
    odoo.netsvc.init_logger()
    if new_db:
        print(f"demo: creating database {args.db} and installing {ADDON} (a minute or two)", flush=True)
        odoo.service.db._create_empty_database(args.db)
    else:
        print(f"demo: reusing database {args.db} ({'upgrading' if installed else 'installing'} {ADDON})",
              flush=True)
    # 19 takes the modules to install/upgrade as arguments instead of reading them from the config.
    modules = {'install_modules': config['init'], 'upgrade_modules': config['update']} if series19 else {}
    registry = odoo.modules.registry.Registry.new(args.db, update_module=True, **modules)
    with registry.cursor() as cr:
        cr.execute('SELECT state FROM ir_module_module WHERE name = %s', (ADDON,))
        state = cr.fetchone()
        if not state or state[0] != 'installed':
            print(f"demo: {ADDON} could not be installed (state {state and state[0]}); see the log", flush=True)
            return 1
    with registry.cursor() as cr:
        setup(cr, args, new_db)
    return 0


def setup(cr, args, new_db):
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    env = api.Environment(cr, SUPERUSER_ID, {})
    admin = env.ref('base.user_admin')
    admin.password = 'admin'
    env['ir.config_parameter'].set_param('web.base.url', args.base_url)

    company = env.ref('base.main_company')
    setup_company(env, company)
    cr.commit()

    # The emulator is a Custom endpoint, which receives the client secret: allowed explicitly.
    env['ir.config_parameter'].set_param('quickbooks_online.allow_custom_endpoint', 'True')
    connection = env['qbo.connection']._qbo_get_for_company(company, create=True).sudo()
    connection.write({'environment': 'custom', 'custom_base_url': args.emulator_url,
                      'client_id': args.client_id, 'client_secret': args.client_secret})
    cr.commit()  # the token refresh runs in a transaction of its own: it must see this row
    setup_webhook(connection, args)

    # Everything from here on runs as the admin, as a click in the settings would.
    admin_env = env(user=admin)
    connection = connection.with_env(admin_env)
    ensure_connected(connection, args.emulator_url)
    cr.commit()
    connection.action_qbo_import_references()
    tax = map_sales_tax(admin_env, connection, company)
    cr.commit()
    if new_db:
        create_sample_data(admin_env, company, tax)
        cr.commit()
    print(f"demo: connection {connection.state} to QuickBooks company {connection.qbo_company_name} "
          f"(realm {connection.realm_id})", flush=True)


def setup_webhook(connection, args):
    """Webhooks on: the emulator POSTs every change to Odoo, signed with the app's verifier token."""
    from qbo_emulator.testing import EmulatorControl  # noqa: PLC0415 - on PYTHONPATH through scripts/_env.sh

    verifier = 'qbo-demo-verifier-token'
    connection.write({'webhook_verifier_token': verifier})
    EmulatorControl(args.emulator_url).configure_webhook(
        f'{args.odoo_url}/quickbooks_online/webhook', verifier, client_id=args.client_id)
    connection.env.cr.commit()


def setup_company(env, company):
    """A US company in USD with the generic chart of accounts (the demo QuickBooks company is US)."""
    us = env.ref('base.us')
    usd = env.ref('base.USD')
    usd.active = True
    vals = {}
    if company.country_id != us:
        vals['country_id'] = us.id
    if company.currency_id != usd:
        vals['currency_id'] = usd.id
    if vals:
        company.write(vals)
    if company.account_fiscal_country_id != us:
        company.account_fiscal_country_id = us
    if not company.chart_template:
        env['account.chart.template'].try_loading('generic_coa', company, install_demo=False)


def ensure_connected(connection, emulator_url):
    """Connect through the real code flow unless the current tokens still work."""
    from qbo_emulator.testing import EmulatorControl  # noqa: PLC0415

    control = EmulatorControl(emulator_url)
    realms = {company['realm_id'] for company in control.companies()}
    if connection.state == 'connected' and connection.realm_id in realms:
        try:
            connection._qbo_refresh_company_info()
            print(f"demo: still connected to realm {connection.realm_id}", flush=True)
            return
        except Exception as exc:  # noqa: BLE001 - any failure means: connect again
            connection.env.cr.rollback()
            connection.invalidate_recordset()
            print(f"demo: the stored tokens no longer work ({exc}); reconnecting", flush=True)
    fresh_company = connection.realm_id not in realms
    if fresh_company:
        realm = control.create_company(DEMO_COMPANY_NAME, country='US')['realm_id']
        print(f"demo: created QuickBooks company {DEMO_COMPANY_NAME} (realm {realm}) in the emulator", flush=True)
    else:
        realm = connection.realm_id
    # Same steps as the browser: Connect button -> Intuit consent page -> our callback.
    action = connection.action_qbo_connect()
    # The Connect button's request commits its single-use nonce before the browser goes to Intuit.
    connection.env.cr.commit()
    location = control.consent(action['url'], realm_id=realm)
    query = parse_qs(urlsplit(location).query)
    verified = connection._qbo_verify_state(query['state'][0])
    outcome = verified._qbo_complete_authorization(query['code'][0], query['realmId'][0])
    # The exchange committed on a cursor of its own: end this transaction's snapshot to see it.
    connection.env.cr.commit()
    if outcome == 'realm_change':
        # The previous QuickBooks company is gone from the emulator: switch to the new one.
        verified.action_qbo_confirm_realm_change()
    connection.invalidate_recordset()
    if fresh_company and outcome != 'realm_change':
        # The emulator's state was wiped and it handed out the same realm id for an empty company:
        # the links to objects of the old company are stale, drop them (as a realm switch does).
        stale = connection.env['qbo.binding'].sudo().search([('connection_id', '=', connection.id)])
        if stale:
            stale.unlink()
            print(f"demo: dropped {len(stale)} links to the previous (wiped) QuickBooks company", flush=True)
    # What the *QuickBooks: finish connecting* scheduled action does right after a browser consent
    # (company info, reference data): run it now, the tax mapping below needs the imported tax codes.
    connection.env['qbo.connection']._cron_qbo_after_connect()
    connection.invalidate_recordset()
    print(f"demo: connected to realm {connection.realm_id} through the OAuth code flow", flush=True)


def map_sales_tax(env, connection, company):
    """An Odoo 8% sale tax mapped to QuickBooks tax code 2 (8%), also the company's default sale tax."""
    Tax = env['account.tax'].sudo()
    tax = Tax.search([('company_id', '=', company.id), ('type_tax_use', '=', 'sale'),
                      ('amount_type', '=', 'percent'), ('amount', '=', 8.0), ('price_include', '=', False)],
                     limit=1)
    if not tax:
        tax = Tax.create({'name': TAX_NAME, 'amount': 8.0, 'amount_type': 'percent', 'type_tax_use': 'sale',
                          'company_id': company.id})
    if tax.tax_group_id.name != TAX_NAME:
        # The chart's group is named after its own 15% tax: give ours a group that says what it is.
        group = env['account.tax.group'].search([('name', '=', TAX_NAME), ('company_id', '=', company.id)], limit=1)
        tax.tax_group_id = group or env['account.tax.group'].create({'name': TAX_NAME, 'company_id': company.id})
    company.sudo().account_sale_tax_id = tax
    qbo_code = env['qbo.ref'].search([('connection_id', '=', connection.id), ('entity', '=', 'TaxCode'),
                                      ('qbo_id', '=', QBO_TAX_CODE)], limit=1)
    if not qbo_code:
        print(f"demo: QuickBooks tax code {QBO_TAX_CODE} was not imported; tax left unmapped", flush=True)
        return tax
    Mapping = env['qbo.mapping']
    mapping = Mapping.search([('connection_id', '=', connection.id), ('mapping_type', '=', 'tax'),
                              ('res_id', '=', tax.id)])
    if not mapping:
        Mapping.create({'connection_id': connection.id, 'mapping_type': 'tax', 'res_id': tax.id,
                        'qbo_ref_id': qbo_code.id})
    elif mapping.qbo_ref_id != qbo_code:
        mapping.qbo_ref_id = qbo_code
    return tax


def create_sample_data(env, company, tax):
    """A few customers (one with invoice/delivery contacts) and three posted invoices."""
    us = env.ref('base.us')
    partners = {}
    for spec in CUSTOMERS:
        spec = dict(spec)
        contacts = spec.pop('contacts')
        spec['state_id'] = env['res.country.state'].search([('country_id', '=', us.id),
                                                            ('code', '=', spec.pop('state'))], limit=1).id
        partner = env['res.partner'].create(dict(spec, country_id=us.id))
        for contact in contacts:
            contact = dict(contact)
            contact['state_id'] = env['res.country.state'].search([('country_id', '=', us.id),
                                                                   ('code', '=', contact.pop('state'))],
                                                                  limit=1).id
            env['res.partner'].create(dict(contact, parent_id=partner.id, country_id=us.id))
        partners[partner.name] = partner
    moves = env['account.move']
    for partner_name, lines in INVOICES:
        moves |= env['account.move'].with_company(company).create({
            'move_type': 'out_invoice',
            'partner_id': partners[partner_name].id,
            'invoice_line_ids': [(0, 0, {'name': name, 'quantity': qty, 'price_unit': price,
                                         'tax_ids': [(6, 0, tax.ids)]})
                                 for name, qty, price in lines],
        })
    moves.action_post()
    print(f"demo: created {len(partners)} customers and {len(moves)} posted invoices "
          f"({', '.join(moves.mapped('name'))})", flush=True)


if __name__ == '__main__':
    sys.exit(main())
