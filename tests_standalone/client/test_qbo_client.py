"""The HTTP choke point (tools/qbo_client.py) against the real emulator over HTTP."""
import pytest
from quickbooks_online.tools import (
    QboAuthError,
    QboClient,
    QboOAuthClient,
    QboOAuthError,
    QboRateLimitError,
    QboServerError,
    QboValidationError,
)
from quickbooks_online.tools.qbo_client import endpoints_for, qbo_quote, scrub_secrets

from qbo_emulator import EmulatorServer
from qbo_emulator.testing import EmulatorControl

REDIRECT = 'http://localhost:8069/quickbooks_online/oauth/callback'


@pytest.fixture()
def env():
    server = EmulatorServer(client_id='cid', client_secret='secret', redirect_uris=[REDIRECT])
    server.start()
    control = EmulatorControl(server.url)
    realm = control.create_company('Client Test', country='US')['realm_id']
    oauth = QboOAuthClient(endpoints_for('custom', server.url), 'cid', 'secret')
    location = control.consent(oauth.authorization_url(REDIRECT, 'st'), realm_id=realm)
    code = location.split('code=')[1].split('&')[0]
    tokens = oauth.exchange_code(code, REDIRECT)
    state = {'tokens': tokens, 'refreshes': 0}

    def provider(force_refresh=False):
        if force_refresh:
            state['refreshes'] += 1
            state['tokens'] = oauth.refresh(state['tokens']['refresh_token'])
        return state['tokens']['access_token']

    calls = []
    client = QboClient(server.url, realm, provider, on_call=calls.append)
    yield {'client': client, 'control': control, 'realm': realm, 'state': state, 'calls': calls, 'oauth': oauth}
    server.stop()


def test_every_call_sends_minorversion_and_writes_a_requestid(env):
    client, control = env['client'], env['control']
    customer = client.create('Customer', {'DisplayName': 'Req Id Co'}, request_id='rid-1')
    assert customer['Id']
    log = control.requests_log(path_contains='/customer')
    assert log[-1]['query']['minorversion'] in ('75', ['75'])
    assert log[-1]['requestid'] == 'rid-1'
    assert env['calls'][-1]['http_status'] == 200 and env['calls'][-1]['intuit_tid']


def test_validation_fault_carries_code_element_and_tid(env):
    client = env['client']
    client.create('Customer', {'DisplayName': 'Twice'}, request_id='a1')
    with pytest.raises(QboValidationError) as caught:
        client.create('Customer', {'DisplayName': 'Twice'}, request_id='a2')
    assert caught.value.code == '6240'
    assert caught.value.status == 400
    assert 'Id=' in caught.value.detail
    assert caught.value.intuit_tid


def test_401_refreshes_once_and_retries(env):
    env['control'].expire_tokens('access', realm_id=env['realm'])
    info = env['client'].company_info()
    assert info['CompanyName'] == 'Client Test'
    assert env['state']['refreshes'] == 1


def test_401_twice_raises_auth_error(env):
    env['control'].inject_fault('401', count=5, path_contains='/companyinfo')
    with pytest.raises(QboAuthError):
        env['client'].company_info()


def test_throttle_is_a_rate_limit_error(env):
    env['control'].inject_fault('429', count=1, path_contains='/companyinfo')
    with pytest.raises(QboRateLimitError) as caught:
        env['client'].company_info()
    assert caught.value.code == '3001'


def test_5xx_is_retried_with_the_same_requestid(env):
    env['control'].inject_fault('500', count=1, path_contains='/customer')
    customer = env['client'].create('Customer', {'DisplayName': 'After 500'}, request_id='r500')
    assert customer['DisplayName'] == 'After 500'
    statuses = [r['status'] for r in env['control'].requests_log(path_contains='/customer')]
    assert statuses == [500, 200]


def test_persistent_5xx_raises_server_error(env):
    env['control'].inject_fault('503', count=10, path_contains='/customer')
    with pytest.raises(QboServerError):
        env['client'].create('Customer', {'DisplayName': 'Never'}, request_id='r503')


def test_timeout_after_commit_creates_exactly_one(env):
    control = env['control']
    control.inject_fault('timeout_after_commit', count=1, path_contains='/invoice')
    invoice = env['client'].create('Invoice', {
        'CustomerRef': {'value': '1'},
        'Line': [{'DetailType': 'SalesItemLineDetail', 'Amount': 100.0,
                  'SalesItemLineDetail': {'ItemRef': {'value': '1'}, 'Qty': 1, 'UnitPrice': 100.0}}],
    }, request_id='once-1')
    invoices = [o for o in control.entities(env['realm'], 'Invoice') if o.get('status') != 'Deleted']
    assert len(invoices) == 1
    assert invoices[0]['Id'] == invoice['Id']


def test_query_all_pages_past_1000(env):
    control = env['control']
    control.seed(env['realm'], 'Item', 1205, prefix='Paged')
    items = env['client'].query_all('Item', where="Name LIKE 'Paged%'")
    assert len(items) == 1205
    assert len({item['Id'] for item in items}) == 1205


def test_quote_escapes_apostrophes(env):
    env['client'].create('Customer', {'DisplayName': "Amy's Other Shop"}, request_id='q1')
    name = "Amy's Other Shop"
    rows = env['client'].query(f"SELECT * FROM Customer WHERE DisplayName = {qbo_quote(name)}")
    assert rows['Customer'][0]['DisplayName'] == "Amy's Other Shop"


def test_revoked_refresh_token_is_invalid_grant(env):
    env['oauth'].revoke(env['state']['tokens']['refresh_token'])
    with pytest.raises(QboOAuthError) as caught:
        env['oauth'].refresh(env['state']['tokens']['refresh_token'])
    assert caught.value.needs_reconnect


def test_batch_items_fault_per_item_and_requestid_fits(env):
    """One batch request: per-item results and faults, each mapped to our exception classes."""
    from quickbooks_online.tools.qbo_client import error_from_batch_fault  # noqa: PLC0415

    client = env['client']
    items = [{'bId': 'b0', 'operation': 'create', 'Customer': {'DisplayName': 'Batch One'}},
             {'bId': 'b1', 'operation': 'create', 'Customer': {'DisplayName': "Amy's Bird Sanctuary"}}]
    rid = '0123456789abcdef0123456789abcdef0123'  # 36 characters: the batch maximum
    responses = {r['bId']: r for r in client.batch(items, request_id=rid)}
    assert responses['b0']['Customer']['DisplayName'] == 'Batch One'
    error = error_from_batch_fault(responses['b1']['Fault'])
    assert isinstance(error, QboValidationError) and error.code == '6240'
    # Same requestid, same batch: QuickBooks replays the answer, nothing is created twice.
    again = {r['bId']: r for r in client.batch(items, request_id=rid)}
    assert again['b0']['Customer']['Id'] == responses['b0']['Customer']['Id']
    names = [c['DisplayName'] for c in env['control'].entities(env['realm'], 'Customer')]
    assert names.count('Batch One') == 1
    with pytest.raises(ValueError):
        client.batch(items, request_id=rid + 'x')


def test_refresh_after_401_retries_with_the_new_token(env):
    """The retry after a 401 carries the token the refresh returned (never a re-read old one)."""
    control, state = env['control'], env['state']
    old = state['tokens']['access_token']
    control.expire_tokens('access', realm_id=env['realm'])
    seen = []
    client = QboClient(env['client'].api_base, env['realm'],
                       lambda force_refresh=False: seen.append(force_refresh) or (
                           env['client'].token_provider(True) if force_refresh else old))
    assert client.company_info()['CompanyName'] == 'Client Test'
    assert seen == [False, True], "one read, one refresh; the retry uses the refreshed token"


def test_no_token_fragment_in_fault_texts():
    """A 401 whose detail quotes the rejected token: no part of the token survives in the error."""
    token = 'eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..aBcD-eF_ghIJkl'
    text = scrub_secrets(f"Token revoked or invalid: {token[:60]}")
    assert 'eyJ' not in text and token[10:30] not in text
    assert text.startswith('Token revoked or invalid: ')
    refresh = 'AB11765432109876543210abcdefGHIJKLmnopQRSTuv'
    assert refresh not in scrub_secrets(f"invalid refresh token {refresh}")
    assert scrub_secrets("Duplicate Document Number Error [code 6140] (field: DocNumber)") == \
        "Duplicate Document Number Error [code 6140] (field: DocNumber)"


def test_a_rejected_token_never_reaches_the_transfer_history(env):
    """QuickBooks refuses a token and quotes it in the fault: neither the error nor the history keeps any of it."""
    client = QboClient(env['client'].api_base, env['realm'], lambda force_refresh=False: 'eyJ' + 'x' * 80,
                       on_call=env['calls'].append)
    with pytest.raises(QboAuthError) as caught:
        client.company_info()
    texts = [str(caught.value), caught.value.detail or ''] + [call['message'] for call in env['calls']]
    assert all('eyJ' not in text and 'x' * 20 not in text for text in texts), texts
