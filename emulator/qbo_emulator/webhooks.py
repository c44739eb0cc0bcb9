"""Webhook notifications (spec §7.4): legacy and CloudEvents payloads, signed with the verifier token.

Two ways to send:

* ``send_later`` - one hand-made notification (control API ``POST /_emulator/webhooks``);
* ``Dispatcher`` - what Intuit does by itself: every change to an object of a connected company (create,
  update, delete, void, merge, emailed) becomes an event for each app with a webhook endpoint configured
  and a live OAuth grant on that company. Events are aggregated per endpoint over a short window
  (``webhook_window_seconds``; production aggregates over minutes), the same object and operation once
  per delivery, then POSTed in the app's format and signed. A non-2xx answer (or no answer within 3 s)
  is retried on Intuit's schedule (10 s, 20 s, 30 s, 5 min, 20 min, 2 h, 4 h, 6 h, then every 6 h),
  multiplied by ``webhook_retry_scale``; while a delivery is being retried the endpoint's later events
  wait behind it, as Intuit holds them. Times follow the emulator clock, so ``clock/advance`` makes a
  retry due at once.
"""
import base64
import hashlib
import hmac
import json
import threading
import urllib.request
import uuid

from . import util

OPERATION_VERB = {'create': 'created', 'update': 'updated', 'delete': 'deleted', 'merge': 'merged',
                  'void': 'voided', 'emailed': 'emailed'}
OPERATIONS = ('Create', 'Update', 'Delete', 'Merge', 'Void', 'Emailed')
FORMATS = ('legacy', 'cloudevents')
# entities Intuit's webhooks report (§7.4); others (TaxCode, CompanyInfo...) change silently
WEBHOOK_ENTITIES = {'Account', 'Bill', 'BillPayment', 'Budget', 'Class', 'CreditMemo', 'Currency', 'Customer',
                    'Department', 'Deposit', 'Employee', 'Estimate', 'Invoice', 'Item', 'JournalCode', 'JournalEntry',
                    'Payment', 'PaymentMethod', 'Preferences', 'Purchase', 'PurchaseOrder', 'RefundReceipt',
                    'SalesReceipt', 'TaxAgency', 'Term', 'TimeActivity', 'Transfer', 'Vendor', 'VendorCredit'}
RETRY_SCHEDULE = (10, 20, 30, 300, 1200, 7200, 14400, 21600)   # then every 6 h
DELIVERY_TIMEOUT = 3.0          # Intuit expects an answer within 3 seconds
LOG_MAX = 2000


def signature(body, verifier_token):
    """intuit-signature: base64(HMAC-SHA256(key=verifier token, msg=raw body))."""
    return base64.b64encode(hmac.new((verifier_token or '').encode('utf-8'), body, hashlib.sha256).digest()).decode()


def iso_utc(epoch):
    return util.fmt_dt(epoch, 0, ms=True).replace('+00:00', 'Z')


def cloudevent(realm_id, entity, entity_id, operation, epoch, source, deleted_id=None):
    """One CloudEvents event; a merge names the merged object in ``data.deletedid`` (Intuit's "Understanding
    the data object": ``"data": {"deletedid": "27"}`` on ``qbo.customer.merged.v1``)."""
    return {
        'specversion': '1.0', 'id': str(uuid.uuid4()), 'source': source,
        'type': 'qbo.%s.%s.v1' % (entity.lower(), OPERATION_VERB.get(operation.lower(), operation.lower())),
        'datacontenttype': 'application/json', 'time': iso_utc(epoch),
        'intuitentityid': str(entity_id), 'intuitaccountid': str(realm_id),
        'data': {'deletedid': str(deleted_id)} if deleted_id else {},
    }


def legacy_entity(entity, entity_id, operation, epoch, deleted_id=None):
    ent = {'id': str(entity_id), 'operation': operation[:1].upper() + operation[1:], 'name': entity,
           'lastUpdated': iso_utc(epoch)}
    if deleted_id:
        ent['deletedId'] = str(deleted_id)
    return ent


def payload(spec, now):
    """A single hand-made notification (``send_later``)."""
    entity = spec.get('entity', 'Customer')
    op = str(spec.get('operation', 'Create'))
    if spec.get('format', 'legacy') == 'cloudevents':
        return [cloudevent(spec.get('realm_id'), entity, spec.get('entity_id', '1'), op, now,
                           'intuit.' + util.rand_token(43) + '=', spec.get('deleted_id'))]
    ent = legacy_entity(entity, spec.get('entity_id', '1'), op, now, spec.get('deleted_id'))
    return {'eventNotifications': [{'realmId': str(spec.get('realm_id')),
                                    'dataChangeEvent': {'entities': [ent]}}]}


def headers_for(body, verifier_token, now):
    return {'Content-Type': 'application/json; charset=utf-8',
            'intuit-signature': signature(body, verifier_token),
            'intuit-t-id': util.new_tid(), 'intuit-created-time': util.fmt_dt(now, 0),
            'intuit-notification-schema-version': '0.1', 'User-Agent': 'intuit_notification_server/0.1'}


def post(url, body, headers, timeout=DELIVERY_TIMEOUT):
    """POST and return (status or None, error text or None); never raises."""
    try:
        req = urllib.request.Request(url, data=body, headers=headers, method='POST')
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            resp.read()
            return resp.status, None
    except Exception as e:      # delivery failures are recorded, never raised
        return getattr(e, 'code', None), str(e)


def send_later(spec, now, record):
    """POST the notification after ``delay_seconds`` on a daemon thread; results go to ``record``."""
    body = json.dumps(payload(spec, now)).encode('utf-8')
    headers = headers_for(body, spec.get('verifier_token', ''), now)
    entry = {'url': spec['url'], 'body': body.decode('utf-8'), 'signature': headers['intuit-signature'],
             'status': None, 'error': None}
    record.append(entry)

    def run():
        entry['status'], entry['error'] = post(spec['url'], body, headers, timeout=10)

    t = threading.Timer(float(spec.get('delay_seconds', 0) or 0), run)
    t.daemon = True
    t.start()
    return entry


class Dispatcher:
    """Intuit's notification service for the emulator (see the module docstring).

    State per app (``client_id``): its endpoint config (persisted with the emulator's state), the events
    waiting to be sent, and the delivery being retried. ``event()`` is called with the emulator lock held
    by the code that changed an object; deliveries run on one background thread, outside that lock.
    """

    def __init__(self, emu):
        self.emu = emu
        self.apps = {}           # client_id -> {'url', 'format', 'verifier_token', 'enabled', 'realm_ids'}
        self.pending = {}        # client_id -> [event]
        self.retrying = {}       # client_id -> delivery dict being retried
        self.deliveries = []     # log of every attempt (newest last)
        self.seq = 0
        self.source = 'intuit.' + util.rand_token(43) + '='
        self._cond = threading.Condition(threading.Lock())
        self._deliver_lock = threading.Lock()
        self._thread = None
        self._stop = False

    # ------------------------------------------------------------------ configuration
    def configure(self, client_id, url=None, fmt='cloudevents', verifier_token='', enabled=True, realm_ids=None):
        if fmt not in FORMATS:
            raise ValueError('format must be legacy or cloudevents')
        with self._cond:
            if not url:
                self.apps.pop(client_id, None)
                self.pending.pop(client_id, None)
                self.retrying.pop(client_id, None)
                return None
            self.apps[client_id] = {'url': url, 'format': fmt, 'verifier_token': verifier_token or '',
                                    'enabled': bool(enabled),
                                    'realm_ids': [str(r) for r in realm_ids] if realm_ids else None}
            return dict(self.apps[client_id])

    def config(self, client_id):
        with self._cond:
            cfg = self.apps.get(client_id)
            return dict(cfg) if cfg else None

    def reset(self):
        """Forget endpoints, queued events, retries and the delivery log."""
        with self._cond:
            self.apps.clear()
            self.pending.clear()
            self.retrying.clear()
            self.deliveries.clear()

    def to_json(self):
        return {'apps': self.apps}

    def load(self, d):
        self.apps.update((d or {}).get('apps', {}))

    # ------------------------------------------------------------------ events
    def _subscribers(self, realm_id):
        """Apps with an enabled endpoint that receive this realm's events: a live OAuth grant (Intuit sends
        events only for connected companies), or the realm listed in the endpoint's ``realm_ids``."""
        granted = {g['client_id'] for g in self.emu.oauth.grants.values()
                   if g['realm_id'] == realm_id and not g['revoked']}
        return [cid for cid, cfg in self.apps.items()
                if cfg['enabled'] and (cid in granted or realm_id in (cfg['realm_ids'] or ()))]

    def event(self, realm_id, entity, entity_id, operation, epoch, deleted_id=None):
        """Record that ``entity`` ``entity_id`` of ``realm_id`` was created/updated/... at ``epoch``."""
        if entity not in WEBHOOK_ENTITIES:
            return
        with self._cond:
            if not self.apps:
                return
            subscribers = self._subscribers(realm_id)
            for cid in subscribers:
                queue = self.pending.setdefault(cid, [])
                key = (realm_id, entity, str(entity_id), operation)
                # the same object and operation is notified once per delivery, with its latest time
                queue[:] = [e for e in queue if e['key'] != key]
                queue.append({'key': key, 'realm_id': realm_id, 'entity': entity, 'id': str(entity_id),
                              'operation': operation, 'time': epoch, 'queued': self.emu.clock.now(),
                              'deleted_id': deleted_id})
            if subscribers:
                self._cond.notify_all()

    # ------------------------------------------------------------------ delivery
    def _bodies(self, cfg, events):
        """One POST body per realm for the legacy format (Intuit sends it one realm at a time); one
        CloudEvents array for all realms."""
        if cfg['format'] == 'cloudevents':
            return [[cloudevent(e['realm_id'], e['entity'], e['id'], e['operation'], e['time'], self.source,
                                e['deleted_id']) for e in events]]
        by_realm = {}
        for e in events:
            by_realm.setdefault(e['realm_id'], []).append(
                legacy_entity(e['entity'], e['id'], e['operation'], e['time'], e['deleted_id']))
        return [{'eventNotifications': [{'realmId': realm, 'dataChangeEvent': {'entities': ents}}]}
                for realm, ents in by_realm.items()]

    def _due(self, now, force=False):
        """Take the deliveries to attempt now: retries that are due, then (for endpoints not held back by a
        retry) a new delivery of the events whose aggregation window has passed."""
        window = float(self.emu.settings.get('webhook_window_seconds', 0) or 0)
        work = []
        for cid, cfg in self.apps.items():
            if not cfg['enabled']:
                continue
            held = self.retrying.get(cid)
            if held is not None:
                if force or held['next_attempt'] <= now:
                    work.append(held)
                continue
            queue = self.pending.get(cid)
            if not queue or (not force and queue[0]['queued'] + window > now):
                continue
            self.pending[cid] = []
            for body in self._bodies(cfg, queue):
                self.seq += 1
                work.append({'delivery_id': self.seq, 'client_id': cid, 'url': cfg['url'],
                             'format': cfg['format'], 'token': cfg['verifier_token'],
                             'body': json.dumps(body).encode('utf-8'), 'events': len(queue), 'attempt': 0,
                             'next_attempt': now})
        return work

    def _attempt(self, d):
        now = self.emu.clock.now()
        headers = headers_for(d['body'], d['token'], now)
        d['attempt'] += 1
        status, error = post(d['url'], d['body'], headers)
        ok = status is not None and 200 <= status < 300
        with self._cond:
            entry = {'delivery_id': d['delivery_id'], 'client_id': d['client_id'], 'url': d['url'],
                     'format': d['format'], 'attempt': d['attempt'], 'status': status, 'error': error,
                     'ok': ok, 'time': util.fmt_dt(now, 0, ms=True), 'body': d['body'].decode('utf-8'),
                     'signature': headers['intuit-signature'], 'events': d['events']}
            self.deliveries.append(entry)
            del self.deliveries[:-LOG_MAX]
            if ok:
                if self.retrying.get(d['client_id']) is d:
                    del self.retrying[d['client_id']]
            elif d['client_id'] in self.apps:
                step = RETRY_SCHEDULE[min(d['attempt'] - 1, len(RETRY_SCHEDULE) - 1)]
                scale = float(self.emu.settings.get('webhook_retry_scale', 1) or 0)
                d['next_attempt'] = self.emu.clock.now() + step * scale
                entry['next_attempt'] = util.fmt_dt(d['next_attempt'], 0, ms=True)
                self.retrying[d['client_id']] = d
            self._cond.notify_all()
        return entry

    def run_once(self, force=False):
        """Attempt every delivery that is due (all pending and retried ones with ``force``); returns the log
        entries of these attempts. Used by the background thread and by ``POST webhooks/flush``."""
        with self._deliver_lock:
            with self._cond:
                work = self._due(self.emu.clock.now(), force)
            return [self._attempt(d) for d in work]

    def start(self):
        if self._thread is not None:
            return
        self._stop = False

        def loop():
            while True:
                with self._cond:
                    if self._stop:
                        return
                    idle = not any(self.pending.values()) and not self.retrying
                    # idle: sleep until an event arrives; otherwise short polls, because the emulator clock
                    # can jump forward (clock/advance) and make a delivery due at once
                    self._cond.wait(None if idle else 0.05)
                    if self._stop:
                        return
                self.run_once()
        self._thread = threading.Thread(target=loop, name='qbo-emulator-webhooks', daemon=True)
        self._thread.start()

    def stop(self):
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def status(self):
        with self._cond:
            return {'endpoints': {cid: {k: v for k, v in cfg.items() if k != 'verifier_token'}
                                  for cid, cfg in self.apps.items()},
                    'pending': sum(len(q) for q in self.pending.values()),
                    'retrying': [{'delivery_id': d['delivery_id'], 'client_id': d['client_id'],
                                  'attempt': d['attempt'], 'next_attempt': util.fmt_dt(d['next_attempt'], 0, ms=True)}
                                 for d in self.retrying.values()],
                    'deliveries': list(self.deliveries)}
