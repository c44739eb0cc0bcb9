"""Control API, fault injection, requestid replay, batch, limits, webhooks, persistence, status page, CLI."""
import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest
from conftest import CLIENT_ID, REDIRECT, ROOT, connect, hreq, refresh

from qbo_emulator.server import EmulatorServer
from qbo_emulator.testing import ControlAPIError, EmulatorControl, running_emulator

INV = {'CustomerRef': {'value': '1'},
       'Line': [{'DetailType': 'SalesItemLineDetail', 'Amount': 10.0,
                 'SalesItemLineDetail': {'ItemRef': {'value': '1'}}}]}


def test_health_companies_seed_entities(ctl):
    assert ctl.health() == {'ok': True}
    gb = ctl.create_company('Brit Ltd', 'GB', preferences={'SalesFormsPrefs': {'CustomTxnNumbers': True}})
    assert gb['country'] == 'GB' and gb['currency'] == 'GBP' and gb['name'] == 'Brit Ltd'
    assert [c['realm_id'] for c in ctl.companies()][1] == gb['realm_id']
    res = ctl.seed(gb['realm_id'], 'Customer', 3, prefix='Seeded')
    assert res['created'] == 3
    objs = ctl.entities(gb['realm_id'], 'Customer')
    assert {'Seeded 00001', 'Seeded 00003'} <= {o['DisplayName'] for o in objs}
    assert ctl.entity(gb['realm_id'], 'Customer', res['ids'][0])['SyncToken'] == '0'
    assert ctl.entity(gb['realm_id'], 'Customer', '424242') is None
    tc = ctl.entities(gb['realm_id'], 'TaxCode')
    assert all('TAX' != t['Id'] for t in tc)
    ctl.reset()
    assert len(ctl.companies()) == 1
    with pytest.raises(ControlAPIError):
        ctl.seed('000', 'Customer', 1)


def test_patch_delete_void_like_another_user(api, ctl):
    it = api.create('Item', {'Name': 'Tx', 'Type': 'Service', 'Taxable': True, 'IncomeAccountRef': {'value': '79'}})
    ln = {'DetailType': 'SalesItemLineDetail', 'Amount': 100.0, 'SalesItemLineDetail': {'ItemRef': {'value': it['Id']}}}
    inv = api.create('Invoice', {'CustomerRef': {'value': '1'}, 'Line': [ln]})
    assert inv['TxnTaxDetail']['TotalTax'] == 8.0
    rate = ctl.patch_entity(api.realm, 'TaxRate', '3', {'RateValue': 10})
    assert rate['SyncToken'] == '1'
    inv2 = api.create('Invoice', {'CustomerRef': {'value': '1'}, 'Line': [ln]})
    assert inv2['TxnTaxDetail']['TotalTax'] == 10.0
    p = ctl.patch_entity(api.realm, 'Invoice', inv['Id'], {'PrivateNote': 'edited in QBO'})
    assert p['SyncToken'] == '1' and p['TxnTaxDetail']['TotalTax'] == 10.0      # recomputed with the new rate
    err = api.fault(api.post('invoice', {'Id': inv['Id'], 'SyncToken': '0', 'sparse': True, 'PrivateNote': 'x'}))
    assert err['code'] == '5010'
    ctl.void_entity(api.realm, 'Invoice', inv2['Id'])
    assert api.get('invoice/' + inv2['Id']).json()['Invoice']['TotalAmt'] == 0
    ctl.delete_entity(api.realm, 'Invoice', inv2['Id'])
    assert api.fault(api.get('invoice/' + inv2['Id']))['code'] == '610'
    assert ctl.entity(api.realm, 'Invoice', inv2['Id'])['status'] == 'Deleted'
    assert any(o.get('status') == 'Deleted' for o in ctl.entities(api.realm, 'Invoice'))
    c = api.create('Customer', {'DisplayName': 'Goner'})
    ctl.delete_entity(api.realm, 'Customer', c['Id'])
    got = api.get('customer/' + c['Id']).json()['Customer']
    assert got['Active'] is False and got['SyncToken'] == '1'


def test_faults_api_and_token_endpoint(api, ctl, base):
    for kind, status in (('429', 429), ('500', 500), ('503', 503)):
        ctl.inject_fault(kind, path_contains='/preferences')
        r = api.get('preferences')
        assert r.status == status and r.headers.get('intuit_tid')
        if kind == '429':
            e = r.json()['Fault']['Error'][0]
            assert e['code'] == '3001' and 'ThrottleExceeded' in e['Message']
        assert api.get('preferences').status == 200
    ctl.inject_fault('429', count=2, path_contains='/oauth2/v1/tokens/bearer')
    assert refresh(base, api.tokens['refresh_token']).status == 429
    assert refresh(base, api.tokens['refresh_token']).status == 429
    r = refresh(base, api.tokens['refresh_token'])
    assert r.status == 200
    api.tokens = r.json()
    ctl.inject_fault('delay', delay_seconds=0.3, method='GET', realm_id=api.realm)
    t = time.time()
    assert api.get('preferences').status == 200 and time.time() - t >= 0.3
    ctl.inject_fault('500', count=5)
    ctl.clear_faults()
    assert api.get('preferences').status == 200
    log = ctl.requests_log(path_contains='/tokens/bearer')
    assert [e['status'] for e in log][-3:] == [429, 429, 200]
    assert all(e['grant_type'] == 'refresh_token' for e in log[-3:])


def test_requestid_replay_and_timeout_after_commit(api, ctl):
    r1 = api.post('invoice', INV, params={'requestid': 'rid-1'})
    r2 = api.post('invoice', INV, params={'requestid': 'rid-1'})
    assert r1.body == r2.body
    assert len(ctl.entities(api.realm, 'Invoice')) == 1
    ctl.inject_fault('timeout_after_commit', path_contains='/invoice')
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        api.post('invoice', INV, params={'requestid': 'rid-2'})
    assert len(ctl.entities(api.realm, 'Invoice')) == 2              # committed
    r3 = api.post('invoice', INV, params={'requestid': 'rid-2'})
    assert r3.status == 200 and len(ctl.entities(api.realm, 'Invoice')) == 2
    err = api.post('customer', {'Notes': 'x'}, params={'requestid': 'rid-3'})
    assert api.post('customer', {'DisplayName': 'OK now'}, params={'requestid': 'rid-3'}).body == err.body
    log = ctl.requests_log(path_contains='/invoice')
    assert [e['requestid'] for e in log] == ['rid-1', 'rid-1', 'rid-2', 'rid-2']
    assert log[2]['status'] is None and log[0]['realm_id'] == api.realm
    ctl.clear_requests_log()
    assert ctl.requests_log() == []


def test_batch_rules(api):
    items = [{'bId': 'b%d' % i, 'operation': 'create', 'Customer': {'DisplayName': 'B %d' % i}} for i in range(31)]
    err = api.fault(api.post('batch', {'BatchItemRequest': items}))
    assert err['code'] == '1040'
    r = api.post('batch', {'BatchItemRequest': [
        {'bId': 'c1', 'operation': 'create', 'Customer': {'DisplayName': 'Batch Cust'}},
        {'bId': 'q1', 'Query': "select * from Customer where DisplayName = 'Batch Cust'"},
        {'bId': 'bad', 'Query': 'select nonsense'},
        {'bId': 'i1', 'operation': 'create', 'Invoice': INV}]}).json()
    res = {x['bId']: x for x in r['BatchItemResponse']}
    cid = res['c1']['Customer']['Id']
    assert res['q1']['QueryResponse'] == {}                        # cannot see the item created above
    assert res['bad']['Fault']['Error'][0]['code'] == '4000' and 'time' not in res['bad']['Fault']
    r = api.post('batch', {'BatchItemRequest': [
        {'bId': 'i2', 'operation': 'create', 'Invoice': dict(INV, CustomerRef={'value': cid})},
        {'bId': 'v1', 'operation': 'update', 'optionsData': 'void',
         'Invoice': {'Id': res['i1']['Invoice']['Id'], 'SyncToken': '0'}}]}).json()
    res2 = {x['bId']: x for x in r['BatchItemResponse']}
    assert res2['i2']['Invoice']['CustomerRef']['value'] == cid
    assert res2['v1']['Invoice']['TotalAmt'] == 0


def test_limits_rate_concurrency_and_batch(ctl, base):
    api = connect(ctl, base)
    ctl.settings(limits_enabled=True, rate_limit_per_second=1000)      # 10/s: see test_limits_per_second...
    statuses = [api.get('preferences').status for _ in range(505)]
    assert statuses[:500] == [200] * 500 and statuses[500:] == [429] * 5
    ctl.advance_clock(61)
    assert api.get('preferences').status == 200
    ctl.settings(latency_ms=300)
    results = []

    def worker():
        results.append(api.get('preferences').status)
    threads = [threading.Thread(target=worker) for _ in range(14)]
    ctl.advance_clock(61)
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert results.count(429) >= 1 and results.count(200) >= 10
    ctl.settings(latency_ms=0)
    ctl.advance_clock(61)
    q = {'BatchItemRequest': [{'bId': 'q', 'Query': 'select * from Term'}]}
    ctl.settings(rate_limit_per_second=1000)
    codes = [api.post('batch', q).status for _ in range(41)]
    assert codes[:40] == [200] * 40 and codes[40] == 429
    ctl.settings(limits_enabled=False)
    assert api.post('batch', q).status == 200


def test_settings_clock_and_unknown(ctl):
    s = ctl.settings()
    assert s['limits_enabled'] is False and s['refresh_rotation'] == 'always' and s['refresh_grace_seconds'] == 0
    assert ctl.settings(refresh_rotation='daily')['refresh_rotation'] == 'daily'
    with pytest.raises(ControlAPIError):
        ctl.settings(bogus=1)
    before = ctl.advance_clock(0)['offset_seconds']
    assert ctl.advance_clock(86400)['offset_seconds'] == before + 86400
    ctl.reset()
    assert ctl.settings()['refresh_rotation'] == 'always'


def test_clock_moves_default_dates(api, ctl):
    d1 = api.create('Invoice', INV)['TxnDate']
    ctl.advance_clock(2 * 86400)
    api.tokens = refresh(api.base, api.tokens['refresh_token']).json()
    d2 = api.create('Invoice', INV)['TxnDate']
    import datetime as dt
    assert (dt.date.fromisoformat(d2) - dt.date.fromisoformat(d1)).days == 2


def test_webhook_signed_delivery(ctl):
    got = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers['Content-Length']))
            got.append((dict(self.headers), body))
            self.send_response(200)
            self.send_header('Content-Length', '0')
            self.end_headers()

        def log_message(self, *a):
            pass
    recv = http.server.HTTPServer(('127.0.0.1', 0), H)
    threading.Thread(target=recv.serve_forever, daemon=True).start()
    try:
        url = 'http://127.0.0.1:%d/hook' % recv.server_address[1]
        ctl.send_webhook(url, 'verif', '123', 'Invoice', '7', 'Void', 'cloudevents', 0.05)
        ctl.send_webhook(url, 'verif', '123', 'Customer', '8', 'Create', 'legacy', 0)
        deadline = time.time() + 5
        while len(got) < 2 and time.time() < deadline:
            time.sleep(0.02)
        assert len(got) == 2
        for headers, body in got:
            sig = {k.lower(): v for k, v in headers.items()}['intuit-signature']
            assert sig == base64.b64encode(hmac.new(b'verif', body, hashlib.sha256).digest()).decode()
        kinds = sorted(json.dumps(json.loads(b)) for _, b in got)
        assert any('qbo.invoice.voided.v1' in k for k in kinds)
        assert any('eventNotifications' in k for k in kinds)
    finally:
        recv.shutdown()


def test_status_page_escapes_html(api, ctl, base):
    api.create('Customer', {'DisplayName': '<script>alert(1)</script>'})
    api.create('Invoice', INV)
    r = hreq(base, 'GET', '/')
    page = r.body.decode()
    assert r.status == 200 and '&lt;script&gt;' in page and '<script>' not in page
    assert "Amy&#x27;s Bird Sanctuary" in page and '10.0' in page


def test_persistence_survives_restart(tmp_path):
    state = str(tmp_path / 'state.json')
    kw = dict(client_id=CLIENT_ID, client_secret='test-secret', redirect_uris=[REDIRECT], state_file=state)
    with running_emulator(**kw) as srv:
        ctl = EmulatorControl(srv.url)
        api = connect(ctl, srv.url)
        c = api.create('Customer', {'DisplayName': 'Persistent'})
    assert os.path.exists(state)
    with running_emulator(**kw) as srv:
        ctl = EmulatorControl(srv.url)
        assert ctl.entity(api.realm, 'Customer', c['id'] if 'id' in c else c['Id'])['DisplayName'] == 'Persistent'
        api.base = srv.url
        assert api.get('customer/' + c['Id']).status == 200                    # tokens survived too


def test_cli_starts_fast_and_prints(tmp_path):
    t = time.time()
    p = subprocess.Popen([sys.executable, '-m', 'qbo_emulator', '--host', '127.0.0.1', '--port', '0',
                          '--client-id', 'ID', '--client-secret', 'SECRET', '--redirect-uri', 'http://localhost/cb',
                          '--redirect-uri', 'http://localhost/cb2'],
                         cwd=ROOT, stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, 'emulator')))
    try:
        lines = [p.stdout.readline() for _ in range(3)]
        assert time.time() - t < 5
        url = lines[0].split()[-1]
        assert url.startswith('http://127.0.0.1:')
        out = ''.join(lines) + ''.join(p.stdout.readline() for _ in range(7))
        assert '/.well-known/openid_sandbox_configuration' in out and '/connect/oauth2?' in out
        assert 'ID' in out and 'Seeded realm' in out
        assert hreq(url, 'GET', '/_emulator/health').json() == {'ok': True}
    finally:
        p.terminate()
        p.wait(5)


def test_in_process_startup_and_throughput():
    t = time.perf_counter()
    srv = EmulatorServer(host='127.0.0.1', port=0, client_id='a', client_secret='b', redirect_uris=['http://x/cb'])
    srv.start()
    startup = time.perf_counter() - t
    try:
        assert startup < 1.0
        ctl = EmulatorControl(srv.url)
        u = urllib.parse.urlsplit(srv.url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        # authenticated API reads over one keep-alive connection
        from conftest import exchange, get_code
        srv.emulator.oauth.register_app(CLIENT_ID, 'test-secret', [REDIRECT])
        q = get_code(ctl, srv.url)
        tok = exchange(srv.url, q['code']).json()['access_token']
        hdr = {'Authorization': 'Bearer ' + tok, 'Accept': 'application/json'}
        n = 600
        t = time.perf_counter()
        for _ in range(n):
            conn.request('GET', '/v3/company/%s/customer/1?minorversion=75' % q['realmId'], headers=hdr)
            r = conn.getresponse()
            r.read()
            assert r.status == 200
        rate = n / (time.perf_counter() - t)
        conn.close()
        print('startup %.3fs, %.0f requests/s' % (startup, rate))
        assert rate >= 500, rate
    finally:
        srv.stop()
