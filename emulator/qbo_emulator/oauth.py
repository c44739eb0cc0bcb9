"""Intuit OAuth 2.0 emulation: apps, authorization codes, grants, token rotation (spec §1).

A *grant* is one consent (client + realm); it owns the current refresh token
value, superseded values (valid for ``refresh_grace_seconds``) and its access
tokens. Reusing an authorization code revokes the grant issued from it, like
Intuit does ("double callback").
"""
import base64
import binascii
import json
import urllib.parse

from . import errors, util

ACCESS_TTL = 3600
REFRESH_TTL = 8726400                 # x_refresh_token_expires_in of a fresh refresh token (~101 days)
HARD_TTL = 5 * 365 * 86400            # 5-year cap from first consent
CODE_TTL = 600
ACCESS_PREFIX = 'eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..'

KNOWN_SCOPES = {
    'com.intuit.quickbooks.accounting', 'com.intuit.quickbooks.payment', 'openid', 'profile', 'email',
    'phone', 'address', 'com.intuit.quickbooks.payroll', 'com.intuit.quickbooks.payroll.timetracking',
    'com.intuit.quickbooks.payroll.benefits', 'intuit_name',
}


class OAuth:
    def __init__(self, clock, settings):
        self.clock = clock
        self.settings = settings
        self.apps = {}            # client_id -> {"client_secret", "redirect_uris"}
        self.codes = {}           # code -> dict
        self.grants = {}          # grant id -> dict
        self.access = {}          # access token -> {"grant", "expires"}
        self.refresh = {}         # refresh value -> {"grant", "valid_until" (superseded) or None}
        self.seq = 0

    # ------------------------------------------------------------------ apps
    def register_app(self, client_id, client_secret, redirect_uris):
        self.apps[client_id] = {'client_secret': client_secret, 'redirect_uris': list(redirect_uris or [])}

    def clear_tokens(self):
        self.codes.clear()
        self.grants.clear()
        self.access.clear()
        self.refresh.clear()

    def check_authorize(self, params):
        """Validate an authorize request. Returns (app, redirect error or None).

        Invalid client_id / redirect_uri raise ValueError (rendered as an HTML 400 page, never a
        redirect); other problems are reported to the redirect_uri as RFC 6749 errors.
        """
        client_id = params.get('client_id')
        app = self.apps.get(client_id or '')
        if app is None:
            raise ValueError('Invalid client_id')
        redirect_uri = params.get('redirect_uri')
        if not redirect_uri or redirect_uri not in app['redirect_uris']:
            raise ValueError('The redirect_uri is not registered for this app')
        if params.get('response_type') != 'code':
            return app, 'unsupported_response_type'
        scopes = (params.get('scope') or '').split()
        if not scopes or any(s not in KNOWN_SCOPES for s in scopes):
            return app, 'invalid_scope'
        return app, None

    def issue_code(self, client_id, redirect_uri, realm_id, scope):
        code = 'AB11' + str(int(self.clock.now())) + util.rand_token(34)
        self.codes[code] = {'client_id': client_id, 'redirect_uri': redirect_uri, 'realm_id': realm_id,
                            'scope': scope, 'expires': self.clock.now() + float(self.settings.get(
                                'code_lifetime_seconds', CODE_TTL)), 'used': False, 'grant': None}
        return code

    # ------------------------------------------------------------------ client auth
    def client_auth(self, headers, form):
        """client_secret_basic or client_secret_post; raises 401 invalid_client."""
        auth = headers.get('Authorization') or ''
        cid = secret = None
        if auth.lower().startswith('basic '):
            try:
                raw = base64.b64decode(auth[6:].strip()).decode('utf-8')
                cid, _, secret = raw.partition(':')
                cid, secret = urllib.parse.unquote(cid), urllib.parse.unquote(secret)
            except (binascii.Error, UnicodeDecodeError):
                raise errors.OAuthError('invalid_client', 401)
        elif form.get('client_id'):
            cid, secret = form.get('client_id'), form.get('client_secret')
        app = self.apps.get(cid or '')
        if app is None or app['client_secret'] != secret:
            raise errors.OAuthError('invalid_client', 401)
        return cid

    # ------------------------------------------------------------------ tokens
    def _new_refresh(self, grant):
        value = 'AB11' + str(int(self.clock.now()) + REFRESH_TTL) + util.rand_token(34)
        now = self.clock.now()
        old = grant.get('refresh')
        if old:
            grace = float(self.settings.get('refresh_grace_seconds', 0) or 0)
            if old in self.refresh:
                self.refresh[old]['valid_until'] = now + grace
        grant['refresh'] = value
        grant['refresh_issued'] = now
        grant['refresh_expires'] = min(now + REFRESH_TTL, grant['hard_expires'])
        self.refresh[value] = {'grant': grant['id'], 'valid_until': None}
        return value

    def _new_access(self, grant):
        token = ACCESS_PREFIX + util.rand_token(600, util.string.ascii_letters + util.string.digits + '-_') + \
            '.' + util.rand_token(22)
        self.access[token] = {'grant': grant['id'], 'expires': self.clock.now() + ACCESS_TTL}
        return token

    def _id_token(self, grant, client_id, base_url):
        now = int(self.clock.now())
        header = util.b64url(json.dumps({'kid': 'OPICPRDJWKS', 'alg': 'RS256'}).encode())
        payload = util.b64url(json.dumps({
            'sub': grant['sub'], 'aud': [client_id], 'realmid': grant['realm_id'], 'auth_time': now,
            'iss': base_url + '/op/v1', 'exp': now + ACCESS_TTL, 'iat': now}).encode())
        return header + '.' + payload + '.' + util.b64url(util.rand_token(64).encode())

    def _token_response(self, grant, client_id, want_hard, base_url):
        now = self.clock.now()
        body = {'token_type': 'bearer', 'access_token': self._new_access(grant),
                'refresh_token': grant['refresh'], 'expires_in': ACCESS_TTL,
                'x_refresh_token_expires_in': max(0, int(round(grant['refresh_expires'] - now)))}
        if 'openid' in grant['scope'].split():
            body['id_token'] = self._id_token(grant, client_id, base_url)
        if want_hard:
            body['x_refresh_token_hard_expires_in'] = max(0, int(round(grant['hard_expires'] - now)))
        return body

    def token(self, headers, form, base_url):
        """POST /oauth2/v1/tokens/bearer."""
        client_id = self.client_auth(headers, form)
        want_hard = (headers.get('x-include-refresh-token-hard-expires-in') or '').strip().lower() == 'true'
        grant_type = form.get('grant_type')
        now = self.clock.now()
        if not grant_type:
            raise errors.OAuthError('invalid_request')
        if grant_type == 'authorization_code':
            code = form.get('code')
            if not code:
                raise errors.OAuthError('invalid_request')
            rec = self.codes.get(code)
            if rec is None or rec['client_id'] != client_id:
                raise errors.OAuthError('invalid_grant')
            if rec['used']:
                # double exchange: the tokens issued from this code are revoked as well
                if rec['grant']:
                    self.revoke_grant(rec['grant'])
                raise errors.OAuthError('invalid_grant')
            if rec['expires'] < now:
                raise errors.OAuthError('invalid_grant', description='Authorization code expired')
            if form.get('redirect_uri') != rec['redirect_uri']:
                raise errors.OAuthError('invalid_grant')
            rec['used'] = True
            self.seq += 1
            grant = {'id': 'g%d' % self.seq, 'client_id': client_id, 'realm_id': rec['realm_id'],
                     'scope': rec['scope'], 'created': now, 'hard_expires': now + HARD_TTL, 'revoked': False,
                     'sub': util.rand_token(8).lower() + '-' + util.rand_token(4).lower(), 'refresh': None}
            self.grants[grant['id']] = grant
            rec['grant'] = grant['id']
            self._new_refresh(grant)
            return self._token_response(grant, client_id, want_hard, base_url), grant
        if grant_type == 'refresh_token':
            value = form.get('refresh_token')
            if not value:
                raise errors.OAuthError('invalid_request')
            rec = self.refresh.get(value)
            if rec is None:
                raise errors.OAuthError('invalid_grant', description='Token invalid')
            grant = self.grants.get(rec['grant'])
            if grant is None or grant['revoked'] or grant['client_id'] != client_id:
                raise errors.OAuthError('invalid_grant', description='Token invalid')
            if rec['valid_until'] is not None and rec['valid_until'] < now:
                raise errors.OAuthError('invalid_grant', description='Token invalid')
            if grant['refresh_expires'] <= now or grant['hard_expires'] <= now:
                raise errors.OAuthError('invalid_grant', description='Token has been expired or revoked.')
            rotation = self.settings.get('refresh_rotation', 'always')
            if rec['valid_until'] is not None or rotation == 'always' or \
                    now - grant['refresh_issued'] >= 86400:
                self._new_refresh(grant)
            return self._token_response(grant, client_id, want_hard, base_url), grant
        raise errors.OAuthError('unsupported_grant_type')

    def revoke_grant(self, grant_id):
        grant = self.grants.get(grant_id)
        if grant is None:
            return
        grant['revoked'] = True
        for tok in [t for t, r in self.access.items() if r['grant'] == grant_id]:
            del self.access[tok]
        for val in [v for v, r in self.refresh.items() if r['grant'] == grant_id]:
            del self.refresh[val]

    def revoke(self, headers, body):
        """POST /v2/oauth2/tokens/revoke with {"token": refresh or access token}."""
        client_id = self.client_auth(headers, {})
        token = (body or {}).get('token')
        if not token:
            raise errors.OAuthError('invalid_request')
        rec = self.refresh.get(token) or self.access.get(token)
        if rec is not None:
            grant = self.grants.get(rec['grant'])
            if grant is not None and grant['client_id'] == client_id:
                self.revoke_grant(grant['id'])

    def check_bearer(self, auth_header, realm_id):
        """Validate ``Authorization: Bearer`` for a realm; raises GatewayError 401/403."""
        if not auth_header or not auth_header.lower().startswith('bearer '):
            raise errors.auth_failed(None)
        token = auth_header[7:].strip()
        if len(token) < 20 or len(token) > 4096:
            raise errors.auth_failed('Malformed bearer token: too short or too long')
        rec = self.access.get(token)
        if rec is None:
            raise errors.auth_failed('Token revoked or invalid: %s' % token[:60])
        grant = self.grants.get(rec['grant'])
        if grant is None or grant['revoked']:
            raise errors.auth_failed('Token revoked or invalid: %s' % token[:60])
        if rec['expires'] <= self.clock.now():
            raise errors.auth_failed('Token expired: %s' % token[:60])
        if grant['realm_id'] != realm_id:
            raise errors.auth_failed('Token is not valid for realm %s' % realm_id)
        if 'com.intuit.quickbooks.accounting' not in grant['scope'].split():
            raise errors.authz_failed(None)
        return grant

    def expire(self, realm_id, which):
        now = self.clock.now()
        for grant in self.grants.values():
            if realm_id and grant['realm_id'] != realm_id:
                continue
            if which in ('access', 'all'):
                for rec in self.access.values():
                    if rec['grant'] == grant['id']:
                        rec['expires'] = now - 1
            if which in ('refresh', 'all'):
                grant['refresh_expires'] = now - 1

    def revoke_realm(self, realm_id):
        for gid, grant in list(self.grants.items()):
            if realm_id is None or grant['realm_id'] == realm_id:
                self.revoke_grant(gid)

    # ------------------------------------------------------------------ persistence
    def to_json(self):
        return {'apps': self.apps, 'codes': self.codes, 'grants': self.grants, 'access': self.access,
                'refresh': self.refresh, 'seq': self.seq}

    def load(self, d):
        self.apps.update(d.get('apps', {}))
        self.codes = d.get('codes', {})
        self.grants = d.get('grants', {})
        self.access = d.get('access', {})
        self.refresh = d.get('refresh', {})
        self.seq = d.get('seq', 0)
