"""OAuth 2.0: discovery, authorize/consent, token exchange, refresh rotation, revoke, bearer checks."""
import re
import urllib.parse

import pytest
from conftest import CLIENT_ID, REDIRECT, Api, authorize_url, basic, connect, exchange, get_code, hreq, refresh, sample

from qbo_emulator.testing import ControlAPIError


@pytest.mark.parametrize('path', ['/.well-known/openid_sandbox_configuration', '/.well-known/openid_configuration',
                                  '/.well-known/openid_sandbox_configuration/'])
def test_discovery_same_shape_and_points_here(base, path):
    r = hreq(base, 'GET', path)
    assert r.status == 200 and r.headers.get('intuit_tid')
    doc = r.json()
    ref = sample('oauth_discovery_sandbox.json')
    assert set(doc) == set(ref)
    for k, v in doc.items():
        if isinstance(v, str) and k != 'issuer':
            assert v.startswith(base), (k, v)
        if isinstance(v, list):
            assert v == ref[k]
    assert doc['authorization_endpoint'] == base + '/connect/oauth2'
    assert doc['token_endpoint'] == base + '/oauth2/v1/tokens/bearer'


def test_authorize_invalid_client_or_redirect_is_html_400(ctl, base):
    for over in ({'client_id': 'nope'}, {'redirect_uri': 'http://evil/cb'}, {'redirect_uri': REDIRECT + '/x'}):
        url = authorize_url(base, **over)
        r = hreq(base, 'GET', url[len(base):])
        assert r.status == 400
        assert 'location' not in r.headers
        assert r.headers['content-type'].startswith('text/html')
        assert r.headers.get('intuit_tid')


def test_consent_page_form(ctl, base):
    other = ctl.create_company('Second Co', 'GB')
    r = hreq(base, 'GET', authorize_url(base)[len(base):])
    assert r.status == 200
    page = r.body.decode()
    assert page.count('<form') == 1
    assert '<form method="post" action="/connect/oauth2">' in page
    for name in ('client_id', 'redirect_uri', 'state', 'scope'):
        assert re.search(r'<input type="hidden" name="%s" value="[^"]*">' % name, page)
    assert '<select name="realm_id">' in page and other['realm_id'] in page
    assert 'name="decision" value="approve"' in page and 'name="decision" value="deny"' in page
    assert re.search(r'<option value="\d+" selected>', page)


def _preselected(base):
    page = hreq(base, 'GET', authorize_url(base)[len(base):]).body.decode()
    return re.findall(r'<option value="(\d+)" selected>', page)


def test_consent_page_preselects_the_last_authorized_company_else_the_newest(ctl, base):
    # Not the seeded sandbox company listed first: the company just made (for the demo, a test).
    first = ctl.create_company('Demo Co', 'US')
    assert _preselected(base) == [first['realm_id']]
    second = ctl.create_company('Other Co', 'US')
    assert _preselected(base) == [second['realm_id']]
    # Once the app is authorized for a company, that company is proposed again (as Intuit remembers it).
    get_code(ctl, base, realm_id=first['realm_id'])
    assert _preselected(base) == [first['realm_id']]
    # A POST without a company takes the proposed one.
    r = hreq(base, 'POST', '/connect/oauth2', urllib.parse.urlencode(
        {'client_id': CLIENT_ID, 'redirect_uri': REDIRECT, 'state': 's', 'scope': 'com.intuit.quickbooks.accounting',
         'decision': 'approve'}), {'Content-Type': 'application/x-www-form-urlencoded'})
    assert 'realmId=%s' % first['realm_id'] in r.headers['location']


def test_consent_approve_and_deny(ctl, base):
    loc = ctl.consent(authorize_url(base))
    assert loc.startswith(REDIRECT + '?')
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    assert set(q) == {'code', 'state', 'realmId'} and q['state'] == 'st4te' and len(q['code']) <= 512
    loc = ctl.consent(authorize_url(base), approve=False)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    assert q == {'error': 'access_denied', 'state': 'st4te'}
    # POST without decision approves
    r = hreq(base, 'POST', '/connect/oauth2', urllib.parse.urlencode(
        {'client_id': CLIENT_ID, 'redirect_uri': REDIRECT, 'state': 's', 'scope': 'com.intuit.quickbooks.accounting'}),
        {'Content-Type': 'application/x-www-form-urlencoded'})
    assert r.status == 302 and 'code=' in r.headers['location'] and 'realmId=' in r.headers['location']


def test_consent_other_realm_and_bad_scope(ctl, base):
    other = ctl.create_company('Realm Two')
    q = get_code(ctl, base, realm_id=other['realm_id'])
    assert q['realmId'] == other['realm_id']
    loc = ctl.consent(authorize_url(base, scope='bogus.scope'))
    assert 'error=invalid_scope' in loc and 'state=st4te' in loc
    loc = ctl.consent(authorize_url(base, response_type='token'))
    assert 'error=unsupported_response_type' in loc
    with pytest.raises(ControlAPIError) as ei:
        ctl.consent(authorize_url(base, client_id='unknown'))
    assert ei.value.status == 400


def test_token_exchange_shape(ctl, base):
    q = get_code(ctl, base)
    r = exchange(base, q['code'])
    assert r.status == 200
    assert r.headers.get('intuit_tid')
    assert r.headers['content-type'].startswith('application/json')
    body = r.json()
    ref = sample('token_response.json')
    assert set(body) == set(ref) - {'id_token'}
    assert body['token_type'] == 'bearer' and body['expires_in'] == 3600
    assert body['x_refresh_token_expires_in'] == 8726400
    assert body['access_token'].startswith('eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..')
    assert body['refresh_token'].startswith('AB11')


def test_openid_scope_gives_id_token_and_hard_expiry_header(ctl, base):
    q = get_code(ctl, base, scope='com.intuit.quickbooks.accounting openid email')
    r = exchange(base, q['code'], headers={'x-include-refresh-token-hard-expires-in': 'true'})
    body = r.json()
    assert set(body) == set(sample('token_response.json')) | {'x_refresh_token_hard_expires_in'}
    assert body['x_refresh_token_hard_expires_in'] == 5 * 365 * 86400
    ctl.advance_clock(1000)
    r = refresh(base, body['refresh_token'], headers={'x-include-refresh-token-hard-expires-in': 'true'})
    assert r.json()['x_refresh_token_hard_expires_in'] == 5 * 365 * 86400 - 1000


def test_client_secret_post_and_bad_client(ctl, base):
    q = get_code(ctl, base)
    r = hreq(base, 'POST', '/oauth2/v1/tokens/bearer', urllib.parse.urlencode({
        'grant_type': 'authorization_code', 'code': q['code'], 'redirect_uri': REDIRECT,
        'client_id': CLIENT_ID, 'client_secret': 'test-secret'}),
        {'Content-Type': 'application/x-www-form-urlencoded'})
    assert r.status == 200
    r = exchange(base, q['code'], headers={'Authorization': basic(secret='wrong')})
    assert r.status == 401 and r.json() == {'error': 'invalid_client'} and r.headers.get('intuit_tid')
    r = hreq(base, 'POST', '/oauth2/v1/tokens/bearer', 'grant_type=password',
             {'Authorization': basic(), 'Content-Type': 'application/x-www-form-urlencoded'})
    assert r.status == 400 and r.json()['error'] == 'unsupported_grant_type'


def test_code_single_use_revokes_tokens(ctl, base):
    q = get_code(ctl, base)
    first = exchange(base, q['code']).json()
    api = Api(base, q['realmId'], first)
    assert api.get('companyinfo/' + q['realmId']).status == 200
    r = exchange(base, q['code'])
    assert r.status == 400 and r.json()['error'] == 'invalid_grant'
    assert api.get('companyinfo/' + q['realmId']).status == 401
    assert refresh(base, first['refresh_token']).status == 400


def test_code_redirect_mismatch_and_expiry(ctl, base):
    q = get_code(ctl, base)
    assert exchange(base, q['code'], redirect_uri='http://other/cb').json() == {'error': 'invalid_grant'}
    q = get_code(ctl, base)
    ctl.advance_clock(601)
    assert exchange(base, q['code']).status == 400


def test_refresh_rotation_always_default(ctl, base):
    api = connect(ctl, base)
    old = api.tokens['refresh_token']
    r = refresh(base, old)
    assert r.status == 200
    new = r.json()
    assert new['refresh_token'] != old and new['x_refresh_token_expires_in'] == 8726400
    assert refresh(base, old).json()['error'] == 'invalid_grant'       # grace 0
    api.tokens = new
    assert api.get('preferences').status == 200
    assert ctl.requests_log(path_contains='/tokens/bearer')[-1]['grant_type'] == 'refresh_token'


def test_refresh_rotation_daily_and_grace(ctl, base):
    ctl.settings(refresh_rotation='daily', refresh_grace_seconds=3600)
    api = connect(ctl, base)
    old = api.tokens['refresh_token']
    ctl.advance_clock(100)
    r = refresh(base, old).json()
    assert r['refresh_token'] == old and r['x_refresh_token_expires_in'] == 8726400 - 100
    ctl.advance_clock(86400)
    r2 = refresh(base, old).json()
    assert r2['refresh_token'] != old and r2['x_refresh_token_expires_in'] == 8726400
    assert refresh(base, old).status == 200                     # superseded but within the grace period
    ctl.advance_clock(3601)
    assert refresh(base, old).json()['error'] == 'invalid_grant'


def test_expire_and_revoke_controls(ctl, base):
    api = connect(ctl, base)
    ctl.expire_tokens('access')
    r = api.get('preferences')
    assert r.status == 401
    body = r.json()
    assert body['fault']['error'][0]['code'] == '3200' and body['fault']['error'][0]['detail'].startswith('Token expired')  # noqa: E501
    new = refresh(base, api.tokens['refresh_token']).json()
    api.tokens = new
    assert api.get('preferences').status == 200
    ctl.expire_tokens('refresh')
    assert refresh(base, new['refresh_token']).json()['error'] == 'invalid_grant'
    api2 = connect(ctl, base)
    ctl.revoke_tokens(api2.realm)
    assert api2.get('preferences').status == 401
    assert refresh(base, api2.tokens['refresh_token']).status == 400


def test_access_token_expires_after_an_hour(ctl, base):
    api = connect(ctl, base)
    ctl.advance_clock(3599)
    assert api.get('preferences').status == 200
    ctl.advance_clock(2)
    assert api.get('preferences').status == 401


def test_revoke_endpoint(ctl, base):
    api = connect(ctl, base)
    r = hreq(base, 'POST', '/v2/oauth2/tokens/revoke', {'token': api.tokens['refresh_token']},
             {'Authorization': basic(), 'Content-Type': 'application/json', 'Accept': 'application/json'})
    assert r.status == 200 and r.headers.get('intuit_tid')
    assert api.get('preferences').status == 401
    assert refresh(base, api.tokens['refresh_token']).status == 400
    r = hreq(base, 'POST', '/v2/oauth2/tokens/revoke', {'token': 'x'},
             {'Authorization': basic(secret='bad'), 'Content-Type': 'application/json'})
    assert r.status == 401


def test_api_401_shape_wrong_realm_and_malformed(ctl, base):
    api = connect(ctl, base)
    ref = sample('fault_401_authentication.json')
    other = ctl.create_company('Other')
    r = api.call('GET', 'preferences', token='short')
    assert r.status == 401 and r.headers.get('intuit_tid')
    body = r.json()
    assert set(body) == set(ref) and set(body['fault']['error'][0]) == set(ref['fault']['error'][0])
    assert body['fault']['type'] == 'AUTHENTICATION'
    assert body['fault']['error'][0]['detail'] == 'Malformed bearer token: too short or too long'
    assert isinstance(body['time'], int)
    wrong = Api(base, other['realm_id'], api.tokens)
    r = wrong.get('preferences')
    assert r.status == 401 and r.json()['fault']['error'][0]['code'] == '3200'
    r = hreq(base, 'GET', '/v3/company/%s/preferences' % api.realm)
    assert r.status == 401


def test_403_without_accounting_scope(ctl, base):
    q = get_code(ctl, base, scope='openid email')
    api = Api(base, q['realmId'], exchange(base, q['code']).json())
    r = api.get('preferences')
    assert r.status == 403
    err = r.json()['fault']
    assert err['type'] == 'SERVICE' and err['error'][0]['code'] == '3100'


def test_userinfo(ctl, base):
    q = get_code(ctl, base, scope='com.intuit.quickbooks.accounting openid email')
    tok = exchange(base, q['code']).json()
    r = hreq(base, 'GET', '/v1/openid_connect/userinfo', headers={'Authorization': 'Bearer ' + tok['access_token']})
    assert r.status == 200 and 'sub' in r.json()
