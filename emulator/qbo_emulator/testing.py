"""Test helpers (standard library only; safe to import without pytest).

* ``EmulatorControl(base_url)`` - thin client of the ``/_emulator/`` control API, one method per endpoint:
  companies and objects, faults, tokens, clock, settings, usage (metered reads, 429s), payments received as
  a QuickBooks user (``record_payment``, ``void_payment``, ``delete_payment``), webhooks the emulator emits
  (``configure_webhook``, ``flush_webhooks``, ``webhook_status``);
* ``EmulatorControl.consent(authorize_url, realm_id=None, approve=True)`` - drive the consent page like a
  user and return the redirect ``Location`` (not followed);
* ``running_emulator(**kwargs)`` - context manager yielding a started ``EmulatorServer``.

These signatures are a stable contract for the Odoo tests.
"""
import contextlib
import html.parser
import json
import urllib.error
import urllib.parse
import urllib.request

from .server import EmulatorServer


class ControlAPIError(Exception):
    def __init__(self, status, body):
        super().__init__('control API error %s: %s' % (status, body))
        self.status = status
        self.body = body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class _FormParser(html.parser.HTMLParser):
    """Collects the consent form: action, hidden inputs, select options and submit buttons."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.fields = {}
        self.options = []
        self.selected = None
        self.buttons = []
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'form':
            self.action = a.get('action')
        elif tag == 'input' and a.get('name'):
            self.fields[a['name']] = a.get('value', '')
        elif tag == 'select':
            self._select = a.get('name')
        elif tag == 'option' and self._select:
            self.options.append(a.get('value'))
            if 'selected' in a and self.selected is None:
                self.selected = a.get('value')
        elif tag == 'button' and a.get('name'):
            self.buttons.append((a['name'], a.get('value', '')))

    def handle_endtag(self, tag):
        if tag == 'select':
            self._select = None


class EmulatorControl:
    """Client of the control API at ``base_url`` (e.g. ``srv.url``)."""

    def __init__(self, base_url, timeout=30):
        self.base_url = base_url.rstrip('/')
        self.timeout = timeout

    # ------------------------------------------------------------------ transport
    def _call(self, method, path, payload=None, params=None):
        url = self.base_url + '/_emulator/' + path.lstrip('/')
        if params:
            url += '?' + urllib.parse.urlencode(params)
        data = json.dumps(payload).encode('utf-8') if payload is not None else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={'Content-Type': 'application/json', 'Accept': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                body = json.loads(raw.decode('utf-8'))
            except ValueError:
                body = raw.decode('utf-8', 'replace')
            raise ControlAPIError(e.code, body)
        return json.loads(raw.decode('utf-8')) if raw else None

    # ------------------------------------------------------------------ endpoints
    def health(self):
        return self._call('GET', 'health')

    def reset(self):
        """Back to the single seeded US company; clears tokens, faults, log, settings, clock, webhook endpoints."""
        return self._call('POST', 'reset', {})

    def register_app(self, client_id, client_secret, redirect_uris):
        return self._call('POST', 'apps', {'client_id': client_id, 'client_secret': client_secret,
                                           'redirect_uris': list(redirect_uris)})

    def create_company(self, name, country='US', currency=None, preferences=None):
        """Returns {"realm_id", "name", "country", "currency"}."""
        payload = {'name': name, 'country': country}
        if currency:
            payload['currency'] = currency
        if preferences:
            payload['preferences'] = preferences
        return self._call('POST', 'companies', payload)

    def companies(self):
        return self._call('GET', 'companies')['companies']

    def seed(self, realm_id, entity, count, prefix=None):
        """Create ``count`` simple objects; returns {"created": n, "ids": [...]}."""
        payload = {'entity': entity, 'count': count}
        if prefix:
            payload['prefix'] = prefix
        return self._call('POST', 'companies/%s/seed' % realm_id, payload)

    def entities(self, realm_id, entity):
        """All stored objects incl. inactive and deleted (deleted carry "status": "Deleted")."""
        return self._call('GET', 'companies/%s/entities/%s' % (realm_id, entity))['objects']

    def entity(self, realm_id, entity, entity_id):
        """One raw object, or None if unknown."""
        try:
            return self._call('GET', 'companies/%s/entities/%s/%s' % (realm_id, entity, entity_id))
        except ControlAPIError as e:
            if e.status == 404:
                return None
            raise

    def patch_entity(self, realm_id, entity, entity_id, fields):
        """Change an object as another QuickBooks user would (SyncToken/LastUpdatedTime bump)."""
        return self._call('PATCH', 'companies/%s/entities/%s/%s' % (realm_id, entity, entity_id), fields)

    def delete_entity(self, realm_id, entity, entity_id):
        """Delete (transactions) or inactivate (name lists)."""
        return self._call('DELETE', 'companies/%s/entities/%s/%s' % (realm_id, entity, entity_id))

    def void_entity(self, realm_id, entity, entity_id):
        return self._call('POST', 'companies/%s/entities/%s/%s/void' % (realm_id, entity, entity_id), {})

    def set_preferences(self, realm_id, preferences):
        """Merge a partial Preferences dict (any field, incl. read-only ones such as TaxPrefs)."""
        return self._call('POST', 'companies/%s/preferences' % realm_id, preferences)

    def inject_fault(self, kind, count=1, realm_id=None, method=None, path_contains=None, delay_seconds=None):
        """kind: "429" | "500" | "503" | "delay" | "timeout_after_commit" (also "401", "403", "drop")."""
        payload = {'kind': kind, 'count': count}
        for k, v in (('realm_id', realm_id), ('method', method), ('path_contains', path_contains),
                     ('delay_seconds', delay_seconds)):
            if v is not None:
                payload[k] = v
        return self._call('POST', 'faults', payload)

    def clear_faults(self):
        return self._call('DELETE', 'faults')

    def expire_tokens(self, which='access', realm_id=None):
        payload = {'which': which}
        if realm_id:
            payload['realm_id'] = realm_id
        return self._call('POST', 'tokens/expire', payload)

    def revoke_tokens(self, realm_id=None):
        """Like the user disconnecting the app inside QuickBooks."""
        return self._call('POST', 'tokens/revoke', {'realm_id': realm_id} if realm_id else {})

    def advance_clock(self, seconds):
        return self._call('POST', 'clock/advance', {'seconds': seconds})

    def settings(self, **changes):
        """Without arguments: read settings; with keyword arguments: update them. Returns all settings:
        ``latency_ms`` (added to every API call; the server stays concurrent), ``limits_enabled`` and Intuit's
        limits ``rate_limit_per_minute`` (500), ``rate_limit_per_second`` (10), ``concurrency_limit`` (10),
        ``batch_limit_per_minute`` (40); ``refresh_rotation`` ("always" | "daily"), ``refresh_grace_seconds``,
        ``code_lifetime_seconds``; ``webhook_window_seconds`` (aggregation, default 1), ``webhook_retry_scale``
        (multiplies Intuit's retry schedule, default 1)."""
        if changes:
            return self._call('POST', 'settings', changes)
        return self._call('GET', 'settings')

    def requests_log(self, path_contains=None):
        params = {'path_contains': path_contains} if path_contains else None
        return self._call('GET', 'requests', params=params)['requests']

    def clear_requests_log(self):
        return self._call('DELETE', 'requests')

    def usage(self, realm_id=None, reset=False):
        """API calls answered per realm since the last reset: {"requests", "reads" (metered CorePlus calls:
        GET by id, queries, CDC, reports; 2xx only; batch query items count one each), "writes" (Core calls,
        not metered), "throttled" (429s sent), "peak_per_second", "peak_per_minute", "peak_batch_per_minute",
        "peak_concurrent" (highest load admitted, limits on or off)}. Without ``realm_id``: {realm_id: usage}.
        ``reset`` zeroes."""
        if realm_id:
            return self._call('DELETE' if reset else 'GET', 'companies/%s/usage' % realm_id)
        return self._call('DELETE' if reset else 'GET', 'usage')['usage']

    # ------------------------------------------------------------------ payments (as a QuickBooks user)
    def record_payment(self, realm_id, invoices=(), credit_memos=(), unapplied=0, total=None, customer_id=None,
                       **extra):
        """Receive a payment in QuickBooks: ``invoices``/``credit_memos`` are ids or ``{"id", "amount"}``
        (amount defaults to the open balance / remaining credit); ``unapplied`` stays as customer credit;
        ``total`` defaults to invoices - credits + unapplied (a credit memo applied to an invoice is a $0
        payment). ``extra``: txn_date, payment_method_id, deposit_account_id, reference, private_note.
        Returns the stored Payment; the invoices' Balance and the customer's balance follow."""
        payload = dict(extra, invoices=[i if isinstance(i, dict) else {'id': str(i)} for i in invoices],
                       credit_memos=[i if isinstance(i, dict) else {'id': str(i)} for i in credit_memos],
                       unapplied=unapplied)
        if total is not None:
            payload['total'] = total
        if customer_id is not None:
            payload['customer_id'] = str(customer_id)
        return self._call('POST', 'companies/%s/payments' % realm_id, payload)

    def edit_payment(self, realm_id, payment_id, invoices=None, credit_memos=None, **changes):
        """Edit a received payment in QuickBooks (open it, change it, save): ``invoices``/``credit_memos``
        replace its applications (ids or ``{"id", "amount"}``); ``changes``: total, unapplied, txn_date,
        reference, private_note (the memo), deposit_account_id, payment_method_id. Returns the stored Payment
        (SyncToken moved); the invoices' Balance and the customer's balance follow."""
        payload = dict(changes)
        for key, specs in (('invoices', invoices), ('credit_memos', credit_memos)):
            if specs is not None:
                payload[key] = [i if isinstance(i, dict) else {'id': str(i)} for i in specs]
        return self._call('POST', 'companies/%s/payments/%s' % (realm_id, payment_id), payload)

    def void_payment(self, realm_id, payment_id):
        """Void as in QuickBooks: amounts become 0, the invoices are open again, the Payment stays."""
        return self.void_entity(realm_id, 'Payment', payment_id)

    def delete_payment(self, realm_id, payment_id):
        """Delete: the Payment is gone (CDC reports it "Deleted"), the invoices are open again."""
        return self.delete_entity(realm_id, 'Payment', payment_id)

    def record_bill_payment(self, realm_id, bills=(), vendor_credits=(), pay_type='Check', total=None,
                            vendor_id=None, **extra):
        """Pay bills in QuickBooks (Expenses > Pay bills): ``bills``/``vendor_credits`` are ids or
        ``{"id", "amount"}`` (amount defaults to the open balance); ``pay_type`` Check or CreditCard; ``total``
        defaults to bills - vendor credits. ``extra``: bank_account_id, cc_account_id, txn_date, reference
        (check number), private_note. Returns the stored BillPayment; the bills' Balance and the vendor's
        balance follow. Void or delete it with ``void_entity`` / ``delete_entity`` ('BillPayment')."""
        payload = dict(extra, pay_type=pay_type,
                       bills=[i if isinstance(i, dict) else {'id': str(i)} for i in bills],
                       vendor_credits=[i if isinstance(i, dict) else {'id': str(i)} for i in vendor_credits])
        if total is not None:
            payload['total'] = total
        if vendor_id is not None:
            payload['vendor_id'] = str(vendor_id)
        return self._call('POST', 'companies/%s/billpayments' % realm_id, payload)

    def merge(self, realm_id, entity, source_id, into_id):
        """Merge Customer/Vendor/Item ``source_id`` into ``into_id`` (a Merge event with deletedId)."""
        return self._call('POST', 'companies/%s/entities/%s/%s/merge' % (realm_id, entity, source_id),
                          {'into': str(into_id)})

    # ------------------------------------------------------------------ webhooks (emitted by the emulator)
    def configure_webhook(self, url, verifier_token, format='cloudevents', client_id=None, enabled=True,
                          realm_ids=None):
        """The app's webhook endpoint, as set in Intuit's developer portal. From then on every change in a
        company connected to the app (or listed in ``realm_ids``) is POSTed there, signed with
        ``verifier_token``, aggregated over ``webhook_window_seconds`` and retried on Intuit's schedule
        (scaled by ``webhook_retry_scale``). ``format``: "cloudevents" or "legacy". ``url=None`` removes it.
        ``client_id`` defaults to the app the server was started with."""
        client_id = client_id or self._default_client()
        return self._call('POST', 'apps/%s/webhook' % client_id, {
            'url': url, 'verifier_token': verifier_token, 'format': format, 'enabled': enabled,
            'realm_ids': list(realm_ids) if realm_ids else None})['webhook']

    def webhook_config(self, client_id=None):
        return self._call('GET', 'apps/%s/webhook' % (client_id or self._default_client()))['webhook']

    def flush_webhooks(self):
        """Deliver now every queued event and every delivery waiting for a retry (ignoring the window and
        the schedule); returns the attempts (status, body, signature...)."""
        return self._call('POST', 'webhooks/flush', {})['attempts']

    def webhook_status(self):
        """{"endpoints", "pending" (events not yet sent), "retrying", "deliveries" (every attempt)}."""
        return self._call('GET', 'webhooks/status')

    def _default_client(self):
        answer = self._call('GET', 'apps')
        if answer.get('default_client_id'):
            return answer['default_client_id']
        if len(answer['apps']) != 1:
            raise ControlAPIError(400, 'several apps are registered: pass client_id')
        return answer['apps'][0]['client_id']

    def send_webhook(self, url, verifier_token, realm_id, entity, entity_id, operation='Create',
                     format='legacy', delay_seconds=0):
        return self._call('POST', 'webhooks', {
            'url': url, 'verifier_token': verifier_token, 'realm_id': realm_id, 'entity': entity,
            'entity_id': entity_id, 'operation': operation, 'format': format, 'delay_seconds': delay_seconds})

    # ------------------------------------------------------------------ consent
    def consent(self, authorize_url, realm_id=None, approve=True):
        """GET the authorize page, submit its form (chosen realm, approve/deny) and return the redirect
        Location URL without following it. Raises ControlAPIError if no redirect happens (e.g. the HTML
        400 page for an invalid client_id/redirect_uri)."""
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(authorize_url, timeout=self.timeout) as resp:
                page = resp.read().decode('utf-8')
        except urllib.error.HTTPError as e:
            if e.code in (301, 302, 303, 307):
                return e.headers['Location']
            raise ControlAPIError(e.code, e.read().decode('utf-8', 'replace'))
        parser = _FormParser()
        parser.feed(page)
        fields = dict(parser.fields)
        fields['realm_id'] = realm_id or parser.selected or (parser.options[0] if parser.options else '')
        fields['decision'] = 'approve' if approve else 'deny'
        parts = urllib.parse.urlsplit(authorize_url)
        action = urllib.parse.urljoin('%s://%s' % (parts.scheme, parts.netloc), parser.action or parts.path)
        data = urllib.parse.urlencode(fields).encode('utf-8')
        req = urllib.request.Request(action, data=data, method='POST',
                                     headers={'Content-Type': 'application/x-www-form-urlencoded'})
        try:
            with opener.open(req, timeout=self.timeout) as resp:
                raise ControlAPIError(resp.status, resp.read().decode('utf-8', 'replace'))
        except urllib.error.HTTPError as e:
            if e.code in (301, 302, 303, 307):
                return e.headers['Location']
            raise ControlAPIError(e.code, e.read().decode('utf-8', 'replace'))


@contextlib.contextmanager
def running_emulator(**kwargs):
    """``with running_emulator(client_id=..., client_secret=..., redirect_uris=[...]) as srv:`` -
    yields a started ``EmulatorServer`` (defaults: 127.0.0.1, free port) and stops it afterwards."""
    kwargs.setdefault('host', '127.0.0.1')
    kwargs.setdefault('port', 0)
    srv = EmulatorServer(**kwargs)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
