"""Fixtures for the emulator's standalone tests (run from the repo root with pytest)."""
import base64
import http.client
import json
import os
import sys
import urllib.parse

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
EMULATOR_DIR = os.path.join(ROOT, 'emulator')   # the qbo-emulator distribution (package qbo_emulator)
if EMULATOR_DIR not in sys.path:
    sys.path.insert(0, EMULATOR_DIR)

from qbo_emulator.server import EmulatorServer  # noqa: E402
from qbo_emulator.testing import EmulatorControl  # noqa: E402


def _samples_dir():
    """Real QuickBooks payloads: $QBO_SAMPLES, else the first `shared/qbo-samples` beside a parent of the checkout."""
    if os.environ.get('QBO_SAMPLES'):
        return os.environ['QBO_SAMPLES']
    parent = ROOT
    while True:
        candidate = os.path.join(os.path.dirname(parent), 'shared', 'qbo-samples')
        if os.path.isdir(candidate) or os.path.dirname(parent) == parent:
            return candidate
        parent = os.path.dirname(parent)


SAMPLES = _samples_dir()
CLIENT_ID = 'test-client'
CLIENT_SECRET = 'test-secret'
REDIRECT = 'http://localhost:8069/qbo/callback'
SCOPE = 'com.intuit.quickbooks.accounting'


def sample(name):
    path = os.path.join(SAMPLES, name)
    if not os.path.isdir(SAMPLES):
        pytest.skip(f'sample folder {SAMPLES} is absent; set QBO_SAMPLES to a copy of shared/qbo-samples')
    if not os.path.exists(path):
        pytest.skip(f'sample {path} is absent')
    with open(path, encoding='utf-8') as fh:
        return json.load(fh)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode('utf-8'))


def hreq(base_url, method, path, body=None, headers=None):
    """Minimal HTTP client (no redirects followed)."""
    u = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode('utf-8')
        elif isinstance(body, str):
            body = body.encode('utf-8')
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def basic(cid=CLIENT_ID, secret=CLIENT_SECRET):
    return 'Basic ' + base64.b64encode(('%s:%s' % (cid, secret)).encode()).decode()


def authorize_url(base, **over):
    params = {'client_id': CLIENT_ID, 'response_type': 'code', 'scope': SCOPE, 'redirect_uri': REDIRECT,
              'state': 'st4te'}
    params.update(over)
    return base + '/connect/oauth2?' + urllib.parse.urlencode(params)


def get_code(ctl, base, realm_id=None, **over):
    loc = ctl.consent(authorize_url(base, **over), realm_id=realm_id)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    return q


def exchange(base, code, redirect_uri=REDIRECT, headers=None):
    h = {'Authorization': basic(), 'Content-Type': 'application/x-www-form-urlencoded',
         'Accept': 'application/json'}
    h.update(headers or {})
    return hreq(base, 'POST', '/oauth2/v1/tokens/bearer',
                urllib.parse.urlencode({'grant_type': 'authorization_code', 'code': code,
                                        'redirect_uri': redirect_uri}), h)


def refresh(base, token, headers=None):
    h = {'Authorization': basic(), 'Content-Type': 'application/x-www-form-urlencoded',
         'Accept': 'application/json'}
    h.update(headers or {})
    return hreq(base, 'POST', '/oauth2/v1/tokens/bearer',
                urllib.parse.urlencode({'grant_type': 'refresh_token', 'refresh_token': token}), h)


class Api:
    """A connected API client for one realm."""

    def __init__(self, base, realm, tokens):
        self.base = base
        self.realm = realm
        self.tokens = tokens

    @property
    def access(self):
        return self.tokens['access_token']

    def call(self, method, path, body=None, params=None, ctype='application/json', token=None):
        params = dict(params or {})
        params.setdefault('minorversion', '75')
        url = '/v3/company/%s/%s?%s' % (self.realm, path, urllib.parse.urlencode(params))
        h = {'Authorization': 'Bearer ' + (token or self.access), 'Accept': 'application/json',
             'Content-Type': ctype}
        return hreq(self.base, method, url, body, h)

    def get(self, path, **kw):
        return self.call('GET', path, **kw)

    def post(self, path, body, **kw):
        return self.call('POST', path, body, **kw)

    def create(self, entity, body, **kw):
        r = self.post(entity.lower(), body, **kw)
        assert r.status == 200, r.body
        return r.json()[entity]

    def query(self, text):
        r = self.call('POST', 'query', text, ctype='application/text')
        assert r.status == 200, r.body
        return r.json()['QueryResponse']

    def fault(self, r, status=400):
        assert r.status == status, (r.status, r.body)
        return r.json()['Fault']['Error'][0]


def connect(ctl, base, realm_id=None):
    q = get_code(ctl, base, realm_id)
    r = exchange(base, q['code'])
    assert r.status == 200, r.body
    return Api(base, q['realmId'], r.json())


@pytest.fixture(scope='session')
def server():
    srv = EmulatorServer(host='127.0.0.1', port=0, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                         redirect_uris=[REDIRECT], state_file=None)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def base(server):
    return server.url


@pytest.fixture
def ctl(server):
    c = EmulatorControl(server.url)
    c.reset()
    return c


@pytest.fixture
def api(ctl, base):
    return connect(ctl, base)
