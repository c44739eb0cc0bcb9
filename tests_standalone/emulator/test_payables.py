"""Payables over HTTP: Bill, VendorCredit, BillPayment, Vendor rules (REF-Bill, REF-VendorCredit, REF-BillPayment)."""
import pytest

EXPENSE = '7'        # seeded US expense account "Advertising"
AP = '33'            # Accounts Payable (A/P)
CHECKING, SAVINGS, CARD = '35', '36', '41'


def acct_line(amount, account=EXPENSE, **det):
    d = {'AccountRef': {'value': account}}
    d.update(det)
    return {'DetailType': 'AccountBasedExpenseLineDetail', 'Amount': amount, 'AccountBasedExpenseLineDetail': d}


def item_line(amount, item='1', qty=None, price=None, **det):
    d = {'ItemRef': {'value': item}}
    if qty is not None:
        d['Qty'] = qty
    if price is not None:
        d['UnitPrice'] = price
    d.update(det)
    return {'DetailType': 'ItemBasedExpenseLineDetail', 'Amount': amount, 'ItemBasedExpenseLineDetail': d}


@pytest.fixture
def vendor(api):
    return api.create('Vendor', {'DisplayName': 'Paper Supplies Ltd'})


def bill(api, vendor, *lines, **extra):
    body = {'VendorRef': {'value': vendor['Id']}, 'Line': list(lines) or [acct_line(100.0)]}
    body.update(extra)
    return api.create('Bill', body)


def pay(api, vendor, total, links, pay_type='Check', params=None, **extra):
    body = {'VendorRef': {'value': vendor['Id']}, 'PayType': pay_type, 'TotalAmt': total,
            'Line': [{'Amount': amt, 'LinkedTxn': [{'TxnId': tid, 'TxnType': ttype}]} for ttype, tid, amt in links]}
    if pay_type == 'Check':
        body['CheckPayment'] = {'BankAccountRef': {'value': CHECKING}}
    else:
        body['CreditCardPayment'] = {'CCAccountRef': {'value': CARD}}
    body.update(extra)
    return api.post('billpayment', body, params=params)


def vendor_balance(api, vendor):
    return api.get('vendor/' + vendor['Id']).json()['Vendor']['Balance']


# ---------------------------------------------------------------- Bill
def test_bill_totals_defaults_and_vendor_balance(api, vendor):
    b = bill(api, vendor, acct_line(100.0, BillableStatus='NotBillable'), item_line(30.0, qty=3, price=10),
             TxnDate='2026-01-10', SalesTermRef={'value': '3'}, PrivateNote='paper', DocNumber='INV-77')
    assert b['TotalAmt'] == 130.0 and b['Balance'] == 130.0
    assert b['APAccountRef'] == {'value': AP, 'name': 'Accounts Payable (A/P)'}
    assert b['DueDate'] == '2026-02-09' and b['SalesTermRef']['value'] == '3'
    assert [ln['Id'] for ln in b['Line']] == ['1', '2'] and b['VendorRef']['name'] == 'Paper Supplies Ltd'
    det = b['Line'][0]['AccountBasedExpenseLineDetail']
    assert det['AccountRef'] == {'value': EXPENSE, 'name': 'Advertising'}
    assert det['TaxCodeRef'] == {'value': 'NON'} and det['BillableStatus'] == 'NotBillable'
    assert b['Line'][1]['ItemBasedExpenseLineDetail']['ItemRef']['name'] == 'Services'
    assert b['CurrencyRef']['value'] == 'USD' and 'TxnTaxDetail' not in b
    assert vendor_balance(api, vendor) == 130.0
    read = api.get('bill/' + b['Id']).json()['Bill']
    assert read['TotalAmt'] == 130.0 and read['SyncToken'] == '0'


def test_bill_vendor_term_default_and_due_date(api):
    v = api.create('Vendor', {'DisplayName': 'Termed', 'TermRef': {'value': '2'}})
    b = bill(api, v, TxnDate='2026-03-01')
    assert b['SalesTermRef']['value'] == '2' and b['DueDate'] == '2026-03-16'
    b2 = bill(api, v, TxnDate='2026-03-01', DueDate='2026-04-30')
    assert b2['DueDate'] == '2026-04-30'


def test_bill_reference_errors(api, vendor):
    err = api.fault(api.post('bill', {'Line': [acct_line(10.0)]}))
    assert err['code'] == '2020' and 'VendorRef' in err['Detail']
    err = api.fault(api.post('bill', {'VendorRef': {'value': '9999'}, 'Line': [acct_line(10.0)]}))
    assert err['code'] == '2500' and err['Detail'] == 'Invalid Reference Id : Names element id 9999 not found'
    cust = api.create('Customer', {'DisplayName': 'Not a vendor'})
    err = api.fault(api.post('bill', {'VendorRef': {'value': cust['Id']}, 'Line': [acct_line(10.0)]}))
    assert err['code'] == '2500'
    old = api.create('Vendor', {'DisplayName': 'Gone Vendor'})
    api.post('vendor', {'Id': old['Id'], 'SyncToken': '0', 'sparse': True, 'Active': False})
    assert api.fault(api.post('bill', {'VendorRef': {'value': old['Id']}, 'Line': [acct_line(1.0)]}))['code'] == '610'
    err = api.fault(api.post('bill', {'VendorRef': {'value': vendor['Id']}, 'APAccountRef': {'value': CHECKING},
                                      'Line': [acct_line(10.0)]}))
    assert err['code'] == '2500' and err['Detail'] == 'Invalid Reference Id : Accounts element id 35 is invalid'
    assert api.fault(api.post('bill', {'VendorRef': {'value': vendor['Id']}}))['code'] == '2020'
    err = api.fault(api.post('bill', {'VendorRef': {'value': vendor['Id']},
                                      'Line': [{'DetailType': 'AccountBasedExpenseLineDetail', 'Amount': 5,
                                                'AccountBasedExpenseLineDetail': {}}]}))
    assert err['code'] == '2020' and 'AccountRef' in err['Detail']
    err = api.fault(api.post('bill', {'VendorRef': {'value': vendor['Id']},
                                      'Line': [{'DetailType': 'SalesItemLineDetail', 'Amount': 5}]}))
    assert err['code'] == '2170'
    err = api.fault(api.post('bill', {'VendorRef': {'value': vendor['Id']},
                                      'Line': [item_line(25.0, qty=2, price=10)]}))
    assert err['code'] == '6070'
    err = api.fault(api.post('bill', {'VendorRef': {'value': vendor['Id']},
                                      'Line': [acct_line(5.0, BillableStatus='HAS_BEEN_BILLED')]}))
    assert err['code'] == '2170' and err['Detail'] == 'Invalid Enumeration : HAS_BEEN_BILLED'
    err = api.fault(api.post('bill', {'VendorRef': {'value': vendor['Id']},
                                      'Line': [acct_line(5.0, TaxCodeRef={'value': '2'})]}))
    assert err['code'] == '6100'
    err = api.fault(api.post('bill', {'VendorRef': {'value': vendor['Id']}, 'DocNumber': 'X' * 22,
                                      'Line': [acct_line(5.0)]}))
    assert err['code'] == '2050' and err['element'] == 'DocNumber'


def test_bill_billable_customer_and_class(api, vendor):
    cls = api.create('Class', {'Name': 'Ops'})
    b = bill(api, vendor, acct_line(40.0, CustomerRef={'value': '1'}, BillableStatus='Billable',
                                     ClassRef={'value': cls['Id']}))
    det = b['Line'][0]['AccountBasedExpenseLineDetail']
    assert det['CustomerRef']['value'] == '1' and det['BillableStatus'] == 'Billable'
    assert det['ClassRef'] == {'value': cls['Id'], 'name': 'Ops'}
    err = api.fault(api.post('bill', {'VendorRef': {'value': vendor['Id']},
                                      'Line': [acct_line(5.0, CustomerRef={'value': '999'})]}))
    assert err['code'] == '2500'


def test_bill_duplicate_number_follows_warn_duplicate_bill_number(api, ctl, vendor):
    bill(api, vendor, DocNumber='B-1')
    bill(api, vendor, DocNumber='B-1')              # WarnDuplicateBillNumber false (seed): accepted
    prefs = api.get('preferences').json()['Preferences']
    other = prefs['OtherPrefs']['NameValue']
    for nv in other:
        if nv['Name'] == 'WarnDuplicateBillNumber':
            nv['Value'] = 'true'
    r = api.post('preferences', {'Id': prefs['Id'], 'SyncToken': prefs['SyncToken'], 'sparse': True,
                                 'OtherPrefs': {'NameValue': other}})
    assert r.status == 200, r.body
    err = api.fault(api.post('bill', {'VendorRef': {'value': vendor['Id']}, 'DocNumber': 'b-1',
                                      'Line': [acct_line(1.0)]}))
    assert err['code'] == '6140' and 'DocNumber=b-1 is assigned to TxnType=Bill' in err['Detail']
    r = api.post('bill', {'VendorRef': {'value': vendor['Id']}, 'DocNumber': 'B-1', 'Line': [acct_line(1.0)]},
                 params={'include': 'allowduplicatedocnum'})
    assert r.status == 200
    other_vendor = api.create('Vendor', {'DisplayName': 'Other Paper'})
    assert bill(api, other_vendor, DocNumber='B-1')['DocNumber'] == 'B-1'      # per vendor


def test_bill_update_sparse_stale_delete_and_no_void(api, vendor):
    b = bill(api, vendor, acct_line(100.0))
    r = api.post('bill', {'Id': b['Id'], 'SyncToken': '0', 'sparse': True, 'PrivateNote': 'checked'})
    b1 = r.json()['Bill']
    assert b1['SyncToken'] == '1' and b1['PrivateNote'] == 'checked' and b1['TotalAmt'] == 100.0
    full = api.post('bill', {'Id': b['Id'], 'SyncToken': '1', 'VendorRef': {'value': vendor['Id']},
                             'Line': [dict(acct_line(60.0), Id='1'), acct_line(15.0)]}).json()['Bill']
    assert full['TotalAmt'] == 75.0 and [ln['Id'] for ln in full['Line']] == ['1', '2'] and 'PrivateNote' not in full
    assert vendor_balance(api, vendor) == 75.0
    assert api.fault(api.post('bill', {'Id': b['Id'], 'SyncToken': '1', 'sparse': True, 'PrivateNote': 'x'}))[
        'code'] == '5010'
    err = api.fault(api.post('bill', {'Id': b['Id'], 'SyncToken': '2'}, params={'operation': 'void'}))
    assert err['code'] == '500' and err['Detail'] == 'Operation Void is not supported for Bill.'
    r = api.post('bill', {'Id': b['Id'], 'SyncToken': '2'}, params={'operation': 'delete'})
    assert r.json()['Bill'] == {'status': 'Deleted', 'domain': 'QBO', 'Id': b['Id']}
    assert api.fault(api.get('bill/' + b['Id']))['code'] == '610'
    assert vendor_balance(api, vendor) == 0


def test_bill_multicurrency_vendor_currency(ctl, api):
    prefs = api.get('preferences').json()['Preferences']
    api.post('preferences', {'Id': '1', 'SyncToken': prefs['SyncToken'], 'sparse': True,
                             'CurrencyPrefs': {'MultiCurrencyEnabled': True}})
    v = api.create('Vendor', {'DisplayName': 'Euro Parts', 'CurrencyRef': {'value': 'EUR'}})
    b = bill(api, v, acct_line(100.0), ExchangeRate=1.1)
    assert b['CurrencyRef']['value'] == 'EUR' and b['ExchangeRate'] == 1.1
    assert b['HomeTotalAmt'] == 110.0 and b['HomeBalance'] == 110.0
    err = api.fault(api.post('bill', {'VendorRef': {'value': v['Id']}, 'CurrencyRef': {'value': 'USD'},
                                      'Line': [acct_line(1.0)]}))
    assert err['code'] == '6000' and "vendor's currency (EUR)" in err['Detail']
    # CurrencyRef is set at creation only
    v1 = api.post('vendor', {'Id': v['Id'], 'SyncToken': v['SyncToken'], 'sparse': True,
                             'CurrencyRef': {'value': 'USD'}}).json()['Vendor']
    assert v1['CurrencyRef']['value'] == 'EUR'


def test_bill_non_us_purchase_tax(ctl, base):
    from conftest import connect
    uk = ctl.create_company(name='UK Payables', country='GB')
    gb = connect(ctl, base, uk['realm_id'])
    v = gb.create('Vendor', {'DisplayName': 'UK Supplier'})
    b = gb.create('Bill', {'VendorRef': {'value': v['Id']}, 'GlobalTaxCalculation': 'TaxExcluded',
                           'Line': [acct_line(100.0, account='12', TaxCodeRef={'value': '2'}),
                                    acct_line(50.0, account='12', TaxCodeRef={'value': '3'})]})
    assert b['APAccountRef']['value'] == '8'
    assert b['TxnTaxDetail']['TotalTax'] == 22.5 and b['TotalAmt'] == 172.5 and b['Balance'] == 172.5
    rates = {tl['TaxLineDetail']['TaxRateRef']['value']: tl['Amount'] for tl in b['TxnTaxDetail']['TaxLine']}
    assert rates == {'1': 20.0, '2': 2.5}
    inc = gb.create('Bill', {'VendorRef': {'value': v['Id']}, 'GlobalTaxCalculation': 'TaxInclusive',
                             'Line': [acct_line(100.0, account='12', TaxCodeRef={'value': '2'},
                                                TaxInclusiveAmt=120.0)]})
    assert inc['TotalAmt'] == 120.0 and inc['TxnTaxDetail']['TotalTax'] == 20.0
    err = gb.fault(gb.post('bill', {'VendorRef': {'value': v['Id']}, 'GlobalTaxCalculation': 'TaxInclusive',
                                    'Line': [acct_line(120.0, account='12', TaxCodeRef={'value': '2'},
                                                       TaxInclusiveAmt=120.0)]}))
    assert err['code'] == '6000'
    err = gb.fault(gb.post('bill', {'VendorRef': {'value': v['Id']}, 'Line': [acct_line(10.0, account='12')]}))
    assert err['code'] == '6000' and 'VAT rate' in err['Detail']


def test_bill_seeds_an_ap_account_when_none(api, ctl, vendor):
    ctl.patch_entity(api.realm, 'Account', AP, {'Active': False})
    b = bill(api, vendor)
    acc = api.get('account/' + b['APAccountRef']['value']).json()['Account']
    assert acc['AccountType'] == 'Accounts Payable' and acc['Id'] != AP


# ---------------------------------------------------------------- VendorCredit
def test_vendor_credit_reduces_balance_and_has_no_terms(api, vendor):
    bill(api, vendor, acct_line(100.0))
    vc = api.create('VendorCredit', {'VendorRef': {'value': vendor['Id']}, 'SalesTermRef': {'value': '3'},
                                     'Line': [acct_line(30.0)]})
    assert vc['TotalAmt'] == 30.0 and vc['Balance'] == 30.0 and 'DueDate' not in vc and 'SalesTermRef' not in vc
    assert vc['APAccountRef']['value'] == AP
    assert vendor_balance(api, vendor) == 70.0
    r = api.post('vendorcredit', {'Id': vc['Id'], 'SyncToken': vc['SyncToken']}, params={'operation': 'delete'})
    assert r.status == 200 and vendor_balance(api, vendor) == 100.0
    err = api.fault(api.post('vendorcredit', {'Id': vc['Id'], 'SyncToken': '0'}, params={'operation': 'void'}))
    assert err['code'] == '500' and err['Detail'] == 'Operation Void is not supported for VendorCredit.'
    assert api.fault(api.get('vendorcredit/' + vc['Id']))['code'] == '610'


# ---------------------------------------------------------------- BillPayment
def test_bill_payment_partial_full_and_vendor_credit(api, vendor):
    b = bill(api, vendor, acct_line(100.0))
    r = pay(api, vendor, 40.0, [('Bill', b['Id'], 40.0)], DocNumber='1001')
    assert r.status == 200, r.body
    p1 = r.json()['BillPayment']
    assert p1['PayType'] == 'Check' and p1['CheckPayment']['BankAccountRef'] == {'value': CHECKING,
                                                                                   'name': 'Checking'}
    assert p1['APAccountRef']['value'] == AP and p1['TotalAmt'] == 40.0
    b1 = api.get('bill/' + b['Id']).json()['Bill']
    assert b1['Balance'] == 60.0 and b1['SyncToken'] == '1'
    assert {'TxnId': p1['Id'], 'TxnType': 'BillPayment'} in b1['LinkedTxn']
    assert vendor_balance(api, vendor) == 60.0
    vc = api.create('VendorCredit', {'VendorRef': {'value': vendor['Id']}, 'Line': [acct_line(10.0)]})
    r = pay(api, vendor, 50.0, [('Bill', b['Id'], 60.0), ('VendorCredit', vc['Id'], 10.0)], pay_type='CreditCard')
    assert r.status == 200, r.body
    p2 = r.json()['BillPayment']
    assert p2['CreditCardPayment']['CCAccountRef']['value'] == CARD and 'CheckPayment' not in p2
    assert api.get('bill/' + b['Id']).json()['Bill']['Balance'] == 0
    assert api.get('vendorcredit/' + vc['Id']).json()['VendorCredit']['Balance'] == 0
    assert vendor_balance(api, vendor) == 0
    # a bill with payments cannot be deleted
    b2 = api.get('bill/' + b['Id']).json()['Bill']
    err = api.fault(api.post('bill', {'Id': b['Id'], 'SyncToken': b2['SyncToken']}, params={'operation': 'delete'}))
    assert err['code'] == '6000' and 'payments applied' in err['Detail']
    q = api.query("select * from BillPayment where VendorRef = '%s'" % vendor['Id'])
    assert {p['Id'] for p in q['BillPayment']} == {p1['Id'], p2['Id']}


def test_bill_payment_errors(api, vendor):
    b = bill(api, vendor, acct_line(100.0))
    err = api.fault(pay(api, vendor, 150.0, [('Bill', b['Id'], 150.0)]))
    assert err['code'] == '6000' and 'more than its open balance' in err['Detail']
    err = api.fault(pay(api, vendor, 10.0, [('Bill', b['Id'], 50.0)]))
    assert err['code'] == '6000' and 'greater than or equal to the amount applied' in err['Detail']
    err = api.fault(api.post('billpayment', {'VendorRef': {'value': vendor['Id']}, 'PayType': 'Check',
                                             'TotalAmt': 5.0, 'CheckPayment': {'BankAccountRef': {'value': CARD}}}))
    assert err['code'] == '2500' and err['Detail'] == 'Invalid Reference Id : Accounts element id 41 is invalid'
    err = api.fault(api.post('billpayment', {'VendorRef': {'value': vendor['Id']}, 'PayType': 'CreditCard',
                                             'TotalAmt': 5.0,
                                             'CreditCardPayment': {'CCAccountRef': {'value': CHECKING}}}))
    assert err['code'] == '2500'
    err = api.fault(api.post('billpayment', {'VendorRef': {'value': vendor['Id']}, 'PayType': 'Check',
                                             'TotalAmt': 5.0}))
    assert err['code'] == '2020' and 'BankAccountRef' in err['Detail']
    err = api.fault(api.post('billpayment', {'VendorRef': {'value': vendor['Id']}, 'PayType': 'Cash',
                                             'TotalAmt': 5.0}))
    assert err['code'] == '2170'
    assert api.fault(api.post('billpayment', {'VendorRef': {'value': vendor['Id']}, 'TotalAmt': 5.0}))['code'] == '2020'
    other = api.create('Vendor', {'DisplayName': 'Someone Else'})
    err = api.fault(pay(api, other, 10.0, [('Bill', b['Id'], 10.0)]))
    assert err['code'] == '620'
    err = api.fault(pay(api, vendor, 10.0, [('Invoice', b['Id'], 10.0)]))
    assert err['code'] == '620'
    err = api.fault(pay(api, vendor, 10.0, [('Bill', '99999', 10.0)]))
    assert err['code'] == '2500'
    assert api.get('bill/' + b['Id']).json()['Bill']['Balance'] == 100.0


def test_bill_payment_update_relinks_void_and_delete_restore(api, vendor):
    b1 = bill(api, vendor, acct_line(100.0))
    b2 = bill(api, vendor, acct_line(50.0))
    p = pay(api, vendor, 100.0, [('Bill', b1['Id'], 100.0)]).json()['BillPayment']
    r = api.post('billpayment', {'Id': p['Id'], 'SyncToken': p['SyncToken'], 'sparse': True, 'TotalAmt': 50.0,
                                 'Line': [{'Amount': 50.0, 'LinkedTxn': [{'TxnId': b2['Id'], 'TxnType': 'Bill'}]}]})
    assert r.status == 200, r.body
    p1 = r.json()['BillPayment']
    assert api.get('bill/' + b1['Id']).json()['Bill']['Balance'] == 100.0
    assert api.get('bill/' + b2['Id']).json()['Bill']['Balance'] == 0
    assert vendor_balance(api, vendor) == 100.0
    r = api.post('billpayment', {'Id': p['Id'], 'SyncToken': p1['SyncToken']},
                 params={'operation': 'update', 'include': 'void'})
    assert r.status == 200, r.body
    voided = r.json()['BillPayment']
    assert voided['TotalAmt'] == 0 and voided['Line'] == [] and voided['PrivateNote'].startswith('Voided')
    assert api.get('bill/' + b2['Id']).json()['Bill']['Balance'] == 50.0
    assert vendor_balance(api, vendor) == 150.0
    err = api.fault(api.post('billpayment', {'Id': p['Id'], 'SyncToken': voided['SyncToken'], 'sparse': True,
                                             'PrivateNote': 'again'}))
    assert err['code'] == '6000'
    p2 = pay(api, vendor, 30.0, [('Bill', b1['Id'], 30.0)]).json()['BillPayment']
    assert api.get('bill/' + b1['Id']).json()['Bill']['Balance'] == 70.0
    api.post('billpayment', {'Id': p2['Id'], 'SyncToken': p2['SyncToken']}, params={'operation': 'delete'})
    bl = api.get('bill/' + b1['Id']).json()['Bill']
    assert bl['Balance'] == 100.0 and not [lt for lt in bl['LinkedTxn'] if lt['TxnType'] == 'BillPayment']
    # now that the payment is gone, the bill can be deleted
    r = api.post('bill', {'Id': b1['Id'], 'SyncToken': bl['SyncToken']}, params={'operation': 'delete'})
    assert r.status == 200


def test_unapplied_bill_payment_is_vendor_credit(api, vendor):
    bill(api, vendor, acct_line(100.0))
    r = pay(api, vendor, 25.0, [])
    assert r.status == 200, r.body
    assert vendor_balance(api, vendor) == 75.0


def test_duplicate_check_number(api, vendor):
    b = bill(api, vendor, acct_line(100.0))
    assert pay(api, vendor, 10.0, [('Bill', b['Id'], 10.0)], DocNumber='501').status == 200
    err = api.fault(pay(api, vendor, 10.0, [('Bill', b['Id'], 10.0)], DocNumber='501'))
    assert err['code'] == '6140'
    assert pay(api, vendor, 10.0, [('Bill', b['Id'], 10.0)], DocNumber='501',
               params={'include': 'allowduplicatedocnum'}).status == 200
    assert pay(api, vendor, 10.0, [('Bill', b['Id'], 10.0)], pay_type='CreditCard', DocNumber='501').status == 200


# ---------------------------------------------------------------- Vendor
def test_vendor_rules(api, vendor):
    v = api.create('Vendor', {'DisplayName': 'Acct Vendor', 'AcctNum': 'A-1', 'Vendor1099': True,
                              'TermRef': {'value': '3'}})
    assert v['AcctNum'] == 'A-1' and v['Vendor1099'] is True and v['TermRef']['name'] == 'Net 30'
    assert v['Balance'] == 0 and v['CurrencyRef']['value'] == 'USD'
    err = api.fault(api.post('vendor', {'DisplayName': 'x', 'AcctNum': 'A' * 101}))
    assert err['code'] == '2050' and err['element'] == 'AcctNum'
    assert api.fault(api.post('vendor', {'DisplayName': 'x', 'TermRef': {'value': '99'}}))['code'] == '2500'
    err = api.fault(api.post('employee', {'DisplayName': 'acct vendor', 'GivenName': 'A'}))
    assert err['code'] == '6240' and err['Detail'].endswith('Id=%s' % v['Id'])
    bill(api, v, acct_line(10.0))
    cur = api.get('vendor/' + v['Id']).json()['Vendor']
    err = api.fault(api.post('vendor', {'Id': v['Id'], 'SyncToken': cur['SyncToken'], 'sparse': True,
                                        'Active': False}))
    assert err['code'] == '6000' and 'non-zero balance' in err['Detail']
    r = api.post('vendor', {'Id': vendor['Id'], 'SyncToken': vendor['SyncToken'], 'sparse': True, 'Active': False})
    assert r.json()['Vendor']['Active'] is False


# ---------------------------------------------------------------- control API, query, batch, CDC, webhooks
def test_control_records_bill_payments_as_a_user(api, ctl, vendor):
    b = bill(api, vendor, acct_line(100.0))
    vc = api.create('VendorCredit', {'VendorRef': {'value': vendor['Id']}, 'Line': [acct_line(20.0)]})
    p = ctl.record_bill_payment(api.realm, bills=[{'id': b['Id'], 'amount': 50}], vendor_credits=[vc['Id']],
                                reference='9001')
    assert p['TotalAmt'] == 30.0 and p['CheckPayment']['BankAccountRef']['value'] == CHECKING
    assert api.get('bill/' + b['Id']).json()['Bill']['Balance'] == 50.0
    card = ctl.record_bill_payment(api.realm, bills=[b['Id']], pay_type='CreditCard')
    assert card['CreditCardPayment']['CCAccountRef']['value'] == CARD and card['TotalAmt'] == 50.0
    assert vendor_balance(api, vendor) == 0
    ctl.void_entity(api.realm, 'BillPayment', card['Id'])
    assert api.get('bill/' + b['Id']).json()['Bill']['Balance'] == 50.0
    ctl.delete_entity(api.realm, 'BillPayment', p['Id'])
    assert api.get('bill/' + b['Id']).json()['Bill']['Balance'] == 100.0
    assert ctl.entity(api.realm, 'BillPayment', p['Id'])['status'] == 'Deleted'
    # a QuickBooks user edits the bill: totals and the vendor balance follow
    cur = ctl.entity(api.realm, 'Bill', b['Id'])
    edited = ctl.patch_entity(api.realm, 'Bill', b['Id'], {'Line': [acct_line(80.0)]})
    assert edited['TotalAmt'] == 80.0 and int(edited['SyncToken']) == int(cur['SyncToken']) + 1
    assert vendor_balance(api, vendor) == 60.0


def test_query_batch_cdc_requestid_and_webhook_events(api, ctl, vendor):
    b = bill(api, vendor, acct_line(10.0), DocNumber='Q-1')
    created = b['MetaData']['CreateTime']
    q = api.query("select * from Bill where VendorRef = '%s' and MetaData.CreateTime >= '%s'" % (vendor['Id'], created))
    assert [x['Id'] for x in q['Bill']] == [b['Id']] and q['totalCount'] == 1
    assert api.query("select count(*) from Bill where DocNumber = 'Q-1'")['totalCount'] == 1
    r = api.post('batch', {'BatchItemRequest': [
        {'bId': 'b1', 'operation': 'create', 'Bill': {'VendorRef': {'value': vendor['Id']}, 'Line': [acct_line(5.0)]}},
        {'bId': 'b2', 'operation': 'create', 'VendorCredit': {'VendorRef': {'value': vendor['Id']},
                                                              'Line': [acct_line(2.0)]}},
        {'bId': 'b3', 'operation': 'create', 'Bill': {'VendorRef': {'value': '999'}, 'Line': [acct_line(5.0)]}},
        {'bId': 'b4', 'Query': 'select * from Bill'}]})
    items = {i['bId']: i for i in r.json()['BatchItemResponse']}
    assert items['b1']['Bill']['TotalAmt'] == 5.0 and items['b2']['VendorCredit']['TotalAmt'] == 2.0
    assert items['b3']['Fault']['Error'][0]['code'] == '2500'
    assert len(items['b4']['QueryResponse']['Bill']) == 1        # batch items do not see each other's creations
    body = {'VendorRef': {'value': vendor['Id']}, 'PayType': 'Check', 'TotalAmt': 10.0,
            'CheckPayment': {'BankAccountRef': {'value': CHECKING}},
            'Line': [{'Amount': 10.0, 'LinkedTxn': [{'TxnId': b['Id'], 'TxnType': 'Bill'}]}]}
    first = api.post('billpayment', body, params={'requestid': 'bp-1'})
    again = api.post('billpayment', body, params={'requestid': 'bp-1'})
    assert first.body == again.body and len(ctl.entities(api.realm, 'BillPayment')) == 1
    bp = first.json()['BillPayment']
    api.post('billpayment', {'Id': bp['Id'], 'SyncToken': bp['SyncToken']},
             params={'operation': 'update', 'include': 'void'})
    vc = items['b2']['VendorCredit']
    api.post('vendorcredit', {'Id': vc['Id'], 'SyncToken': vc['SyncToken']}, params={'operation': 'delete'})
    r = api.get('cdc', params={'entities': 'Bill,BillPayment,VendorCredit', 'changedSince': '2000-01-01T00:00:00Z'})
    if r.status == 400:      # the CDC window is 30 days: ask for the last hour instead
        since = created
        r = api.get('cdc', params={'entities': 'Bill,BillPayment,VendorCredit', 'changedSince': since})
    groups = {k: v for g in r.json()['CDCResponse'][0]['QueryResponse'] for k, v in g.items()
              if isinstance(v, list)}
    assert {x['Id'] for x in groups['Bill']} == {b['Id'], items['b1']['Bill']['Id']}
    assert groups['BillPayment'][0]['PrivateNote'].startswith('Voided')
    assert groups['VendorCredit'][0] == {'status': 'Deleted', 'domain': 'QBO', 'Id': vc['Id'],
                                         'MetaData': groups['VendorCredit'][0]['MetaData']}
    r = api.get('bill/' + b['Id'], params={'minorversion': '65'})
    assert r.status == 200 and r.json()['Bill']['Balance'] == 10.0


def test_payables_webhooks(ctl, base):
    from conftest import connect
    from test_webhooks_payments import TOKEN, Receiver
    receiver = Receiver()
    try:
        ctl.settings(webhook_window_seconds=0.3, webhook_retry_scale=0.01)
        api = connect(ctl, base)
        v = api.create('Vendor', {'DisplayName': 'Hooked Vendor'})
        ctl.configure_webhook(receiver.url, TOKEN, 'legacy')
        b = bill(api, v, acct_line(20.0))
        p = pay(api, v, 20.0, [('Bill', b['Id'], 20.0)]).json()['BillPayment']
        ctl.flush_webhooks()
        api.post('billpayment', {'Id': p['Id'], 'SyncToken': p['SyncToken']},
                 params={'operation': 'update', 'include': 'void'})
        b1 = api.get('bill/' + b['Id']).json()['Bill']
        api.post('bill', {'Id': b['Id'], 'SyncToken': b1['SyncToken']}, params={'operation': 'delete'})
        ctl.flush_webhooks()
        events = [(e['name'], e['id'], e['operation']) for body in receiver.bodies()
                  for e in body['eventNotifications'][0]['dataChangeEvent']['entities']]
        assert ('Bill', b['Id'], 'Create') in events and ('BillPayment', p['Id'], 'Create') in events
        assert ('Bill', b['Id'], 'Update') in events and ('BillPayment', p['Id'], 'Void') in events
        assert ('Bill', b['Id'], 'Delete') in events
    finally:
        ctl.configure_webhook(None, '')
        receiver.server.shutdown()
        receiver.server.server_close()


def test_vendor_merge_moves_payables_and_balances(api, ctl, vendor):
    dup = api.create('Vendor', {'DisplayName': 'Paper Supplies (dup)'})
    b = bill(api, dup, acct_line(45.0))
    p = api.create('Purchase', {'PaymentType': 'Cash', 'AccountRef': {'value': CHECKING},
                                'EntityRef': {'value': dup['Id'], 'type': 'Vendor'}, 'Line': [acct_line(5.0)]})
    ctl.merge(api.realm, 'Vendor', dup['Id'], vendor['Id'])
    assert api.get('bill/' + b['Id']).json()['Bill']['VendorRef']['value'] == vendor['Id']
    assert api.get('purchase/' + p['Id']).json()['Purchase']['EntityRef']['value'] == vendor['Id']
    assert vendor_balance(api, vendor) == 45.0
    gone = ctl.entity(api.realm, 'Vendor', dup['Id'])
    assert gone['Active'] is False and gone['Balance'] == 0


def test_batch_voids_a_bill_payment(api, vendor):
    b = bill(api, vendor, acct_line(30.0))
    p = pay(api, vendor, 30.0, [('Bill', b['Id'], 30.0)]).json()['BillPayment']
    r = api.post('batch', {'BatchItemRequest': [
        {'bId': 'v', 'operation': 'update', 'optionsData': 'void',
         'BillPayment': {'Id': p['Id'], 'SyncToken': p['SyncToken'], 'sparse': True}}]})
    item = r.json()['BatchItemResponse'][0]
    assert item['bId'] == 'v' and item['BillPayment']['TotalAmt'] == 0
    assert api.get('bill/' + b['Id']).json()['Bill']['Balance'] == 30.0


def test_page_shows_vendors_bills_and_bill_payments(api, base, vendor):
    from conftest import hreq
    b = bill(api, vendor, acct_line(12.5), DocNumber='PG-7')
    pay(api, vendor, 12.5, [('Bill', b['Id'], 12.5)], DocNumber='3303')
    html = hreq(base, 'GET', '/').body.decode()
    assert 'Paper Supplies Ltd' in html and 'PG-7' in html and 'Advertising' in html
    assert 'Bill payments' in html and 'Bill %s: 12.5' % b['Id'] in html
