"""CRUD semantics, validation errors, query language, invoice/tax computation, payments, void/delete."""
import pytest

INV = {'CustomerRef': {'value': '1'},
       'Line': [{'DetailType': 'SalesItemLineDetail', 'Amount': 100.0,
                 'SalesItemLineDetail': {'ItemRef': {'value': '1'}, 'Qty': 2, 'UnitPrice': 50}}]}


def taxable_item(api, name='Taxable Thing'):
    return api.create('Item', {'Name': name, 'Type': 'Service', 'Taxable': True, 'IncomeAccountRef': {'value': '79'}})


def line(item_id, amount, tax=None, qty=None, price=None):
    d = {'ItemRef': {'value': item_id}}
    if tax:
        d['TaxCodeRef'] = {'value': tax}
    if qty is not None:
        d['Qty'] = qty
    if price is not None:
        d['UnitPrice'] = price
    return {'DetailType': 'SalesItemLineDetail', 'Amount': amount, 'SalesItemLineDetail': d}


# ---------------------------------------------------------------- name lists
def test_customer_ids_sync_tokens_and_updates(api):
    c = api.create('Customer', {'DisplayName': 'Acme', 'Notes': 'n', 'PrimaryEmailAddr': {'Address': 'a@b.co'}})
    v = api.create('Vendor', {'DisplayName': 'Acme Supplies'})
    assert int(v['Id']) == int(c['Id']) + 1                          # shared Names sequence
    inv = api.create('Invoice', INV)
    assert isinstance(inv['Id'], str)
    r = api.post('customer', {'Id': c['Id'], 'SyncToken': '0', 'sparse': True, 'Notes': 'changed'})
    c1 = r.json()['Customer']
    assert c1['SyncToken'] == '1' and c1['Notes'] == 'changed' and c1['PrimaryEmailAddr']['Address'] == 'a@b.co'
    # full update: omitted writable fields become NULL (absent)
    c2 = api.post('customer', {'Id': c['Id'], 'SyncToken': '1', 'DisplayName': 'Acme'}).json()['Customer']
    assert c2['SyncToken'] == '2' and 'Notes' not in c2 and 'PrimaryEmailAddr' not in c2
    assert c2['MetaData']['CreateTime'] == c['MetaData']['CreateTime']
    err = api.fault(api.post('customer', {'Id': c['Id'], 'SyncToken': '1', 'DisplayName': 'Acme'}))
    assert err['code'] == '5010' and err['Message'] == 'Stale Object Error'
    assert api.get('customer/' + c['Id']).json()['Customer']['SyncToken'] == '2'


def test_duplicate_names_and_name_errors(api):
    c = api.create('Customer', {'DisplayName': 'Dup Name'})
    for ent in ('customer', 'vendor', 'employee'):
        err = api.fault(api.post(ent, {'DisplayName': 'dup NAME'}))
        assert err['code'] == '6240' and err['Detail'] == 'The name supplied already exists. : Id=%s' % c['Id']
    assert api.fault(api.post('customer', {'Notes': 'x'}))['code'] == '6080'
    err = api.fault(api.post('customer', {'DisplayName': 'x' * 501}))
    assert err['code'] == '2050' and err['element'] == 'DisplayName'
    assert 'Max:500' in err['Detail'] and 'Supplied length:501' in err['Detail']
    g = api.create('Customer', {'GivenName': 'Jane', 'FamilyName': 'Doe'})
    assert g['DisplayName'] == 'Jane Doe'


def test_inactivate_and_queries(api):
    c = api.create('Customer', {'DisplayName': 'Old Client'})
    r = api.post('customer', {'Id': c['Id'], 'SyncToken': c['SyncToken'], 'sparse': True, 'Active': False})
    assert r.json()['Customer']['Active'] is False
    names = [x['DisplayName'] for x in api.query('select * from Customer')['Customer']]
    assert 'Old Client' not in names
    q = api.query("select * from Customer where DisplayName = 'old client' and Active IN (true, false)")
    assert q['Customer'][0]['Id'] == c['Id']
    assert api.query("select * from Customer where Active = false")['Customer'][0]['Id'] == c['Id']
    err = api.fault(api.post('invoice', dict(INV, CustomerRef={'value': c['Id']})))
    assert err['code'] == '610'
    assert api.fault(api.post('customer', {'Id': c['Id'], 'SyncToken': '1'}, params={'operation': 'delete'}))['code'] == '500'  # noqa: E501
    assert api.get('customer/' + c['Id']).json()['Customer']['Active'] is False


def test_item_and_account_validation(api):
    assert api.fault(api.post('item', {'Type': 'Service', 'IncomeAccountRef': {'value': '79'}}))['code'] == '2020'
    err = api.fault(api.post('item', {'Name': 'X', 'Type': 'Service', 'IncomeAccountRef': {'value': '999'}}))
    assert err['code'] == '2500' and err['Detail'] == 'Invalid Reference Id : Accounts element id 999 not found'
    assert err['element'] == 'Reference Id'
    assert api.fault(api.post('item', {'Name': 'Services', 'Type': 'Service',
                                       'IncomeAccountRef': {'value': '79'}}))['code'] == '6240'
    a = api.create('Account', {'Name': 'Consulting', 'AccountType': 'Income'})
    assert a['Classification'] == 'Revenue'
    cls = api.create('Class', {'Name': 'East'})
    sub = api.create('Class', {'Name': 'Boston', 'ParentRef': {'value': cls['Id']}})
    assert sub['FullyQualifiedName'] == 'East:Boston'
    assert api.create('Term', {'Name': 'Net 45', 'DueDays': 45})['Type'] == 'STANDARD'
    assert api.create('PaymentMethod', {'Name': 'Wire'})['Active'] is True


def test_item_sparse_updates_follow_the_name_rules_and_inactivate(api):
    """What the connector's item updates meet: unique names whatever the case (6240), at most 100
    characters (2050), no ':' (2010), the current SyncToken (5010); Active false inactivates."""
    item = taxable_item(api, 'Pruning')
    base = {'Id': item['Id'], 'SyncToken': item['SyncToken'], 'sparse': True}
    err = api.fault(api.post('item', dict(base, Name='SERVICES')))
    assert err['code'] == '6240' and err['Detail'] == 'The name supplied already exists. : Id=1'
    err = api.fault(api.post('item', dict(base, Name='x' * 101)))
    assert err['code'] == '2050' and err['element'] == 'Name'
    assert api.fault(api.post('item', dict(base, Name='Garden: premium')))['code'] == '2010'
    assert api.fault(api.post('item', dict(base, SyncToken='7', UnitPrice=5)))['code'] == '5010'
    updated = api.post('item', dict(base, Name='Pruning (trees)', UnitPrice=95.0)).json()['Item']
    assert (updated['Name'], updated['UnitPrice'], updated['SyncToken']) == ('Pruning (trees)', 95.0, '1')
    assert updated['Type'] == 'Service' and updated['IncomeAccountRef']['value'] == '79', "sparse keeps the rest"
    inactive = api.post('item', {'Id': item['Id'], 'SyncToken': '1', 'sparse': True, 'Active': False}).json()['Item']
    assert inactive['Active'] is False and inactive['Name'] == 'Pruning (trees)'
    assert item['Id'] not in [i['Id'] for i in api.query('select * from Item')['Item']]
    rows = api.query("select * from Item where Name = 'Pruning (trees)' and Active IN (true, false)")['Item']
    assert [r['Id'] for r in rows] == [item['Id']]
    again = api.post('item', {'Id': item['Id'], 'SyncToken': '2', 'sparse': True, 'Active': True}).json()['Item']
    assert again['Active'] is True


def test_reads_and_readonly_entities(api):
    assert api.get('companyinfo/' + api.realm).json()['CompanyInfo']['Country'] == 'US'
    prefs = api.get('preferences').json()['Preferences']
    assert prefs['SalesFormsPrefs']['CustomTxnNumbers'] is False
    assert prefs['TaxPrefs'] == {'UsingSalesTax': True, 'TaxGroupCodeRef': {'value': '2'}}
    assert prefs['CurrencyPrefs']['HomeCurrency'] == {'value': 'USD'}
    assert api.get('taxrate/3').json()['TaxRate']['RateValue'] == 8
    assert api.get('term/3').json()['Term']['DueDays'] == 30
    assert api.get('account/79').json()['Account']['Name'] == 'Sales of Product Income'
    assert api.get('taxagency/2').json()['TaxAgency']['DisplayName']
    assert api.fault(api.post('taxcode', {'Name': 'x'}))['code'] == '500'
    assert api.fault(api.get('invoice/99999'))['code'] == '610'


def test_preferences_update(api):
    prefs = api.get('preferences').json()['Preferences']
    r = api.post('preferences', {'SyncToken': prefs['SyncToken'], 'sparse': True,
                                 'SalesFormsPrefs': {'CustomTxnNumbers': True},
                                 'TaxPrefs': {'UsingSalesTax': False}})
    p = r.json()['Preferences']
    assert p['SalesFormsPrefs']['CustomTxnNumbers'] is True and p['TaxPrefs']['UsingSalesTax'] is True
    assert p['SyncToken'] == '1'
    assert api.fault(api.post('preferences', {'SyncToken': '0'}))['code'] == '5010'


# ---------------------------------------------------------------- invoices
def test_docnumber_auto_custom_and_duplicates(api, ctl):
    a = api.create('Invoice', INV)
    b = api.create('Invoice', INV)
    assert int(b['DocNumber']) == int(a['DocNumber']) + 1
    c = api.create('Invoice', dict(INV, DocNumber='INV-7'))
    assert c['DocNumber'] == 'INV-7'
    err = api.fault(api.post('invoice', dict(INV, DocNumber='inv-7')))
    assert err['code'] == '6140'
    assert err['Detail'].endswith('DocNumber=inv-7 is assigned to TxnType=Invoice with TxnId=%s' % c['Id'])
    assert api.post('invoice', dict(INV, DocNumber='INV-7'), params={'include': 'allowduplicatedocnum'}).status == 200
    assert api.create('CreditMemo', dict(INV, DocNumber='INV-7'))['DocNumber'] == 'INV-7'   # per type
    err = api.fault(api.post('invoice', dict(INV, DocNumber='X' * 22)))
    assert err['code'] == '2050' and err['element'] == 'DocNumber'
    ctl.set_preferences(api.realm, {'SalesFormsPrefs': {'CustomTxnNumbers': True}})
    assert 'DocNumber' not in api.create('Invoice', INV)


def test_invoice_validation_errors(api):
    assert api.fault(api.post('invoice', {'Line': INV['Line']}))['code'] == '2020'
    err = api.fault(api.post('invoice', {'CustomerRef': {'value': '1'}}))
    assert err['code'] == '2020' and 'Line' in err['Detail']
    err = api.fault(api.post('invoice', dict(INV, CustomerRef={'value': '583'})))
    assert err['Detail'] == 'Invalid Reference Id : Names element id 583 not found'
    err = api.fault(api.post('invoice', dict(INV, Line=[line('1', 99.0, qty=2, price=50)])))
    assert err['code'] == '6070' and 'Amount is not equal to Qty * UnitPrice' in err['Detail']
    err = api.fault(api.post('invoice', dict(INV, Line=[line('1', 100.0, tax='2')])))
    assert err['code'] == '6100' and 'Supplied value:2' in err['Detail']
    assert api.fault(api.post('invoice', dict(INV, Line=[line('77', 1.0)])))['code'] == '2500'


def test_us_tax_groups_defaults_and_override(api):
    it = taxable_item(api)
    inv = api.create('Invoice', {'CustomerRef': {'value': '1'},
                                 'Line': [line(it['Id'], 275.0), line(it['Id'], 12.75), line(it['Id'], 47.5),
                                          line('1', 10.0)]})
    # customer default tax group "2" (California 8%), taxable item -> TAX
    assert inv['Line'][0]['SalesItemLineDetail']['TaxCodeRef'] == {'value': 'TAX'}
    assert inv['Line'][3]['SalesItemLineDetail']['TaxCodeRef'] == {'value': 'NON'}
    assert inv['TxnTaxDetail']['TxnTaxCodeRef'] == {'value': '2'}
    assert inv['TxnTaxDetail']['TotalTax'] == 26.82 and inv['TotalAmt'] == 372.07
    tucson = api.create('Invoice', {'CustomerRef': {'value': '1'}, 'Line': [line(it['Id'], 100.0, 'TAX')],
                                    'TxnTaxDetail': {'TxnTaxCodeRef': {'value': '3'}}})
    tl = tucson['TxnTaxDetail']['TaxLine']
    assert [(t['TaxLineDetail']['TaxRateRef']['value'], t['Amount']) for t in tl] == [('1', 7.1), ('2', 2.0)]
    assert tucson['TotalAmt'] == 109.1
    over = api.create('Invoice', {'CustomerRef': {'value': '1'}, 'Line': [line(it['Id'], 100.0, 'TAX')],
                                  'TxnTaxDetail': {'TxnTaxCodeRef': {'value': '3'}, 'TotalTax': 10}})
    assert over['TxnTaxDetail']['TotalTax'] == 10 and over['TotalAmt'] == 110.0
    assert sum(t['Amount'] for t in over['TxnTaxDetail']['TaxLine']) == 10
    bad = api.post('invoice', {'CustomerRef': {'value': '1'}, 'Line': [line(it['Id'], 1.0, 'TAX')],
                               'TxnTaxDetail': {'TxnTaxCodeRef': {'value': '99'}}})
    assert api.fault(bad)['code'] == '2500'


def test_half_up_rounding_and_discount_after_tax(api):
    it = taxable_item(api)
    inv = api.create('Invoice', {'CustomerRef': {'value': '1'}, 'Line': [line(it['Id'], 0.0625 * 100)]})
    assert inv['TxnTaxDetail']['TotalTax'] == 0.5                   # 6.25 * 8% = 0.50
    inv = api.create('Invoice', {'CustomerRef': {'value': '1'}, 'Line': [line(it['Id'], 15.0)],
                                 'TxnTaxDetail': {'TxnTaxCodeRef': {'value': '3'}}})
    # AZ 7.1% of 15.00 = 1.065 -> 1.07 half-up (banker's rounding would give 1.06)
    assert inv['TxnTaxDetail']['TaxLine'][0]['Amount'] == 1.07 and inv['TxnTaxDetail']['TotalTax'] == 1.37
    d = api.create('Invoice', {'CustomerRef': {'value': '1'}, 'ApplyTaxAfterDiscount': True,
                               'Line': [line(it['Id'], 100.0),
                                        {'DetailType': 'DiscountLineDetail', 'Amount': 10.0,
                                         'DiscountLineDetail': {'PercentBased': False}}]})
    assert d['TxnTaxDetail']['TotalTax'] == 7.2 and d['TotalAmt'] == 97.2
    err = api.fault(api.post('invoice', {'CustomerRef': {'value': '1'}, 'Line': [
        line(it['Id'], 10.0), {'DetailType': 'DiscountLineDetail', 'DiscountLineDetail': {'PercentBased': True}}]}))
    assert err['code'] == '6090'


def test_ast_company_picks_tax_code(api, ctl):
    ctl.set_preferences(api.realm, {'TaxPrefs': {'PartnerTaxEnabled': True}})
    it = taxable_item(api)
    inv = api.create('Invoice', {'CustomerRef': {'value': '1'}, 'Line': [line(it['Id'], 100.0, 'TAX')],
                                 'ShipAddr': {'Line1': 'x', 'CountrySubDivisionCode': 'AZ'},
                                 'TxnTaxDetail': {'TxnTaxCodeRef': {'value': '2'}}})
    assert inv['TxnTaxDetail']['TxnTaxCodeRef'] == {'value': '3'} and inv['TxnTaxDetail']['TotalTax'] == 9.1


def test_due_date_terms_and_class_tracking(api, ctl):
    inv = api.create('Invoice', dict(INV, TxnDate='2024-01-31', SalesTermRef={'value': '2'}))
    assert inv['DueDate'] == '2024-02-15' and inv['SalesTermRef']['value'] == '2'
    c = api.create('Customer', {'DisplayName': 'Termed', 'SalesTermRef': {'value': '5'}})
    inv = api.create('Invoice', dict(INV, TxnDate='2024-03-01', CustomerRef={'value': c['Id']}))
    assert inv['DueDate'] == '2024-03-11'
    cls = api.create('Class', {'Name': 'West'})
    inv = api.create('Invoice', dict(INV, ClassRef={'value': cls['Id']}))
    assert 'ClassRef' not in inv                                      # per-transaction tracking off
    ln = line('1', 5.0)
    ln['SalesItemLineDetail']['ClassRef'] = {'value': cls['Id']}
    inv = api.create('Invoice', dict(INV, Line=[ln]))
    assert inv['Line'][0]['SalesItemLineDetail']['ClassRef'] == {'value': cls['Id'], 'name': 'West'}
    ln['SalesItemLineDetail']['ClassRef'] = {'value': '9999'}
    err = api.fault(api.post('invoice', dict(INV, Line=[ln])))
    assert err['Detail'] == 'Invalid Reference Id : Klasses element id 9999 not found'


def test_invoice_sparse_full_update_void_delete(api):
    inv = api.create('Invoice', INV)
    r = api.post('invoice', {'SyncToken': '0', 'Id': inv['Id'], 'sparse': True, 'DueDate': '2030-09-30'})
    up = r.json()['Invoice']
    assert up['SyncToken'] == '1' and up['DueDate'] == '2030-09-30' and up['TotalAmt'] == 100.0
    full = dict(INV, Id=inv['Id'], SyncToken='1', Line=[dict(INV['Line'][0], Id='1'), line('1', 20.0)])
    up = api.post('invoice', full).json()['Invoice']
    assert up['TotalAmt'] == 120.0 and [line_.get('Id') for line_ in up['Line']] == ['1', '2', None]
    assert up['DocNumber'] == inv['DocNumber']
    v = api.post('invoice', {'Id': inv['Id'], 'SyncToken': '2'}, params={'operation': 'void'}).json()['Invoice']
    assert v['TotalAmt'] == 0 and v['Balance'] == 0 and v['PrivateNote'].startswith('Voided') and v['SyncToken'] == '3'
    assert api.get('invoice/' + inv['Id']).status == 200
    d = api.post('invoice', {'Id': inv['Id'], 'SyncToken': '3'}, params={'operation': 'delete'}).json()
    assert d['Invoice'] == {'status': 'Deleted', 'domain': 'QBO', 'Id': inv['Id']} and 'time' in d
    err = api.fault(api.get('invoice/' + inv['Id']))
    assert err['code'] == '610' and 'deleted' in err['Detail']
    assert api.fault(api.post('invoice', {'Id': inv['Id'], 'SyncToken': '3', 'sparse': True}))['code'] == '610'


def test_payment_reduces_balance_and_credit_memo(api):
    inv = api.create('Invoice', INV)
    pay = api.create('Payment', {'CustomerRef': {'value': '1'}, 'TotalAmt': 60.0,
                                 'Line': [{'Amount': 40.0, 'LinkedTxn': [{'TxnId': inv['Id'], 'TxnType': 'Invoice'}]}]})
    assert pay['UnappliedAmt'] == 20.0 and pay['DepositToAccountRef']['value'] == '4'
    after = api.get('invoice/' + inv['Id']).json()['Invoice']
    assert after['Balance'] == 60.0 and after['SyncToken'] == '1'
    assert {'TxnId': pay['Id'], 'TxnType': 'Payment'} in after['LinkedTxn']
    assert api.get('customer/1').json()['Customer']['Balance'] == 40.0
    v = api.post('payment', {'Id': pay['Id'], 'SyncToken': pay['SyncToken'], 'sparse': True},
                 params={'operation': 'update', 'include': 'void'}).json()['Payment']
    assert v['TotalAmt'] == 0
    assert api.get('invoice/' + inv['Id']).json()['Invoice']['Balance'] == 100.0
    cm = api.create('CreditMemo', INV)
    assert cm['RemainingCredit'] == 100.0 and cm['TotalAmt'] == 100.0


def test_gb_vat_company(ctl, base):
    from conftest import connect
    gb = ctl.create_company('UK Ltd', 'GB')
    assert gb['currency'] == 'GBP'
    api = connect(ctl, base, gb['realm_id'])
    codes = {c['Name']: c for c in api.query('select * from TaxCode')['TaxCode']}
    assert {'20.0% S', '5.0% R', '0.0% Z', 'Exempt'} <= set(codes) and 'TAX' not in codes
    assert api.get('companyinfo/' + gb['realm_id']).json()['CompanyInfo']['Country'] == 'GB'
    std, red = codes['20.0% S']['Id'], codes['5.0% R']['Id']
    inv = api.create('Invoice', {'CustomerRef': {'value': '1'}, 'Line': [line('1', 100.0, std), line('1', 10.0, red)]})
    assert inv['GlobalTaxCalculation'] == 'TaxExcluded' and inv['CurrencyRef']['value'] == 'GBP'
    assert inv['TxnTaxDetail']['TotalTax'] == 20.5 and inv['TotalAmt'] == 130.5
    assert 'TxnTaxCodeRef' not in inv['TxnTaxDetail']
    inclusive_line = line('1', 100.0, std)  # Amount is net; the gross goes to TaxInclusiveAmt
    inclusive_line['SalesItemLineDetail']['TaxInclusiveAmt'] = 120.0
    inc = api.create('Invoice', {'CustomerRef': {'value': '1'}, 'GlobalTaxCalculation': 'TaxInclusive',
                                 'Line': [inclusive_line]})
    assert inc['TxnTaxDetail']['TotalTax'] == 20.0 and inc['TotalAmt'] == 120.0
    assert inc['TxnTaxDetail']['TaxLine'][0]['TaxLineDetail']['NetAmountTaxable'] == 100.0
    na = api.create('Invoice', {'CustomerRef': {'value': '1'}, 'GlobalTaxCalculation': 'NotApplicable',
                                'Line': [line('1', 50.0)]})
    assert na['TotalAmt'] == 50.0
    err = api.fault(api.post('invoice', {'CustomerRef': {'value': '1'}, 'Line': [line('1', 5.0)]}))
    assert err['code'] == '6000'
    assert api.fault(api.post('invoice', {'CustomerRef': {'value': '1'}, 'Line': [line('1', 5.0, 'TAX')]}))['code'] == '2500'  # noqa: E501


def test_foreign_currency_home_total(api, ctl):
    ctl.set_preferences(api.realm, {'CurrencyPrefs': {'MultiCurrencyEnabled': True}})
    c = api.create('Customer', {'DisplayName': 'Euro Client', 'CurrencyRef': {'value': 'EUR'}})
    inv = api.create('Invoice', {'CustomerRef': {'value': c['Id']}, 'CurrencyRef': {'value': 'EUR'},
                                 'ExchangeRate': 1.1, 'Line': [line('1', 100.0)]})
    assert inv['HomeTotalAmt'] == 110.0 and inv['TotalAmt'] == 100.0 and inv['ExchangeRate'] == 1.1


# ---------------------------------------------------------------- query language
def test_query_language(api, ctl):
    ctl.seed(api.realm, 'Customer', 25, prefix='Q Cust')
    api.create('Customer', {'DisplayName': "Adam's Candy Shop"})
    q = api.query("SELECT * FROM Customer WHERE DisplayName LIKE 'q cust%' ORDERBY DisplayName DESC STARTPOSITION 3 MAXRESULTS 5")  # noqa: E501
    assert q['startPosition'] == 3 and q['maxResults'] == 5
    assert [c['DisplayName'] for c in q['Customer']] == ['Q Cust %05d' % i for i in range(23, 18, -1)]
    assert api.query("select count(*) from Customer where DisplayName like '%Cust%'") == {'totalCount': 25}
    assert api.query("select * from Customer where DisplayName = 'Adam\\'s Candy Shop'")['maxResults'] == 1
    ids = [c['Id'] for c in api.query('select * from Customer MAXRESULTS 3')['Customer']]
    q = api.query("select * from Customer where Id IN ('%s', '%s')" % (ids[0], ids[2]))
    assert [c['Id'] for c in q['Customer']] == [ids[0], ids[2]]
    assert api.query("select * from Customer where DisplayName = 'nobody'") == {}
    inv = api.create('Invoice', INV)
    assert api.query("select * from Invoice where CustomerRef = '1' and TotalAmt >= '100.0'")['Invoice'][0]['Id'] == inv['Id']  # noqa: E501
    assert api.query("select * from Invoice where MetaData.LastUpdatedTime > '2015-01-01T00:00:00-07:00'")['maxResults'] == 1  # noqa: E501
    assert api.query("select * from Invoice where TxnDate <= CURRENT_DATE")['maxResults'] == 1
    assert api.query("select * from Customer where PrimaryEmailAddr = 'birds@intuit.com'")['Customer'][0]['Id'] == '1'
    assert len(api.query('select * from Customer')['Customer']) == 27
    assert api.query('select * from Customer startposition 0 maxresults 2')['startPosition'] == 1
    r = api.get('query', params={'query': 'select * from Customer maxresults 5000'})
    assert r.status == 200


@pytest.mark.parametrize('bad', ['', 'selec * from Customer', "select * from Customer where DisplayName = 'x' or Id = '1'",  # noqa: E501
                                 "select * from Customer where DisplayName = 'unterminated", 'select name from Customer',  # noqa: E501
                                 'select * from Customer orderby'])
def test_query_parse_errors(api, bad):
    r = api.call('POST', 'query', bad, ctype='application/text')
    err = api.fault(r)
    assert err['code'] == '4000' and err['Message'] == 'Error parsing query'
    assert err['Detail'].startswith('QueryParserError: ')


def test_query_paging_over_1000(api, ctl):
    ctl.seed(api.realm, 'Item', 1200, prefix='Bulk')
    seen = []
    start = 1
    while True:
        q = api.query('select * from Item where Name like \'Bulk%%\' STARTPOSITION %d MAXRESULTS 1000' % start)
        if not q:
            break
        seen += [i['Id'] for i in q['Item']]
        if q['maxResults'] < 1000:
            break
        start += 1000
    assert len(seen) == len(set(seen)) == 1200
