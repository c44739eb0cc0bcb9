"""The per-realm rate limiter shared by every worker (tools/qbo_rate_limit.py), over real PostgreSQL.

Each "worker" is a thread with its own limiter instance and its own database connections (from
the pool, as two Odoo workers would have), talking HTTP to the emulator with Intuit's limits on.
What counts is what the emulator saw: its request log (arrival times, 429s).
"""
import threading
import time

from odoo import sql_db
from odoo.tests import tagged

from ..tools import QboClient, QboRateLimitError
from ..tools.qbo_rate_limit import PgRateLimiter, RateLimits
from .common import QboTestCommon


@tagged('post_install', '-at_install')
class TestQboRateLimit(QboTestCommon):

    def setUp(self):
        super().setUp()
        self.key = self.connection._qbo_limiter_key()
        self.token = self.connection._qbo_get_access_token()
        self.api = self.connection._qbo_endpoints()['api']
        self.db = sql_db.db_connect(self.env.cr.dbname)
        self.addCleanup(self._forget_limiter_state)
        self.addCleanup(self.qbo.settings, limits_enabled=False, latency_ms=0, concurrency_limit=10,
                        rate_limit_per_minute=500, batch_limit_per_minute=40)
        self.addCleanup(self.qbo.clear_faults)

    def _forget_limiter_state(self):
        # The limiter commits on its own connections: remove what this test left.
        with self.db.cursor() as cr:
            cr.execute("DELETE FROM qbo_rate_limit_slot WHERE key = %s", [self.key])
            cr.execute("DELETE FROM qbo_rate_limit WHERE key = %s", [self.key])

    def _limiter(self, limits, max_wait=30.0, key=None):
        return PgRateLimiter(self.db.cursor, key or self.key, limits, max_wait=max_wait)

    def _client(self, limiter):
        return QboClient(self.api, self.realm, lambda force_refresh=False: self.token, limiter=limiter)

    def _run_workers(self, clients, calls_each, threads_each=2):
        """Each client (worker) reads CompanyInfo `calls_each` times in each of `threads_each` threads.

        :return: the errors raised
        """
        clients = [client for client in clients for _i in range(threads_each)]
        barrier = threading.Barrier(len(clients))
        errors = []

        def work(client):
            try:
                barrier.wait(timeout=10)
                for _i in range(calls_each):
                    client.company_info()
            except Exception as exc:  # noqa: BLE001 - reported by the caller's assertion
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(client,)) for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return errors

    def _api_log(self):
        return [r for r in self.qbo.requests_log(path_contains=f'/v3/company/{self.realm}/')]

    @staticmethod
    def _max_per_window(times, window):
        times = sorted(times)
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    @staticmethod
    def _seconds(entry):
        hours, minutes, seconds = entry['time'][11:23].split(':')
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)

    # ------------------------------------------------------------------ tests

    def test_two_workers_share_the_realm_limits(self):
        """Two workers with their own limiter and cursors together keep the realm's limits."""
        self.qbo.settings(limits_enabled=True, latency_ms=150, concurrency_limit=2, rate_limit_per_minute=500)
        self.qbo.clear_requests_log()
        limits = RateLimits(per_minute=500, per_second=4, in_flight=2, batch_per_minute=40)
        errors = self._run_workers([self._client(self._limiter(limits)) for _i in range(2)], calls_each=4)
        self.assertFalse(errors)
        log = self._api_log()
        self.assertEqual(len(log), 16)
        self.assertFalse([r for r in log if r['status'] == 429], "no 429: the realm was never over the limits")
        # Intuit's per-second limit, checked on the emulator's arrival times (ms precision).
        self.assertLessEqual(self._max_per_window([self._seconds(r) for r in log], 1.0), 4)

    def test_separate_limiters_would_be_throttled(self):
        """Control of the test above: two workers each believing they own the realm earn 429s."""
        self.qbo.settings(limits_enabled=True, latency_ms=150, concurrency_limit=2)
        self.qbo.clear_requests_log()
        limits = RateLimits(per_minute=500, per_second=10, in_flight=2, batch_per_minute=40)
        clients = [self._client(self._limiter(limits, key=f'{self.key}-worker{i}')) for i in range(2)]
        self.addCleanup(self._forget_keys, [f'{self.key}-worker{i}' for i in range(2)])
        errors = self._run_workers(clients, calls_each=4)
        self.assertTrue([r for r in self._api_log() if r['status'] == 429])
        self.assertTrue(any(isinstance(e, QboRateLimitError) for e in errors))

    def _forget_keys(self, keys):
        with self.db.cursor() as cr:
            cr.execute("DELETE FROM qbo_rate_limit_slot WHERE key IN %s", [tuple(keys)])
            cr.execute("DELETE FROM qbo_rate_limit WHERE key IN %s", [tuple(keys)])

    def test_429_pauses_the_realm_for_every_worker(self):
        """A 429 received by one worker stops the other one before it sends anything."""
        worker_a = self._client(self._limiter(RateLimits(), max_wait=2.0))
        worker_b = self._client(self._limiter(RateLimits(), max_wait=2.0))
        self.qbo.inject_fault('429', realm_id=self.realm)
        with self.assertRaises(QboRateLimitError):
            worker_a.company_info()
        self.qbo.clear_requests_log()
        started = time.monotonic()
        with self.assertRaises(QboRateLimitError) as caught:
            worker_b.company_info()
        self.assertLess(time.monotonic() - started, 1.0, "a 60 s pause is refused at once, not waited for")
        self.assertIn('429', str(caught.exception))
        self.assertEqual(self._api_log(), [], "worker B sent nothing during the pause")
        with self.db.cursor() as cr:
            cr.execute("SELECT paused_until - extract(epoch FROM clock_timestamp()) FROM qbo_rate_limit "
                       "WHERE key = %s", [self.key])
            remaining = cr.fetchone()[0]
            self.assertTrue(55 < remaining <= 70, "60 s plus jitter")
            # The pause is over (as if a minute had passed): both workers send again.
            cr.execute("UPDATE qbo_rate_limit SET paused_until = 0 WHERE key = %s", [self.key])
        self.assertEqual(worker_b.company_info()['CompanyName'], 'Odoo Test US')
        self.assertEqual(worker_a.company_info()['CompanyName'], 'Odoo Test US')

    def test_short_transactions_and_windows(self):
        """No lock is held while a request is in flight; the windows and in-flight limit hold."""
        limits = RateLimits(per_minute=500, per_second=3, in_flight=1, batch_per_minute=1)
        holder = self._limiter(limits)
        other = self._limiter(limits, max_wait=0.3)
        with holder.slot('write'):
            # Another worker's transaction can lock the realm row at once: nothing is held during HTTP.
            with self.db.cursor() as cr:
                cr.execute("SELECT id FROM qbo_rate_limit WHERE key = %s FOR UPDATE NOWAIT", [self.key])
                self.assertEqual(len(cr.fetchall()), 1)
            with self.assertRaisesRegex(QboRateLimitError, 'in flight'):
                with other.slot('read'):
                    pass
        # Per-second window: the 3 slots above and below fill it, the next waits ~1 s for room.
        with other.slot('batch'):
            pass
        with self.assertRaisesRegex(QboRateLimitError, 'batch'):
            with other.slot('batch'):
                pass
        with other.slot('read'):
            pass
        started = time.monotonic()
        with holder.slot('write'):
            pass
        self.assertGreater(time.monotonic() - started, 0.3, "the 4th request of the second waited")
        with self.db.cursor() as cr:
            cr.execute("SELECT count(*) FROM qbo_rate_limit_slot WHERE key = %s AND released_at IS NULL", [self.key])
            self.assertEqual(cr.fetchone()[0], 0, "every slot released")
            # This database only: other test runs or Odoo servers on the same PostgreSQL use the limiter too.
            cr.execute("SELECT state FROM pg_stat_activity WHERE state = 'idle in transaction' "
                       "AND datname = current_database() AND query ILIKE '%%qbo_rate_limit%%'")
            self.assertEqual(cr.fetchall(), [], "no limiter transaction left open")

    def test_connection_client_uses_shared_limiter_and_meters_reads(self):
        """The connection's client goes through the shared limiter, which counts Intuit's metered reads."""
        client = self.connection._qbo_get_client([])
        self.assertIsInstance(client.limiter, PgRateLimiter)
        before = self.connection.qbo_metered_calls
        client.company_info()
        client.query("SELECT * FROM Customer MAXRESULTS 1")
        client.create('Customer', {'DisplayName': 'Metered Co'}, request_id='metered-co-1')
        self.connection.invalidate_recordset(['qbo_metered_calls'])
        self.assertEqual(self.connection.qbo_metered_calls, before + 2, "two reads metered, the write is free")

    def test_metered_budget_activity_at_80_percent(self):
        """Administrators get one activity a month when 80 % of the metered budget is used."""
        # Connecting imported the reference data: those reads are metered too.
        used = self.connection.qbo_metered_calls
        self.assertGreater(used, 0)
        self.env['ir.config_parameter'].sudo().set_param('quickbooks_online.metered_budget', used + 5)
        Connection = self.env['qbo.connection']
        Connection._qbo_check_metered_budget()
        self.assertFalse(self.connection.sudo().activity_ids.filtered(lambda a: '80' in (a.summary or '')))
        client = self.connection._qbo_get_client([])
        for _i in range(4):
            client.query("SELECT * FROM Customer MAXRESULTS 1")
        self.connection.invalidate_recordset(['qbo_metered_calls', 'qbo_metered_percent'])
        self.assertGreaterEqual(self.connection.qbo_metered_percent, 80.0)
        Connection._qbo_check_metered_budget()
        Connection._qbo_check_metered_budget()
        activities = self.connection.sudo().activity_ids.filtered(lambda a: '80' in (a.summary or ''))
        self.assertIn(self.qbo_admin, activities.user_id)
        self.assertEqual(len(activities), len(activities.user_id), "one activity per admin, not one per run")
