#!/usr/bin/env python3
"""Measure the payment round trip on a running demo (scripts/demo): QuickBooks -> webhook -> Odoo.

For each run: send a fresh invoice from Odoo, record its payment in the emulator as a QuickBooks user
would, and time until Odoo shows the invoice paid. Counts the QuickBooks API requests Odoo made in
between (from the emulator's request log): the figure README.rst quotes.

    QBO_DEMO_PORT=8069 QBO_EMULATOR_PORT=8765 python scripts/measure_payments.py [runs] [batch]

`batch` payments recorded at once show that one drain (one CDC call) covers them all.
"""
import os
import sys
import time
import xmlrpc.client

from qbo_emulator.testing import EmulatorControl

ODOO = f"http://127.0.0.1:{os.environ.get('QBO_DEMO_PORT', '8069')}"
EMULATOR = f"http://127.0.0.1:{os.environ.get('QBO_EMULATOR_PORT', '8765')}"
DB = os.environ.get('QBO_DEMO_DB', 'qbo_demo')


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    common = xmlrpc.client.ServerProxy(f"{ODOO}/xmlrpc/2/common")
    uid = common.authenticate(DB, 'admin', 'admin', {})
    models = xmlrpc.client.ServerProxy(f"{ODOO}/xmlrpc/2/object", allow_none=True)

    def call(model, method, *args, **kw):
        return models.execute_kw(DB, uid, 'admin', model, method, list(args), kw)

    emulator = EmulatorControl(EMULATOR)
    [connection] = call('qbo.connection', 'search_read', [], fields=['realm_id'])
    realm = connection['realm_id']
    partner = call('res.partner', 'search', [('customer_rank', '>', 0)], limit=1)[0]

    def sent_invoice(amount):
        move = call('account.move', 'create', {'move_type': 'out_invoice', 'partner_id': partner,
                                               'invoice_line_ids': [(0, 0, {'name': 'Consulting', 'quantity': 1,
                                                                            'price_unit': amount})]})
        call('account.move', 'action_post', [move])
        call('account.move', 'action_qbo_send', [move])
        [binding] = call('qbo.binding', 'search_read', [('res_model', '=', 'account.move'), ('res_id', '=', move)],
                         fields=['qbo_id'])
        return move, binding['qbo_id']

    def api_requests():
        return [r for r in emulator.requests_log() if '/v3/company/' in (r.get('path') or '')]

    def wait_paid(moves, started, timeout=60):
        while time.time() - started < timeout:
            states = call('account.move', 'read', moves, ['payment_state'])
            if all(s['payment_state'] in ('paid', 'in_payment') for s in states):
                return time.time() - started
            time.sleep(0.05)
        raise SystemExit(f"not paid after {timeout} s")

    latencies = []
    for _run in range(runs):
        move, qbo_id = sent_invoice(100.0)
        time.sleep(2)  # let the invoice's own webhook pass
        before = len(api_requests())
        started = time.time()
        emulator.record_payment(realm, invoices=[qbo_id])
        latencies.append(wait_paid([move], started))
        requests = api_requests()[before:]
        print(f"paid in {latencies[-1]:.2f} s; QuickBooks requests: {len(requests)} "
              f"({', '.join(sorted({r['path'].split('/')[-1].split('?')[0] for r in requests}))})")
    print(f"single payments: median {sorted(latencies)[len(latencies) // 2]:.2f} s, max {max(latencies):.2f} s")

    invoices = [sent_invoice(10.0 + i) for i in range(batch)]
    time.sleep(2)
    before = len(api_requests())
    started = time.time()
    for _move, qbo_id in invoices:
        emulator.record_payment(realm, invoices=[qbo_id])
    elapsed = wait_paid([move for move, _qbo_id in invoices], started)
    requests = api_requests()[before:]
    cdc = [r for r in requests if '/cdc' in r['path']]
    print(f"{batch} payments at once: all paid in {elapsed:.2f} s with {len(requests)} QuickBooks requests "
          f"({len(cdc)} CDC): {len(requests) / batch:.2f} per payment")


if __name__ == '__main__':
    main()
