"""Every request sample is accepted as sent; responses have the samples' shapes and field names."""
import copy

from conftest import sample


def shape_ok(ours, ref, path='', ignore=()):
    """Every key of the reference sample exists in ours with the same JSON type (recursively)."""
    if isinstance(ref, dict):
        assert isinstance(ours, dict), path
        for k, v in ref.items():
            if k in ignore:
                continue
            assert k in ours, 'missing %s%s' % (path, k)
            shape_ok(ours[k], v, path + k + '.', ignore)
    elif isinstance(ref, list):
        assert isinstance(ours, list), path
        if ref and ours:
            shape_ok(ours[0], ref[0], path + '[0].', ignore)
    elif isinstance(ref, bool):
        assert isinstance(ours, bool), path
    elif isinstance(ref, (int, float)):
        assert isinstance(ours, (int, float)) and not isinstance(ours, bool), path
    elif isinstance(ref, str):
        assert isinstance(ours, str), path


def test_customer_create_sample(api):
    resp = api.post('customer', sample('customer_create_request.json'))
    assert resp.status == 200
    body = resp.json()
    ref = sample('customer_create_response.json')
    shape_ok(body, ref)
    c = body['Customer']
    assert c['FullyQualifiedName'] == "King's Groceries"          # request value ignored
    assert c['PrintOnCheckName'] == 'King Groceries' and c['DefaultTaxCodeRef'] == {'value': '2'}
    assert c['SyncToken'] == '0' and c['Taxable'] is True and c['PreferredDeliveryMethod'] == 'Print'


def test_customer_query_sample(api):
    api.post('customer', sample('customer_create_request.json'))
    qr = api.get('query', params={'query': "select * from Customer Where Metadata.LastUpdatedTime > '2015-03-01'"})
    assert qr.status == 200
    body = qr.json()
    ref = sample('customer_query_response.json')
    shape_ok(body, ref, ignore=('MiddleName', 'ShipAddr', 'Notes') )
    assert body['QueryResponse']['maxResults'] == len(body['QueryResponse']['Customer']) == 2
    assert 'totalCount' not in body['QueryResponse']


def test_invoice_create_sample(api):
    r = api.post('invoice', sample('invoice_create_request.json'))
    assert r.status == 200
    ref = sample('invoice_create_response.json')
    shape_ok(r.json(), ref, ignore=('ProjectRef',))
    inv = r.json()['Invoice']
    assert inv['Line'][0]['SalesItemLineDetail']['TaxCodeRef'] == {'value': 'NON'}
    assert inv['Line'][-1] == {'DetailType': 'SubTotalLineDetail', 'Amount': 100.0, 'SubTotalLineDetail': {}}
    assert inv['TotalAmt'] == 100.0 and inv['Balance'] == 100.0 and inv['TxnTaxDetail'] == {'TotalTax': 0}
    assert inv['CustomerRef'] == {'name': "Amy's Bird Sanctuary", 'value': '1'}
    assert inv['BillAddr']['Id'] == '2' and inv['ShipAddr']['Id'] == '109'
    import datetime as dt
    due = dt.date.fromisoformat(inv['DueDate']) - dt.date.fromisoformat(inv['TxnDate'])
    assert due.days == 30                                          # company default term Net 30
    assert inv['MetaData']['CreateTime'].endswith('-07:00')


def test_invoice_read_with_tax_sample_arithmetic(api):
    ref = sample('invoice_read_response_with_tax.json')['Invoice']
    for name in ('Rock Fountain', 'Pump', 'Concrete'):
        api.create('Item', {'Name': name, 'Type': 'Service', 'Taxable': True, 'IncomeAccountRef': {'value': '79'}})
    items = {i['Name']: i['Id'] for i in api.query('select * from Item')['Item']}
    cust = api.create('Customer', {'DisplayName': 'Sonnenschein Family Store'})
    req = copy.deepcopy(ref)
    for k in ('Id', 'SyncToken', 'MetaData', 'TotalAmt', 'Balance', 'domain', 'sparse', 'ProjectRef', 'LinkedTxn'):
        req.pop(k)
    req['CustomerRef'] = {'value': cust['Id']}
    req['TxnTaxDetail'] = {'TxnTaxCodeRef': {'value': '2'}}
    for ln in req['Line']:
        if ln['DetailType'] == 'SalesItemLineDetail':
            ln['SalesItemLineDetail']['ItemRef']['value'] = items[ln['SalesItemLineDetail']['ItemRef']['name']]
            ln.pop('Id')
    r = api.post('invoice', req)
    assert r.status == 200, r.body
    inv = r.json()['Invoice']
    shape_ok(r.json(), {'Invoice': ref, 'time': ''}, ignore=('ProjectRef', 'LinkedTxn'))
    assert inv['TxnTaxDetail'] == ref['TxnTaxDetail']
    assert inv['TotalAmt'] == 362.07 and inv['Balance'] == 362.07
    assert inv['Line'][3] == ref['Line'][3]
    assert inv['DueDate'] == ref['DueDate'] and inv['DocNumber'] == '1037'


def test_invoice_with_discount_sample_arithmetic(api, ctl):
    ref = sample('invoice_with_discount_response.json')['Invoice']
    ctl.set_preferences(api.realm, {'SalesFormsPrefs': {'AllowShipping': True}})
    item = api.create('Item', {'Name': 'Hours', 'Type': 'Service', 'Taxable': True,
                               'IncomeAccountRef': {'value': '79'}})
    tax = api.post('taxservice/taxcode', {'TaxCode': 'Ten', 'TaxRateDetails': [
        {'TaxRateName': 'Ten percent', 'RateValue': 10, 'TaxAgencyId': '2', 'TaxApplicableOn': 'Sales'}]}).json()
    cust = api.create('Customer', {'DisplayName': 'Mr V3 Service Customer Jr2'})
    req = {
        'CustomerRef': {'value': cust['Id']}, 'TxnDate': ref['TxnDate'], 'SalesTermRef': {'value': '4'},
        'DocNumber': ref['DocNumber'], 'Deposit': 12, 'PrivateNote': ref['PrivateNote'],
        'BillEmail': ref['BillEmail'], 'CustomerMemo': ref['CustomerMemo'],
        'TxnTaxDetail': {'TxnTaxCodeRef': {'value': tax['TaxCodeId']}},
        'Line': [
            {'DetailType': 'SalesItemLineDetail', 'Amount': 50.0, 'Description': 'Sample invoice create request',
             'SalesItemLineDetail': {'ItemRef': {'value': item['Id']}, 'Qty': 1, 'UnitPrice': 50,
                                     'TaxCodeRef': {'value': 'TAX'}, 'ServiceDate': '2013-03-04'}},
            {'DetailType': 'SubTotalLineDetail', 'Amount': 50.0, 'SubTotalLineDetail': {}},
            {'DetailType': 'DiscountLineDetail', 'Amount': 5.0,
             'DiscountLineDetail': {'PercentBased': True, 'DiscountPercent': 10,
                                    'DiscountAccountRef': {'value': '86'}}},
            {'DetailType': 'SalesItemLineDetail', 'Amount': 2.0,
             'SalesItemLineDetail': {'ItemRef': {'value': 'SHIPPING_ITEM_ID'}}},
        ]}
    r = api.post('invoice', req)
    assert r.status == 200, r.body
    inv = r.json()['Invoice']
    assert inv['TotalAmt'] == 52.0 and inv['Balance'] == 40.0 and inv['Deposit'] == 12.0
    assert inv['TxnTaxDetail']['TotalTax'] == 5.0
    assert [ln['DetailType'] for ln in inv['Line']] == [ln['DetailType'] for ln in ref['Line']]
    assert inv['Line'][2]['DiscountLineDetail']['DiscountAccountRef']['name'] == 'Discounts given'
    assert inv['DueDate'] == ref['DueDate']
    assert inv['DepositToAccountRef'] == ref['DepositToAccountRef']


def test_item_create_inventory_sample(api):
    r = api.post('item', sample('item_create_inventory_request.json'))
    assert r.status == 200, r.body
    shape_ok(r.json(), sample('item_create_inventory_response.json'))
    it = r.json()['Item']
    assert it['Taxable'] is False and it['UnitPrice'] == 0 and it['TrackQtyOnHand'] is True


def test_taxcode_query_sample(api):
    body = api.get('query', params={'query': 'select * From TaxCode'}).json()
    ref = sample('taxcode_query_response.json')
    shape_ok(body, ref)
    qr = body['QueryResponse']
    assert [c['Id'] for c in qr['TaxCode']] == [c['Id'] for c in ref['QueryResponse']['TaxCode']]
    assert qr['totalCount'] == 5 and qr['maxResults'] == 5
    for ours, theirs in zip(qr['TaxCode'], ref['QueryResponse']['TaxCode']):
        assert set(ours) - {'Hidden'} == set(theirs), ours['Id']
        assert ours.get('SalesTaxRateList') == theirs.get('SalesTaxRateList')


def test_batch_request_sample_accepted(api):
    r = api.post('batch', sample('batch_request.json'))
    assert r.status == 200
    body = r.json()
    ref = sample('batch_response.json')
    assert set(body) == set(ref)
    res = {i['bId']: i for i in body['BatchItemResponse']}
    assert set(res) == {'bid1', 'bid2', 'bid3', 'bid4'}
    assert res['bid1']['Vendor']['DisplayName'] == 'Smith Family Store'
    for bid in ('bid2', 'bid3'):
        shape_ok(res[bid], ref['BatchItemResponse'][1])
        assert 'time' not in res[bid]['Fault']
    assert res['bid4']['QueryResponse'] == {}
    # second run: the vendor name now clashes (6240), like the sample's bid1
    r = api.post('batch', sample('batch_request.json'))
    f = {i['bId']: i for i in r.json()['BatchItemResponse']}['bid1']
    shape_ok(f, ref['BatchItemResponse'][0])
    assert f['Fault']['Error'][0]['code'] == '6240'


def test_cdc_sample_shape(api, ctl):
    a = api.create('Customer', {'DisplayName': 'CDC One'})
    inv = api.create('Invoice', sample('invoice_create_request.json'))
    api.post('invoice', {'Id': inv['Id'], 'SyncToken': inv['SyncToken']}, params={'operation': 'delete'})
    body = api.get('cdc', params={'entities': 'Customer,Invoice', 'changedSince': '2015-12-23'})
    assert body.status == 400           # outside the 30-day window
    import datetime as dt
    since = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    body = api.get('cdc', params={'entities': 'Customer,Invoice', 'changedSince': since}).json()
    ref = sample('cdc_response.json')
    shape_ok(body, ref)
    groups = body['CDCResponse'][0]['QueryResponse']
    cust = [g for g in groups if 'Customer' in g][0]
    assert a['Id'] in [c['Id'] for c in cust['Customer']]
    invs = [g for g in groups if 'Invoice' in g][0]['Invoice']
    assert invs[-1]['status'] == 'Deleted' and set(invs[-1]) == {'status', 'domain', 'Id', 'MetaData'}
    ctl.advance_clock(5)
    later = api.get('cdc', params={'entities': 'Customer', 'changedSince': api.get('companyinfo/' + api.realm).json()['time']}).json()  # noqa: E501
    assert later['CDCResponse'] == [{'QueryResponse': [{}]}]


def test_fault_template_shape(api):
    r = api.post('customer', {'Notes': 'no name'})
    assert r.status == 400
    body = r.json()
    ref = sample('fault_validation_template.json')
    assert set(body) == set(ref) and set(body['Fault']) == set(ref['Fault'])
    assert set(body['Fault']['Error'][0]) == set(ref['Fault']['Error'][0])
    assert body['Fault']['Error'][0]['code'] == '6080' and r.headers.get('intuit_tid')


def test_webhook_sample_shapes(ctl):
    from qbo_emulator import webhooks
    legacy = webhooks.payload({'realm_id': '310687', 'entity': 'Account', 'entity_id': '1234',
                               'operation': 'Create'}, 0)
    shape_ok(legacy, sample('webhook_legacy_payload.json'))
    ce = webhooks.payload({'realm_id': '310687', 'entity': 'Account', 'entity_id': '1234', 'operation': 'Create',
                           'format': 'cloudevents'}, 0)
    shape_ok(ce, sample('webhook_cloudevents_payload.json'))
    assert ce[0]['type'] == 'qbo.account.created.v1'
