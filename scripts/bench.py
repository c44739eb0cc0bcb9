"""Throughput benchmark of the cron export (called by scripts/bench; see README.rst "Benchmark").

1. starts the emulator with Intuit's limits on (500/min, 10/s, 10 in flight, 40 batch/min per realm);
2. prepares a throwaway database in a child process (in-process Odoo, like scripts/demo_setup.py):
   the addon installed and connected through OAuth, `--existing` customers sent to QuickBooks,
   N posted invoices (half to those customers, half each to a new customer) and --bills vendor bills
   (from 20 new vendors) queued for export but held, and a second copy of the export job so that
   both cron workers export side by side;
3. starts odoo-bin with 2 HTTP workers and 2 cron workers, sets the emulator's latency (150 ms per
   call), warms both cron workers up, then runs three phases - the invoices to existing customers,
   then (after the minute windows cleared) those to new customers, then the bills (bills/min) - each
   released, triggered and waited for until drained (bounded by --timeout); rates on PostgreSQL's clock;
   then the crash phase: --crash invoices released, Odoo killed (kill -9 of its process group) while
   QuickBooks executes one of their batch requests, restarted and drained; the emulator's request log
   gives the lookups the recovery made per interrupted batch. Odoo runs with its own default time limits
   (120 s real, 60 s CPU): the longest export run is read from its log;
4. samples the CPU time of every Odoo process and of every PostgreSQL backend of the database
   (/proc, through psutil) and the Odoo processes' RSS;
5. reads back what QuickBooks (the emulator) holds - duplicates and lost come from there, not from
   Odoo - and the emulator's usage counters (requests, metered reads, 429s, peaks), and prints them.

Loopback only. Every process started here is stopped by its pid; the database is dropped unless
--keep-db.
"""
import argparse
import collections
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDON = 'quickbooks_online'
CLIENT_ID = 'qbo-bench-client'
CLIENT_SECRET = 'qbo-bench-secret'
# Our marker ends every document's PrivateNote and customer's Notes: odoo:<database uuid>:<model>:<id>.
MARKER = re.compile(r':account\.move:(\d+)\s*$')
CUSTOMER_MARKER = re.compile(r':res\.partner:(\d+)\s*$')
# Queued invoices wait (next retry date far ahead) until their phase starts.
HELD_EXISTING = '2100-01-01 00:00:00'
HELD_NEW = '2100-01-02 00:00:00'
HELD_BILLS = '2100-01-03 00:00:00'
HELD_CRASH = '2100-01-04 00:00:00'
# Odoo's default limit_time_real (the cron's too, limit_time_real_cron -1): the bench runs with it.
ODOO_LIMIT_TIME_REAL = 120
# A cron job's end in Odoo's log: "Job 'name' (id) done in 12.345s" (18.0), "... (id) <status> (#loop n; done
# d; remaining r; duration 12.34s)" (19.0).
JOB_DONE = re.compile(r"Job '(?P<name>[^']*)' \(\d+\) (?:done in (?P<s18>[\d.]+)s|.*duration (?P<s19>[\d.]+)s\))")


def emulator_dir():
    """The folder holding the `qbo_emulator` package (its own distribution, or the older in-addon layout)."""
    for folder in (ROOT / 'emulator', ROOT):
        if (folder / 'qbo_emulator' / '__init__.py').is_file():
            return folder
    raise SystemExit("bench: no qbo_emulator package found")


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_url(url, timeout, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            if proc is not None and proc.poll() is not None:
                return False
            time.sleep(0.3)
    return False


def stop(proc, grace=20):
    """Stop a process we started: SIGTERM, then SIGKILL after `grace` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# ---------------------------------------------------------------------- setup (child process)

def setup_database(args):
    """Create, install, connect and fill the throwaway database; print one JSON line with what the parent needs."""
    sys.path.insert(0, args.odoo_src)
    sys.path.insert(0, str(ROOT / 'scripts'))
    import demo_setup  # noqa: PLC0415 - the demo's company/connection helpers

    import odoo  # noqa: PLC0415
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(['-d', args.db, '--addons-path', args.addons_path, '--without-demo', 'all',
                         '--http-port', str(args.http_port), '--max-cron-threads', '0', '--log-level', 'warn',
                         '--logfile', str(Path(args.build) / 'bench-setup.log'), '-i', ADDON])
    odoo.service.db._create_empty_database(args.db)
    registry = odoo.modules.registry.Registry.new(args.db, update_module=True)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        env['ir.config_parameter'].set_param('web.base.url', f'http://localhost:{args.http_port}')
        env['ir.config_parameter'].set_param('quickbooks_online.allow_custom_endpoint', 'True')  # the emulator
        company = env.ref('base.main_company')
        demo_setup.setup_company(env, company)
        connection = env['qbo.connection']._qbo_get_for_company(company, create=True).sudo()
        connection.write({'environment': 'custom', 'custom_base_url': args.emulator_url,
                          'client_id': CLIENT_ID, 'client_secret': CLIENT_SECRET})
        cr.commit()
        admin_env = env(user=env.ref('base.user_admin'))
        connection = connection.with_env(admin_env)
        demo_setup.ensure_connected(connection, args.emulator_url)
        cr.commit()
        connection.action_qbo_import_references()
        tax = demo_setup.map_sales_tax(admin_env, connection, company)
        cr.commit()

        us = env.ref('base.us')
        Partner = admin_env['res.partner']
        n_existing_invoices = int(round(args.n * args.existing_share))
        existing = Partner.create([{'name': f'Bench Existing {i:04d}', 'is_company': True, 'country_id': us.id,
                                    'email': f'existing{i}@bench.example.com', 'city': 'Austin'}
                                   for i in range(min(args.existing, max(n_existing_invoices, 1)))])
        # Already in QuickBooks before the clock starts (sent here: the button would queue that many).
        Binding = env['qbo.binding']
        Binding.concat(*[Binding._qbo_get_or_create(connection, partner, 'Customer')
                         for partner in existing])._qbo_process()
        cr.commit()
        if not all(partner._qbo_binding(connection).qbo_id for partner in existing):
            raise SystemExit("bench: the existing customers could not be sent to QuickBooks")

        new = Partner.create([{'name': f'Bench New {i:05d}', 'is_company': True, 'country_id': us.id,
                               'email': f'new{i}@bench.example.com', 'city': 'Dallas'}
                              for i in range(args.n - n_existing_invoices)])
        cr.commit()
        customers = [existing[i % len(existing)] for i in range(n_existing_invoices)] + list(new)
        Move = admin_env['account.move'].with_company(company)
        for start in range(0, len(customers), 100):
            chunk = customers[start:start + 100]
            moves = Move.create([{
                'move_type': 'out_invoice', 'partner_id': partner.id,
                'invoice_line_ids': [
                    (0, 0, {'name': 'Consulting (hours)', 'quantity': 2 + i % 5, 'price_unit': 95.0 + i % 40,
                            'tax_ids': [(6, 0, tax.ids)]}),
                    (0, 0, {'name': 'Setup fee', 'quantity': 1, 'price_unit': 50.0, 'tax_ids': [(6, 0, tax.ids)]}),
                ]} for i, partner in enumerate(chunk, start)])
            moves.action_post()
            # Queued, but held until the cron workers are warm and their phase starts (see main()):
            # invoices to existing customers first, then those to new customers.
            Binding.create([{'connection_id': connection.id, 'res_model': 'account.move', 'res_id': move.id,
                             'entity': 'Invoice',
                             'next_retry_date': HELD_EXISTING if index < n_existing_invoices else HELD_NEW}
                            for index, move in enumerate(moves, start)])
            cr.commit()
            print(f"bench: {start + len(chunk)}/{len(customers)} invoices created", file=sys.stderr, flush=True)
        bill_ids = create_bills(admin_env, connection, company, args.bills, Binding)
        cr.commit()
        # The crash phase's invoices, to the existing customers: held until it starts.
        crash_moves = Move.create([{
            'move_type': 'out_invoice', 'partner_id': existing[i % len(existing)].id,
            'invoice_line_ids': [(0, 0, {'name': 'Support (hours)', 'quantity': 1 + i % 3, 'price_unit': 80.0 + i % 25,
                                         'tax_ids': [(6, 0, tax.ids)]})]} for i in range(args.crash)])
        crash_moves.action_post()
        Binding.create([{'connection_id': connection.id, 'res_model': 'account.move', 'res_id': move.id,
                         'entity': 'Invoice', 'next_retry_date': HELD_CRASH} for move in crash_moves])
        cr.commit()
        cron = env.ref(f'{ADDON}.ir_cron_qbo_export')
        cron.write({'active': True, 'nextcall': '2100-01-01 00:00:00'})  # only our trigger starts it
        # Odoo runs one job on one worker at a time: a second copy of the export job lets the second
        # cron worker export side by side with the first (as a second server would), under the shared limiter.
        twin = cron.copy({'name': f'{cron.name} (second worker)', 'active': True, 'nextcall': '2100-01-01 00:00:00'})
        cr.commit()
        print(json.dumps({'realm': connection.realm_id, 'cron_ids': [cron.id, twin.id], 'invoices': len(customers),
                          'bills': len(bill_ids), 'crash': len(crash_moves),
                          'existing_invoices': n_existing_invoices, 'new_invoices': len(new),
                          'existing_customers': len(existing), 'new_customers': len(new)}), flush=True)


def create_bills(env, connection, company, count, Binding):
    """`count` posted vendor bills (two expense-account lines each) from 20 vendors not yet in QuickBooks,
    queued and held for the bills phase; the expense account is mapped to QuickBooks' 'Advertising'."""
    if not count:
        return []
    expense = env['account.account'].search([('account_type', '=', 'expense'), ('company_ids', 'in', company.ids)],
                                            limit=1)
    advertising = env['qbo.ref'].search([('connection_id', '=', connection.id), ('entity', '=', 'Account'),
                                         ('name', '=', 'Advertising')], limit=1)
    if not env['qbo.mapping']._qbo_find(connection, 'account', expense):
        env['qbo.mapping'].create({'connection_id': connection.id, 'mapping_type': 'account', 'res_id': expense.id,
                                   'qbo_ref_id': advertising.id})
    vendors = env['res.partner'].create([{'name': f'Bench Vendor {i:03d}', 'is_company': True,
                                          'email': f'vendor{i}@bench.example.com'} for i in range(20)])
    ids = []
    for start in range(0, count, 100):
        moves = env['account.move'].with_company(company).create([{
            'move_type': 'in_invoice', 'partner_id': vendors[i % len(vendors)].id, 'ref': f'BENCH-{i}',
            'invoice_date': env.cr.now().date(),
            'invoice_line_ids': [
                (0, 0, {'name': 'Subcontracting', 'quantity': 1 + i % 4, 'price_unit': 120.0 + i % 30,
                        'account_id': expense.id, 'tax_ids': [(6, 0, [])]}),
                (0, 0, {'name': 'Travel', 'quantity': 1, 'price_unit': 35.5, 'account_id': expense.id,
                        'tax_ids': [(6, 0, [])]}),
            ]} for i in range(start, min(count, start + 100))])
        moves.action_post()
        Binding.create([{'connection_id': connection.id, 'res_model': 'account.move', 'res_id': move.id,
                         'entity': 'Bill', 'next_retry_date': HELD_BILLS} for move in moves])
        ids += moves.ids
        print(f"bench: {len(ids)}/{count} bills created", file=sys.stderr, flush=True)
    return ids


def trigger_cron(cr, db, cron_ids):
    """Make the crons due now and wake the cron workers (what ir.cron._trigger does)."""
    import psycopg2  # noqa: PLC0415
    cr.execute("UPDATE ir_cron SET nextcall = now() AT TIME ZONE 'UTC' WHERE id = ANY(%s)", [cron_ids])
    notify = psycopg2.connect(dbname='postgres')
    notify.autocommit = True
    try:
        notify.cursor().execute("SELECT pg_notify('cron_trigger', %s)", [db])
    finally:
        notify.close()


def drop_database(db):
    import psycopg2  # noqa: PLC0415
    conn = psycopg2.connect(dbname='postgres')
    conn.autocommit = True
    try:
        conn.cursor().execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    finally:
        conn.close()


# ---------------------------------------------------------------------- measuring

class CpuSampler:
    """CPU seconds and RSS of processes, sampled; processes that appear later count from their start."""

    def __init__(self, psutil):
        self.psutil = psutil
        self.first = {}
        self.last = {}
        self.peak_rss = 0

    def sample(self, pids, baseline=False, rss=False):
        for pid in pids:
            try:
                proc = self.psutil.Process(pid)
                times = proc.cpu_times()
                cpu = times.user + times.system
                if rss:
                    self.peak_rss = max(self.peak_rss, proc.memory_info().rss)
            except self.psutil.Error:
                continue
            if pid not in self.first:
                self.first[pid] = cpu if baseline else 0.0
            self.last[pid] = cpu

    def total(self):
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def odoo_pids(psutil, main_pid):
    try:
        main = psutil.Process(main_pid)
        return [main_pid] + [child.pid for child in main.children(recursive=True)]
    except psutil.Error:
        return []


def backend_pids(cr, db):
    cr.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [db])
    return [row[0] for row in cr.fetchall()]


def queue_counts(cr):
    cr.execute("SELECT state, count(*) FROM qbo_binding WHERE res_model = 'account.move' GROUP BY state")
    return dict(cr.fetchall())


def run_phase(cr, db, info, label, held, count, timeout, odoo, odoo_cpu, pg_cpu, psutil):
    """Release the invoices held for one phase, wake both cron jobs and wait until they are sent.

    The rate is measured on PostgreSQL's clock, from the trigger to the last binding written.
    """
    sys.path.append(str(emulator_dir()))
    from qbo_emulator.testing import EmulatorControl  # noqa: PLC0415
    control = EmulatorControl(info['emulator_url'])
    before = control.usage(info['realm'])
    cr.execute("SELECT now() AT TIME ZONE 'UTC'")
    started_db = cr.fetchone()[0]
    cr.execute("UPDATE qbo_binding SET next_retry_date = NULL WHERE next_retry_date = %s RETURNING id", [held])
    ids = [row[0] for row in cr.fetchall()]
    trigger_cron(cr, db, info['cron_ids'])
    t0 = time.monotonic()
    print(f"bench: {label}: {len(ids)} invoices released; draining (at most {timeout:.0f} s)...", flush=True)
    counts, last_report = {}, 0
    while time.monotonic() - t0 < timeout:
        time.sleep(0.5)
        odoo_cpu.sample(odoo_pids(psutil, odoo.pid), rss=True)
        pg_cpu.sample(backend_pids(cr, db))
        cr.execute("SELECT state, count(*) FROM qbo_binding WHERE id = ANY(%s) GROUP BY state", [ids])
        counts = dict(cr.fetchall())
        if not counts.get('to_send'):
            break
        if time.monotonic() - last_report > 15:
            last_report = time.monotonic()
            print(f"bench: {time.monotonic() - t0:5.0f} s {counts}", flush=True)
    odoo_cpu.sample(odoo_pids(psutil, odoo.pid), rss=True)
    pg_cpu.sample(backend_pids(cr, db))
    drained = not counts.get('to_send')
    cr.execute("SELECT max(write_date) FROM qbo_binding WHERE id = ANY(%s) AND state <> 'to_send'", [ids])
    last = cr.fetchone()[0]
    seconds = (last - started_db).total_seconds() if last else time.monotonic() - t0
    after = control.usage(info['realm'])
    done = len(ids) - counts.get('to_send', 0)
    print(f"bench: {label}: {done} sent in {seconds:.1f} s, states {counts}", flush=True)
    return {'label': label, 'count': len(ids), 'drained': drained, 'seconds': seconds,
            'rate': done / (seconds / 60) if seconds else 0.0,
            'requests': after['requests'] - before['requests'], 'throttled': after['throttled'] - before['throttled']}


def run_crash_phase(cr, db, info, count, timeout, restart_odoo):
    """Release the crash phase's invoices, kill -9 Odoo while QuickBooks executes one of their batch
    requests (a 4 s delay fault holds it there), let QuickBooks commit it, restart Odoo and drain.

    The recovery must find what the killed batch created with one lookup (a query by creation time and
    marker), not one per item: the emulator's request log since the restart gives the lookups.
    :return: the phase's figures, with the restarted Odoo process under 'odoo'
    """
    sys.path.append(str(emulator_dir()))
    from qbo_emulator.testing import EmulatorControl  # noqa: PLC0415
    control = EmulatorControl(info['emulator_url'])
    realm = info['realm']
    batches_before = len(control.requests_log(path_contains=f'/{realm}/batch'))
    control.inject_fault('delay', count=1, realm_id=realm, method='POST', path_contains='/batch', delay_seconds=4)
    cr.execute("UPDATE qbo_binding SET next_retry_date = NULL WHERE next_retry_date = %s RETURNING id", [HELD_CRASH])
    ids = [row[0] for row in cr.fetchall()]
    trigger_cron(cr, db, info['cron_ids'])
    print(f"bench: crash: {len(ids)} invoices released; killing Odoo during their first batch request...", flush=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        held = [entry for entry in control.requests_log(path_contains=f'/{realm}/batch')[batches_before:]
                if entry['method'] == 'POST']
        if held:
            break
        time.sleep(0.02)
    else:
        raise SystemExit("bench: crash: no batch request to interrupt")
    time.sleep(0.3)  # the other cron worker's batch, if any, is on its way too
    interrupted = [entry for entry in control.requests_log(path_contains=f'/{realm}/batch')[batches_before:]
                   if entry['method'] == 'POST' and entry['status'] is None]
    odoo = restart_odoo(kill=True)
    time.sleep(5)  # the held request ends in QuickBooks: committed there, never in Odoo
    log_before = len(control.requests_log(path_contains=f'/{realm}/'))
    trigger_cron(cr, db, info['cron_ids'])
    t0 = time.monotonic()
    counts = {}
    while time.monotonic() - t0 < timeout:
        time.sleep(0.5)
        cr.execute("SELECT state, count(*) FROM qbo_binding WHERE id = ANY(%s) GROUP BY state", [ids])
        counts = dict(cr.fetchall())
        if not counts.get('to_send'):
            break
        cr.execute("UPDATE qbo_binding SET next_retry_date = NULL WHERE id = ANY(%s) AND state = 'to_send' "
                   "AND next_retry_date > now() AT TIME ZONE 'UTC'", [ids])  # a retry's back-off passes at once
        if cr.rowcount:
            trigger_cron(cr, db, info['cron_ids'])
    recovery = control.requests_log(path_contains=f'/{realm}/')[log_before:]
    lookups = [entry for entry in recovery if entry['path'].endswith('/query')
               and 'CreateTime' in json.dumps(entry.get('query') or {})]
    print(f"bench: crash: recovered in {time.monotonic() - t0:.1f} s, states {counts}", flush=True)
    return {'label': 'crash', 'count': len(ids), 'drained': not counts.get('to_send'), 'odoo': odoo,
            'interrupted': len(interrupted), 'lookups': len(lookups), 'requests': len(recovery)}


def longest_export_runs(odoo_log):
    """The longest run of the export jobs in Odoo's log, in seconds, and how many runs ended there."""
    longest, runs = 0.0, 0
    try:
        with open(odoo_log, encoding='utf-8', errors='replace') as handle:
            for line in handle:
                match = JOB_DONE.search(line)
                if match and match['name'].startswith('QuickBooks: export'):
                    runs += 1
                    longest = max(longest, float(match['s18'] or match['s19']))
    except OSError:
        pass
    return longest, runs


def machine():
    model = ''
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            model = next((line.split(':', 1)[1].strip() for line in cpuinfo if line.startswith('model name')), '')
    except OSError:
        pass
    return f"{model or platform.processor()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--n', type=int, default=2000, help='invoices (default 2000)')
    parser.add_argument('--existing-share', type=float, default=0.5,
                        help='share of invoices to customers already in QuickBooks (default 0.5)')
    parser.add_argument('--existing', type=int, default=50, help='how many such customers (default 50)')
    parser.add_argument('--bills', type=int, default=500, help='vendor bills, sent in a phase of their own '
                                                                '(default 500; 0 for none)')
    parser.add_argument('--crash', type=int, default=60, help='invoices of the crash phase (default 60; 0 for none)')
    parser.add_argument('--latency-ms', type=float, default=150.0)
    parser.add_argument('--timeout', type=float, help='longest drain, seconds (default: 120 + 0.5 s per invoice)')
    parser.add_argument('--phase-gap', type=float, default=62.0,
                        help='seconds between the two phases, so that each starts with empty minute windows')
    parser.add_argument('--keep-db', action='store_true')
    parser.add_argument('--odoo-src', required=True)
    parser.add_argument('--addons-path', required=True)
    parser.add_argument('--build', required=True)
    parser.add_argument('--setup', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--db', help=argparse.SUPPRESS)
    parser.add_argument('--http-port', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--emulator-url', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup:
        return setup_database(args)

    import psutil  # noqa: PLC0415 - in Odoo's requirements
    import psycopg2  # noqa: PLC0415
    sys.path.append(str(emulator_dir()))
    from qbo_emulator.testing import EmulatorControl  # noqa: PLC0415

    build = Path(args.build)
    build.mkdir(parents=True, exist_ok=True)
    db = f"qbo_bench_{os.getpid()}"
    http_port, emu_port = free_port(), free_port()
    emu_url = f'http://127.0.0.1:{emu_port}'
    timeout = args.timeout or 120 + 0.5 * args.n
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(emulator_dir()),
                                                                      os.environ.get('PYTHONPATH')])))
    emulator = odoo = None
    try:
        with open(build / 'bench-emulator.log', 'w') as log:
            emulator = subprocess.Popen([
                sys.executable, '-m', 'qbo_emulator', '--host', '127.0.0.1', '--port', str(emu_port),
                '--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET, '--limits',
                '--redirect-uri', f'http://localhost:{http_port}/quickbooks_online/oauth/callback'],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        if not wait_url(emu_url + '/_emulator/health', 30, emulator):
            raise SystemExit(f"bench: the emulator did not start (see {build / 'bench-emulator.log'})")
        control = EmulatorControl(emu_url)
        print(f"bench: emulator at {emu_url}; preparing database {db} with {args.n} invoices...", flush=True)
        started = time.monotonic()
        setup = subprocess.run([
            sys.executable, __file__, '--setup', '--db', db, '--http-port', str(http_port), '--emulator-url', emu_url,
            '--n', str(args.n), '--existing-share', str(args.existing_share), '--existing', str(args.existing),
            '--bills', str(args.bills), '--crash', str(args.crash),
            '--odoo-src', args.odoo_src, '--addons-path', args.addons_path, '--build', str(build)],
            stdout=subprocess.PIPE, text=True, env=env, check=False)
        if setup.returncode:
            raise SystemExit(f"bench: preparing the database failed (see {build / 'bench-setup.log'})")
        info = dict(json.loads(setup.stdout.strip().splitlines()[-1]), emulator_url=emu_url)
        print(f"bench: database ready in {time.monotonic() - started:.0f} s: {info}", flush=True)

        odoo_log = build / 'bench-odoo.log'

        def start_odoo(kill=False):
            """Start odoo-bin (2 HTTP + 2 cron workers, Odoo's default time limits) in a process group of its
            own; with `kill`, kill -9 the running one's whole group first (master and workers)."""
            nonlocal odoo
            if kill:
                os.killpg(os.getpgid(odoo.pid), signal.SIGKILL)
                odoo.wait()
            odoo = subprocess.Popen([
                sys.executable, os.path.join(args.odoo_src, 'odoo-bin'), '-d', db, '--db-filter', f'^{db}$',
                '--addons-path', args.addons_path, '--http-interface', '127.0.0.1', '--http-port', str(http_port),
                '--workers', '2', '--max-cron-threads', '2', '--limit-time-real', str(ODOO_LIMIT_TIME_REAL),
                '--logfile', str(odoo_log), '--log-level', 'info'], env=env, start_new_session=True)
            if not wait_url(f'http://127.0.0.1:{http_port}/web/health', 120, odoo):
                raise SystemExit(f"bench: Odoo did not start (see {odoo_log})")
            time.sleep(3)  # let the cron workers start and LISTEN
            return odoo

        start_odoo()

        control.settings(latency_ms=args.latency_ms)
        control.usage(info['realm'], reset=True)
        pg = psycopg2.connect(dbname=db)
        pg.autocommit = True
        cr = pg.cursor()

        # Warm-up: one cron run of each job with nothing due, so that both workers have loaded the registry.
        trigger_cron(cr, db, info['cron_ids'])
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            cr.execute("SELECT count(*) FROM ir_cron WHERE id = ANY(%s) AND lastcall IS NOT NULL", [info['cron_ids']])
            if cr.fetchone()[0] == len(info['cron_ids']):
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"bench: the crons did not run (see {odoo_log})")
        time.sleep(1)
        odoo_cpu, pg_cpu = CpuSampler(psutil), CpuSampler(psutil)
        odoo_cpu.sample(odoo_pids(psutil, odoo.pid), baseline=True, rss=True)
        pg_cpu.sample(backend_pids(cr, db), baseline=True)
        phases = []
        for label, held, count in (('existing customers', HELD_EXISTING, info['existing_invoices']),
                                   ('new customers', HELD_NEW, info['new_invoices']),
                                   ('bills', HELD_BILLS, info['bills'])):
            if not count:
                continue
            if phases:
                # Each phase starts with Intuit's minute windows empty (40 batch requests per minute):
                # the new-customer phase does not inherit the batches the first phase spent.
                print(f"bench: waiting {args.phase_gap:.0f} s for the minute windows to clear...", flush=True)
                time.sleep(args.phase_gap)
            phases.append(run_phase(cr, db, info, label, held, count, timeout, odoo, odoo_cpu, pg_cpu, psutil))
            if not phases[-1]['drained']:
                break
        crash = None
        if info['crash'] and all(phase['drained'] for phase in phases):
            # Measured apart from the rates and CPU figures above: a restarted server warms up again.
            crash = run_crash_phase(cr, db, info, info['crash'], timeout, start_odoo)
        pg.close()

        usage = control.usage(info['realm'])  # what the emulator answered since the warm-up
        n = info['invoices'] + info['bills'] + (crash['count'] if crash else 0)
        held, customers = collections.Counter(), collections.Counter()
        for invoice in control.entities(info['realm'], 'Invoice') + control.entities(info['realm'], 'Bill'):
            match = MARKER.search(invoice.get('PrivateNote') or '')
            if match and invoice.get('status') != 'Deleted':
                held[int(match.group(1))] += 1
        for customer in control.entities(info['realm'], 'Customer'):
            match = CUSTOMER_MARKER.search(customer.get('Notes') or '')
            if match:
                customers[int(match.group(1))] += 1
        duplicates = sum(count - 1 for count in held.values() if count > 1)
        duplicate_customers = sum(count - 1 for count in customers.values() if count > 1)
        lost = n - len(held)
        drained = (all(phase['drained'] for phase in phases + [crash or {'drained': not info['crash']}])
                   and sum(phase['count'] for phase in phases + [crash or {'count': 0}]) == n)
        longest, runs = longest_export_runs(odoo_log)
        invoice_phases = [phase for phase in phases if phase['label'] != 'bills']
        elapsed = sum(phase['seconds'] for phase in invoice_phases)
        invoices = info['invoices']
        rows = [
            ('machine', machine()),
            ('invoices', f"{n} ({info['existing_invoices']} to {info['existing_customers']} existing customers, "
                         f"{info['new_invoices']} each to a new customer)"),
            ('cron workers exporting', '2 (two copies of the export job)'),
        ]
        for phase in phases:
            unit = 'bills/min' if phase['label'] == 'bills' else f"invoices/min, {phase['label']}"
            rows.append((unit,
                         f"{phase['rate']:.0f} ({phase['count']} in {phase['seconds']:.1f} s"
                         f"{'' if phase['drained'] else ', NOT DRAINED'}; {phase['requests']} requests, "
                         f"{phase['throttled']} 429)"))
        rows += [
            ('invoices/min, overall', f"{invoices / (elapsed / 60):.0f}" if elapsed else '-'),
            ('longest export run', f"{longest:.1f} s of Odoo's {ODOO_LIMIT_TIME_REAL} s limit_time_real "
                                   f"({runs} runs)"),
            ('HTTP requests/document', f"{usage['requests'] / n:.3f} ({usage['requests']})"),
            ('metered reads/document', f"{usage['reads'] / n:.3f} ({usage['reads']})"),
            ('Odoo CPU ms/document', f"{1000 * odoo_cpu.total() / n:.1f}"),
            ('PostgreSQL CPU ms/document', f"{1000 * pg_cpu.total() / n:.1f}"),
            ('peak RSS of an Odoo process', f"{odoo_cpu.peak_rss / 2**20:.0f} MB"),
            ('429 received', str(usage['throttled'])),
            ('peak requests/s, /min, batch/min',
             f"{usage.get('peak_per_second')}, {usage.get('peak_per_minute')}, {usage.get('peak_batch_per_minute')}"),
            *([('after a crash', f"{crash['interrupted']} batch requests cut by kill -9, {crash['lookups']} lookups "
                                 f"to recover them ({crash['lookups'] / max(crash['interrupted'], 1):.1f} per batch), "
                                 f"{crash['requests']} requests to drain {crash['count']} invoices"
                                 f"{'' if crash['drained'] else ', NOT DRAINED'}")] if crash else []),
            ('duplicates', f"{duplicates} invoices or bills, {duplicate_customers} customers "
                           "(read back from the emulator)"),
            ('lost', f"{lost} (read back from the emulator)"),
        ]
        print()
        width = max(len(label) for label, _value in rows)
        for label, value in rows:
            print(f"{label:<{width}}  {value}")
        return 0 if drained and not duplicates and not duplicate_customers and not lost else 1
    finally:
        stop(odoo)
        stop(emulator, grace=5)
        if not args.keep_db:
            drop_database(db)


if __name__ == '__main__':
    sys.exit(main())
