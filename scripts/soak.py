"""Soak benchmark of the exactly-once export (called by scripts/soak; see README.rst "Soak").

1. Starts the emulator and prepares a throwaway database in-process (install, US company, real
   OAuth code flow, 8% tax mapped, "send posted invoices automatically" on), with N customers
   without e-mail (only our marker tells them apart) and N draft invoices, one per customer.
2. Starts an Odoo server (odoo-bin, loopback, free port, no cron thread) and drives the export
   cron over JSON-RPC (ir.cron.method_direct_trigger), as the scheduler would.
3. Phases, each posting its share of the invoices (posting queues them):
   baseline; faults (500s, timeouts after QuickBooks committed, dropped connections, 429s);
   crash (kill -9 of the Odoo server while QuickBooks commits a customer, then an invoice, with
   the emulator's delay fault making that moment certain; restart and drain); tokens (access token
   expired mid-run, then the app revoked in QuickBooks and reconnected through the OAuth flow).
   Back-off waits (1 min after a 5xx, 60 s after a 429) are compressed: when nothing is due, the
   retry dates are moved to now, as if the clock had advanced.
4. After each phase reads QuickBooks (the emulator, not Odoo) and prints
   ``phase: N, duplicates D, lost L, left in error E, wall s, documents/min`` (invoices and, one in four, vendor bills).
5. When the Timesheets bridge (quickbooks_online_hr_timesheet) is on the addons path, it is installed with
   Timesheets and a last phase sends timesheet lines (one time activity per line, then the setting 'One time
   activity per employee, day and task' on for the second half) in batches under the same faults, and prints
   ``timesheets: N lines in A time activities, duplicates D, lost L, wrong hours W, left in error E, wall s,
   lines/min``
   (each line, or group of lines, once in QuickBooks at its exact hours; read from the emulator).
6. When the Expenses bridge (quickbooks_online_hr_expense) is on the addons path, it is installed with Expenses
   and a last phase posts N expenses ('Send expenses automatically' on: queued at posting), two in three paid
   by the employee (18.0: expense reports of one to three expenses; 19.0: the expenses posted by employee, a
   receipt each) and one in three by the company (card or bank), sent under faults on the first cron runs of
   each half, then without; it prints
   ``expenses: N sent as B bills and P purchases, duplicates D, lost L, wrong totals W, left in error E, wall s``
   (each expense entry once in QuickBooks by its marker, a Bill or a Purchase, at the Odoo total to the cent;
   read from the emulator).
Exits 1 on any duplicate or loss (or a phase that did not drain in time).
"""
import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

CLIENT_ID = 'qbo-soak-client'
CLIENT_SECRET = 'qbo-soak-secret'
PHASES = ('baseline', 'faults', 'crash', 'tokens')
PHASE_TIMEOUT = 900  # seconds: a phase that has not drained by then counts its missing records as lost
TIMESHEET_BRIDGE = 'quickbooks_online_hr_timesheet'
EXPENSE_BRIDGE = 'quickbooks_online_hr_expense'
# Durations of the soak's timesheet lines (hours), exact quarters and decimals whose binary value drifts.
TIMESHEET_HOURS = (0.25, 0.33, 0.5, 1.1, 1.5, 2.0, 2.75)
FAULTY_TIMESHEET_RUNS = 6  # cron runs of each half of the timesheets phase that meet faults
FAULTY_EXPENSE_RUNS = 4  # cron runs of each half of the expenses phase that meet faults
# Fault scenarios of the timesheets and expenses phases, each defeating the client's own retries.
FAULT_SCENARIOS = [[('500', 3)], [('timeout_after_commit', 1), ('500', 2)], [('drop', 1), ('503', 2)],
                   [('429', 1)], [('timeout_after_commit', 1), ('429', 1)]]


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def bridge_available(addons_path, bridge=TIMESHEET_BRIDGE):
    """True when `bridge` (by default the Timesheets bridge) is on the addons path (then installed with its app)."""
    return any(os.path.isdir(os.path.join(path, bridge)) for path in addons_path.split(','))


def exact_minutes(amounts):
    """Minutes of the exact sum of durations in decimal hours (their decimal texts), rounded once."""
    from decimal import ROUND_HALF_UP, Decimal  # noqa: PLC0415
    total = sum((Decimal(repr(float(hours))) for hours in amounts), Decimal(0))
    return int((total * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def log(message):
    print(f"soak: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- database setup (in-process Odoo)

def setup_database(args):
    """Create and fill the throwaway database; print a JSON summary on the last line of stdout."""
    sys.path.insert(0, args.odoo_src)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import demo_setup  # noqa: PLC0415 - same steps as the demo (company, OAuth connect, tax mapping)

    import odoo  # noqa: PLC0415
    from odoo import SUPERUSER_ID, api, fields  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(['-d', args.db, '--addons-path', args.addons_path, '--without-demo', 'all',
                         '--http-port', str(args.http_port), '--max-cron-threads', '0', '--log-level', 'warn',
                         '--logfile', os.path.join(args.build, 'soak-setup.log'),
                         '-i', ','.join(['quickbooks_online'] + (['hr_timesheet'] if args.timesheets else [])
                                        + (['hr_expense'] if args.expenses else []))])
    odoo.service.db._create_empty_database(args.db)
    registry = odoo.modules.registry.Registry.new(args.db, update_module=True)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        admin = env.ref('base.user_admin')
        admin.password = 'admin'
        env['ir.config_parameter'].set_param('web.base.url', f'http://127.0.0.1:{args.http_port}')
        company = env.ref('base.main_company')
        demo_setup.setup_company(env, company)
        cr.commit()
        # The emulator is a Custom endpoint, which receives the client secret: allowed explicitly.
        env['ir.config_parameter'].set_param('quickbooks_online.allow_custom_endpoint', 'True')
        connection = env['qbo.connection']._qbo_get_for_company(company, create=True).sudo()
        connection.write({'environment': 'custom', 'custom_base_url': args.emulator_url,
                          'client_id': CLIENT_ID, 'client_secret': CLIENT_SECRET})
        cr.commit()
        admin_env = env(user=admin)
        connection = connection.with_env(admin_env)
        demo_setup.ensure_connected(connection, args.emulator_url)
        cr.commit()
        connection._qbo_refresh_company_info()
        connection.action_qbo_import_references()
        tax = demo_setup.map_sales_tax(admin_env, connection, company)
        # "Send posted invoices/vendor bills automatically" are settings of the connection: posting queues.
        connection.sudo().write({'auto_send': True, 'auto_send_bills': True})
        # Bills go on the seeded 'Advertising' expense account of the QuickBooks company.
        expense = env['account.account'].search([('account_type', '=', 'expense'),
                                                 ('company_ids', 'in', company.ids)], limit=1)
        advertising = env['qbo.ref'].search([('connection_id', '=', connection.id), ('entity', '=', 'Account'),
                                             ('name', '=', 'Advertising')], limit=1)
        if not env['qbo.mapping']._qbo_find(connection, 'account', expense):
            env['qbo.mapping'].create({'connection_id': connection.id, 'mapping_type': 'account',
                                       'res_id': expense.id, 'qbo_ref_id': advertising.id})
        cr.commit()
        partners = env['res.partner'].create([{'name': f'Soak Customer {i:05d}', 'is_company': True,
                                               'city': 'Austin', 'country_id': env.ref('base.us').id}
                                              for i in range(args.n)])
        # Every fourth document is a vendor bill (its partner a vendor only), the others customer invoices.
        moves = env['account.move'].with_company(company).create([{
            'move_type': 'out_invoice', 'partner_id': partner.id,
            'invoice_line_ids': [(0, 0, {'name': 'Consulting', 'quantity': 1 + i % 3, 'price_unit': 100 + i,
                                         'tax_ids': [(6, 0, tax.ids)]})],
        } if i % 4 != 3 else {
            'move_type': 'in_invoice', 'partner_id': partner.id, 'invoice_date': fields.Date.today(),
            'ref': f'SOAK-{i}', 'invoice_line_ids': [(0, 0, {'name': 'Subcontracting', 'quantity': 1 + i % 2,
                                                             'price_unit': 80 + i, 'account_id': expense.id,
                                                             'tax_ids': [(6, 0, [])]})],
        } for i, partner in enumerate(partners)])
        cr.commit()
        timesheets = setup_timesheets(env, connection, company) if args.timesheets else {}
        expenses = setup_expenses(env, connection, company, expense, args.expense_count) if args.expenses else {}
        cron = env.ref('quickbooks_online.ir_cron_qbo_export')
        print(json.dumps({'realm': connection.realm_id, 'connection': connection.id, 'cron': cron.id,
                          'dbuuid': env['ir.config_parameter'].get_param('database.uuid'),
                          'moves': moves.ids, 'partners': partners.ids, 'timesheets': timesheets,
                          'expenses': expenses}), flush=True)


def setup_timesheets(env, connection, company):
    """What the timesheets phase records time on: three employees (created in QuickBooks with their first
    line) on three customers' projects and an internal one; the Service item and the billable rate set.

    :return: {'employees': ids, 'projects': ids}
    """
    from odoo import fields  # noqa: PLC0415
    item = env['qbo.ref'].search([('connection_id', '=', connection.id), ('entity', '=', 'Item'),
                                  ('qbo_id', '=', '1')], limit=1)
    connection.write({'timesheet_item_ref_id': item.id, 'timesheet_hourly_rate': 120.0,
                      'timesheet_create_employees': True, 'timesheet_auto_send': False,
                      'export_from_date': fields.Date.today() - timedelta(days=30)})
    customers = env['res.partner'].create([{'name': f'Soak Client {i}', 'is_company': True} for i in range(3)])
    Project = env['project.project'].with_company(company)
    projects = Project.create([{'name': f'Soak project {i}', 'partner_id': c.id} for i, c in enumerate(customers)])
    projects |= Project.create({'name': 'Soak internal'})
    employees = env['hr.employee'].with_company(company).create(
        [{'name': f'Soak Worker {i}', 'work_email': f'soak.worker{i}@example.com'} for i in range(3)])
    env.cr.commit()
    return {'employees': employees.ids, 'projects': projects.ids}


def setup_expenses(env, connection, company, expense_account, count):
    """The expenses phase's `count` expenses, approved and ready to post (the phase posts them): two in three
    paid by three employees (18.0: on expense reports of one to three; 19.0: groups of one to three, posted
    together), one in three by the company, alternately from a company card and the bank (their journals mapped
    to QuickBooks' seeded 'Mastercard' and 'Checking'). Categories on the expense account mapped to
    'Advertising'; one expense in four with an 8% purchase tax (included, as Odoo enters expenses).

    :return: {'expenses': ids, 'groups': [[ids of one posting]], 'sheets': [ids] (18.0) or None,
              'company': [[id, payment method line id]]}
    """
    from odoo import Command, fields  # noqa: PLC0415
    connection.write({'expense_auto_send': False})
    rng = random.Random(24)
    tax = env['account.tax'].create({'name': 'Soak purchase 8%', 'amount': 8.0, 'amount_type': 'percent',
                                     'type_tax_use': 'purchase', 'company_id': company.id})
    categories = env['product.product'].create([
        {'name': f'Soak category {i}', 'can_be_expensed': True, 'standard_price': 0.0,
         'property_account_expense_id': expense_account.id, 'supplier_taxes_id': [Command.clear()]}
        for i in range(3)])
    employees = env['hr.employee'].with_company(company).create(
        [{'name': f'Soak Spender {i}', 'work_email': f'soak.spender{i}@example.com'} for i in range(3)])
    card = env['account.journal'].create({'name': 'Soak Visa', 'type': 'credit', 'code': 'SKVSA',
                                          'company_id': company.id})
    card_method = card.outbound_payment_method_line_ids[:1]
    bank = env['account.journal'].search([('type', '=', 'bank'), ('company_id', '=', company.id)], limit=1)
    for journal, name in ((card, 'Mastercard'), (bank, 'Checking')):
        ref = env['qbo.ref'].search([('connection_id', '=', connection.id), ('entity', '=', 'Account'),
                                     ('name', '=', name)], limit=1)
        if not env['qbo.mapping']._qbo_find(connection, 'deposit_account', journal):
            env['qbo.mapping'].create({'connection_id': connection.id, 'mapping_type': 'deposit_account',
                                       'res_id': journal.id, 'qbo_ref_id': ref.id})
    bank_method = bank.outbound_payment_method_line_ids[:1]
    # Company-paid expenses need an outstanding account: the journal's method names one (the demo company sets
    # no default for expenses).
    for method, journal in ((card_method, card), (bank_method, bank)):
        method.payment_account_id = method.payment_account_id or journal.default_account_id
    methods = [card_method, bank_method]
    Expense = env['hr.expense'].with_company(company)
    reports = 'hr.expense.sheet' in env
    all_ids, groups, sheets, company_paid = [], [], [], []
    while len(all_ids) < count:
        own = len(company_paid) >= (len(all_ids) + 1) // 3  # a third of the expenses paid by the company
        size = min(rng.randint(1, 3) if own else 1, count - len(all_ids))
        employee = rng.choice(employees)
        expenses = Expense.create([{
            'name': f'Soak expense {len(all_ids) + i}', 'employee_id': employee.id,
            'product_id': rng.choice(categories).id, 'total_amount_currency': round(rng.uniform(5, 900), 2),
            'payment_mode': 'own_account' if own else 'company_account', 'date': fields.Date.today(),
            'tax_ids': [Command.set(tax.ids if rng.random() < 0.25 else [])]} for i in range(size)])
        method = methods[len(company_paid) % 2]
        if reports:
            sheet = env['hr.expense.sheet'].create({'name': f'Soak report {len(groups)}', 'employee_id': employee.id,
                                                    'expense_line_ids': [Command.set(expenses.ids)]})
            if not own:
                sheet.payment_method_line_id = method
            sheet.action_submit_sheet()
            sheet.action_approve_expense_sheets()
            sheets.append(sheet.id)
        else:
            if not own:
                expenses.payment_method_line_id = method
            expenses.action_submit()
            expenses.action_approve()
        if not own:
            company_paid.append([expenses.id, method.id])
        all_ids += expenses.ids
        groups.append(expenses.ids)
    env.cr.commit()
    return {'expenses': all_ids, 'groups': groups, 'sheets': sheets if reports else None, 'company': company_paid}


# ---------------------------------------------------------------------- processes and RPC

class OdooServer:
    """odoo-bin serving only the soak database, on loopback; no cron thread (the soak drives it)."""

    def __init__(self, args):
        self.args = args
        self.proc = None
        self.url = f'http://127.0.0.1:{args.http_port}'

    def start(self):
        a = self.args
        self.proc = subprocess.Popen(
            [a.python, os.path.join(a.odoo_src, 'odoo-bin'), '-d', a.db, '--db-filter', f'^{a.db}$',
             '--addons-path', a.addons_path, '--http-interface', '127.0.0.1', '--http-port', str(a.http_port),
             '--max-cron-threads', '0', '--workers', '0', '--without-demo', 'all', '--log-level', 'warn',
             '--logfile', os.path.join(a.build, 'soak-odoo.log')],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        import requests  # noqa: PLC0415
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + '/web/login', timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        raise RuntimeError('the Odoo server did not start; see .build/soak-odoo.log')

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Rpc:
    """JSON-RPC over HTTP as the web client does (session cookie of the admin)."""

    def __init__(self, url, db):
        import requests  # noqa: PLC0415
        self.url, self.db = url, db
        self.session = requests.Session()
        self._post('/web/session/authenticate', {'db': db, 'login': 'admin', 'password': 'admin'})

    def _post(self, path, params, timeout=600):
        response = self.session.post(self.url + path, json={'jsonrpc': '2.0', 'method': 'call', 'params': params},
                                     timeout=timeout)
        body = response.json()
        if body.get('error'):
            raise RuntimeError(body['error'].get('data', {}).get('message') or body['error'])
        return body.get('result')

    def call(self, model, method, args, kwargs=None):
        return self._post('/web/dataset/call_kw', {'model': model, 'method': method, 'args': args,
                                                   'kwargs': kwargs or {}})


# ---------------------------------------------------------------------- the soak

class Soak:
    def __init__(self, args, info, control, server):
        import psycopg2  # noqa: PLC0415
        self.args, self.info, self.control, self.server = args, info, control, server
        self.realm = info['realm']
        self.db = psycopg2.connect(dbname=args.db)
        self.db.autocommit = True
        self.rpc = Rpc(server.url, args.db)

    def sql(self, query, params=()):
        with self.db.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else None

    def pending(self, move_ids, partner_ids):
        """Bindings of this phase still queued (Odoo's view, used only to know when to stop)."""
        return self.sql("""SELECT count(*) FROM qbo_binding WHERE state = 'to_send' AND (
                               (res_model = 'account.move' AND res_id = ANY(%s))
                            OR (res_model = 'res.partner' AND res_id = ANY(%s)))""",
                        (move_ids, partner_ids))[0][0]

    def fast_forward(self):
        """Nothing due: advance the clock to the earliest retry date (5xx back-off, 429 pause)."""
        self.sql("UPDATE qbo_binding SET next_retry_date = NULL "
                 "WHERE state = 'to_send' AND next_retry_date IS NOT NULL")
        self.sql("UPDATE qbo_connection SET throttled_until = NULL WHERE throttled_until IS NOT NULL")
        if self.sql("SELECT to_regclass('qbo_rate_limit') IS NOT NULL")[0][0]:  # the shared limiter's 429 pause
            self.sql("UPDATE qbo_rate_limit SET paused_until = NULL WHERE paused_until IS NOT NULL")

    def run_cron(self):
        return self.rpc.call('ir.cron', 'method_direct_trigger', [[self.info['cron']]])

    def reconnect_if_needed(self):
        """A revoked app: reconnect through the OAuth code flow (settings button -> consent -> our callback)."""
        state = self.sql("SELECT state FROM qbo_connection WHERE id = %s", (self.info['connection'],))[0][0]
        if state == 'connected':
            return False
        action = self.rpc.call('qbo.connection', 'action_qbo_connect', [[self.info['connection']]])
        location = self.control.consent(action['url'], realm_id=self.realm)
        query = parse_qs(urlsplit(location).query)
        callback = f"{self.server.url}{urlsplit(location).path}"
        response = self.rpc.session.get(callback, params={k: v[0] for k, v in query.items()}, timeout=120,
                                        allow_redirects=False)
        log(f"reconnected after revocation (callback HTTP {response.status_code})")
        return True

    def drain(self, move_ids, partner_ids, during=None):
        """Run the cron until this phase's records are no longer queued (or the phase times out)."""
        deadline = time.monotonic() + PHASE_TIMEOUT
        while time.monotonic() < deadline:
            before = self.pending(move_ids, partner_ids)
            if not before:
                return True
            if during:
                during()
            self.reconnect_if_needed()
            try:
                self.run_cron()
            except RuntimeError as exc:  # the cron failed: reported, and the phase's numbers will show it
                log(f"cron run failed: {exc}")
            if self.pending(move_ids, partner_ids) == before:
                self.fast_forward()
        return False

    def count_back(self, name, move_ids, partner_ids, wall):
        """Read QuickBooks back: one invoice or bill per Odoo document by marker, and one customer (by marker)
        or vendor (by name: QuickBooks vendors carry no marker, and names are unique there) per partner."""
        dbuuid = self.info['dbuuid']
        invoices, customers = {}, {}
        for doc in self.control.entities(self.realm, 'Invoice') + self.control.entities(self.realm, 'Bill'):
            if doc.get('status') == 'Deleted':
                continue
            note = (doc.get('PrivateNote') or '').rstrip()
            prefix = f"odoo:{dbuuid}:account.move:"
            if prefix in note:
                key = int(note.rsplit(prefix, 1)[1])
                invoices[key] = invoices.get(key, 0) + 1
        for cust in self.control.entities(self.realm, 'Customer'):
            name_id = (cust.get('Notes') or '').rstrip()
            prefix = f"odoo:{dbuuid}:res.partner:"
            if prefix in name_id:
                key = int(name_id.rsplit(prefix, 1)[1])
                customers[key] = customers.get(key, 0) + 1
            elif cust.get('DisplayName', '').startswith('Soak Customer'):
                customers[-1] = customers.get(-1, 0) + 1  # ours but unmarked: a duplicate
        names = {row[1]: row[0] for row in self.sql("SELECT id, name FROM res_partner WHERE id = ANY(%s)",
                                                    (partner_ids,))}
        for vendor in self.control.entities(self.realm, 'Vendor'):
            base = vendor.get('DisplayName', '').split(' (')[0]
            if base in names:
                key = names[base]
                customers[key] = customers.get(key, 0) + 1  # a partner is a customer or a vendor here, not both
        duplicates = sum(max(0, invoices.get(i, 0) - 1) for i in move_ids) + \
            sum(max(0, customers.get(p, 0) - 1) for p in partner_ids) + customers.get(-1, 0)
        lost = sum(1 for i in move_ids if not invoices.get(i)) + sum(1 for p in partner_ids if not customers.get(p))
        errors = self.sql("""SELECT count(*) FROM qbo_binding WHERE state IN ('error', 'blocked') AND (
                                 (res_model = 'account.move' AND res_id = ANY(%s))
                              OR (res_model = 'res.partner' AND res_id = ANY(%s)))""", (move_ids, partner_ids))[0][0]
        rate = len(move_ids) / wall * 60 if wall else 0
        print(f"{name}: {len(move_ids)}, duplicates {duplicates}, lost {lost}, left in error {errors}, "
              f"wall {wall:.0f} s, {rate:.0f} documents/min", flush=True)
        return duplicates, lost

    # ------------------------------------------------------------------ phases

    def phase(self, name, move_ids, partner_ids):
        started = time.monotonic()
        self.control.clear_faults()
        self.rpc.call('account.move', 'action_post', [move_ids])  # queues them ("send automatically")
        drained = getattr(self, f'phase_{name}')(move_ids, partner_ids)
        self.control.clear_faults()
        drained = self.drain(move_ids, partner_ids) and drained
        if not drained:
            log(f"{name}: did not drain within {PHASE_TIMEOUT} s")
        return self.count_back(name, move_ids, partner_ids, time.monotonic() - started)

    # ------------------------------------------------------------------ timesheets (with the bridge)

    def timesheets_pending(self, line_ids):
        """Timesheet links still queued, and lines not linked yet (auto-send sweeps them in)."""
        queued = self.sql("""SELECT count(*) FROM qbo_binding WHERE state = 'to_send'
                             AND res_model IN ('account.analytic.line', 'qbo.time.activity.group',
                                               'hr.employee', 'res.partner')""")[0][0]
        unlinked = self.sql("""SELECT count(*) FROM account_analytic_line l WHERE l.id = ANY(%s)
                               AND l.qbo_group_id IS NULL AND NOT EXISTS (
                                   SELECT 1 FROM qbo_binding b WHERE b.res_model = 'account.analytic.line'
                                   AND b.res_id = l.id)""", (line_ids,))[0][0]
        return queued + unlinked

    def drain_timesheets(self, line_ids, faults):
        """Cron runs until the lines are sent (see `drain_faulty`)."""
        return self.drain_faulty(lambda: self.timesheets_pending(line_ids), FAULTY_TIMESHEET_RUNS if faults else 0,
                                 random.Random(23))

    def drain_faulty(self, pending, faulty_runs, rng):
        """Cron runs until `pending()` is 0; one to three fault scenarios on writes before each of the first
        `faulty_runs` runs (the client's own retries defeated, as in the faults phase)."""
        deadline = time.monotonic() + PHASE_TIMEOUT
        runs = 0
        while time.monotonic() < deadline:
            before = pending()
            if not before:
                return True
            runs += 1
            if runs <= faulty_runs:
                for _ in range(rng.randint(1, 3)):
                    for kind, count in rng.choice(FAULT_SCENARIOS):
                        self.control.inject_fault(kind, count=count, realm_id=self.realm, method='POST')
            self.reconnect_if_needed()
            try:
                self.run_cron()
            except RuntimeError as exc:
                log(f"cron run failed: {exc}")
            self.control.clear_faults()
            if pending() == before:
                self.fast_forward()
        return False

    def phase_timesheets(self, count):
        """`count` timesheet lines of the last fortnight, several per employee, day and project: the first
        half one time activity each, the second half grouped (the setting on), each half created with
        auto-send on (queued at once) and sent under faults; then QuickBooks is read back (the emulator):
        each line, or group of lines, once at its exact hours."""
        started = time.monotonic()
        rng = random.Random(22)
        world = self.info['timesheets']
        vals = [{'project_id': rng.choice(world['projects']), 'employee_id': rng.choice(world['employees']),
                 'date': (date.today() - timedelta(days=rng.randint(1, 14))).isoformat(),
                 'unit_amount': rng.choice(TIMESHEET_HOURS), 'name': f'Soak work {i}'} for i in range(count)]
        line_ids, drained = [], True
        for part, grouped in ((vals[:count // 2], False), (vals[count // 2:], True)):
            self.rpc.call('qbo.connection', 'write', [[self.info['connection']], {
                'timesheet_auto_send': True, 'timesheet_group_activities': grouped}])
            ids = self.rpc.call('account.analytic.line', 'create', [part])
            line_ids += ids
            drained = self.drain_timesheets(ids, faults=True) and drained
            drained = self.drain_timesheets(ids, faults=False) and drained
        if not drained:
            log(f"timesheets: did not drain within {PHASE_TIMEOUT} s")
        return self.count_timesheets(line_ids, time.monotonic() - started)

    def count_timesheets(self, line_ids, wall):
        """Read QuickBooks back: by marker, one live time activity per line sent alone and per group of lines,
        at the exact sum of its hours."""
        dbuuid = self.info['dbuuid']
        live = {}
        for activity in self.control.entities(self.realm, 'TimeActivity'):
            if activity.get('status') == 'Deleted':
                continue
            words = (activity.get('Description') or '').split()
            live.setdefault(words[-1] if words else '', []).append(activity)
        rows = self.sql("SELECT id, qbo_group_id, unit_amount FROM account_analytic_line WHERE id = ANY(%s)",
                        (line_ids,))
        expected = {}
        for line_id, group_id, hours in rows:
            marker = (f"odoo:{dbuuid}:qbo.time.activity.group:{group_id}" if group_id
                      else f"odoo:{dbuuid}:account.analytic.line:{line_id}")
            expected.setdefault(marker, []).append(float(hours))
        duplicates = sum(max(0, len(live.get(marker, [])) - 1) for marker in expected)
        duplicates += sum(len(found) for marker, found in live.items() if marker not in expected)
        lost = sum(1 for marker in expected if not live.get(marker))
        wrong = sum(1 for marker, hours in expected.items() if live.get(marker) and
                    live[marker][0]['Hours'] * 60 + live[marker][0]['Minutes'] != exact_minutes(hours))
        errors = self.sql("""SELECT count(*) FROM qbo_binding WHERE state IN ('error', 'blocked')
                             AND res_model IN ('account.analytic.line', 'qbo.time.activity.group',
                                               'hr.employee')""")[0][0]
        rate = len(line_ids) / wall * 60 if wall else 0
        print(f"timesheets: {len(line_ids)} lines in {len(expected)} time activities, duplicates {duplicates}, "
              f"lost {lost}, wrong hours {wrong}, left in error {errors}, wall {wall:.0f} s, {rate:.0f} lines/min",
              flush=True)
        return duplicates, lost + wrong + errors

    # ------------------------------------------------------------------ expenses (with the bridge)

    def expense_moves(self, expense_ids):
        """The posted entries of these expenses that carry them to QuickBooks (not reversals)."""
        return [row[0] for row in self.sql("""SELECT DISTINCT m.id FROM account_move m
                                                JOIN account_move_line l ON l.move_id = m.id
                                               WHERE l.expense_id = ANY(%s) AND m.state = 'posted'
                                                 AND m.reversed_entry_id IS NULL ORDER BY m.id""", (expense_ids,))]

    def expenses_pending(self, expense_ids):
        """Links still queued (expense entries and their vendors), and posted entries not linked yet."""
        queued = self.sql("SELECT count(*) FROM qbo_binding WHERE state = 'to_send' "
                          "AND res_model IN ('account.move', 'res.partner')")[0][0]
        moves = self.expense_moves(expense_ids)
        linked = self.sql("SELECT count(DISTINCT res_id) FROM qbo_binding WHERE res_model = 'account.move' "
                          "AND res_id = ANY(%s)", (moves,))[0][0]
        return queued + len(moves) - linked

    def post_expenses(self, groups):
        """Post these groups of approved expenses over JSON-RPC as the buttons do: 18.0 the reports' 'Post
        Journal Entries'; 19.0 'Post' on the expenses (the posting wizard for those the employee paid)."""
        world = self.info['expenses']
        if world['sheets'] is not None:
            sheets = [sheet for sheet, group in zip(world['sheets'], world['groups']) if group in groups]
            self.rpc.call('hr.expense.sheet', 'action_sheet_move_post', [sheets])
            return
        for group in groups:
            action = self.rpc.call('hr.expense', 'action_post', [group])
            if action and action.get('res_model') == 'hr.expense.post.wizard':
                kwargs = {'context': action.get('context') or {}}
                self.rpc.call('hr.expense.post.wizard', 'write',
                              [[action['res_id']], {'accounting_date': date.today().isoformat()}], kwargs)
                self.rpc.call('hr.expense.post.wizard', 'action_post_entry', [[action['res_id']]], kwargs)

    def phase_expenses(self):
        """The approved expenses of the setup posted in two halves with 'Send expenses automatically' on (queued at
        posting), each half sent by the cron under faults on its first runs, then without; then QuickBooks is
        read back (the emulator): each expense entry once, a Bill or a Purchase, at the Odoo total."""
        started = time.monotonic()
        world = self.info['expenses']
        groups = world['groups']
        self.rpc.call('qbo.connection', 'write', [[self.info['connection']], {'expense_auto_send': True}])
        rng, drained = random.Random(25), True
        for part in (groups[:len(groups) // 2], groups[len(groups) // 2:]):
            self.post_expenses(part)
            ids = [expense for group in part for expense in group]
            drained = self.drain_faulty(lambda ids=ids: self.expenses_pending(ids), FAULTY_EXPENSE_RUNS, rng) \
                and drained
            drained = self.drain_faulty(lambda ids=ids: self.expenses_pending(ids), 0, rng) and drained
        if not drained:
            log(f"expenses: did not drain within {PHASE_TIMEOUT} s")
        return self.count_expenses(world['expenses'], time.monotonic() - started)

    def count_expenses(self, expense_ids, wall):
        """Read QuickBooks back: by marker, one live Bill (paid by the employee) or Purchase (by the company) per
        expense entry, at its Odoo total: the entry's for a Bill, the expense's (tax included) for a Purchase."""
        dbuuid = self.info['dbuuid']
        prefix = f"odoo:{dbuuid}:account.move:"
        live = {}
        for entity in ('Bill', 'Purchase'):
            for document in self.control.entities(self.realm, entity):
                if document.get('status') == 'Deleted':
                    continue
                words = (document.get('PrivateNote') or '').split()
                live.setdefault(words[-1] if words else '', []).append((entity, document))
        moves = self.expense_moves(expense_ids)
        rows = self.sql("""SELECT m.id, bool_or(x.payment_mode = 'own_account'), m.amount_total,
                                  sum(x.total_amount_currency)
                             FROM account_move m
                             JOIN hr_expense x
                               ON x.id IN (SELECT expense_id FROM account_move_line WHERE move_id = m.id)
                            WHERE m.id = ANY(%s) GROUP BY m.id, m.amount_total""", (moves,))
        duplicates = lost = wrong = bills = purchases = 0
        for move_id, own, move_total, expenses_total in rows:
            found = live.get(f"{prefix}{move_id}", [])
            duplicates += max(0, len(found) - 1)
            if not found:
                lost += 1
                continue
            entity, document = found[0]
            bills += entity == 'Bill'
            purchases += entity == 'Purchase'
            expected = float(move_total if own else expenses_total)
            if entity != ('Bill' if own else 'Purchase') or round(float(document['TotalAmt']) - expected, 2):
                wrong += 1
        # Documents of ours with no entry behind them: the soak's own vendor bills excepted.
        known = {f"{prefix}{move_id}" for move_id in moves + self.info['moves']}
        duplicates += sum(len(found) for marker, found in live.items()
                          if marker.startswith(prefix) and marker not in known)
        errors = self.sql("""SELECT count(*) FROM qbo_binding WHERE state IN ('error', 'blocked')
                             AND ((res_model = 'account.move' AND res_id = ANY(%s)) OR res_model = 'res.partner')""",
                          (moves,))[0][0]
        print(f"expenses: {len(expense_ids)} sent as {bills} bills and {purchases} purchases, duplicates {duplicates}, "
              f"lost {lost}, wrong totals {wrong}, left in error {errors}, wall {wall:.0f} s", flush=True)
        return duplicates, lost + wrong + errors

    def phase_baseline(self, move_ids, partner_ids):
        return self.drain(move_ids, partner_ids)

    def phase_faults(self, move_ids, partner_ids):
        """Faults on writes until half of the phase is sent: before each cron run one to three fault
        scenarios are queued in the emulator. Each defeats the client's own two retries, so the
        binding itself sees the transient failure or the unknown outcome."""
        scenarios = [
            [('500', 3)],                                   # QuickBooks failing
            [('timeout_after_commit', 1), ('500', 2)],      # committed, answer lost, retries fail
            [('drop', 1), ('503', 2)],                      # dropped connection
            [('429', 1)],                                   # throttled
        ]
        rng = random.Random(10)
        deadline = time.monotonic() + PHASE_TIMEOUT
        while self.done(move_ids) < len(move_ids) // 2 and time.monotonic() < deadline:
            for _ in range(rng.randint(1, 3)):
                for kind, count in rng.choice(scenarios):
                    self.control.inject_fault(kind, count=count, realm_id=self.realm, method='POST')
            self.run_cron()
            self.control.clear_faults()
            self.fast_forward()
        return True

    def done(self, move_ids):
        return self.sql("SELECT count(*) FROM qbo_binding WHERE res_model = 'account.move' AND res_id = ANY(%s) "
                        "AND state <> 'to_send'", (move_ids,))[0][0]

    def _cron_quietly(self):
        try:
            self.run_cron()
        except Exception as exc:  # noqa: BLE001 - the server was killed on purpose, or a fault surfaced
            log(f"cron call ended: {exc.__class__.__name__}")

    def phase_crash(self, move_ids, partner_ids):
        """kill -9 while QuickBooks executes a customer create, then an invoice create (a delay fault
        holds each request in the emulator; the server dies before the answer can be committed)."""
        # The customers' write, then the invoices' (batch requests when several are due at once).
        for path in (('/batch', '/batch') if len(move_ids) > 1 else ('/customer', '/invoice')):
            log_size = len(self.control.requests_log(path_contains=f'/{self.realm}{path}'))
            self.control.inject_fault('delay', count=1, realm_id=self.realm, method='POST', path_contains=path,
                                      delay_seconds=4)
            worker = threading.Thread(target=self._cron_quietly)
            worker.start()
            entry = None
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                entries = self.control.requests_log(path_contains=f'/{self.realm}{path}')
                fresh = [e for e in entries[log_size:] if e['method'] == 'POST']
                if fresh:
                    entry = fresh[0]
                    break
                time.sleep(0.02)
            if entry is None:
                raise RuntimeError(f'no POST {path} to interrupt')
            self.server.kill9()
            worker.join()
            time.sleep(5)  # the emulator finishes the held request: QuickBooks committed, Odoo did not
            log(f"killed Odoo during POST {path} (requestid {entry.get('requestid')}); restarting")
            self.server.start()
            self.rpc = Rpc(self.server.url, self.args.db)
        return True

    def phase_tokens(self, move_ids, partner_ids):
        """Access token expired in QuickBooks after a quarter of the phase, the app revoked after half."""
        events = [(len(move_ids) // 4, lambda: self.control.expire_tokens('access', realm_id=self.realm), 'expired'),
                  (len(move_ids) // 2, lambda: self.control.revoke_tokens(realm_id=self.realm), 'revoked')]

        def during():
            done = self.done(move_ids)
            while events and done >= events[0][0]:
                _at, event, label = events.pop(0)
                event()
                log(f"tokens: {label} after {done} invoices")
        # Small cron runs so that the events land mid-run.
        size = max(2, len(move_ids) // 6)
        self.rpc.call('ir.cron', 'write', [[self.info['cron']], {'code': f'model._cron_qbo_export(batch_size={size})'}])
        try:
            return self.drain(move_ids, partner_ids, during=during)
        finally:
            self.rpc.call('ir.cron', 'write', [[self.info['cron']], {'code': 'model._cron_qbo_export(batch_size=100)'}])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--n', type=int, default=500, help='customers and invoices in all (shared by the phases)')
    parser.add_argument('--keep-db', action='store_true', help='keep the database afterwards')
    parser.add_argument('--timesheet-lines', type=int, default=200,
                        help='timesheet lines of the timesheets phase (when the Timesheets bridge is on the path)')
    parser.add_argument('--no-timesheets', dest='timesheets', action='store_false', default=None,
                        help='no timesheets phase, even with the Timesheets bridge on the addons path')
    parser.add_argument('--expenses', dest='expense_count', type=int, default=120,
                        help='expenses of the expenses phase (when the Expenses bridge is on the path)')
    parser.add_argument('--no-expenses', dest='expenses', action='store_false', default=None,
                        help='no expenses phase, even with the Expenses bridge on the addons path')
    parser.add_argument('--odoo-src', required=True)
    parser.add_argument('--addons-path', required=True)
    parser.add_argument('--python', required=True)
    parser.add_argument('--build', required=True)
    parser.add_argument('--setup', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--db', help=argparse.SUPPRESS)
    parser.add_argument('--http-port', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--emulator-url', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.timesheets is None:
        args.timesheets = bridge_available(args.addons_path)
    if args.expenses is None:
        args.expenses = bridge_available(args.addons_path, EXPENSE_BRIDGE) and args.expense_count > 0
    if args.setup:
        setup_database(args)
        return 0
    if args.n < len(PHASES) * 4:
        parser.error(f'--n must be at least {len(PHASES) * 4}')

    from qbo_emulator.testing import EmulatorControl  # noqa: PLC0415

    # SIGTERM (e.g. `timeout`) runs the cleanup below too: servers stopped, database dropped.
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    args.db = f'qbo_soak_{os.getpid()}'
    args.http_port = free_port()
    emu_port = free_port()
    args.emulator_url = f'http://127.0.0.1:{emu_port}'
    emulator = subprocess.Popen(
        [args.python, '-m', 'qbo_emulator', '--host', '127.0.0.1', '--port', str(emu_port), '--client-id', CLIENT_ID,
         '--client-secret', CLIENT_SECRET,
         '--redirect-uri', f'http://127.0.0.1:{args.http_port}/quickbooks_online/oauth/callback'],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(args.build, 'soak-emulator.log'), 'w'),
        start_new_session=True)
    server = OdooServer(args)
    failed = True
    try:
        control = EmulatorControl(args.emulator_url)
        for _ in range(100):
            try:
                control.health()
                break
            except OSError:
                time.sleep(0.1)
        log(f"database {args.db}: installing and creating {args.n} customers and draft invoices")
        started = time.monotonic()
        setup = subprocess.run(
            [args.python, os.path.abspath(__file__), '--setup', '--n', str(args.n), '--odoo-src', args.odoo_src,
             '--addons-path', args.addons_path, '--python', args.python, '--build', args.build, '--db', args.db,
             '--http-port', str(args.http_port), '--emulator-url', args.emulator_url,
            ] + ([] if args.timesheets else ['--no-timesheets'])
            + (['--expenses', str(args.expense_count)] if args.expenses else ['--no-expenses']),
            capture_output=True, text=True, check=False)
        if setup.returncode:
            log(f"setup failed:\n{setup.stdout[-2000:]}\n{setup.stderr[-4000:]}")
            return 2
        info = json.loads(setup.stdout.strip().splitlines()[-1])
        log(f"setup done in {time.monotonic() - started:.0f} s; starting Odoo on port {args.http_port}")
        server.start()
        soak = Soak(args, info, control, server)
        share = args.n // len(PHASES)
        totals = [0, 0]
        for index, name in enumerate(PHASES):
            moves = info['moves'][index * share:(index + 1) * share]
            partners = info['partners'][index * share:(index + 1) * share]
            duplicates, lost = soak.phase(name, moves, partners)
            totals[0] += duplicates
            totals[1] += lost
        print(f"total: {share * len(PHASES)}, duplicates {totals[0]}, lost {totals[1]}", flush=True)
        # After the existing lines (unchanged): the timesheets phase, with the bridge.
        duplicates, lost = soak.phase_timesheets(args.timesheet_lines) if args.timesheets else (0, 0)
        # Then the expenses phase, with its bridge.
        expense_duplicates, expense_lost = soak.phase_expenses() if args.expenses else (0, 0)
        failed = any(totals) or bool(duplicates or lost or expense_duplicates or expense_lost)
    finally:
        server.stop()
        emulator.terminate()
        emulator.wait()
        if not args.keep_db:
            import psycopg2  # noqa: PLC0415
            conn = psycopg2.connect(dbname='postgres')
            conn.autocommit = True
            with conn.cursor() as cr:
                cr.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
            conn.close()
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
