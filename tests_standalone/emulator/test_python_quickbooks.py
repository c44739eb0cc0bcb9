"""python-quickbooks 0.9.12 (+ intuit-oauth) works unchanged against the emulator.

Only configuration is changed: the AuthClient ``environment`` is the emulator's discovery URL and the
QuickBooks client's ``api_url_v3`` points at the emulator host.
"""
import datetime as dt
import urllib.parse
import warnings

import pytest

pytest.importorskip('quickbooks')
from conftest import CLIENT_ID, CLIENT_SECRET, REDIRECT  # noqa: E402
from intuitlib.client import AuthClient  # noqa: E402
from intuitlib.enums import Scopes  # noqa: E402
from quickbooks import QuickBooks  # noqa: E402
from quickbooks import exceptions as qbe  # noqa: E402
from quickbooks.batch import batch_create  # noqa: E402
from quickbooks.cdc import change_data_capture  # noqa: E402
from quickbooks.objects.base import Ref  # noqa: E402
from quickbooks.objects.company_info import CompanyInfo  # noqa: E402
from quickbooks.objects.customer import Customer  # noqa: E402
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail  # noqa: E402
from quickbooks.objects.invoice import Invoice  # noqa: E402
from quickbooks.objects.item import Item  # noqa: E402


@pytest.fixture
def qb(ctl, base, monkeypatch):
    # oauthlib refuses plain http unless told otherwise (standard setting for local testing)
    monkeypatch.setenv('OAUTHLIB_INSECURE_TRANSPORT', '1')
    auth = AuthClient(CLIENT_ID, CLIENT_SECRET, REDIRECT, base + '/.well-known/openid_sandbox_configuration')
    url = auth.get_authorization_url([Scopes.ACCOUNTING])
    assert url.startswith(base + '/connect/oauth2?')
    loc = ctl.consent(url)
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    assert q['state'] == auth.state_token
    auth.get_bearer_token(q['code'], realm_id=q['realmId'])
    assert auth.access_token and auth.refresh_token and auth.x_refresh_token_expires_in == 8726400
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        client = QuickBooks(auth_client=auth, refresh_token=auth.refresh_token, company_id=q['realmId'],
                            minorversion=75)
    client.api_url_v3 = base + '/v3'           # configuration: point the client at the emulator host
    client.sandbox = False
    client._auth = auth
    return client


def invoice_for(customer_id, amount=100.0):
    inv = Invoice()
    line = SalesItemLine()
    line.Amount = amount
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = Ref()
    line.SalesItemLineDetail.ItemRef.value = '1'
    inv.Line.append(line)
    inv.CustomerRef = Ref()
    inv.CustomerRef.value = customer_id
    return inv


def test_company_info(qb):
    info = CompanyInfo.get(qb.company_id, qb=qb)
    assert info.Country == 'US' and info.Id == qb.company_id


def test_customer_create_update_query_paging(qb, ctl):
    c = Customer()
    c.DisplayName = 'PyQB Customer'
    c.PrimaryEmailAddr = None
    c = c.save(qb=qb)
    assert c.Id and c.SyncToken == '0'
    c.Notes = 'updated'
    c2 = c.save(qb=qb)
    assert c2.SyncToken == '1' and c2.Notes == 'updated'
    ctl.seed(qb.company_id, 'Customer', 120, prefix='Page')
    page1 = Customer.where("DisplayName LIKE 'Page%'", start_position=1, max_results=100, qb=qb)
    page2 = Customer.where("DisplayName LIKE 'Page%'", start_position=101, max_results=100, qb=qb)
    assert len(page1) == 100 and len(page2) == 20
    assert not {x.Id for x in page1} & {x.Id for x in page2}
    assert Customer.count("DisplayName LIKE 'Page%'", qb=qb) == 120
    assert Customer.filter(DisplayName='PyQB Customer', qb=qb)[0].Id == c.Id
    assert len(Customer.all(qb=qb)) == 100
    assert Item.all(qb=qb)[0].Name == 'Services'             # "SELECT *, Sku FROM Item" is accepted


def test_invoice_create_and_void(qb):
    inv = invoice_for('1').save(qb=qb)
    assert inv.TotalAmt == 100.0 and inv.DocNumber
    fresh = Invoice.get(inv.Id, qb=qb)
    fresh.void(qb=qb)
    voided = Invoice.get(inv.Id, qb=qb)
    assert voided.TotalAmt == 0 and voided.PrivateNote.startswith('Voided')


def test_batch_create(qb):
    customers = []
    for i in range(3):
        c = Customer()
        c.DisplayName = 'Batch PyQB %d' % i
        customers.append(c)
    dup = Customer()
    dup.DisplayName = "Amy's Bird Sanctuary"
    customers.append(dup)
    res = batch_create(customers, qb=qb)
    assert len(res.successes) == 3 and len(res.faults) == 1
    assert res.faults[0].Error[0].code == '6240'


def test_change_data_capture(qb):
    c = Customer()
    c.DisplayName = 'CDC PyQB'
    c = c.save(qb=qb)
    inv = invoice_for(c.Id).save(qb=qb)
    since = dt.datetime.now() - dt.timedelta(days=1)
    resp = change_data_capture([Customer, Invoice], since.strftime('%Y-%m-%dT%H:%M:%S'), qb=qb)
    assert c.Id in [x.Id for x in resp.Customer]
    assert inv.Id in [x.Id for x in resp.Invoice]


def test_request_id_replay(qb, ctl):
    c = Customer()
    c.DisplayName = 'Replay Me'
    first = c.save(qb=qb, request_id='pyqb-rid-1')
    c2 = Customer()
    c2.DisplayName = 'Replay Me'
    second = c2.save(qb=qb, request_id='pyqb-rid-1')
    assert first.Id == second.Id
    assert sum(1 for o in ctl.entities(qb.company_id, 'Customer') if o['DisplayName'] == 'Replay Me') == 1


def test_errors_become_exceptions(qb, ctl):
    c = Customer()
    c.DisplayName = "amy's bird sanctuary"
    with pytest.raises(qbe.QuickbooksException) as ei:
        c.save(qb=qb)
    assert ei.value.error_code == 6240 and 'Id=1' in ei.value.detail
    with pytest.raises(qbe.ObjectNotFoundException) as ei:
        Invoice.get('987654', qb=qb)
    assert ei.value.error_code == 610
    with pytest.raises(qbe.ValidationException) as ei:
        qb.query("select * from Customer where")
    assert ei.value.error_code == 4000
    bad = invoice_for('1')
    bad.CustomerRef = None
    with pytest.raises(qbe.ValidationException) as ei:
        bad.save(qb=qb)
    assert ei.value.error_code == 2020
    inv = invoice_for('1')
    inv.Line[0].SalesItemLineDetail.Qty = 3
    inv.Line[0].SalesItemLineDetail.UnitPrice = 10
    with pytest.raises(qbe.QuickbooksException) as ei:
        inv.save(qb=qb)
    assert ei.value.error_code == 6070
    ctl.expire_tokens('access')
    with pytest.raises(qbe.AuthorizationException):
        CompanyInfo.get(qb.company_id, qb=qb)


def test_refresh_and_revoke_with_intuitlib(qb, ctl):
    auth = qb._auth
    old = auth.refresh_token
    auth.refresh()
    assert auth.refresh_token != old
    assert ctl.requests_log(path_contains='/oauth2/v1/tokens/bearer')[-1]['grant_type'] == 'refresh_token'
    assert auth.revoke(token=auth.refresh_token) is True
