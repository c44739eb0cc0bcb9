"""Employee rules and TimeActivity over HTTP (emulator/qbo_emulator/time_tracking.py), plus python-quickbooks."""
import datetime as dt
import urllib.parse
import warnings

import pytest


def employee(api, **over):
    body = {'GivenName': 'Ada', 'FamilyName': 'Lovelace', 'PrimaryEmailAddr': {'Address': 'ada@example.com'},
            'EmployeeNumber': 'E-1', 'BillableTime': True, 'BillRate': 120}
    body.update(over)
    return api.create('Employee', body)


def activity(emp_id, **over):
    body = {'NameOf': 'Employee', 'EmployeeRef': {'value': emp_id}, 'TxnDate': '2026-11-02',
            'CustomerRef': {'value': '1'}, 'ItemRef': {'value': '1'}, 'Hours': 1, 'Minutes': 15,
            'BillableStatus': 'Billable', 'HourlyRate': 150, 'Description': 'Design review'}
    body.update(over)
    return body


@pytest.fixture
def cust(api):
    return api.create('Customer', {'DisplayName': 'Client A'})


def test_employee_rules(api):
    e = employee(api)
    assert e['DisplayName'] == 'Ada Lovelace' and e['BillableTime'] is True and e['BillRate'] == 120.0
    assert e['EmployeeNumber'] == 'E-1' and e['PrimaryEmailAddr']['Address'] == 'ada@example.com'
    # One DisplayName namespace with customers and vendors; one id sequence too.
    c = api.create('Customer', {'DisplayName': 'Grace Hopper'})
    err = api.fault(api.post('employee', {'GivenName': 'Grace', 'FamilyName': 'Hopper'}))
    assert err['code'] == '6240' and err['Detail'].endswith('Id=%s' % c['Id'])
    assert int(c['Id']) == int(e['Id']) + 1
    assert api.fault(api.post('employee', {'EmployeeNumber': '7'}))['code'] == '6080'
    assert api.fault(api.post('employee', {'DisplayName': 'X', 'EmployeeNumber': 'n' * 101}))['code'] == '2050'
    assert api.fault(api.post('employee', {'DisplayName': 'Y', 'CompanyName': 'Acme'}))['code'] == '2010'
    # Employees are never deleted: inactivated.
    r = api.post('employee', {'Id': e['Id'], 'SyncToken': e['SyncToken']}, params={'operation': 'delete'})
    err = api.fault(r)
    assert err['code'] == '500' and err['Message'] == 'Unsupported Operation' and 'inactive' in err['Detail']
    gone = api.post('employee', {'Id': e['Id'], 'SyncToken': e['SyncToken'], 'sparse': True, 'Active': False})
    assert gone.json()['Employee']['Active'] is False
    rows = api.query("select * from Employee where Active IN (true, false)")['Employee']
    assert [row['Id'] for row in rows] == [e['Id']]


def test_time_activity_create_read_update_delete(api, cust):
    e = employee(api)
    ta = api.create('TimeActivity', activity(e['Id'], CustomerRef={'value': cust['Id']}))
    assert (ta['Hours'], ta['Minutes'], ta['HourlyRate'], ta['BillableStatus']) == (1, 15, 150.0, 'Billable')
    assert ta['EmployeeRef'] == {'value': e['Id'], 'name': 'Ada Lovelace'}
    assert ta['CustomerRef']['name'] == 'Client A' and ta['ItemRef'] == {'value': '1', 'name': 'Services'}
    assert ta['SyncToken'] == '0' and ta['TxnDate'] == '2026-11-02'
    assert api.get('timeactivity/' + ta['Id']).json()['TimeActivity']['Description'] == 'Design review'
    up = api.post('timeactivity', dict(activity(e['Id'], CustomerRef={'value': cust['Id']}, Hours=2, Minutes=0),
                                       Id=ta['Id'], SyncToken='0')).json()['TimeActivity']
    assert (up['Hours'], up['Minutes'], up['SyncToken']) == (2, 0, '1')
    assert api.fault(api.post('timeactivity', dict(activity(e['Id']), Id=ta['Id'], SyncToken='0')))['code'] == '5010'
    rows = api.query("select * from TimeActivity where TxnDate = '2026-11-02'")['TimeActivity']
    assert [row['Id'] for row in rows] == [ta['Id']]
    r = api.post('timeactivity', {'Id': ta['Id'], 'SyncToken': '1'}, params={'operation': 'delete'})
    assert r.json()['TimeActivity']['status'] == 'Deleted'
    assert api.fault(api.get('timeactivity/' + ta['Id']))['code'] == '610'


def test_time_activity_vendor_and_start_end(api):
    v = api.create('Vendor', {'DisplayName': 'Sub Contractor LLC'})
    ta = api.create('TimeActivity', {'NameOf': 'Vendor', 'VendorRef': {'value': v['Id']},
                                     'StartTime': '2026-11-02T09:00:00-08:00', 'EndTime': '2026-11-02T17:30:00-08:00',
                                     'BreakHours': 0, 'BreakMinutes': 30})
    assert (ta['Hours'], ta['Minutes'], ta['BillableStatus'], ta['HourlyRate']) == (8, 0, 'NotBillable', 0)
    assert ta['VendorRef']['name'] == 'Sub Contractor LLC' and 'EmployeeRef' not in ta


@pytest.mark.parametrize('over,code', [
    ({'NameOf': None}, '2020'),
    ({'NameOf': 'Customer'}, '2170'),
    ({'EmployeeRef': None}, '2020'),
    ({'EmployeeRef': {'value': '999'}}, '2500'),
    ({'Hours': None, 'Minutes': None}, '2020'),
    ({'Hours': 0, 'Minutes': 0}, '6000'),
    ({'Minutes': 75}, '2040'),
    ({'Hours': 1.5}, '2040'),
    ({'HourlyRate': None}, '2020'),
    ({'CustomerRef': None}, '2020'),
    ({'BillableStatus': 'Maybe'}, '2170'),
    ({'Description': 'd' * 4001}, '2050'),
    ({'StartTime': '2026-11-02T09:00:00-08:00'}, '2020'),
    ({'StartTime': '2026-11-02T09:00:00-08:00', 'EndTime': '2026-11-02T10:00:00-08:00'}, '2010'),
    ({'Hours': None, 'Minutes': None, 'StartTime': '2026-11-02T09:00:00'}, '2020'),
    ({'Hours': None, 'Minutes': None, 'StartTime': '2026-11-02T09:00:00',
      'EndTime': '2026-11-02T10:00:00'}, '2010'),
    ({'Hours': None, 'Minutes': None, 'StartTime': '2026-11-02T10:00:00-08:00',
      'EndTime': '2026-11-02T09:00:00-08:00'}, '6000'),
    ({'TxnDate': '2026-13-45'}, '2010'),
])
def test_time_activity_validation(api, over, code):
    e = employee(api, GivenName='Val', FamilyName='Idation')
    body = {k: v for k, v in activity(e['Id'], **over).items() if v is not None}
    err = api.fault(api.post('timeactivity', body))
    assert err['code'] == code, err


def test_time_activity_needs_a_service_item(api):
    e = employee(api)
    item = api.create('Item', {'Name': 'Widget', 'Type': 'NonInventory', 'IncomeAccountRef': {'value': '79'}})
    err = api.fault(api.post('timeactivity', activity(e['Id'], ItemRef={'value': item['Id']})))
    assert err['code'] == '6000' and 'service item' in err['Detail']


def test_time_activity_not_in_change_feed(api):
    e = employee(api)
    api.create('TimeActivity', activity(e['Id']))
    since = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%SZ')
    r = api.get('cdc', params={'entities': 'TimeActivity,Employee', 'changedSince': since})
    groups = r.json()['CDCResponse'][0]['QueryResponse']
    assert [list(g)[0] for g in groups] == ['Employee']


def test_python_quickbooks_round_trip(ctl, base, monkeypatch):
    pytest.importorskip('quickbooks')
    from conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT  # noqa: PLC0415
    from intuitlib.client import AuthClient  # noqa: PLC0415
    from intuitlib.enums import Scopes  # noqa: PLC0415
    from quickbooks import QuickBooks  # noqa: PLC0415
    from quickbooks.objects.base import Ref  # noqa: PLC0415
    from quickbooks.objects.employee import Employee  # noqa: PLC0415
    from quickbooks.objects.timeactivity import TimeActivity  # noqa: PLC0415

    monkeypatch.setenv('OAUTHLIB_INSECURE_TRANSPORT', '1')
    auth = AuthClient(CLIENT_ID, CLIENT_SECRET, REDIRECT, base + '/.well-known/openid_sandbox_configuration')
    loc = ctl.consent(auth.get_authorization_url([Scopes.ACCOUNTING]))
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    auth.get_bearer_token(q['code'], realm_id=q['realmId'])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        qb = QuickBooks(auth_client=auth, refresh_token=auth.refresh_token, company_id=q['realmId'],
                        minorversion=75)
    qb.api_url_v3 = base + '/v3'
    qb.sandbox = False

    emp = Employee()
    emp.GivenName, emp.FamilyName = 'Py', 'Quickbooks'
    emp = emp.save(qb=qb)
    ta = TimeActivity()
    ta.NameOf = 'Employee'
    ta.EmployeeRef = Ref()
    ta.EmployeeRef.value = emp.Id
    ta.TxnDate = '2026-11-03'
    ta.Hours, ta.Minutes = 3, 45
    ta.Description = 'SDK round trip'
    ta = ta.save(qb=qb)
    got = TimeActivity.get(ta.Id, qb=qb)
    assert (got.Hours, got.Minutes, got.BillableStatus, got.Description) == (3, 45, 'NotBillable', 'SDK round trip')
    got.delete(qb=qb)
    assert TimeActivity.filter(TxnDate='2026-11-03', qb=qb) == []
