"""Webhooks the emulator emits by itself, payments recorded as a QuickBooks user would, CDC of payments and
deletions, and the HTML page's payment forms.

Documented QuickBooks behaviours checked here (qbo-api-reference §7.3, §7.4, §13):
* every change in a company connected to the app is notified to the app's endpoint, in the format chosen in
  the app's settings: CloudEvents (array; ``type`` ``qbo.<entity>.<verb>.v1``, ``intuitaccountid``,
  ``intuitentityid``, ``id``, ``time``, ``specversion``) or legacy ``eventNotifications``;
* ``intuit-signature`` = base64(HMAC-SHA256(raw body, verifier token));
* a non-2xx answer is retried (10 s, 20 s, 30 s, 5 min...), later events wait behind it; events are
  aggregated per endpoint;
* a credit memo applied to an invoice is a $0 Payment linking both; Invoice ``Balance`` follows payments;
* CDC returns Payments, and deleted objects as ``{"status": "Deleted", "Id", "MetaData"}``.
"""
import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
import urllib.parse

import pytest
from conftest import connect, hreq, sample

from qbo_emulator.testing import ControlAPIError

TOKEN = 'verifier-token-123'


class Receiver:
    """A webhook endpoint: records (headers, raw body) and answers the next status of ``statuses`` (then 200)."""

    def __init__(self):
        self.got = []
        self.statuses = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers['Content-Length']))
                receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *a):
                pass
        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d/webhook' % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n, timeout=5):
        deadline = time.time() + timeout
        while len(self.got) < n and time.time() < deadline:
            time.sleep(0.02)
        assert len(self.got) >= n, self.got
        return self.got

    def bodies(self):
        return [json.loads(body) for _, body in self.got]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def hooked(ctl, receiver):
    """A connected API client whose app has a CloudEvents endpoint; a short aggregation window."""
    ctl.settings(webhook_window_seconds=0.3, webhook_retry_scale=0.01)
    yield ctl
    ctl.configure_webhook(None, '')


def invoice(api, amount, customer='1'):
    return api.create('Invoice', {'CustomerRef': {'value': customer}, 'Line': [
        {'DetailType': 'SalesItemLineDetail', 'Amount': amount,
         'SalesItemLineDetail': {'ItemRef': {'value': '1'}, 'TaxCodeRef': {'value': 'NON'}}}]})


def credit_memo(api, amount, customer='1'):
    return api.create('CreditMemo', {'CustomerRef': {'value': customer}, 'Line': [
        {'DetailType': 'SalesItemLineDetail', 'Amount': amount,
         'SalesItemLineDetail': {'ItemRef': {'value': '1'}, 'TaxCodeRef': {'value': 'NON'}}}]})


def deliveries(ctl, n, timeout=5):
    """The dispatcher's log of attempts, once it holds at least ``n``."""
    deadline = time.time() + timeout
    while True:
        log = ctl.webhook_status()['deliveries']
        if len(log) >= n or time.time() > deadline:
            return log
        time.sleep(0.02)


def verify(headers, body, token=TOKEN):
    expected = base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(headers['intuit-signature'], expected)


# --------------------------------------------------------------------------- webhooks
def test_cloudevents_emitted_signed_and_aggregated(hooked, base, receiver):
    api = connect(hooked, base)
    hooked.settings(webhook_window_seconds=1.5)                      # room for 4 calls on a busy machine
    cfg = hooked.configure_webhook(receiver.url, TOKEN, 'cloudevents')
    assert cfg['format'] == 'cloudevents' and cfg['verifier_token_set'] and 'verifier_token' not in cfg
    cust = api.create('Customer', {'DisplayName': 'Webhook Co'})
    inv = invoice(api, 25)
    api.post('invoice', dict(inv, sparse=True, PrivateNote='first'))
    api.post('invoice', dict(api.get('invoice/' + inv['Id']).json()['Invoice'], sparse=True, PrivateNote='again'))
    headers, body = receiver.wait(1)[0]
    time.sleep(0.5)
    assert len(receiver.got) == 1                                   # one delivery for the whole window
    assert verify(headers, body) and not verify(headers, body, 'wrong-token')
    assert headers['content-type'].startswith('application/json') and headers['intuit-t-id']
    events = json.loads(body)
    template = sample('webhook_cloudevents_payload.json')[0]
    for ev in events:
        assert set(ev) == set(template) and ev['specversion'] == '1.0' and ev['data'] == {}
        assert ev['intuitaccountid'] == api.realm and ev['source'].startswith('intuit.')
        assert ev['time'].endswith('Z')
    kinds = [(ev['type'], ev['intuitentityid']) for ev in events]
    # the two updates of the invoice are one event: the same object and operation once per delivery
    assert kinds == [('qbo.customer.created.v1', cust['Id']), ('qbo.invoice.created.v1', inv['Id']),
                     ('qbo.invoice.updated.v1', inv['Id'])]
    assert len({ev['id'] for ev in events}) == 3


def test_legacy_format_void_delete_merge(hooked, base, receiver):
    api = connect(hooked, base)
    hooked.settings(webhook_window_seconds=3600)                     # sent by flush_webhooks() below
    hooked.configure_webhook(receiver.url, TOKEN, 'legacy')
    inv = invoice(api, 10)
    other = invoice(api, 11)
    api.post('invoice', {'Id': inv['Id'], 'SyncToken': inv['SyncToken']}, params={'operation': 'void'})
    api.post('invoice', {'Id': other['Id'], 'SyncToken': other['SyncToken']}, params={'operation': 'delete'})
    a = api.create('Customer', {'DisplayName': 'Merge A'})
    b = api.create('Customer', {'DisplayName': 'Merge B'})
    hooked.merge(api.realm, 'Customer', a['Id'], b['Id'])
    hooked.flush_webhooks()
    headers, body = receiver.wait(1)[0]
    assert verify(headers, body)
    payload = json.loads(body)
    template = sample('webhook_legacy_payload.json')
    assert set(payload) == set(template) and len(payload['eventNotifications']) == 1
    note = payload['eventNotifications'][0]
    assert note['realmId'] == api.realm and set(note) == set(template['eventNotifications'][0])
    got = [(e['name'], e['id'], e['operation']) for e in note['dataChangeEvent']['entities']]
    assert ('Invoice', inv['Id'], 'Void') in got and ('Invoice', other['Id'], 'Delete') in got
    merge = [e for e in note['dataChangeEvent']['entities'] if e['operation'] == 'Merge']
    assert merge == [{'id': b['Id'], 'operation': 'Merge', 'name': 'Customer', 'deletedId': a['Id'],
                      'lastUpdated': merge[0]['lastUpdated']}]
    assert set(template['eventNotifications'][0]['dataChangeEvent']['entities'][0]) <= set(merge[0])
    merged = hooked.entity(api.realm, 'Customer', a['Id'])
    assert merged['Active'] is False and merged['DisplayName'] == 'Merge A (deleted)'


def test_cloudevents_merge_names_the_merged_customer(hooked, base, receiver):
    """Intuit's data object of qbo.customer.merged.v1: {"deletedid": <merged Id>}, the survivor in intuitentityid."""
    api = connect(hooked, base)
    hooked.settings(webhook_window_seconds=3600)                     # sent by flush_webhooks() below
    hooked.configure_webhook(receiver.url, TOKEN, 'cloudevents')
    a = api.create('Customer', {'DisplayName': 'Cloud Merge A'})
    b = api.create('Customer', {'DisplayName': 'Cloud Merge B'})
    hooked.merge(api.realm, 'Customer', a['Id'], b['Id'])
    hooked.flush_webhooks()
    events = json.loads(receiver.wait(1)[0][1])
    merged = [ev for ev in events if ev['type'] == 'qbo.customer.merged.v1']
    assert [(ev['intuitentityid'], ev['data']) for ev in merged] == [(b['Id'], {'deletedid': a['Id']})]
    assert all(ev['data'] == {} for ev in events if ev not in merged)


def test_retry_on_500_then_success_holds_later_events(hooked, base, receiver):
    api = connect(hooked, base)
    hooked.configure_webhook(receiver.url, TOKEN)
    receiver.statuses = [500]
    first = api.create('Customer', {'DisplayName': 'Retry One'})
    receiver.wait(1)
    second = api.create('Customer', {'DisplayName': 'Retry Two'})   # queued while the first is retried
    receiver.wait(3)
    bodies = receiver.bodies()
    assert bodies[0] == bodies[1]                                    # the same delivery again, 10 s x 0.01 later
    assert [e['intuitentityid'] for e in bodies[0]] == [first['Id']]
    assert [e['intuitentityid'] for e in bodies[2]] == [second['Id']]
    log = deliveries(hooked, 3)             # the log entry is written once the receiver's answer is read
    assert [(d['attempt'], d['status'], d['ok']) for d in log[:3]] == [(1, 500, False), (2, 200, True),
                                                                       (1, 200, True)]
    assert log[0]['next_attempt'] and hooked.webhook_status()['retrying'] == []


def test_retry_follows_intuit_schedule_on_the_emulator_clock(hooked, base, receiver):
    api = connect(hooked, base)
    hooked.settings(webhook_retry_scale=1)
    hooked.configure_webhook(receiver.url, TOKEN)
    receiver.statuses = [503, 503]
    api.create('Customer', {'DisplayName': 'Clocked'})
    receiver.wait(1)
    time.sleep(0.3)
    assert len(receiver.got) == 1                                    # next attempt in 10 s
    hooked.advance_clock(11)
    receiver.wait(2)
    hooked.advance_clock(15)
    time.sleep(0.3)
    assert len(receiver.got) == 2                                    # then 20 s
    hooked.advance_clock(6)
    receiver.wait(3)
    assert deliveries(hooked, 3)[-1]['ok'] and hooked.webhook_status()['retrying'] == []


def test_unconnected_company_and_flush(hooked, base, receiver):
    api = connect(hooked, base)
    other = hooked.create_company('Not connected')['realm_id']
    hooked.settings(webhook_window_seconds=3600)
    hooked.configure_webhook(receiver.url, TOKEN)
    hooked.seed(other, 'Customer', 2)                                # no grant on that company: nothing
    api.create('Customer', {'DisplayName': 'Flushed'})
    assert hooked.webhook_status()['pending'] == 1
    attempts = hooked.flush_webhooks()                               # deliver now, whatever the window
    assert len(attempts) == 1 and attempts[0]['ok'] and len(receiver.got) == 1
    assert {e['intuitaccountid'] for e in json.loads(attempts[0]['body'])} == {api.realm}
    hooked.configure_webhook(receiver.url, TOKEN, realm_ids=[other])
    hooked.seed(other, 'Customer', 1, prefix='Listed')
    assert json.loads(hooked.flush_webhooks()[0]['body'])[0]['intuitaccountid'] == other
    with pytest.raises(ControlAPIError) as e:
        hooked.configure_webhook(receiver.url, TOKEN, 'xml')
    assert e.value.status == 400


# --------------------------------------------------------------------------- payments
def test_payments_full_partial_several_credit_unapplied(ctl, base):
    api = connect(ctl, base)
    i1, i2, i3 = invoice(api, 100), invoice(api, 40), invoice(api, 60)
    partial = ctl.record_payment(api.realm, invoices=[{'id': i1['Id'], 'amount': 30}], reference='CHK-1')
    assert partial['TotalAmt'] == 30 and partial['UnappliedAmt'] == 0 and partial['PaymentRefNum'] == 'CHK-1'
    assert ctl.entity(api.realm, 'Invoice', i1['Id'])['Balance'] == 70
    several = ctl.record_payment(api.realm, invoices=[i1['Id'], i2['Id']], unapplied=5)
    assert several['TotalAmt'] == 115 and several['UnappliedAmt'] == 5
    assert [ln['LinkedTxn'] for ln in several['Line']] == [[{'TxnId': i1['Id'], 'TxnType': 'Invoice'}],
                                                           [{'TxnId': i2['Id'], 'TxnType': 'Invoice'}]]
    assert ctl.entity(api.realm, 'Invoice', i1['Id'])['Balance'] == 0
    assert ctl.entity(api.realm, 'Invoice', i2['Id'])['Balance'] == 0
    cm = credit_memo(api, 60)
    zero = ctl.record_payment(api.realm, invoices=[i3['Id']], credit_memos=[cm['Id']])
    assert zero['TotalAmt'] == 0 and {lt['TxnType'] for ln in zero['Line'] for lt in ln['LinkedTxn']} == \
        {'Invoice', 'CreditMemo'}
    assert ctl.entity(api.realm, 'Invoice', i3['Id'])['Balance'] == 0
    assert ctl.entity(api.realm, 'CreditMemo', cm['Id'])['RemainingCredit'] == 0
    # the payment is what QuickBooks' API returns too
    assert api.get('payment/' + zero['Id']).json()['Payment']['Line'] == zero['Line']
    for bad in ({'invoices': [{'id': i1['Id'], 'amount': 1}]},              # already paid
                {'invoices': [{'id': '999999'}]}):
        with pytest.raises(ControlAPIError):
            ctl.record_payment(api.realm, **bad)
    # void and delete reopen the invoices
    ctl.void_payment(api.realm, several['Id'])
    voided = ctl.entity(api.realm, 'Payment', several['Id'])
    assert voided['TotalAmt'] == 0 and voided['PrivateNote'].startswith('Voided')
    assert ctl.entity(api.realm, 'Invoice', i1['Id'])['Balance'] == 70
    assert ctl.entity(api.realm, 'Invoice', i2['Id'])['Balance'] == 40
    ctl.delete_payment(api.realm, zero['Id'])
    assert ctl.entity(api.realm, 'Invoice', i3['Id'])['Balance'] == 60
    assert ctl.entity(api.realm, 'CreditMemo', cm['Id'])['RemainingCredit'] == 60
    assert ctl.entity(api.realm, 'Payment', zero['Id'])['status'] == 'Deleted'


def test_payment_edited_as_a_quickbooks_user(ctl, base):
    """Editing a received payment: the memo alone keeps the applications; an amount change moves Balances."""
    api = connect(ctl, base)
    i1, i2 = invoice(api, 100), invoice(api, 40)
    pay = ctl.record_payment(api.realm, invoices=[{'id': i1['Id'], 'amount': 30}], reference='CHK-1')
    memo = ctl.edit_payment(api.realm, pay['Id'], private_note='paid by check', reference='CHK-2',
                            txn_date='2026-01-15')
    assert memo['SyncToken'] == '1' and memo['PrivateNote'] == 'paid by check' and memo['PaymentRefNum'] == 'CHK-2'
    assert memo['TxnDate'] == '2026-01-15' and memo['Line'] == pay['Line'] and memo['TotalAmt'] == 30
    assert ctl.entity(api.realm, 'Invoice', i1['Id'])['Balance'] == 70
    # a PATCH (another app's sparse update) keeps the applications too
    ctl.patch_entity(api.realm, 'Payment', pay['Id'], {'PrivateNote': 'patched'})
    assert ctl.entity(api.realm, 'Invoice', i1['Id'])['Balance'] == 70
    more = ctl.edit_payment(api.realm, pay['Id'], invoices=[{'id': i1['Id'], 'amount': 100},
                                                            {'id': i2['Id'], 'amount': 10}])
    assert more['TotalAmt'] == 110 and more['UnappliedAmt'] == 0 and more['PrivateNote'] == 'patched'
    assert ctl.entity(api.realm, 'Invoice', i1['Id'])['Balance'] == 0
    assert ctl.entity(api.realm, 'Invoice', i2['Id'])['Balance'] == 30
    less = ctl.edit_payment(api.realm, pay['Id'], invoices=[{'id': i1['Id'], 'amount': 60}], unapplied=5)
    assert less['TotalAmt'] == 65 and less['UnappliedAmt'] == 5
    assert ctl.entity(api.realm, 'Invoice', i1['Id'])['Balance'] == 40
    assert ctl.entity(api.realm, 'Invoice', i2['Id'])['Balance'] == 40
    with pytest.raises(ControlAPIError):
        ctl.edit_payment(api.realm, pay['Id'], invoices=[{'id': i1['Id'], 'amount': 101}])
    ctl.void_payment(api.realm, pay['Id'])
    with pytest.raises(ControlAPIError):
        ctl.edit_payment(api.realm, pay['Id'], private_note='x')


def test_cdc_returns_payments_and_deleted(ctl, base):
    api = connect(ctl, base)
    since = api.get('companyinfo/' + api.realm).json()['time']
    inv = invoice(api, 50)
    pay = ctl.record_payment(api.realm, invoices=[inv['Id']])
    gone = ctl.record_payment(api.realm, customer_id='1', unapplied=7)
    ctl.delete_payment(api.realm, gone['Id'])
    r = api.get('cdc', params={'entities': 'Invoice,Payment', 'changedSince': since})
    assert r.status == 200
    groups = r.json()['CDCResponse'][0]['QueryResponse']
    by_entity = {k: v for g in groups for k, v in g.items() if isinstance(v, list)}
    assert [o['Id'] for o in by_entity['Invoice']] == [inv['Id']] and by_entity['Invoice'][0]['Balance'] == 0
    payments = by_entity['Payment']
    assert payments[0]['Id'] == pay['Id'] and payments[0]['Line'][0]['LinkedTxn'][0]['TxnId'] == inv['Id']
    deleted = payments[-1]
    assert deleted == {'status': 'Deleted', 'domain': 'QBO', 'Id': gone['Id'],
                       'MetaData': {'LastUpdatedTime': deleted['MetaData']['LastUpdatedTime']}}


def test_payment_webhooks(hooked, base, receiver):
    api = connect(hooked, base)
    inv = invoice(api, 20)
    hooked.configure_webhook(receiver.url, TOKEN, 'legacy')
    pay = hooked.record_payment(api.realm, invoices=[inv['Id']])
    hooked.flush_webhooks()
    hooked.void_payment(api.realm, pay['Id'])
    hooked.flush_webhooks()
    first, second = [[(e['name'], e['id'], e['operation']) for e in b['eventNotifications'][0]['dataChangeEvent']
                      ['entities']] for b in receiver.bodies()]
    assert first == [('Payment', pay['Id'], 'Create'), ('Invoice', inv['Id'], 'Update')]
    assert ('Payment', pay['Id'], 'Void') in second and ('Invoice', inv['Id'], 'Update') in second


# --------------------------------------------------------------------------- HTML page
def form_post(base, path, fields):
    return hreq(base, 'POST', path, urllib.parse.urlencode(fields),
                {'Content-Type': 'application/x-www-form-urlencoded'})


def test_page_shows_documents_and_records_payments(ctl, base):
    api = connect(ctl, base)
    inv = invoice(api, 80)
    cm = credit_memo(api, 30)
    page = hreq(base, 'GET', '/').body.decode()
    for text in ('<h3>Items</h3>', '<h3>Credit memos</h3>', '<h3>Payments</h3>', 'table class="lines"',
                 'action="/_emulator/ui/%s/pay"' % api.realm, 'credit memo %s' % cm['DocNumber']):
        assert text in page, text
    r = form_post(base, '/_emulator/ui/%s/pay' % api.realm, {'invoice': inv['Id'], 'amount': '50',
                                                            'credit_memo': cm['Id']})
    assert r.status == 303 and r.headers['location'].startswith('/')
    assert ctl.entity(api.realm, 'Invoice', inv['Id'])['Balance'] == 30
    pay = ctl.entities(api.realm, 'Payment')[-1]
    assert pay['TotalAmt'] == 20                                     # 50 applied: 30 of credit, 20 of money
    assert ctl.entity(api.realm, 'CreditMemo', cm['Id'])['RemainingCredit'] == 0
    assert 'ui/%s/payment/%s/void' % (api.realm, pay['Id']) in hreq(base, 'GET', '/').body.decode()
    r = form_post(base, '/_emulator/ui/%s/payment/%s/delete' % (api.realm, pay['Id']), {})
    assert r.status == 303 and ctl.entity(api.realm, 'Invoice', inv['Id'])['Balance'] == 80
    r = form_post(base, '/_emulator/ui/%s/pay' % api.realm, {'invoice': inv['Id'], 'amount': '500'})
    assert r.status == 400 and 'at most its open amount' in r.body.decode()
    r = form_post(base, '/_emulator/ui/%s/pay' % api.realm, {'invoice': inv['Id']})   # the whole balance
    assert r.status == 303 and ctl.entity(api.realm, 'Invoice', inv['Id'])['Balance'] == 0
    pay = ctl.entities(api.realm, 'Payment')[-1]
    r = form_post(base, '/_emulator/ui/%s/payment/%s/void' % (api.realm, pay['Id']), {})
    assert r.status == 303 and ctl.entity(api.realm, 'Invoice', inv['Id'])['Balance'] == 80


def test_page_receives_one_payment_over_several_invoices(ctl, base, receiver):
    api = connect(ctl, base)
    i1, i2, i3 = invoice(api, 100), invoice(api, 50), invoice(api, 10)
    cm = credit_memo(api, 20)
    page = hreq(base, 'GET', '/').body.decode()
    assert '<h3>Receive payment</h3>' in page and 'name="invoice_%s"' % i2['Id'] in page
    assert 'name="credit_%s"' % cm['Id'] in page
    r = form_post(base, '/_emulator/ui/%s/receive' % api.realm, {
        'customer': '1', 'invoice_%s' % i1['Id']: '100', 'invoice_%s' % i2['Id']: '30', 'invoice_%s' % i3['Id']: '',
        'credit_%s' % cm['Id']: '20', 'unapplied': '5', 'reference': 'WIRE-9'})
    assert r.status == 303, r.body
    pay = ctl.entities(api.realm, 'Payment')[-1]
    assert pay['TotalAmt'] == 115 and pay['UnappliedAmt'] == 5 and pay['PaymentRefNum'] == 'WIRE-9'
    balances = [ctl.entity(api.realm, 'Invoice', i['Id'])['Balance'] for i in (i1, i2, i3)]
    assert balances == [0, 20, 10]
    # the webhook endpoints and their deliveries are on the page too
    ctl.settings(webhook_window_seconds=3600)
    ctl.configure_webhook(receiver.url, TOKEN)
    ctl.void_payment(api.realm, pay['Id'])
    ctl.flush_webhooks()
    page = hreq(base, 'GET', '/').body.decode()
    assert '<h2>Webhooks</h2>' in page and receiver.url in page
    ctl.configure_webhook(None, '')


def test_cdc_carries_customer_vendor_item_edits_inactivations_and_merges(ctl, base):
    """Name-list changes by another QuickBooks user come back through CDC (SyncToken and LastUpdatedTime bumped);
    an inactivated (or merged-away) object comes back inactive, never as a "Deleted" marker."""
    api = connect(ctl, base)
    customer = api.create('Customer', {'DisplayName': 'Feed Customer'})
    vendor = api.create('Vendor', {'DisplayName': 'Feed Vendor'})
    survivor = api.create('Vendor', {'DisplayName': 'Feed Vendor Survivor'})
    item = ctl.entity(api.realm, 'Item', ctl.seed(api.realm, 'Item', 1, prefix='Feed Item')['ids'][0])
    other = ctl.entity(api.realm, 'Item', ctl.seed(api.realm, 'Item', 1, prefix='Feed Other')['ids'][0])
    since = api.get('companyinfo/' + api.realm).json()['time']
    ctl.advance_clock(2)
    ctl.patch_entity(api.realm, 'Customer', customer['Id'], {'PrimaryPhone': {'FreeFormNumber': '555-0101'}})
    ctl.delete_entity(api.realm, 'Customer', customer['Id'])
    ctl.merge(api.realm, 'Vendor', vendor['Id'], survivor['Id'])
    ctl.merge(api.realm, 'Item', item['Id'], other['Id'])
    r = api.get('cdc', params={'entities': 'Customer,Vendor,Item', 'changedSince': since})
    assert r.status == 200
    groups = r.json()['CDCResponse'][0]['QueryResponse']
    by_entity = {k: {o['Id']: o for o in v} for g in groups for k, v in g.items() if isinstance(v, list)}
    changed = by_entity['Customer'][customer['Id']]
    assert changed['PrimaryPhone']['FreeFormNumber'] == '555-0101' and changed['Active'] is False
    assert int(changed['SyncToken']) == int(customer['SyncToken']) + 2
    assert by_entity['Vendor'][vendor['Id']]['Active'] is False
    assert by_entity['Vendor'][vendor['Id']]['DisplayName'] == 'Feed Vendor (deleted)'
    assert by_entity['Vendor'][survivor['Id']]['Active'] is True
    assert by_entity['Item'][item['Id']]['Active'] is False and other['Id'] in by_entity['Item']
    assert not [o for rows in by_entity.values() for o in rows.values() if o.get('status') == 'Deleted']
