"""The QBO query language (spec §6).

``SELECT * | COUNT(*) FROM <Entity> [WHERE cond [AND cond]...] [ORDERBY prop [ASC|DESC][, ...]]
[STARTPOSITION n] [MAXRESULTS m]`` with =, <, >, <=, >=, IN (...), LIKE '%x%'.

Choices (uncertain points of the spec): MAXRESULTS above 1000 is clamped to
1000; STARTPOSITION 0 is read as 1; ``ORDER BY`` (two words) and extra
projections after ``*`` (python-quickbooks sends ``SELECT *, Sku FROM Item``)
are tolerated. ``totalCount`` is returned for COUNT(*) and for TaxCode/TaxRate
and transaction queries, not for name lists (matching the published samples).
"""
import re

from . import errors, util
from .store import BY_LOWER, ENTITIES

TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>'(?:\\.|[^'\\])*')
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),*])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
""", re.X)

KEYWORDS = {'select', 'from', 'where', 'and', 'or', 'orderby', 'order', 'by', 'asc', 'desc', 'startposition',
            'maxresults', 'in', 'like', 'count', 'true', 'false'}


class Query:
    def __init__(self):
        self.entity = None
        self.count = False
        self.conds = []          # (path, op, value | [values])
        self.order = []          # (path, desc)
        self.start = 1
        self.max = 100


def tokenize(text):
    pos = 0
    out = []
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise errors.query_parse('Lexical error at line 1, column %d.  Encountered: "%s"'
                                     % (pos + 1, text[pos]))
        kind = m.lastgroup
        if kind != 'ws':
            val = m.group(kind)
            if kind == 'str':
                val = re.sub(r"\\(.)", r"\1", val[1:-1])
            out.append((kind, val, pos + 1))
        pos = m.end()
    return out


class Parser:
    def __init__(self, text):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else ('eof', '', len(self.text) + 1)

    def fail(self, tok=None, expecting=None):
        kind, val, col = tok or self.peek()
        label = {'ident': '<IDENTIFIER>', 'str': '<STRING>', 'num': '<INTEGER>', 'eof': '<EOF>'}.get(kind, val)
        msg = 'Encountered " %s "%s "" at line 1, column %d.' % (label, val, col)
        if expecting:
            msg += '\nWas expecting one of:\n    %s' % expecting
        raise errors.query_parse(msg)

    def next(self):
        tok = self.peek()
        self.i += 1
        return tok

    def kw(self, word):
        kind, val, _ = self.peek()
        if kind == 'ident' and val.lower() == word:
            self.i += 1
            return True
        return False

    def expect_kw(self, word):
        if not self.kw(word):
            self.fail(expecting='"%s" ...' % word.upper())

    def value(self):
        kind, val, col = self.next()
        if kind == 'str':
            return val
        if kind == 'num':
            return val
        if kind == 'ident' and val.lower() in ('true', 'false'):
            return val.lower() == 'true'
        if kind == 'ident' and val.upper() == 'CURRENT_DATE':
            return 'CURRENT_DATE'
        self.fail((kind, val, col), '<STRING> ... <INTEGER> ... "true" ... "false" ...')

    def parse(self):
        q = Query()
        if not self.toks:
            raise errors.query_parse('The query provided was empty')
        self.expect_kw('select')
        kind, val, _ = self.peek()
        if kind == 'punct' and val == '*':
            self.next()
            while self.peek()[:2] == ('punct', ','):     # "SELECT *, Sku" (python-quickbooks)
                self.next()
                if self.next()[0] != 'ident':
                    self.fail()
        elif kind == 'ident' and val.lower() == 'count':
            self.next()
            for ch in ('(', '*', ')'):
                if self.next()[:2] != ('punct', ch):
                    self.fail(self.toks[self.i - 1])
            q.count = True
        else:
            self.fail(expecting='"*" ... "COUNT" ...')
        self.expect_kw('from')
        kind, val, col = self.next()
        if kind != 'ident':
            self.fail((kind, val, col), '<IDENTIFIER> ...')
        ent = BY_LOWER.get(val.lower())
        if ent is None:
            raise errors.query_validation('Invalid entity %s' % val) if val.isidentifier() else self.fail()
        q.entity = ent
        if self.kw('where'):
            while True:
                q.conds.append(self.condition())
                if self.kw('and'):
                    continue
                if self.peek()[0] == 'ident' and self.peek()[1].lower() == 'or':
                    self.fail(expecting='"AND" ... "ORDERBY" ... "STARTPOSITION" ... "MAXRESULTS" ...')
                break
        if self.kw('orderby') or (self.kw('order') and (self.kw('by') or self.fail())):
            while True:
                kind, val, col = self.next()
                if kind != 'ident':
                    self.fail((kind, val, col), '<IDENTIFIER> ...')
                desc = False
                if self.kw('desc'):
                    desc = True
                else:
                    self.kw('asc')
                q.order.append((val, desc))
                if self.peek()[:2] == ('punct', ','):
                    self.next()
                    continue
                break
        while True:
            if self.kw('startposition'):
                kind, val, col = self.next()
                if kind != 'num':
                    self.fail((kind, val, col), '<INTEGER> ...')
                q.start = max(1, int(float(val)))
            elif self.kw('maxresults'):
                kind, val, col = self.next()
                if kind != 'num':
                    self.fail((kind, val, col), '<INTEGER> ...')
                q.max = max(0, min(1000, int(float(val))))
            else:
                break
        if self.peek()[0] != 'eof':
            self.fail()
        return q

    def condition(self):
        kind, path, col = self.next()
        if kind != 'ident' or path.lower() in KEYWORDS:
            self.fail((kind, path, col), '<IDENTIFIER> ...')
        kind, op, col = self.peek()
        if kind == 'op':
            self.next()
            if op in ('!=', '<>'):
                op = '!='
            return (path, op, self.value())
        if kind == 'ident' and op.lower() == 'in':
            self.next()
            if self.next()[:2] != ('punct', '('):
                self.fail(self.toks[self.i - 1], '"(" ...')
            vals = [self.value()]
            while self.peek()[:2] == ('punct', ','):
                self.next()
                vals.append(self.value())
            if self.next()[:2] != ('punct', ')'):
                self.fail(self.toks[self.i - 1], '")" ...')
            return (path, 'in', vals)
        if kind == 'ident' and op.lower() == 'like':
            self.next()
            return (path, 'like', self.value())
        self.fail(expecting='"=" ... "<" ... ">" ... "IN" ... "LIKE" ...')


def parse(text):
    return Parser(text or '').parse()


def get_path(obj, path):
    """Case-insensitive dotted lookup; a reference object compares by its ``value``
    (``CustomerRef``), an email by its ``Address``. Through a list (``AttachableRef.EntityRef.value``) the
    result is the list of the elements' values."""
    cur = obj
    parts = path.split('.')
    for i, part in enumerate(parts):
        if isinstance(cur, list):
            values = [get_path(el, '.'.join(parts[i:])) for el in cur]
            return [v for v in values if v is not None] or None
        if not isinstance(cur, dict):
            return None
        low = part.lower()
        if low == 'metadata':
            low = 'metadata'
        found = None
        for k in cur:
            if k.lower() == low and not k.startswith('_'):
                found = k
                break
        if found is None:
            return None
        cur = cur[found]
    if isinstance(cur, dict):
        for k in ('value', 'Address', 'FreeFormNumber', 'URI'):
            if k in cur:
                return cur[k]
    return cur


DATE_RE = re.compile(r'^\d{4}-\d{2}-\d{2}')


def compare_key(value, other, tz):
    """Turn a stored value and a query literal into comparable keys (dates, numbers, bools, strings)."""
    if isinstance(value, bool) or isinstance(other, bool):
        to_b = (lambda v: v if isinstance(v, bool) else str(v).strip().lower() == 'true')
        return to_b(value), to_b(other)
    if isinstance(value, str) and DATE_RE.match(value) and isinstance(other, str) and DATE_RE.match(other):
        if len(value) > 10 or len(other) > 10:
            return util.parse_dt(value, tz), util.parse_dt(other, tz)
        return value, other
    try:
        return float(value), float(other)
    except (TypeError, ValueError):
        pass
    return str(value).lower(), str(other).lower()


def matches(obj, cond, tz, today):
    path, op, lit = cond
    value = get_path(obj, path)
    if value is None:
        return False
    if isinstance(value, list):
        return any(matches({'v': v}, ('v', op, lit), tz, today) for v in value)
    if lit == 'CURRENT_DATE':
        lit = today
    if op == 'in':
        return any(_eq(value, v, tz, today) for v in lit)
    if op == 'like':
        pattern = '^' + '.*'.join(re.escape(p) for p in str(lit).split('%')) + '$'
        return re.match(pattern, str(value), re.I | re.S) is not None
    try:
        a, b = compare_key(value, lit, tz)
        if a is None or b is None:
            return False
        return {'=': a == b, '!=': a != b, '<': a < b, '>': a > b, '<=': a <= b, '>=': a >= b}[op]
    except TypeError:
        return False


def _eq(value, lit, tz, today):
    if lit == 'CURRENT_DATE':
        lit = today
    a, b = compare_key(value, lit, tz)
    return a == b


def sort_key(obj, path):
    v = get_path(obj, path)
    if path.lower() == 'id':
        return (0, util.id_sort_key(v))
    if v is None:
        return (0, (0, ''))
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (1, (float(v), ''))
    return (1, (0, str(v).lower()))


def execute(ctx, text):
    """Run a query for ``ctx.company``; returns the ``QueryResponse`` dict."""
    q = parse(text)
    c = ctx.company
    entity = q.entity
    today = util.fmt_date(ctx.now, c.tz_minutes)
    rows = [o for o in c.data[entity].values() if ctx.visible(o)]
    kind = ENTITIES[entity]['kind']
    if kind in ('name', 'tax') and not any(p.lower() == 'active' for p, _, _ in q.conds):
        rows = [o for o in rows if o.get('Active', True) is not False]
    for cond in q.conds:
        rows = [o for o in rows if matches(o, cond, c.tz_minutes, today)]
    if q.count:
        return {'totalCount': len(rows)}
    rows.sort(key=lambda o: util.id_sort_key(o.get('Id')))
    for path, desc in reversed(q.order):
        rows.sort(key=lambda o: sort_key(o, path), reverse=desc)
    page = rows[q.start - 1:q.start - 1 + q.max]
    if not page:
        return {}
    resp = {entity: [util.public(o) for o in page], 'startPosition': q.start, 'maxResults': len(page)}
    if kind != 'name':
        resp['totalCount'] = len(rows)
    return resp
