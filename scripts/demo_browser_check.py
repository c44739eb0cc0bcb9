"""Check a running demo the way a person uses it: send an invoice from its form in a real browser.

With ``./scripts/demo`` running (either series), this script
1. logs in as the demo admin over JSON-RPC and posts a copy of a demo invoice (business data, not
   connector setup);
2. opens that invoice's form in headless Chromium (Debian's ``chromium``), driven over the
   DevTools protocol, and clicks *Send to QuickBooks* on the form;
3. waits for the form's banner to say "In QuickBooks as ..." and then reads the invoice back from
   the emulator's own control API (what QuickBooks holds), comparing its total with Odoo's.

It prints one line per step and exits 0 only when QuickBooks holds the invoice, to the cent.
Usage: ``.venv19/bin/python scripts/demo_browser_check.py [--odoo URL] [--emulator URL] [--db NAME]``
(defaults: the demo's ports 8069 and 8765; the database is the only one the demo serves).
"""
import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

import requests
import websocket


class Chromium:
    """A headless Chromium and one page of it, driven over the DevTools protocol."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix='qbo_demo_check_')
        executable = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
        if not executable:
            raise SystemExit("demo check: no Chromium found (apt-get install chromium)")
        self.proc = subprocess.Popen([
            executable, '--headless=new', '--no-sandbox', '--disable-gpu', '--remote-debugging-port=0',
            f'--user-data-dir={self.profile}', '--window-size=1366,900', 'about:blank',
        ], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port = self._devtools_port()
        targets = requests.get(f'http://127.0.0.1:{port}/json', timeout=10).json()
        page = next(t for t in targets if t['type'] == 'page')
        self.ws = websocket.create_connection(page['webSocketDebuggerUrl'], timeout=30)
        self.next_id = 0

    def _devtools_port(self):
        """Chromium prints the port it chose ("DevTools listening on ws://127.0.0.1:PORT/...")."""
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if 'DevTools listening on' in line:
                return int(urlsplit(line.split('listening on', 1)[1].strip()).port)
        raise SystemExit("demo check: Chromium did not start")

    def call(self, method, **params):
        """Send one DevTools command and return its result (events received meanwhile are dropped)."""
        self.next_id += 1
        self.ws.send(json.dumps({'id': self.next_id, 'method': method, 'params': params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get('id') == self.next_id:
                if 'error' in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get('result', {})

    def evaluate(self, expression):
        result = self.call('Runtime.evaluate', expression=expression, returnByValue=True)
        return result.get('result', {}).get('value')

    def wait_for(self, expression, what, timeout=60):
        """Poll a JS expression until it is truthy (page loads in between are fine)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.evaluate(f"(() => {{ try {{ return !!({expression}); }} catch (e) {{ return false; }} }})()"):
                    return
            except (RuntimeError, websocket.WebSocketException):
                pass
            time.sleep(0.25)
        raise SystemExit(f"demo check: timed out waiting for {what}")

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            self.proc.wait(10)
            shutil.rmtree(self.profile, ignore_errors=True)


class Odoo:
    """The demo's Odoo over JSON-RPC, logged in as the demo admin."""

    def __init__(self, url, db, login, password):
        self.url = url.rstrip('/')
        self.session = requests.Session()
        if not db:
            db = self._rpc('/web/database/list', {})[0]
        self.db = db
        self._rpc('/web/session/authenticate', {'db': db, 'login': login, 'password': password})

    def _rpc(self, path, params):
        response = self.session.post(self.url + path, json={'jsonrpc': '2.0', 'method': 'call', 'params': params},
                                     timeout=60)
        response.raise_for_status()
        body = response.json()
        if body.get('error'):
            raise SystemExit(f"demo check: Odoo said {body['error'].get('data', {}).get('message') or body['error']}")
        return body['result']

    def call(self, model, method, *args, **kwargs):
        return self._rpc(f'/web/dataset/call_kw/{model}/{method}',
                         {'model': model, 'method': method, 'args': list(args), 'kwargs': kwargs})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--odoo', default='http://127.0.0.1:8069')
    parser.add_argument('--emulator', default='http://127.0.0.1:8765')
    parser.add_argument('--db', default=None)
    parser.add_argument('--login', default='admin')
    parser.add_argument('--password', default='admin')
    args = parser.parse_args()

    odoo = Odoo(args.odoo, args.db, args.login, args.password)
    connection = odoo.call('qbo.connection', 'search_read', [('state', '=', 'connected')],
                           fields=['realm_id', 'company_id'], limit=1)
    if not connection:
        raise SystemExit("demo check: no connected QuickBooks connection in the demo database")
    realm, company_id = connection[0]['realm_id'], connection[0]['company_id'][0]
    # A copy of a demo invoice (its customer, lines and taxes), posted: business data, not setup.
    source = odoo.call('account.move', 'search_read', [('move_type', '=', 'out_invoice'), ('state', '=', 'posted'),
                                                       ('company_id', '=', company_id)],
                       fields=['name', 'partner_id'], limit=1, order='id')
    if not source:
        raise SystemExit("demo check: the demo database has no posted invoice to copy")
    copied = odoo.call('account.move', 'copy', [source[0]['id']])
    move_id = copied[0] if isinstance(copied, list) else copied
    odoo.call('account.move', 'action_post', [move_id])
    move = odoo.call('account.move', 'read', [move_id], fields=['name', 'amount_total'])[0]
    print(f"demo check: posted {move['name']} ({move['amount_total']:.2f}), a copy of {source[0]['name']} "
          f"for {source[0]['partner_id'][1]}")

    browser = Chromium()
    try:
        browser.call('Network.enable')
        host = urlsplit(odoo.url).hostname
        browser.call('Network.setCookie', name='session_id', value=odoo.session.cookies['session_id'],
                     domain=host, path='/')
        browser.call('Page.navigate', url=f"{odoo.url}/odoo/action-account.action_move_out_invoice_type/{move_id}")
        button = ".o_form_view .o_statusbar_buttons button[name=action_qbo_send]"
        browser.wait_for(f"document.querySelector({button!r})", "the Send to QuickBooks button on the invoice form")
        print("demo check: invoice form open in Chromium; clicking Send to QuickBooks")
        browser.evaluate(f"document.querySelector({button!r}).click()")
        banner = ("[...document.querySelectorAll('.alert-success')]"
                  ".find(e => e.textContent.includes('In QuickBooks as'))")
        browser.wait_for(banner, "the banner 'In QuickBooks as ...'")
        print("demo check: the form says: " + " ".join(browser.evaluate(f"({banner}).textContent").split()))
    finally:
        browser.close()

    # What QuickBooks holds, from the emulator's control API (not from Odoo's view of it).
    binding = odoo.call('qbo.binding', 'search_read', [('res_model', '=', 'account.move'), ('res_id', '=', move_id)],
                        fields=['qbo_id', 'state'])
    if not binding or not binding[0]['qbo_id']:
        raise SystemExit(f"demo check: Odoo has no QuickBooks id for {move['name']}: {binding}")
    emulator = args.emulator.rstrip('/')
    held = requests.get(f"{emulator}/_emulator/companies/{realm}/entities/Invoice/{binding[0]['qbo_id']}", timeout=30)
    if held.status_code != 200:
        raise SystemExit(f"demo check: QuickBooks holds no invoice {binding[0]['qbo_id']} ({held.status_code})")
    held = held.json()
    total = float(held['TotalAmt'])
    if round(total - move['amount_total'], 2):
        raise SystemExit(f"demo check: QuickBooks total {total:.2f} differs from Odoo's {move['amount_total']:.2f}")
    print(f"demo check: OK, QuickBooks holds invoice {held['Id']} (DocNumber {held.get('DocNumber')}), "
          f"total {total:.2f} = Odoo's")
    return 0


if __name__ == '__main__':
    sys.exit(main())
