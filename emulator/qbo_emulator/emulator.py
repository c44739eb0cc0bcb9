"""The emulator's state: companies, OAuth, settings, fault queue, limits, request log, requestid cache.

``Emulator`` is transport-agnostic; ``server.py`` wraps it in HTTP. A single
re-entrant lock serialises state changes (QBO itself serialises writes per
company; throughput is far above what the tests need).
"""
import collections
import json
import os
import tempfile
import threading
import time

from . import oauth as oauth_mod
from . import seed, util, webhooks

SEED_REALM = '9341453908059321'
SEED_NAME = 'Sandbox Company_US_1'

DEFAULT_SETTINGS = {
    'latency_ms': 0,
    'limits_enabled': False,
    'refresh_rotation': 'always',        # 'always' | 'daily'
    'refresh_grace_seconds': 0,
    'code_lifetime_seconds': 600,
    'rate_limit_per_minute': 500,
    'rate_limit_per_second': 10,
    'concurrency_limit': 10,
    'batch_limit_per_minute': 40,
    'webhook_window_seconds': 1.0,       # aggregation window of emitted webhooks (production: minutes)
    'webhook_retry_scale': 1.0,          # multiplies Intuit's retry schedule (10 s, 20 s, 30 s, 5 min...)
}

FAULT_KINDS = ('429', '500', '503', 'delay', 'timeout_after_commit', '401', '403', 'drop')


class Emulator:
    def __init__(self, client_id=None, client_secret=None, redirect_uris=(), state_file=None, limits=False):
        self.lock = threading.RLock()
        self.clock = util.Clock()
        self.initial_settings = dict(DEFAULT_SETTINGS, limits_enabled=bool(limits))
        self.settings = dict(self.initial_settings)
        self.oauth = oauth_mod.OAuth(self.clock, self.settings)
        self.state_file = state_file
        self.companies = collections.OrderedDict()
        self.requestids = {}
        self.faults = []
        self.log = []
        self.log_seq = 0
        self.rate = collections.defaultdict(collections.deque)
        self.rate_second = collections.defaultdict(collections.deque)
        self.usage = collections.defaultdict(collections.Counter)
        self.batch_rate = collections.defaultdict(collections.deque)
        self.inflight = collections.Counter()
        self.realm_seq = 0
        self.dirty = False
        self.webhook_log = []
        self.webhooks = webhooks.Dispatcher(self)
        if client_id:
            self.oauth.register_app(client_id, client_secret or '', redirect_uris)
        self.default_client = client_id
        loaded = self.load() if state_file and os.path.exists(state_file) else False
        if not loaded:
            self.reset()

    # ------------------------------------------------------------------ lifecycle
    def reset(self):
        """Back to the single seeded US company; tokens, faults, log, requestids, clock, settings and webhook
        endpoints reset.
        Registered OAuth apps are kept."""
        with self.lock:
            self.clock.offset = 0.0
            self.settings.clear()
            self.settings.update(self.initial_settings)
            self.companies.clear()
            self.realm_seq = 0
            now = self.clock.now()
            self.companies[SEED_REALM] = self.listen(seed.build_company(SEED_REALM, SEED_NAME, 'US', 'USD', now))
            self.oauth.clear_tokens()
            self.requestids.clear()
            self.faults.clear()
            self.log.clear()
            self.rate.clear()
            self.rate_second.clear()
            self.batch_rate.clear()
            self.usage.clear()
            self.webhooks.reset()
            self.dirty = True

    def listen(self, company):
        """Route the company's change notifications to the webhook dispatcher."""
        company.listener = self.webhooks.event
        return company

    def create_company(self, name, country='US', currency=None, preferences=None):
        with self.lock:
            self.realm_seq += 1
            realm = str(int(SEED_REALM) + self.realm_seq * 1111)
            c = seed.build_company(realm, name or 'Sandbox Company %d' % self.realm_seq, country, currency,
                                   self.clock.now(), preferences)
            self.companies[realm] = self.listen(c)
            self.dirty = True
            return c

    # ------------------------------------------------------------------ faults / limits / log
    def add_fault(self, spec):
        kind = str(spec.get('kind', ''))
        if kind not in FAULT_KINDS:
            raise ValueError('kind must be one of %s' % ', '.join(FAULT_KINDS))
        f = {'realm_id': spec.get('realm_id'), 'method': (spec.get('method') or '').upper() or None,
             'path_contains': spec.get('path_contains'), 'kind': kind, 'count': int(spec.get('count', 1)),
             'delay_seconds': float(spec.get('delay_seconds', 0) or 0)}
        with self.lock:
            self.faults.append(f)
        return f

    def take_fault(self, method, path, realm_id):
        """Pop one use of the first fault matching this request (None if none)."""
        with self.lock:
            for f in self.faults:
                if f['realm_id'] and f['realm_id'] != realm_id:
                    continue
                if f['method'] and f['method'] != method:
                    continue
                if f['path_contains'] and f['path_contains'] not in path:
                    continue
                f['count'] -= 1
                if f['count'] <= 0:
                    self.faults.remove(f)
                return dict(f)
        return None

    def check_limits(self, realm_id, is_batch):
        """Per-realm 500/min, 10/s, 10 concurrent, 40 batch/min (Intuit's limits, see settings). True if
        allowed; an allowed request is counted in flight and the caller must call ``leave(realm_id)`` when
        done. The windows are kept whether or not the limits are enforced, so that ``usage`` shows the peaks
        a client reached (e.g. that several workers sharing a realm stayed under Intuit's limits)."""
        enforce = bool(self.settings.get('limits_enabled'))
        now = self.clock.now()
        with self.lock:
            win, sec = self.rate[realm_id], self.rate_second[realm_id]
            while win and win[0] <= now - 60:
                win.popleft()
            while sec and sec[0] <= now - 1:
                sec.popleft()
            bwin = self.batch_rate[realm_id] if is_batch else None
            while bwin and bwin[0] <= now - 60:
                bwin.popleft()
            if enforce and (len(win) >= int(self.settings['rate_limit_per_minute'])
                            or len(sec) >= int(self.settings.get('rate_limit_per_second') or 10)
                            or (is_batch and len(bwin) >= int(self.settings['batch_limit_per_minute']))
                            or self.inflight[realm_id] >= int(self.settings['concurrency_limit'])):
                return False
            win.append(now)
            sec.append(now)
            if is_batch:
                bwin.append(now)
            self.inflight[realm_id] += 1
            u = self.usage[realm_id]
            for key, value in (('peak_per_minute', len(win)), ('peak_per_second', len(sec)),
                               ('peak_concurrent', self.inflight[realm_id]),
                               ('peak_batch_per_minute', len(bwin) if is_batch else 0)):
                if value > u[key]:
                    u[key] = value
            return True

    def meter(self, realm_id, reads=0, writes=0, status=200):
        """Count an answered API call for ``realm_id``. Intuit meters *CorePlus* calls (reads: GET by id,
        queries, CDC, reports) against a monthly quota and not *Core* ones (writes); only 2xx answers
        count. Every call is counted in ``requests``, and 429s in ``throttled``."""
        with self.lock:
            u = self.usage[realm_id]
            u['requests'] += 1
            if status == 429:
                u['throttled'] += 1
            if 200 <= status < 300:
                u['reads'] += reads
                u['writes'] += writes

    def leave(self, realm_id):
        with self.lock:
            self.inflight[realm_id] -= 1

    def log_request(self, entry):
        with self.lock:
            self.log_seq += 1
            entry['id'] = self.log_seq
            entry['time'] = util.fmt_dt(self.clock.now(), 0, ms=True)
            self.log.append(entry)
            if len(self.log) > 20000:
                del self.log[:5000]
            return entry

    # ------------------------------------------------------------------ persistence
    def snapshot(self):
        with self.lock:
            return json.dumps({
                'version': 1, 'clock_offset': self.clock.offset, 'settings': self.settings,
                'companies': [c.to_json() for c in self.companies.values()], 'realm_seq': self.realm_seq,
                'oauth': self.oauth.to_json(), 'webhooks': self.webhooks.to_json(),
                'requestids': [[k[0], k[1], v[0], v[1].decode('utf-8', 'replace'), v[2]]
                               for k, v in self.requestids.items()],
            })

    def save(self):
        """Atomic write of the whole state (temp file + rename)."""
        if not self.state_file:
            return
        data = self.snapshot()
        self.dirty = False
        d = os.path.dirname(os.path.abspath(self.state_file))
        fd, tmp = tempfile.mkstemp(prefix='.qbo-emulator-', dir=d)
        with os.fdopen(fd, 'w', encoding='utf-8') as fh:
            fh.write(data)
        os.replace(tmp, self.state_file)

    def load(self):
        from .store import Company
        try:
            with open(self.state_file, encoding='utf-8') as fh:
                d = json.load(fh)
        except (OSError, ValueError):
            return False
        with self.lock:
            self.clock.offset = d.get('clock_offset', 0.0)
            self.settings.update(d.get('settings', {}))
            self.companies.clear()
            for cj in d.get('companies', []):
                c = Company.from_json(cj)
                self.companies[c.realm_id] = self.listen(c)
            self.realm_seq = d.get('realm_seq', 0)
            self.oauth.load(d.get('oauth', {}))
            self.webhooks.load(d.get('webhooks'))
            self.requestids = {(r[0], r[1]): (r[2], r[3].encode('utf-8'), r[4]) for r in d.get('requestids', [])}
        return bool(self.companies)

    def start_saver(self, stop_event):
        """Background thread: persist at most twice a second when something changed."""
        def run():
            while not stop_event.wait(0.5):
                if self.dirty:
                    try:
                        self.save()
                    except OSError:
                        pass
        t = threading.Thread(target=run, name='qbo-emulator-saver', daemon=True)
        t.start()
        return t


def monotonic():
    return time.monotonic()
