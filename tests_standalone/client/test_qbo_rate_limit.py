"""The shared limiter (tools/qbo_rate_limit.py) as plain Python over psycopg2, with the client's seam.

A throwaway database holds the limiter's two tables (as the Odoo models declare them); each
"worker" gets its own connections. Skipped when PostgreSQL does not answer.
"""
import os
import threading
from contextlib import contextmanager

import pytest
from quickbooks_online.tools import QboClient, QboRateLimitError
from quickbooks_online.tools.qbo_client import _limiter_kind
from quickbooks_online.tools.qbo_rate_limit import PgRateLimiter, RateLimits

from qbo_emulator import EmulatorServer
from qbo_emulator.testing import EmulatorControl

psycopg2 = pytest.importorskip('psycopg2')

SCHEMA = """
CREATE TABLE qbo_rate_limit (id serial PRIMARY KEY, key varchar NOT NULL, paused_until float8,
                             metered_month varchar, metered_count int4);
CREATE UNIQUE INDEX qbo_rate_limit_key_uniq ON qbo_rate_limit (key);
CREATE TABLE qbo_rate_limit_slot (id serial PRIMARY KEY, key varchar NOT NULL, started_at float8 NOT NULL,
                                  is_batch bool, released_at float8, lease_until float8);
"""


@pytest.fixture(scope='module')
def dbname():
    name = f'qbo_limiter_test_{os.getpid()}'
    try:
        admin = psycopg2.connect(dbname='postgres')
    except psycopg2.OperationalError as exc:
        pytest.skip(f'no PostgreSQL: {exc}')
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    with psycopg2.connect(dbname=name) as conn:
        conn.cursor().execute(SCHEMA)
    conn.close()
    yield name
    admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


def cursor_factory(dbname):
    """What Odoo's pool gives the limiter: a cursor that commits on a clean exit."""
    @contextmanager
    def factory():
        conn = psycopg2.connect(dbname=dbname)
        try:
            with conn:  # commit on success, rollback on error
                with conn.cursor() as cr:
                    yield cr
        finally:
            conn.close()
    return factory


def test_limiter_kind_classifies_metered_reads():
    base = 'http://h/v3/company/123/'
    assert _limiter_kind('GET', base + 'invoice/5') == 'read'
    assert _limiter_kind('GET', base + 'query') == 'read'
    assert _limiter_kind('POST', base + 'query') == 'read'
    assert _limiter_kind('GET', base + 'cdc') == 'read'
    assert _limiter_kind('POST', base + 'invoice') == 'write'
    assert _limiter_kind('POST', base + 'batch') == 'batch'


def test_two_workers_keep_the_in_flight_limit(dbname):
    limits = RateLimits(per_minute=500, per_second=100, in_flight=2, batch_per_minute=40)
    seen, peak, lock = [0], [0], threading.Lock()
    errors = []

    def work():
        limiter = PgRateLimiter(cursor_factory(dbname), 'realm-a@test', limits, max_wait=20)
        try:
            for _i in range(5):
                with limiter.slot('write'):
                    with lock:
                        seen[0] += 1
                        peak[0] = max(peak[0], seen[0])
                    threading.Event().wait(0.05)
                    with lock:
                        seen[0] -= 1
        except Exception as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert peak[0] == 2


def test_429_from_quickbooks_pauses_the_realm_for_another_worker(dbname):
    server = EmulatorServer(client_id='cid', client_secret='secret', redirect_uris=['http://localhost/cb'])
    server.start()
    try:
        control = EmulatorControl(server.url)
        realm = control.create_company('Throttled Co', country='US')['realm_id']
        control.inject_fault('429', realm_id=realm)
        key = f'{realm}@emulator'
        worker_a = QboClient(server.url, realm, lambda force_refresh=False: 'unused',
                             limiter=PgRateLimiter(cursor_factory(dbname), key, max_wait=1))
        worker_b = PgRateLimiter(cursor_factory(dbname), key, max_wait=1)
        with pytest.raises(QboRateLimitError):
            worker_a.company_info()
        with pytest.raises(QboRateLimitError, match='429'):
            with worker_b.slot('read'):
                pass
    finally:
        server.stop()


def test_a_slow_request_counts_in_the_second_window_until_it_is_answered(dbname):
    """Intuit counts a request when it arrives, somewhere between our slot's start and its answer: a
    request started 2 s ago and answered just now may have arrived within Intuit's current second. Ten
    of those fill the second (the 11th would be the 429 that paused every worker for a minute)."""
    key = 'realm-slow@test'
    with cursor_factory(dbname)() as cr:
        cr.execute("""INSERT INTO qbo_rate_limit_slot (key, started_at, is_batch, released_at, lease_until)
                      SELECT %s, now_s - 2.0, false, now_s - 0.2, now_s + 60
                        FROM (SELECT extract(epoch FROM clock_timestamp())::float8 AS now_s) AS clock,
                             generate_series(1, 10)""", [key])
    limits = RateLimits(per_minute=500, per_second=10, in_flight=10, batch_per_minute=40)
    with pytest.raises(QboRateLimitError, match='last second'):
        with PgRateLimiter(cursor_factory(dbname), key, limits, max_wait=0.2).slot('write'):
            pass
    # Once a second (and our margin) has passed since their answers, the window has room again.
    with PgRateLimiter(cursor_factory(dbname), key, limits, max_wait=3).slot('write'):
        pass
