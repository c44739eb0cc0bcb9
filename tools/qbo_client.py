"""The one HTTP choke point of the connector: Intuit OAuth 2.0 and the QuickBooks Accounting API.

Plain Python on top of `requests` - no ORM, no records - so that it can be tested against the
emulator without Odoo and reused by any code path (button, cron, settings, demo script).

Every request:
  * has explicit connect/read timeouts;
  * carries `minorversion` (API) and, for writes, a caller-chosen `requestid` so that a retry after
    an unknown outcome is replayed by QuickBooks instead of executed twice;
  * raises one of our exceptions (tools/qbo_exceptions.py) carrying HTTP status, fault code,
    element, detail and `intuit_tid`;
  * is reported to an optional `on_call` callback (the transfer history) without tokens or bodies.
"""
import base64
import json
import logging
import re
import time
import uuid
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from urllib.parse import quote, urlencode

import requests

from .. import const
from .i18n import _lt
from .qbo_exceptions import (
    QboAuthError,
    QboConnectionError,
    QboError,
    QboForbiddenError,
    QboOAuthError,
    QboRateLimitError,
    QboServerError,
    QboTimeBudgetExceeded,
    QboValidationError,
)

_logger = logging.getLogger(__name__)


def qbo_quote(value):
    """Quote a value for the QuickBooks query language ('...' with backslash-escaped quotes).

    :param str value: raw value
    :return: the quoted literal, e.g. ``'Amy\\'s Bird Sanctuary'``
    :rtype: str
    """
    return "'" + str(value).replace('\\', '\\\\').replace("'", "\\'") + "'"


def endpoints_for(environment, custom_base_url=None):
    """Return the endpoint URLs of an environment ('production', 'sandbox' or 'custom').

    :param str environment: the connection's environment
    :param str custom_base_url: base URL of a host serving every Intuit path (the emulator)
    :rtype: dict
    :raise ValueError: custom environment without a base URL, or an unknown environment
    """
    if environment == 'custom':
        if not custom_base_url:
            raise ValueError(_lt("A custom QuickBooks endpoint needs a base URL."))
        base = custom_base_url.rstrip('/')
        return {key: base + path for key, path in const.CUSTOM_PATHS.items()}
    if environment not in const.OAUTH_ENDPOINTS:
        raise ValueError(_lt("Unknown QuickBooks environment %r.", environment))
    return dict(const.OAUTH_ENDPOINTS[environment])


# What a secret looks like in a text QuickBooks or a proxy sends back: a JWT / JWE (Intuit's access
# tokens), a bearer header, or any long run of token characters (refresh tokens, keys).
_SECRET_RE = re.compile(r"(?:Bearer\s+)?(?:eyJ[\w-]*(?:\.[\w-]*)*|[A-Za-z0-9_\-]{32,}(?:\.[\w-]+)*)")


def scrub_secrets(text):
    """`text` with every token-like fragment replaced, so that no part of a token is ever stored or
    shown (fault details sometimes quote the rejected token)."""
    return _SECRET_RE.sub('[redacted]', text) if text else text


def _parse_fault(response):
    """Extract (errors, fault_type) from a QuickBooks error response of any of its shapes.

    Every text is scrubbed of token-like fragments (see `scrub_secrets`): it ends up in the transfer
    history, on the record and in banners.

    QuickBooks answers validation faults as ``{"Fault": {"Error": [...]}}``, gateway
    authentication failures as ``{"fault": {"error": [...]}}`` (lower case) and throttling
    sometimes as XML, whatever the Accept header said.

    :return: (list of dicts with message/detail/code/element, fault type or None)
    """
    errors, fault_type = _parse_fault_raw(response)
    return [{key: scrub_secrets(value) for key, value in error.items()} for error in errors], fault_type


def _parse_fault_raw(response):
    """`_parse_fault` before scrubbing."""
    text = response.text or ''
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        fault = body.get('Fault') or body.get('fault')
        if isinstance(fault, dict):
            raw = fault.get('Error') or fault.get('error') or []
            errors = [{
                'message': e.get('Message') or e.get('message') or '',
                'detail': e.get('Detail') or e.get('detail') or '',
                'code': str(e.get('code') or ''),
                'element': e.get('element') or '',
            } for e in raw]
            return errors, fault.get('type')
        if 'error' in body:  # OAuth endpoints
            return [{'message': body.get('error_description') or body['error'], 'detail': '',
                     'code': body['error'], 'element': ''}], 'OAuth'
    if text.lstrip().startswith('<'):
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            root = None
        if root is not None:
            errors = []
            for err in root.iter():
                if err.tag.split('}')[-1] != 'Error':
                    continue
                fields = {child.tag.split('}')[-1]: (child.text or '') for child in err}
                errors.append({'message': fields.get('Message', ''), 'detail': fields.get('Detail', ''),
                               'code': err.get('code', ''), 'element': err.get('element') or ''})
            fault_type = next((el.get('type') for el in root.iter() if el.tag.split('}')[-1] == 'Fault'), None)
            if errors:
                return errors, fault_type
    return [{'message': text[:300] or response.reason or '', 'detail': '', 'code': '', 'element': ''}], None


def error_from_batch_fault(fault):
    """Build the exception matching the Fault of one batch item (same classes as a single call).

    :param dict fault: the item's ``Fault`` (``{"type": ..., "Error": [...]}``)
    :rtype: QboError
    """
    raw = fault.get('Error') or fault.get('error') or []
    errors = [{'message': scrub_secrets(e.get('Message') or e.get('message') or ''),
               'detail': scrub_secrets(e.get('Detail') or e.get('detail') or ''),
               'code': str(e.get('code') or ''), 'element': e.get('element') or ''} for e in raw]
    first = errors[0] if errors else {}
    kwargs = {'code': first.get('code') or None, 'detail': first.get('detail') or None,
              'element': first.get('element') or None, 'errors': errors}
    message = first.get('message') or "A batch item failed."
    fault_type = (fault.get('type') or '').lower()
    if first.get('code') == const.FAULT_THROTTLED:
        return QboRateLimitError(message, status=429, **kwargs)
    if fault_type == 'authenticationfault':
        return QboAuthError(message, status=401, **kwargs)
    if fault_type == 'authorizationfault':
        return QboForbiddenError(message, status=403, **kwargs)
    if fault_type == 'systemfault':
        return QboServerError(message, status=500, **kwargs)
    return QboValidationError(message, status=400, **kwargs)


def _error_from_response(response):
    """Build the exception matching an unsuccessful HTTP response."""
    errors, _fault_type = _parse_fault(response)
    first = errors[0] if errors else {}
    status = response.status_code
    kwargs = {
        'status': status, 'code': first.get('code') or None, 'detail': first.get('detail') or None,
        'element': first.get('element') or None, 'intuit_tid': response.headers.get('intuit_tid'),
        'errors': errors,
    }
    message = first.get('message') or f"HTTP {status}"
    # 3001 first: QuickBooks sometimes throttles with a 403 carrying 3001, which is no authorization fault.
    if status == 429 or first.get('code') == const.FAULT_THROTTLED:
        return QboRateLimitError(message, **kwargs)
    if status == 401:
        return QboAuthError(message, **kwargs)
    if status == 403:
        return QboForbiddenError(message, **kwargs)
    if status >= 500:
        return QboServerError(message, **kwargs)
    return QboValidationError(message, **kwargs)


def _transport_error(exc, method):
    """Translate a `requests` exception into a QboConnectionError.

    The outcome is unknown when the request may have been received: a read timeout or a
    connection dropped after sending. Connect errors happen before anything is sent.
    """
    never_sent = isinstance(exc, requests.exceptions.ConnectTimeout) or (
        isinstance(exc, requests.exceptions.ConnectionError)
        and ('NewConnectionError' in repr(exc) or 'Connection refused' in str(exc)))
    outcome_unknown = method != 'GET' and not never_sent
    return QboConnectionError(_lt("No answer from QuickBooks: %s", exc.__class__.__name__),
                              outcome_unknown=outcome_unknown, detail=str(exc)[:300])


class QboOAuthClient:
    """Intuit OAuth 2.0: authorization URL, code exchange, refresh and revoke.

    :param dict endpoints: from `endpoints_for()`
    :param str client_id: the Intuit app's Client ID
    :param str client_secret: the Intuit app's Client Secret (never logged)
    :param on_call: optional callable receiving a dict per HTTP call (transfer history)
    """

    def __init__(self, endpoints, client_id, client_secret, session=None, on_call=None):
        self.endpoints = endpoints
        self.client_id = client_id
        self.client_secret = client_secret
        self.session = session or requests.Session()
        self.on_call = on_call

    def authorization_url(self, redirect_uri, state):
        """Return the URL of Intuit's consent page for the accounting scope."""
        params = {
            'client_id': self.client_id,
            'response_type': 'code',
            'scope': const.OAUTH_SCOPE,
            'redirect_uri': redirect_uri,
            'state': state,
        }
        return f"{self.endpoints['authorize']}?{urlencode(params, quote_via=quote)}"

    def _basic_auth(self):
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return 'Basic ' + base64.b64encode(raw).decode()

    def _post(self, operation, url, **kwargs):
        """POST to an OAuth endpoint; return the response or raise QboOAuthError/QboConnectionError."""
        headers = {'Authorization': self._basic_auth(), 'Accept': 'application/json'}
        headers.update(kwargs.pop('headers', {}))
        started = time.monotonic()
        response = None
        try:
            response = self.session.post(url, headers=headers,
                                         timeout=const.HTTP_TIMEOUT, **kwargs)
        except requests.exceptions.RequestException as exc:
            error = _transport_error(exc, 'POST')
            self._report(operation, url, None, error, started)
            raise error from None
        if response.status_code != 200:
            errors, _type = _parse_fault(response)
            first = errors[0]
            error = QboOAuthError(first['message'] or f"HTTP {response.status_code}",
                                  status=response.status_code, code=first['code'] or None,
                                  intuit_tid=response.headers.get('intuit_tid'), errors=errors)
            self._report(operation, url, response, error, started)
            raise error
        self._report(operation, url, response, None, started)
        return response

    def _report(self, operation, url, response, error, started):
        if not self.on_call:
            return
        self.on_call({
            'operation': operation, 'method': 'POST', 'path': url.split('?')[0],
            'http_status': response.status_code if response is not None else None,
            'code': error.code if error else None, 'message': str(error) if error else 'OK',
            'intuit_tid': (response.headers.get('intuit_tid') if response is not None else None)
            or (error.intuit_tid if error else None),
            'duration_ms': int((time.monotonic() - started) * 1000), 'success': error is None,
            'request_id': None,
        })

    def _token_request(self, operation, data):
        response = self._post(operation, self.endpoints['token'], data=data,
                              headers={const.HARD_EXPIRY_HEADER: 'true'})
        try:
            tokens = response.json()
        except ValueError:
            raise QboOAuthError(_lt("The token endpoint did not answer JSON."), status=response.status_code,
                                intuit_tid=response.headers.get('intuit_tid')) from None
        if not tokens.get('access_token') or not tokens.get('refresh_token'):
            raise QboOAuthError(_lt("The token endpoint answered without tokens."), status=response.status_code,
                                intuit_tid=response.headers.get('intuit_tid'))
        return tokens

    def exchange_code(self, code, redirect_uri):
        """Exchange an authorization code (single use) for tokens.

        :return: the token response (access_token, refresh_token, expires_in,
                 x_refresh_token_expires_in and, when granted, x_refresh_token_hard_expires_in)
        :rtype: dict
        """
        return self._token_request('token_exchange', {
            'grant_type': 'authorization_code', 'code': code, 'redirect_uri': redirect_uri})

    def refresh(self, refresh_token):
        """Get a new access token. The answer may carry a new (rotated) refresh token: store it."""
        return self._token_request('token_refresh', {
            'grant_type': 'refresh_token', 'refresh_token': refresh_token})

    def check_credentials(self):
        """Ask Intuit's token endpoint whether it accepts this Client ID / Client Secret, without a grant.

        A refresh with a token that cannot exist: Intuit authenticates the client first, so wrong
        credentials answer invalid_client, right ones invalid_grant (the token). Nothing is issued
        or revoked.

        :raise QboOAuthError: invalid_client (refused credentials) or another token-endpoint error
        :raise QboConnectionError: the endpoint could not be reached
        """
        try:
            self._post('credentials_check', self.endpoints['token'],
                       data={'grant_type': 'refresh_token', 'refresh_token': 'odoo-credentials-check'})
        except QboOAuthError as exc:
            if exc.code != 'invalid_grant':
                raise

    def revoke(self, token):
        """Revoke a refresh (or access) token: the app is disconnected from the company."""
        self._post('token_revoke', self.endpoints['revoke'], data=json.dumps({'token': token}),
                   headers={'Content-Type': 'application/json'})


class QboClient:
    """Accounting API v3 client for one realm.

    :param str api_base: e.g. https://quickbooks.api.intuit.com (no trailing /v3)
    :param str realm_id: the QuickBooks company id
    :param token_provider: callable(force_refresh=False) -> access token; called again with
        force_refresh=True once after a 401, so that an expired token is refreshed transparently
    :param on_call: optional callable receiving one dict per HTTP call (the transfer history)
    :param limiter: optional object with a `slot(kind, max_wait)` context manager (see
        tools/qbo_rate_limit.PgRateLimiter)
    :param float deadline: wall-clock time (``time.time()``) by which every attempt must be over:
        the end of the run's budget before Odoo's ``limit_time_real`` (see qbo.binding._qbo_deadline)
    """

    def __init__(self, api_base, realm_id, token_provider, session=None, on_call=None, limiter=None,
                 minor_version=const.MINOR_VERSION, deadline=None):
        self.api_base = api_base.rstrip('/')
        self.realm_id = realm_id
        self.token_provider = token_provider
        self.session = session or requests.Session()
        self.on_call = on_call
        self.limiter = limiter
        self.minor_version = minor_version
        self.deadline = deadline
        # The token this client sends. After a 401 it is the one the refresh returned, never a
        # re-read: the caller's transaction may predate the refresh and still see the old token.
        self._token = None

    # ------------------------------------------------------------------ core

    def request(self, method, path, params=None, json_body=None, text_body=None, request_id=None,
                operation=None, res_ref=None, files=None):
        """Send one API request and return its decoded JSON body.

        Idempotent calls (GET, or POST with a requestid) are retried on transport errors and 5xx.
        A 401 triggers one token refresh and one retry. No attempt starts that could not finish
        before `deadline` (see `_attempt_timeout`).

        The exception raised carries the history of the request's earlier attempts
        (``error.attempts``): a timeout after sending followed by a 429 on the retry is not
        "never executed" (see qbo_exceptions.never_executed), whatever the last attempt says.

        :param str method: 'GET' or 'POST'
        :param str path: path under /v3/company/{realm}/, e.g. 'customer' or 'invoice/12'
        :param dict params: extra query-string parameters (operation, include...)
        :param dict json_body: JSON payload
        :param str text_body: raw body sent as application/text (queries)
        :param dict files: multipart/form-data parts {name: (file name, bytes, content type)} (uploads)
        :param str request_id: QuickBooks requestid (idempotency key, max 50 characters)
        :param str operation: label for the transfer history (create, update, query...)
        :param str res_ref: 'model,id' of the Odoo record concerned, for the transfer history
        :rtype: dict
        :raise QboError: any failure, as the matching subclass
        """
        if request_id and len(request_id) > const.REQUEST_ID_MAX_LENGTH:
            raise ValueError(f"requestid longer than {const.REQUEST_ID_MAX_LENGTH} characters: {request_id}")
        query = {'minorversion': self.minor_version}
        query.update(params or {})
        if request_id:
            query['requestid'] = request_id
        url = f"{self.api_base}/v3/company/{self.realm_id}/{path}"
        retries = const.MAX_TRANSPORT_RETRIES if (method == 'GET' or request_id) else 0
        refreshed = False
        attempt = 0
        history = []
        while True:
            try:
                return self._send_once(method, url, query, json_body, text_body, request_id,
                                       operation or method.lower(), res_ref, files)
            except QboError as exc:
                exc.attempts = list(history)
                history.append(exc)
                if isinstance(exc, QboAuthError) and not refreshed:
                    refreshed = True
                    # The access token was rejected: refresh it once (under the connection's lock) and
                    # retry with the token the refresh returned.
                    self._token = self.token_provider(force_refresh=True)
                    continue
                if isinstance(exc, (QboConnectionError, QboServerError)) and attempt < retries:
                    backoff = const.RETRY_BACKOFF_SECONDS[min(attempt, len(const.RETRY_BACKOFF_SECONDS) - 1)]
                    attempt += 1
                    if self._time_left() is None or self._time_left() > backoff + const.MIN_ATTEMPT_SECONDS:
                        self._backoff(backoff)
                        continue
                raise

    @staticmethod
    def _backoff(seconds):
        """Wait before retrying a failed attempt (the chaos suite, whose faults are all answered at once,
        lets this time pass instantly: it plays thousands of retries)."""
        time.sleep(seconds)

    def _time_left(self):
        """Seconds left before `deadline` (None: no deadline)."""
        return None if self.deadline is None else self.deadline - time.time()

    def _attempt_timeout(self):
        """The read timeout of the next attempt: Intuit's usual bound, cut to what the run has left.

        :raise QboTimeBudgetExceeded: too little time left for an attempt to be worth sending; the
            caller reschedules the record (nothing was sent)
        """
        left = self._time_left()
        if left is None:
            return const.HTTP_TIMEOUT
        if left < const.MIN_ATTEMPT_SECONDS:
            raise QboTimeBudgetExceeded(_lt(
                "Not sent: this run is close to Odoo's time limit; the scheduler sends it in its next run."))
        return min(const.HTTP_TIMEOUT, left)

    def _send_once(self, method, url, query, json_body, text_body, request_id, operation, res_ref, files=None):
        if not self._token:
            self._token = self.token_provider()
        token = self._token
        headers = {'Authorization': f'Bearer {token}', 'Accept': 'application/json'}
        kwargs = {'params': query, 'timeout': self._attempt_timeout()}
        if json_body is not None:
            headers['Content-Type'] = 'application/json'
            kwargs['data'] = json.dumps(json_body)
        elif text_body is not None:
            headers['Content-Type'] = 'application/text'
            kwargs['data'] = text_body.encode()
        elif files is not None:
            kwargs['files'] = files  # requests writes the multipart body and its boundary
        started = time.monotonic()
        response = None
        error = None
        try:
            slot = (self.limiter.slot(_limiter_kind(method, url), max_wait=self._limiter_wait())
                    if self.limiter else _null_context())
            with slot:
                response = self.session.request(method, url, headers=headers, **kwargs)
        except requests.exceptions.RequestException as exc:
            error = _transport_error(exc, method)
        except (QboRateLimitError, QboTimeBudgetExceeded) as exc:
            error = exc
        else:
            if response.status_code >= 300:
                error = _error_from_response(response)
            if response.status_code == 429 and hasattr(self.limiter, 'throttled'):
                # Intuit throttled the realm: the shared limiter pauses it for every worker.
                self.limiter.throttled()
        self._report(operation, method, url, response, error, started, request_id, res_ref)
        if error:
            raise error
        try:
            return response.json()
        except ValueError:
            raise QboServerError(_lt("QuickBooks answered something that is not JSON."),
                                 status=response.status_code,
                                 intuit_tid=response.headers.get('intuit_tid')) from None

    def _limiter_wait(self):
        """Longest wait for a limiter slot: what leaves the attempt its time before the deadline."""
        left = self._time_left()
        return None if left is None else max(0.0, left - const.MIN_ATTEMPT_SECONDS)

    def _report(self, operation, method, url, response, error, started, request_id, res_ref):
        duration_ms = int((time.monotonic() - started) * 1000)
        status = response.status_code if response is not None else None
        tid = response.headers.get('intuit_tid') if response is not None else None
        _logger.debug("QBO %s %s -> %s (%d ms, intuit_tid=%s)", method, url.split('?')[0], status,
                      duration_ms, tid)
        if not self.on_call:
            return
        self.on_call({
            'operation': operation, 'method': method, 'path': url.split('/v3/company/')[-1],
            'http_status': status, 'code': error.code if error else None,
            'message': str(error) if error else 'OK', 'intuit_tid': tid or (error.intuit_tid if error else None),
            'duration_ms': duration_ms, 'success': error is None, 'request_id': request_id,
            'res_ref': res_ref,
        })

    # ------------------------------------------------------------------ entity helpers

    @staticmethod
    def entity_path(entity):
        """QuickBooks resource paths are the lower-case entity names."""
        return entity.lower()

    def read(self, entity, qbo_id, res_ref=None):
        """Read one object by Id; return the object dict (without the envelope)."""
        body = self.request('GET', f"{self.entity_path(entity)}/{qbo_id}", operation='read', res_ref=res_ref)
        return body[entity]

    def create(self, entity, payload, request_id, res_ref=None, params=None):
        """Create an object; return the object as QuickBooks stored it."""
        body = self.request('POST', self.entity_path(entity), json_body=payload, request_id=request_id,
                            operation='create', res_ref=res_ref, params=params)
        return body[entity]

    def update(self, entity, payload, request_id, res_ref=None, params=None):
        """Full or sparse update (payload carries Id, SyncToken and, for sparse, ``sparse: true``)."""
        body = self.request('POST', self.entity_path(entity), json_body=payload, request_id=request_id,
                            operation='update', res_ref=res_ref, params=params)
        return body[entity]

    def void(self, entity, qbo_id, sync_token, request_id, res_ref=None):
        """Void a transaction: QuickBooks keeps it with zero amounts."""
        body = self.request('POST', self.entity_path(entity), params={'operation': 'void'},
                            json_body={'Id': qbo_id, 'SyncToken': sync_token}, request_id=request_id,
                            operation='void', res_ref=res_ref)
        return body[entity]

    def upload(self, entity, qbo_id, file_name, content_type, content, request_id, res_ref=None):
        """Attach a file to a QuickBooks object (Intuit's multipart ``POST /upload``: the Attachable's
        metadata part, then the file part); return the Attachable, or raise its fault."""
        metadata = {'AttachableRef': [{'EntityRef': {'type': entity, 'value': qbo_id}}],
                    'FileName': file_name, 'ContentType': content_type}
        files = {'file_metadata_0': ('attachment.json', json.dumps(metadata), 'application/json'),
                 'file_content_0': (file_name, content, content_type)}
        body = self.request('POST', 'upload', files=files, request_id=request_id, operation='upload',
                            res_ref=res_ref)
        answer = (body.get('AttachableResponse') or [{}])[0]
        if 'Fault' in answer:
            raise error_from_batch_fault(answer['Fault'])
        return answer['Attachable']

    def void_by_update(self, entity, qbo_id, sync_token, request_id, res_ref=None):
        """Void a Payment or BillPayment: Intuit voids these by a sparse update with ``include=void``
        (their applied documents are open again)."""
        body = self.request('POST', self.entity_path(entity), params={'operation': 'update', 'include': 'void'},
                            json_body={'Id': qbo_id, 'SyncToken': sync_token, 'sparse': True},
                            request_id=request_id, operation='void', res_ref=res_ref)
        return body[entity]

    def delete(self, entity, qbo_id, sync_token, request_id, res_ref=None):
        """Delete a transaction (e.g. a CreditMemo, which has no void); return QuickBooks' status dict."""
        body = self.request('POST', self.entity_path(entity), params={'operation': 'delete'},
                            json_body={'Id': qbo_id, 'SyncToken': sync_token}, request_id=request_id,
                            operation='delete', res_ref=res_ref)
        return body[entity]

    def query(self, statement, res_ref=None):
        """Run one query statement; return the QueryResponse dict."""
        if len(statement) > 2000:
            body = self.request('POST', 'query', text_body=statement, operation='query', res_ref=res_ref)
        else:
            body = self.request('GET', 'query', params={'query': statement}, operation='query', res_ref=res_ref)
        return body.get('QueryResponse', {})

    def query_all(self, entity, where=None, include_inactive=False, order_by='Id', res_ref=None):
        """Return every object of an entity matching `where`, paging 1000 at a time.

        :param str where: WHERE clause without the keyword, e.g. "DisplayName = 'X'"
        :param bool include_inactive: name-list entities are active-only unless Active is filtered
        :param str res_ref: 'model,id' of the Odoo record concerned, for the transfer history
        :rtype: list
        """
        clauses = [where] if where else []
        if include_inactive:
            clauses.append('Active IN (true, false)')
        base = f"SELECT * FROM {entity}"
        if clauses:
            base += ' WHERE ' + ' AND '.join(clauses)
        if order_by:
            base += f" ORDERBY {order_by}"
        results = []
        position = 1
        while True:
            page = self.query(f"{base} STARTPOSITION {position} MAXRESULTS {const.QUERY_PAGE_SIZE}", res_ref=res_ref)
            rows = page.get(entity, [])
            results.extend(rows)
            if len(rows) < const.QUERY_PAGE_SIZE:
                return results
            position += len(rows)

    def cdc(self, entities, changed_since):
        """Change data capture: every object of `entities` changed since `changed_since` (ISO time).

        One call whatever the number of entities; QuickBooks caps the answer at 1000 objects and
        looks back at most 30 days. Deleted objects come as {"Id", "status": "Deleted"}.
        """
        return self.request('GET', 'cdc', params={'entities': ','.join(entities), 'changedSince': changed_since},
                            operation='cdc')

    def report(self, name, params=None):
        """Run one report of the Reports API (e.g. 'AgedReceivables'); return the report dict (Header,
        Columns, Rows). A metered read, like a query."""
        return self.request('GET', f'reports/{name}', params=params, operation='report')

    def company_info(self):
        """Read CompanyInfo (its Id is the realm id)."""
        return self.read('CompanyInfo', self.realm_id)

    def preferences(self):
        """Read the company Preferences (sales-form numbering, tax, currency, class tracking)."""
        return self.request('GET', 'preferences', operation='read')['Preferences']

    def batch(self, items, request_id=None):
        """Send batch operations, at most 30 per request; return the BatchItemResponse list.

        :param list items: dicts with bId (at most 10 characters), operation and one entity payload (or Query)
        :param str request_id: requestid of the batch (at most 36 characters); when the items need
            several requests, chunk N uses a uuid5 of it and N
        """
        if request_id and len(request_id) > const.BATCH_REQUEST_ID_MAX_LENGTH:
            raise ValueError(f"batch requestid longer than {const.BATCH_REQUEST_ID_MAX_LENGTH} characters")
        responses = []
        for index in range(0, len(items), const.BATCH_MAX_ITEMS):
            chunk = items[index:index + const.BATCH_MAX_ITEMS]
            rid = request_id
            if request_id and len(items) > const.BATCH_MAX_ITEMS:
                rid = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{request_id}:{index // const.BATCH_MAX_ITEMS}"))
            body = self.request('POST', 'batch', json_body={'BatchItemRequest': chunk}, request_id=rid,
                                operation='batch')
            responses.extend(body.get('BatchItemResponse', []))
        return responses


@contextmanager
def _null_context():
    yield


def _limiter_kind(method, url):
    """What a call is for the limiter: 'batch', 'read' (metered by Intuit: queries, reads, CDC) or 'write'."""
    path = url.split('/v3/company/', 1)[-1].split('?', 1)[0]
    endpoint = path.split('/')[1] if '/' in path else ''
    if endpoint == 'batch':
        return 'batch'
    if method == 'GET' or endpoint == 'query':
        return 'read'
    return 'write'


__all__ = ['QboClient', 'QboOAuthClient', 'endpoints_for', 'error_from_batch_fault', 'qbo_quote',
           'QboError']
