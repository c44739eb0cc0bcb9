"""One rate limiter per QuickBooks company (realm), shared by every Odoo worker and server.

Intuit throttles per realm and app: 500 requests per minute, 10 per second, 10 in flight and
40 batch requests per minute; past that it answers 429 (fault 3001) and expects a minute of
silence. An in-process limiter cannot keep those limits once two workers (or two servers) export
for the same company, so the state lives in the one thing they all share: PostgreSQL.

Plain Python over a cursor factory (no ORM), in short transactions of its own:

* every slot is one row of ``qbo_rate_limit_slot`` (start time, batch flag, release time, lease);
  a request may start when the rows of the realm say the windows have room;
* acquiring a slot locks the realm's row of ``qbo_rate_limit`` with ``SELECT ... FOR UPDATE`` for
  the duration of one short transaction (a few statements, committed before any HTTP), which
  serialises the decision between workers; releasing is one UPDATE in its own transaction;
* no session state at all - no advisory locks, LISTEN or prepared statements - so it works behind
  pgbouncer in transaction mode;
* time is PostgreSQL's clock (``clock_timestamp()``), the one clock every server shares;
* a 429 pauses the realm for everybody for 60 s plus jitter (``throttled()``);
* the realm row also counts Intuit's metered ("CorePlus") calls - queries and reads - per
  calendar month (UTC), at no extra statement.

The tables are declared by the Odoo models in models/qbo_rate_limit.py; this module only
reads and writes them with SQL.
"""
import logging
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass

from .. import const
from .i18n import _lt
from .qbo_exceptions import QboRateLimitError

_logger = logging.getLogger(__name__)

# Intuit counts a request when it arrives, which is somewhere between our slot's start (on PostgreSQL's
# clock, before the request leaves) and its release (the answer is back). So a slot counts in a window
# until the window has passed since its release (or now, while in flight): on a loaded machine the
# arrival can lag the start by a second, and a window kept from the start alone let an 11th request
# reach Intuit within its second (a 429, and a minute's pause for every worker). A little wider still.
MINUTE_WINDOW = 61.0
SECOND_WINDOW = 1.1
# A slot whose holder died (killed worker) stops counting as in flight after this many seconds.
SLOT_LEASE_SECONDS = const.HTTP_TIMEOUT + 30
# Released slot rows are deleted once they are older than every window.
SLOT_KEEP_SECONDS = 120
# After a 429: Intuit's 60 s, plus up to this much jitter so that workers do not all resume at once.
PAUSE_JITTER_SECONDS = 10.0
# Polling interval when only the in-flight limit is full (the next release frees a slot).
IN_FLIGHT_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class RateLimits:
    """Intuit's published throttles per realm (all configurable, see qbo.connection)."""
    per_minute: int = const.RATE_LIMIT_PER_MINUTE
    per_second: int = const.RATE_LIMIT_PER_SECOND
    in_flight: int = const.RATE_LIMIT_CONCURRENT
    batch_per_minute: int = const.RATE_LIMIT_BATCH_PER_MINUTE


class PgRateLimiter:
    """Cross-process limiter of one realm; implements the `slot()` seam of QboClient.

    :param cursor_factory: callable returning a new database cursor usable as a context manager
        that commits on a clean exit (Odoo's ``sql_db.db_connect(db).cursor``). It must not be the
        caller's own cursor: the limiter commits.
    :param str key: the realm's key, e.g. ``'9341453908059321@quickbooks.api.intuit.com'``
    :param RateLimits limits: the limits to keep
    :param float max_wait: longest wait for a slot (seconds); beyond it the call fails at once with
        a transient QboRateLimitError (a button answers quickly, the cron retries later)
    """

    def __init__(self, cursor_factory, key, limits=None, max_wait=10.0):
        self.cursor_factory = cursor_factory
        self.key = key
        self.limits = limits or RateLimits()
        self.max_wait = max_wait

    # ------------------------------------------------------------------ the seam

    @contextmanager
    def slot(self, kind='write', max_wait=None):
        """Hold one request slot of the realm for the duration of one HTTP call.

        :param str kind: 'read' (metered by Intuit: queries and GETs), 'write' or 'batch'
        :param float max_wait: the caller's own bound on the wait (what its run has left before
            Odoo's time limit); the shorter of it and the limiter's `max_wait` applies
        :raise QboRateLimitError: no slot within that wait (transient: retry later)
        """
        slot_id = self._acquire(kind, self.max_wait if max_wait is None else min(self.max_wait, max_wait))
        try:
            yield
        finally:
            self._release(slot_id)

    def throttled(self, seconds=const.THROTTLE_RETRY_SECONDS):
        """QuickBooks answered 429: pause the realm for every worker (`seconds` plus jitter)."""
        pause = seconds + random.uniform(0, PAUSE_JITTER_SECONDS)
        with self.cursor_factory() as cr:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cr.execute("""INSERT INTO qbo_rate_limit (key, metered_count, paused_until)
                          VALUES (%(key)s, 0, extract(epoch FROM clock_timestamp())::float8 + %(pause)s)
                          ON CONFLICT (key) DO UPDATE
                          SET paused_until = GREATEST(COALESCE(qbo_rate_limit.paused_until, 0), EXCLUDED.paused_until)""",
                       {'key': self.key, 'pause': pause})
        _logger.warning("QuickBooks throttled realm %s (429): every worker pauses it for %.0f s.", self.key, pause)

    def paused_until(self):
        """End of the realm's 429 pause (epoch seconds, PostgreSQL's clock) and the clock's now, as
        (until or None, now): the one record of the pause, read by the cron to plan its retry."""
        with self.cursor_factory() as cr:
            cr.execute("""SELECT extract(epoch FROM clock_timestamp())::float8,
                                (SELECT paused_until FROM qbo_rate_limit WHERE key = %s)""", [self.key])
            now, until = cr.fetchone()
        return (until if until and until > now else None), now

    # ------------------------------------------------------------------ internals

    def _ensure_row(self, cr):
        cr.execute("INSERT INTO qbo_rate_limit (key, metered_count) VALUES (%s, 0) ON CONFLICT (key) DO NOTHING",
                   [self.key])

    def _acquire(self, kind, max_wait):
        deadline = time.monotonic() + max_wait
        while True:
            slot_id, wait, reason = self._try_acquire(kind)
            if slot_id:
                return slot_id
            if time.monotonic() + wait > deadline:
                raise QboRateLimitError(reason, code=const.FAULT_THROTTLED)
            # A little jitter: workers woken by the same release do not all collide again.
            time.sleep(wait + random.uniform(0, 0.02))

    def _try_acquire(self, kind):
        """One short transaction: take a slot now, or say how long to wait and why.

        :return: (slot id or None, seconds to wait, reason)
        """
        limits = self.limits
        with self.cursor_factory() as cr:
            # Each statement must see what the previous lock holder committed.
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cr.execute("""SELECT extract(epoch FROM clock_timestamp())::float8, COALESCE(paused_until, 0)
                            FROM qbo_rate_limit WHERE key = %s FOR UPDATE""", [self.key])
            row = cr.fetchone()
            if row is None:
                self._ensure_row(cr)
                cr.execute("""SELECT extract(epoch FROM clock_timestamp())::float8, COALESCE(paused_until, 0)
                                FROM qbo_rate_limit WHERE key = %s FOR UPDATE""", [self.key])
                row = cr.fetchone()
            now, paused_until = row
            if paused_until > now:
                return None, paused_until - now, _lt(
                    "QuickBooks throttled this company (429): every worker waits %d s before sending again.",
                    round(paused_until - now))
            cr.execute("""
                WITH slot AS (
                    SELECT is_batch, released_at IS NULL AND lease_until > %(now)s AS in_flight,
                           -- the latest moment Intuit may have counted it (see SECOND_WINDOW); a slot
                           -- whose holder died counts until its lease ran out
                           CASE WHEN released_at IS NOT NULL THEN released_at
                                WHEN lease_until > %(now)s THEN %(now)s
                                ELSE lease_until END AS counted_until
                      FROM qbo_rate_limit_slot
                     WHERE key = %(key)s AND (released_at IS NULL OR released_at > %(now)s - %(minute)s))
                SELECT count(*) FILTER (WHERE in_flight),
                       count(*) FILTER (WHERE counted_until > %(now)s - %(minute)s),
                       min(counted_until) FILTER (WHERE counted_until > %(now)s - %(minute)s),
                       count(*) FILTER (WHERE counted_until > %(now)s - %(second)s),
                       min(counted_until) FILTER (WHERE counted_until > %(now)s - %(second)s),
                       count(*) FILTER (WHERE is_batch AND counted_until > %(now)s - %(minute)s),
                       min(counted_until) FILTER (WHERE is_batch AND counted_until > %(now)s - %(minute)s)
                  FROM slot
            """, {'now': now, 'key': self.key, 'minute': MINUTE_WINDOW, 'second': SECOND_WINDOW})
            in_flight, minute, minute_first, second, second_first, batches, batch_first = cr.fetchone()
            if minute >= limits.per_minute:
                return None, max(minute_first + MINUTE_WINDOW - now, 0.0), _lt(
                    "Local throttle: %d QuickBooks requests in the last minute for this company.", minute)
            if kind == 'batch' and batches >= limits.batch_per_minute:
                return None, max(batch_first + MINUTE_WINDOW - now, 0.0), _lt(
                    "Local throttle: %d QuickBooks batch requests in the last minute for this company.", batches)
            if second >= limits.per_second:
                # A window held by requests still in flight frees up at their release: poll.
                return None, max(second_first + SECOND_WINDOW - now, IN_FLIGHT_POLL_SECONDS), _lt(
                    "Local throttle: %d QuickBooks requests in the last second for this company.", second)
            if in_flight >= limits.in_flight:
                return None, IN_FLIGHT_POLL_SECONDS, _lt(
                    "Local throttle: %d QuickBooks requests in flight for this company.", in_flight)
            cr.execute("""INSERT INTO qbo_rate_limit_slot (key, started_at, is_batch, lease_until)
                          VALUES (%s, %s, %s, %s) RETURNING id""",
                       [self.key, now, kind == 'batch', now + SLOT_LEASE_SECONDS])
            slot_id = cr.fetchone()[0]
            if kind == 'read':
                # Intuit meters reads per calendar month: count them on the realm row we hold locked.
                cr.execute("""UPDATE qbo_rate_limit
                                 SET metered_count = CASE WHEN metered_month = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM')
                                                          THEN metered_count + 1 ELSE 1 END,
                                     metered_month = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM')
                               WHERE key = %s""", [self.key])
            # Housekeeping on the rows we already scanned: forget what no window needs any more.
            cr.execute("""DELETE FROM qbo_rate_limit_slot
                           WHERE key = %s AND started_at < %s
                             AND (released_at IS NOT NULL OR lease_until < %s)""",
                       [self.key, now - SLOT_KEEP_SECONDS, now])
            return slot_id, 0.0, None

    def _release(self, slot_id):
        with self.cursor_factory() as cr:
            cr.execute("UPDATE qbo_rate_limit_slot SET released_at = extract(epoch FROM clock_timestamp())::float8 "
                       "WHERE id = %s", [slot_id])


def realm_key(realm_id, api_base):
    """The limiter key of a realm: its id at its API host (sandbox and production ids are distinct)."""
    host = api_base.split('://', 1)[-1].split('/', 1)[0]
    return f"{realm_id}@{host}"
