"""HTTP layer: one host serving Intuit's OAuth paths, the Accounting API, the control API and a status page.

Path map (same paths as Intuit's hosts):

* ``/.well-known/openid_configuration`` and ``/.well-known/openid_sandbox_configuration``
* ``/connect/oauth2`` (appcenter.intuit.com), ``/oauth2/v1/tokens/bearer`` (oauth.platform.intuit.com),
  ``/v2/oauth2/tokens/revoke`` (developer.api.intuit.com), ``/v1/openid_connect/userinfo``, ``/op/v1/jwks``
* ``/v3/company/{realmId}/...`` (quickbooks.api.intuit.com)
* ``/_emulator/...`` control API, ``/`` read-only HTML overview.
"""
import html
import json
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import api, control, errors, page, util
from .emulator import Emulator
from .refs import Ctx

JSON_CT = 'application/json;charset=UTF-8'


def metered(method, parts, batch_body=None):
    """(reads, writes) of one API call, as Intuit meters them: reads ("CorePlus": GET by id, queries, CDC,
    reports, PDFs) are counted against the monthly quota, writes ("Core") are not. A batch counts its items:
    query items as reads, the others as writes."""
    head = parts[0].lower() if parts else ''
    if head == 'batch':
        try:
            items = json.loads(batch_body or b'{}').get('BatchItemRequest') or []
        except (ValueError, AttributeError):
            items = []
        reads = sum(1 for i in items if isinstance(i, dict) and 'Query' in i)
        return reads, len(items) - reads
    if method == 'GET' or head == 'query':
        return 1, 0
    return 0, 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'QBOEmulator/1.0'
    emu = None            # set on the per-server subclass
    log_entry = None      # this request's row in the request log

    def log_message(self, fmt, *args):      # keep test output quiet
        pass

    def setup(self):
        super().setup()
        # keep-alive clients would otherwise hit Nagle / delayed-ACK stalls (~40 ms per request)
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    # ------------------------------------------------------------------ plumbing
    def do_GET(self):
        self.dispatch('GET')

    def do_POST(self):
        self.dispatch('POST')

    def do_PATCH(self):
        self.dispatch('PATCH')

    def do_DELETE(self):
        self.dispatch('DELETE')

    def do_PUT(self):
        self.dispatch('PUT')

    def base_url(self):
        host = self.headers.get('Host') or '%s:%s' % self.server.server_address[:2]
        return 'http://' + host

    def send(self, status, body, ctype=JSON_CT, extra=None):
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode('utf-8')
        elif isinstance(body, str):
            data = body.encode('utf-8')
        else:
            data = body or b''
        self.send_response(status)
        self.send_header('intuit_tid', self.tid)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Cache-Control', 'no-cache, no-store')
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if self.close_connection:
            # the client asked to close (python-quickbooks' uploads send "Connection: close"): say so, or its
            # pool would reuse the socket this server is about to close
            self.send_header('Connection', 'close')
        # headers and body in one write
        self._headers_buffer.append(b'\r\n')
        if self.command != 'HEAD':
            self._headers_buffer.append(data)
        # logged before the client can read the answer (and ask the request log about it)
        self.status_sent = status
        if self.log_entry is not None:
            self.log_entry['status'] = status
        self.flush_headers()

    def drop_connection(self):
        """Close the socket without any response (client sees a dropped connection)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.status_sent = None

    def dispatch(self, method):
        self.tid = util.new_tid()
        self.status_sent = None
        self.log_entry = None
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        emu = self.emu
        if path.startswith('/_emulator/') or path == '/_emulator':
            return self.handle_control(method, path, params, body)
        entry = {'method': method, 'path': path, 'query': params, 'status': None, 'realm_id': None,
                 'grant_type': None, 'requestid': params.get('requestid')}
        parts = [p for p in path.split('/') if p]
        if len(parts) >= 3 and parts[0] == 'v3' and parts[1] == 'company':
            entry['realm_id'] = parts[2]
        if path == '/oauth2/v1/tokens/bearer':
            form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode('utf-8', 'replace')).items()}
            entry['grant_type'] = form.get('grant_type')
        else:
            form = None
        is_page = path in ('/', '/favicon.ico')
        if not is_page:
            self.log_entry = emu.log_request(entry)
        try:
            fault = None if is_page else emu.take_fault(method, path, entry['realm_id'])
            if fault and self.apply_fault(fault):
                return
            if path.startswith('/v3/'):
                self.handle_api(method, path, parts, params, body, fault)
            elif path.startswith('/.well-known/openid'):
                self.send(200, self.discovery())
            elif path == '/connect/oauth2':
                self.handle_authorize(method, params, body)
            elif path == '/oauth2/v1/tokens/bearer' and method == 'POST':
                self.handle_token(form)
            elif path == '/v2/oauth2/tokens/revoke' and method == 'POST':
                self.handle_revoke(body)
            elif path.endswith('/openid_connect/userinfo'):
                self.handle_userinfo()
            elif path == '/op/v1/jwks':
                self.send(200, {'keys': []})
            elif path == '/':
                self.send(200, page.index(emu), 'text/html; charset=utf-8')
            else:
                self.send(404, {'error': 'not_found'})
            if fault and fault['kind'] == 'timeout_after_commit':
                pass
        finally:
            entry['status'] = self.status_sent
            emu.dirty = emu.dirty or method != 'GET'

    def apply_fault(self, fault):
        """Serve an injected fault. Returns True if the request is finished."""
        kind = fault['kind']
        emu = self.emu
        if kind == 'delay':
            time.sleep(fault['delay_seconds'])
            return False
        if kind == 'timeout_after_commit':
            return False                     # handled after execution
        if kind == 'drop':
            self.drop_connection()
            return True
        now = emu.clock.now()
        tstr = util.fmt_dt(now, -420, ms=True)
        if kind == '429':
            if fault.get('realm_id') or '/v3/company/' in self.path:
                emu.meter(fault.get('realm_id') or self.path.split('/')[3], status=429)
            self.send(429, errors.throttle_error().body(tstr))
        elif kind in ('500', '503'):
            self.send(int(kind), errors.system_fault(int(kind)).body(tstr))
        elif kind == '401':
            self.send(401, errors.auth_failed(None).body(now),
                      extra={'WWW-Authenticate': 'Bearer realm="Intuit", error="invalid_token"'})
        elif kind == '403':
            self.send(403, errors.authz_failed(None).body(now))
        return True

    # ------------------------------------------------------------------ control
    def handle_control(self, method, path, params, body):
        host = self.client_address[0]
        if host not in ('127.0.0.1', '::1', '::ffff:127.0.0.1') and not host.startswith('127.'):
            return self.send(403, {'error': 'control API is loopback only'})
        parts = [p for p in path.split('/') if p][1:]
        if parts[:1] == ['ui'] and method == 'POST':
            # the HTML page's forms (form-encoded), answered with a redirect back to the page
            form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode('utf-8', 'replace')).items()}
            status, text, location = page.action(self.emu, parts[1:], form)
            if location:
                return self.send(status, b'', 'text/plain', extra={'Location': location})
            return self.send(status, text, 'text/html; charset=utf-8')
        if parts[:1] == ['files'] and method == 'GET':
            # an uploaded attachment's bytes (the TempDownloadUri of an Attachable)
            status, content, ctype = control.download_file(self.emu, parts[1:])
            return self.send(status, content, ctype)
        try:
            data = json.loads(body.decode('utf-8')) if body else {}
            if not isinstance(data, dict):
                raise ValueError('JSON object expected')
        except ValueError as e:
            return self.send(400, {'error': 'invalid JSON: %s' % e})
        try:
            status, out = control.handle(self.emu, method, parts, params, data)
        except control.ControlError as e:
            status, out = e.status, {'error': e.message}
        except errors.QBOError as e:
            status, out = e.status, e.body(util.fmt_dt(self.emu.clock.now(), 0, ms=True))
        self.send(status, out)

    # ------------------------------------------------------------------ OAuth
    def discovery(self):
        b = self.base_url()
        return {
            'issuer': b + '/op/v1', 'authorization_endpoint': b + '/connect/oauth2',
            'token_endpoint': b + '/oauth2/v1/tokens/bearer',
            'userinfo_endpoint': b + '/v1/openid_connect/userinfo',
            'revocation_endpoint': b + '/v2/oauth2/tokens/revoke', 'jwks_uri': b + '/op/v1/jwks',
            'response_types_supported': ['code'], 'subject_types_supported': ['public'],
            'id_token_signing_alg_values_supported': ['RS256'],
            'scopes_supported': ['openid', 'email', 'profile', 'address', 'phone'],
            'token_endpoint_auth_methods_supported': ['client_secret_post', 'client_secret_basic'],
            'claims_supported': ['aud', 'exp', 'iat', 'iss', 'realmid', 'sub'],
        }

    def error_page(self, message):
        page = ('<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Something went wrong</h1>'
                '<p>%s</p></body></html>' % html.escape(message))
        self.send(400, page, 'text/html; charset=utf-8')

    def redirect(self, uri, params):
        sep = '&' if '?' in uri else '?'
        self.send(302, b'', 'text/plain', extra={'Location': uri + sep + urllib.parse.urlencode(params)})

    def handle_authorize(self, method, params, body):
        emu = self.emu
        if method == 'POST':
            form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode('utf-8', 'replace'),
                                                               keep_blank_values=True).items()}
            params = dict(params, **form)
            params.setdefault('response_type', 'code')
        with emu.lock:
            try:
                app, redirect_error = emu.oauth.check_authorize(params)
            except ValueError as e:
                return self.error_page(str(e))
            redirect_uri = params['redirect_uri']
            state = params.get('state')
            extra = {'state': state} if state is not None else {}
            if redirect_error:
                return self.redirect(redirect_uri, dict({'error': redirect_error}, **extra))
            if method == 'GET':
                return self.send(200, self.consent_page(params), 'text/html; charset=utf-8')
            decision = params.get('decision', 'approve')
            if decision == 'deny':
                return self.redirect(redirect_uri, dict({'error': 'access_denied'}, **extra))
            realm = params.get('realm_id') or self.preselected_realm(params.get('client_id'))
            if realm not in emu.companies:
                return self.error_page('Unknown company %s' % realm)
            code = emu.oauth.issue_code(params['client_id'], redirect_uri, realm, params.get('scope', ''))
            emu.dirty = True
            out = {'code': code}
            out.update(extra)
            out['realmId'] = realm
            return self.redirect(redirect_uri, out)

    def preselected_realm(self, client_id):
        """The company the consent page proposes: the one this app was last authorized for (as Intuit
        remembers the company last signed into), else the newest (the one just made for a demo or a test,
        not the seeded sandbox company listed first)."""
        companies = self.emu.companies
        for code in reversed(list(self.emu.oauth.codes.values())):
            if code['client_id'] == client_id and code['realm_id'] in companies:
                return code['realm_id']
        return next(reversed(companies), None)

    def consent_page(self, params):
        e = html.escape
        chosen = self.preselected_realm(params.get('client_id'))
        options = ''.join('<option value="%s"%s>%s (%s)</option>' % (
            e(c.realm_id), ' selected' if c.realm_id == chosen else '', e(c.name), e(c.country))
            for c in self.emu.companies.values())
        hidden = ''.join('<input type="hidden" name="%s" value="%s">' % (k, e(params.get(k) or ''))
                         for k in ('client_id', 'redirect_uri', 'state', 'scope'))
        return ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>Connect to QuickBooks (emulator)</title>'
                '</head><body><h1>Connect your app to QuickBooks</h1><p>App <b>%s</b> asks for access: %s</p>'
                '<form method="post" action="/connect/oauth2">%s<label>Company <select name="realm_id">%s'
                '</select></label> <button type="submit" name="decision" value="approve">Connect</button> '
                '<button type="submit" name="decision" value="deny">Cancel</button></form></body></html>'
                % (e(params.get('client_id', '')), e(params.get('scope', '')), hidden, options))

    def handle_token(self, form):
        emu = self.emu
        try:
            with emu.lock:
                body, _grant = emu.oauth.token(self.headers, form or {}, self.base_url())
                emu.dirty = True
            self.send(200, body)
        except errors.OAuthError as e:
            self.send(e.status, e.body())

    def handle_revoke(self, body):
        try:
            data = json.loads(body.decode('utf-8')) if body else {}
        except ValueError:
            data = {}
        try:
            with self.emu.lock:
                self.emu.oauth.revoke(self.headers, data if isinstance(data, dict) else {})
                self.emu.dirty = True
            self.send(200, b'', 'application/json')
        except errors.OAuthError as e:
            self.send(e.status, e.body())

    def handle_userinfo(self):
        auth = self.headers.get('Authorization') or ''
        with self.emu.lock:
            rec = self.emu.oauth.access.get(auth[7:].strip()) if auth.lower().startswith('bearer ') else None
            grant = self.emu.oauth.grants.get(rec['grant']) if rec else None
            if grant is None or rec['expires'] <= self.emu.clock.now():
                return self.send(401, {'error': 'invalid_token'})
        self.send(200, {'sub': grant['sub'], 'email': 'emulator.user@example.com', 'emailVerified': True,
                        'givenName': 'Emulator', 'familyName': 'User'})

    # ------------------------------------------------------------------ API
    def handle_api(self, method, path, parts, params, body, fault):
        emu = self.emu
        if len(parts) < 4 or parts[1] != 'company':
            return self.send(404, {'error': 'not_found'})
        realm = parts[2]
        with emu.lock:
            try:
                emu.oauth.check_bearer(self.headers.get('Authorization'), realm)
            except errors.GatewayError as e:
                extra = {'WWW-Authenticate': 'Bearer realm="Intuit", error="invalid_token"'} if e.status == 401 \
                    else None
                return self.send(e.status, e.body(emu.clock.now()), extra=extra)
            company = emu.companies.get(realm)
        if company is None:
            return self.send(403, errors.authz_failed(None).body(emu.clock.now()))
        is_batch = len(parts) > 3 and parts[3].lower() == 'batch'
        if not emu.check_limits(realm, is_batch):
            emu.meter(realm, status=429)
            return self.send(429, errors.throttle_error().body(
                util.fmt_dt(emu.clock.now(), company.tz_minutes, ms=True)))
        try:
            status, data, ctype = self.api_call(method, parts, params, body, company, is_batch)
        finally:
            # no longer in flight once answered: a client's next request may follow at once
            emu.leave(realm)
        if fault and fault['kind'] == 'timeout_after_commit':
            return self.drop_connection()
        self.send(status, data, ctype)

    def api_call(self, method, parts, params, body, company, is_batch):
        """Run one admitted API call (latency, requestid replay, execution, metering); returns
        (status, bytes, content type)."""
        emu = self.emu
        realm = company.realm_id
        rid = params.get('requestid')
        if emu.settings.get('latency_ms'):
            time.sleep(float(emu.settings['latency_ms']) / 1000.0)
        with emu.lock:
            if rid and (realm, rid) in emu.requestids:
                status, data, ctype = emu.requestids[(realm, rid)]
                emu.meter(realm, *metered(method, parts[3:], body if is_batch else None), status=status)
                # replay: same response, nothing re-executed (spec §2.6)
                return status, data, ctype
            limit = 36 if is_batch else 50        # batch requestids are shorter (§13)
            if rid and len(rid) > limit:
                err = errors.string_length('requestid', limit, len(rid))
                emu.meter(realm, status=400)
                body = err.body(util.fmt_dt(emu.clock.now(), company.tz_minutes, ms=True))
                return 400, json.dumps(body).encode('utf-8'), JSON_CT
            now = emu.clock.now()
            ctx = Ctx(company, now, include=(params.get('include') or '').split(','))
            ctx.base_url = self.base_url()
            try:
                status, payload, ctype = api.handle(ctx, method, parts[3:], params, body,
                                                    self.headers.get('Content-Type', ''))
            except errors.QBOError as e:
                status, payload, ctype = e.status, e.body(util.fmt_dt(now, company.tz_minutes, ms=True)), None
            reads, writes = metered(method, parts[3:], body if is_batch and status == 200 else None)
            emu.meter(realm, reads, writes, status)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode('utf-8')
            ctype = ctype or JSON_CT
            if rid:
                emu.requestids[(realm, rid)] = (status, data, ctype)
            if method != 'GET':
                emu.dirty = True
            return status, data, ctype


class EmulatorServer:
    """In-process emulator: ``start()`` is non-blocking (background thread), ``stop()`` is clean.

    ``url`` is ``http://HOST:PORT`` once started (``port=0`` picks a free port).
    """

    def __init__(self, host='127.0.0.1', port=0, client_id='emulator-client', client_secret='emulator-secret',
                 redirect_uris=('http://localhost/callback',), state_file=None, limits=False):
        self.host = host
        self.port = port
        self.emulator = Emulator(client_id, client_secret, list(redirect_uris or []), state_file, limits)
        self._httpd = None
        self._thread = None
        self._stop = threading.Event()

    @property
    def url(self):
        host, port = self._httpd.server_address[:2]
        return 'http://%s:%d' % (host, port)

    @property
    def seeded_realm_id(self):
        return next(iter(self.emulator.companies))

    def start(self):
        handler = type('BoundHandler', (Handler,), {'emu': self.emulator})
        self._httpd = _Server((self.host, self.port), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={'poll_interval': 0.1},
                                        name='qbo-emulator', daemon=True)
        self._thread.start()
        self.emulator.webhooks.start()
        if self.emulator.state_file:
            self.emulator.start_saver(self._stop)
        return self

    def stop(self):
        self._stop.set()
        self.emulator.webhooks.stop()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None
        if self.emulator.state_file:
            self.emulator.save()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
