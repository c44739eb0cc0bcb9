"""Small shared helpers: the emulator clock, date formatting, money rounding, ids.

Everything here is pure standard library and has no knowledge of HTTP.
"""
import base64
import copy
import datetime as dt
import secrets
import string
import threading
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


class Clock:
    """Wall clock with a controllable forward offset.

    The control API can advance it (``/_emulator/clock/advance``) so that token
    expiry, default dates and CDC windows can be tested without sleeping.
    """

    def __init__(self, offset=0.0):
        self.offset = float(offset)
        self._lock = threading.Lock()

    def now(self):
        return time.time() + self.offset

    def advance(self, seconds):
        with self._lock:
            self.offset += float(seconds)
        return self.now()


def tz_of(minutes):
    return dt.timezone(dt.timedelta(minutes=minutes))


def fmt_dt(epoch, tz_minutes, ms=False):
    """ISO-8601 in the company's UTC offset, like QBO ("2015-07-24T10:33:39-07:00").

    With ``ms`` the top-level ``time`` form with milliseconds is produced.
    """
    d = dt.datetime.fromtimestamp(epoch, tz_of(tz_minutes))
    if ms:
        s = d.strftime('%Y-%m-%dT%H:%M:%S') + '.%03d' % (d.microsecond // 1000)
    else:
        s = d.strftime('%Y-%m-%dT%H:%M:%S')
    off = d.strftime('%z')
    return s + off[:3] + ':' + off[3:]


def fmt_date(epoch, tz_minutes):
    return dt.datetime.fromtimestamp(epoch, tz_of(tz_minutes)).strftime('%Y-%m-%d')


def parse_dt(value, tz_minutes=0):
    """Parse a QBO date or datetime string into an epoch float (None if invalid).

    Date-only values mean midnight in the company's offset; datetimes without
    an offset are read in the company's offset too.
    """
    if value is None:
        return None
    s = str(value).strip()
    if not s:
        return None
    if s.endswith('Z'):
        s = s[:-1] + '+00:00'
    # accept "-0700" offsets too
    if len(s) > 5 and s[-5] in '+-' and s[-4:].isdigit() and 'T' in s:
        s = s[:-2] + ':' + s[-2:]
    try:
        if len(s) == 10:
            d = dt.datetime.strptime(s, '%Y-%m-%d')
        else:
            d = dt.datetime.fromisoformat(s)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=tz_of(tz_minutes))
    return d.timestamp()


def parse_date(value):
    """Parse 'YYYY-MM-DD' into a date (None if invalid)."""
    try:
        return dt.datetime.strptime(str(value)[:10], '%Y-%m-%d').date()
    except (ValueError, TypeError):
        return None


def D(value):
    """Decimal from a JSON number/string; raises ValueError on garbage."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError('not a number')
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError('not a number: %r' % (value,))


def round2(value):
    """Half-up rounding to cents (QBO rounds tax lines this way: 335.25 * 8% = 26.82)."""
    return D(value).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)


def num(value):
    """Decimal -> JSON number (float); integral values keep a float form like QBO's 100.0."""
    return float(value)


def new_tid():
    """An ``intuit_tid``-like transaction id."""
    return '1-' + uuid.uuid4().hex[:8] + '-' + uuid.uuid4().hex[:24]


def rand_token(n, alphabet=string.ascii_letters + string.digits):
    return ''.join(secrets.choice(alphabet) for _ in range(n))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def public(obj):
    """Deep copy of a stored object without internal ``_``-prefixed keys."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if not k.startswith('_')}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj


def clean_input(obj):
    """Drop null and empty-string values from request payloads.

    Clients such as python-quickbooks serialise every attribute of their model
    classes ("TxnDate": "", "ServiceDate": "") and QBO treats such values as
    absent, so the emulator does the same.
    """
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if v is None or (isinstance(v, str) and v == ''):
                continue
            out[k] = clean_input(v)
        return out
    if isinstance(obj, list):
        return [clean_input(v) for v in obj]
    return obj


def deep_merge(base, patch):
    """Merge ``patch`` into a copy of ``base``: dicts recursively, anything else replaced."""
    out = copy.deepcopy(base)
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def id_sort_key(value):
    """Sort ids numerically when possible (pseudo ids like 'TAX' first)."""
    s = str(value)
    return (0, 0, '') if not s.isdigit() else (1, int(s), s)   # pseudo ids keep insertion order
