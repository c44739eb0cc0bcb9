"""Reports API: ``GET /reports/AgedReceivables`` and ``GET /reports/AgedPayables`` (aging summaries).

As Intuit documents the Reports API (REF-Reports): a report is ``{"Header", "Columns", "Rows"}``; a data
row is ``{"ColData": [{"value", "id"}...]}``, the grand total a ``Section`` row with ``group``
``GrandTotal`` and a ``Summary``. Amounts are strings with two decimals, an empty cell is ``""``.
The aging summaries have one row per customer (vendor) with a balance: ``Current`` (not due yet on
the report date), then ``num_periods`` buckets of ``aging_period`` days past the due date (``1 - 30``,
``31 - 60``, ``61 - 90``, ``91 and over`` by default) and ``Total``, in the home currency.

What is open: for receivables the invoices' ``Balance``, less the credit memos' ``RemainingCredit``
and the payments' ``UnappliedAmt``; for payables the bills' ``Balance`` less the vendor credits'
``Balance``. Documents dated after ``report_date`` are left out. Parameters: ``report_date``
(default today), ``aging_period``, ``num_periods``, ``customer`` / ``vendor`` (comma-separated ids).
"""
from . import errors, util

REPORTS = {
    # report name: (name-list entity, column type, [(entity, open field, sign)])
    'AgedReceivables': ('Customer', 'Customer', [('Invoice', 'Balance', 1), ('CreditMemo', 'RemainingCredit', -1),
                                                 ('Payment', 'UnappliedAmt', -1)]),
    'AgedPayables': ('Vendor', 'Vendor', [('Bill', 'Balance', 1), ('VendorCredit', 'Balance', -1)]),
}
REPORT_NAMES = {name.lower(): name for name in REPORTS}


def _positive_int(params, name, default):
    raw = params.get(name)
    if raw in (None, ''):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise errors.err(2010, 'Request has invalid or unsupported property',
                         'Invalid value for %s: %s' % (name, raw), name)
    return value


def _money(value):
    return '' if not value else '%.2f' % value


def _home_open(obj, field, home_currency):
    """The open amount of `obj` in the home currency (QuickBooks keeps HomeBalance for foreign documents)."""
    amount = util.D(obj.get(field) or 0)
    currency = (obj.get('CurrencyRef') or {}).get('value') or home_currency
    if currency != home_currency and amount:
        rate = util.D(obj.get('ExchangeRate') or 1)
        amount = util.round2(amount * rate)
    return amount


def aged(ctx, name, params):
    """Build one aging summary report for ``ctx.company``."""
    c = ctx.company
    party_entity, col_type, sources = REPORTS[name]
    today = util.fmt_date(ctx.now, c.tz_minutes)
    report_date_raw = params.get('report_date') or today
    report_date = util.parse_date(report_date_raw)
    if report_date is None:
        raise errors.err(2010, 'Request has invalid or unsupported property',
                         'Invalid date format for report_date: %s' % report_date_raw, 'report_date')
    period = _positive_int(params, 'aging_period', 30)
    periods = _positive_int(params, 'num_periods', 4)
    wanted = params.get(party_entity.lower())
    wanted = {i.strip() for i in wanted.split(',') if i.strip()} if wanted else None
    ref_field = party_entity + 'Ref'
    totals = {}
    for entity, field, sign in sources:
        for obj in c.data[entity].values():
            party = (obj.get(ref_field) or {}).get('value')
            if not party or (wanted is not None and party not in wanted):
                continue
            txn_date = util.parse_date(obj.get('TxnDate') or today)
            if txn_date and txn_date > report_date:
                continue
            amount = _home_open(obj, field, c.currency) * sign
            if not amount:
                continue
            due = util.parse_date(obj.get('DueDate') or obj.get('TxnDate') or today) or report_date
            late = (report_date - due).days
            bucket = 0 if late <= 0 else min(periods, (late - 1) // period + 1)
            row = totals.setdefault(party, [util.D(0)] * (periods + 1))
            row[bucket] += amount
    labels = ['Current']
    for index in range(periods):
        low, high = index * period + 1, (index + 1) * period
        labels.append('%s - %s' % (low, high) if index < periods - 1 else '%s and over' % low)
    columns = [{'ColTitle': '', 'ColType': col_type}]
    columns += [{'ColTitle': label, 'ColType': 'Money',
                 'MetaData': [{'Name': 'ColKey', 'Value': 'current' if index == 0 else str(index - 1)}]}
                for index, label in enumerate(labels)]
    columns.append({'ColTitle': 'Total', 'ColType': 'Money', 'MetaData': [{'Name': 'ColKey', 'Value': 'total'}]})
    rows = []
    grand = [util.D(0)] * (periods + 2)
    parties = []
    for party, amounts in totals.items():
        obj = c.get(party_entity, party) or {}
        parties.append(((obj.get('DisplayName') or party).lower(), party, obj.get('DisplayName') or party, amounts))
    for _key, party, display, amounts in sorted(parties):
        total = sum(amounts, util.D(0))
        if not total and not any(amounts):
            continue
        cells = amounts + [total]
        grand = [g + a for g, a in zip(grand, cells)]
        rows.append({'ColData': [{'value': display, 'id': party}] + [{'value': _money(a)} for a in cells]})
    if rows:
        rows.append({'Summary': {'ColData': [{'value': 'TOTAL'}] + [{'value': _money(a) or '0.00'} for a in grand]},
                     'type': 'Section', 'group': 'GrandTotal'})
    header = {
        'Time': util.fmt_dt(ctx.now, c.tz_minutes),
        'ReportName': name,
        'DateMacro': 'today' if report_date_raw == today else '',
        'StartPeriod': report_date.isoformat(),
        'EndPeriod': report_date.isoformat(),
        'SummarizeColumnsBy': 'Total',
        'Currency': c.currency,
        'Option': [{'Name': 'report_date', 'Value': report_date.isoformat()},
                   {'Name': 'NoReportData', 'Value': 'false' if rows else 'true'}],
    }
    return {'Header': header, 'Columns': {'Column': columns}, 'Rows': {'Row': rows} if rows else {}}


def handle(ctx, parts, params):
    """``GET /reports/{ReportName}``: the aging summaries; any other report name is refused."""
    name = REPORT_NAMES.get(parts[1].lower()) if len(parts) == 2 else None
    if name is None:
        raise errors.unsupported('Unsupported report: %s' % '/'.join(parts[1:]))
    return aged(ctx, name, params)

