"""Reports API: the aging summaries AgedReceivables and AgedPayables (REF-Reports), over HTTP.

One row per customer (vendor) with an open balance, buckets by days past the due date on the
report date, credit memos / vendor credits and unapplied payments negative, a GrandTotal section;
metered as reads; an unknown report or a bad parameter is refused.
"""
import pytest
from test_payables import acct_line, bill
from test_webhooks_payments import credit_memo, invoice

REPORT_DATE = '2026-06-30'


def rows_of(report):
    """{party id: [cell values]} and the grand total's cells."""
    rows = report['Rows'].get('Row', [])
    data = {row['ColData'][0]['id']: [cell['value'] for cell in row['ColData'][1:]] for row in rows if 'ColData' in row}
    total = [row for row in rows if row.get('group') == 'GrandTotal']
    return data, (total[0]['Summary']['ColData'] if total else None)


def dated(api, entity, obj, txn_date, due_date):
    body = dict(obj, TxnDate=txn_date, DueDate=due_date, sparse=True)
    r = api.post(entity.lower(), {k: body[k] for k in ('Id', 'SyncToken', 'TxnDate', 'DueDate', 'sparse')})
    assert r.status == 200, r.body
    return r.json()[entity]


@pytest.fixture
def customers(api):
    return [api.create('Customer', {'DisplayName': name})['Id'] for name in ('Aging Alpha', 'Aging Beta')]


def test_aged_receivables_buckets_credits_and_total(api, ctl, customers):
    alpha, beta = customers
    dated(api, 'Invoice', invoice(api, 100, alpha), '2026-06-01', '2026-07-15')      # current
    dated(api, 'Invoice', invoice(api, 200, alpha), '2026-05-01', '2026-06-10')      # 20 days late
    dated(api, 'Invoice', invoice(api, 300, alpha), '2026-01-01', '2026-02-01')      # 149 days late
    dated(api, 'CreditMemo', credit_memo(api, 50, alpha), '2026-06-20', '2026-06-20')  # 10 days: 1 - 30
    paid = dated(api, 'Invoice', invoice(api, 70, beta), '2026-04-01', '2026-04-20')  # 71 days late
    ctl.record_payment(api.realm, invoices=[{'id': paid['Id'], 'amount': 30}], unapplied=5, txn_date=REPORT_DATE)
    dated(api, 'Invoice', invoice(api, 999, beta), '2026-07-05', '2026-07-30')       # after the report date
    reads = ctl.usage(api.realm)['reads']
    r = api.get('reports/AgedReceivables', params={'report_date': REPORT_DATE,
                                                   'customer': ','.join(customers)})
    assert r.status == 200, r.body
    report = r.json()
    assert ctl.usage(api.realm)['reads'] == reads + 1, "a report is a metered read"
    assert report['Header']['ReportName'] == 'AgedReceivables'
    assert report['Header']['Currency'] == 'USD'
    assert {'Name': 'report_date', 'Value': REPORT_DATE} in report['Header']['Option']
    assert [c['ColTitle'] for c in report['Columns']['Column']] == \
        ['', 'Current', '1 - 30', '31 - 60', '61 - 90', '91 and over', 'Total']
    assert report['Columns']['Column'][0]['ColType'] == 'Customer'
    data, total = rows_of(report)
    assert data[alpha] == ['100.00', '150.00', '', '', '300.00', '550.00']
    # 40 open on the late invoice, 5 of unapplied payment (dated the report date: current) = 35
    assert data[beta] == ['-5.00', '', '', '40.00', '', '35.00']
    assert total[0]['value'] == 'TOTAL' and total[-1]['value'] == '585.00'


def test_aged_receivables_options_and_errors(api, customers):
    alpha, _beta = customers
    dated(api, 'Invoice', invoice(api, 100, alpha), '2026-01-01', '2026-05-01')  # 60 days late
    r = api.get('reports/agedreceivables', params={'report_date': REPORT_DATE, 'customer': alpha,
                                                   'aging_period': '45', 'num_periods': '2'})
    assert r.status == 200, r.body
    report = r.json()
    assert [c['ColTitle'] for c in report['Columns']['Column']] == ['', 'Current', '1 - 45', '46 and over', 'Total']
    assert rows_of(report)[0][alpha] == ['', '', '100.00', '100.00']
    empty = api.get('reports/AgedReceivables', params={'report_date': '2025-01-01', 'customer': alpha}).json()
    assert empty['Rows'] == {} and {'Name': 'NoReportData', 'Value': 'true'} in empty['Header']['Option']
    assert api.fault(api.get('reports/AgedReceivables', params={'report_date': 'June'}))['code'] == '2010'
    assert api.fault(api.get('reports/AgedReceivables', params={'aging_period': '0'}))['code'] == '2010'
    assert api.fault(api.get('reports/NoSuchReport'))['code'] == '500'


def test_aged_payables_bills_less_vendor_credits(api):
    vendor = api.create('Vendor', {'DisplayName': 'Aging Vendor'})
    dated(api, 'Bill', bill(api, vendor, acct_line(120.0)), '2026-06-01', '2026-06-25')   # 5 days late
    credit = api.create('VendorCredit', {'VendorRef': {'value': vendor['Id']}, 'Line': [acct_line(20.0)],
                                         'TxnDate': '2026-06-15'})
    assert credit['Balance'] == 20
    r = api.get('reports/AgedPayables', params={'report_date': REPORT_DATE, 'vendor': vendor['Id']})
    assert r.status == 200, r.body
    report = r.json()
    assert report['Columns']['Column'][0]['ColType'] == 'Vendor'
    data, total = rows_of(report)
    # the vendor credit has no due date: aged from its date (15 days: 1 - 30)
    assert data[vendor['Id']] == ['', '100.00', '', '', '', '100.00']
    assert total[-1]['value'] == '100.00'
