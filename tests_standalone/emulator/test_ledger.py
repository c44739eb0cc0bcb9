"""JournalEntry, Purchase and PurchaseOrder over HTTP (REF-JournalEntry, REF-Purchase, REF-PurchaseOrder)."""
import pytest
from test_payables import AP, CARD, CHECKING, EXPENSE, acct_line, bill, item_line, vendor_balance

AR = '84'
SALES = '79'


def je_line(amount, posting, account, entity=None, **extra):
    det = {'PostingType': posting, 'AccountRef': {'value': account}}
    if entity:
        det['Entity'] = {'Type': entity[0], 'EntityRef': {'value': entity[1]}}
    det.update(extra)
    return {'DetailType': 'JournalEntryLineDetail', 'Amount': amount, 'JournalEntryLineDetail': det}


@pytest.fixture
def vendor(api):
    return api.create('Vendor', {'DisplayName': 'Ledger Vendor'})


# ---------------------------------------------------------------- JournalEntry
def test_journal_entry_balanced_totals_and_delete(api):
    je = api.create('JournalEntry', {'DocNumber': 'JE-1', 'TxnDate': '2026-02-01', 'PrivateNote': 'accrual',
                                     'Line': [je_line(150.0, 'Debit', EXPENSE, Description='rent'),
                                              je_line(100.0, 'Credit', CHECKING),
                                              je_line(50.0, 'Credit', '36')]})
    assert je['TotalAmt'] == 150.0 and je['DocNumber'] == 'JE-1' and je['Adjustment'] is False
    assert [ln['Id'] for ln in je['Line']] == ['1', '2', '3']
    assert je['Line'][0]['JournalEntryLineDetail']['AccountRef'] == {'value': EXPENSE, 'name': 'Advertising'}
    assert api.get('journalentry/' + je['Id']).json()['JournalEntry']['TxnDate'] == '2026-02-01'
    r = api.post('journalentry', {'Id': je['Id'], 'SyncToken': '0'}, params={'operation': 'delete'})
    assert r.json()['JournalEntry']['status'] == 'Deleted'
    assert api.fault(api.get('journalentry/' + je['Id']))['code'] == '610'


def test_journal_entry_errors(api, vendor):
    err = api.fault(api.post('journalentry', {'Line': [je_line(10.0, 'Debit', EXPENSE),
                                                       je_line(9.0, 'Credit', CHECKING)]}))
    assert err['code'] == '6000' and 'balance debits and credits' in err['Detail']
    err = api.fault(api.post('journalentry', {'Line': [je_line(10.0, 'Debit', AR), je_line(10.0, 'Credit', SALES)]}))
    assert err['code'] == '6000'
    assert err['Detail'] == ('Business Validation Error: When you use Accounts Receivable, you must choose a '
                             'customer in the Name field.')
    err = api.fault(api.post('journalentry', {'Line': [je_line(10.0, 'Debit', EXPENSE),
                                                       je_line(10.0, 'Credit', AP, ('Customer', '1'))]}))
    assert err['code'] == '6000' and 'Accounts Payable, you must choose a vendor' in err['Detail']
    err = api.fault(api.post('journalentry', {'Line': [je_line(10.0, 'Up', EXPENSE)]}))
    assert err['code'] == '2170'
    err = api.fault(api.post('journalentry', {'Line': [{'DetailType': 'JournalEntryLineDetail', 'Amount': 1,
                                                        'JournalEntryLineDetail': {'AccountRef': {'value': '7'}}}]}))
    assert err['code'] == '2020' and 'PostingType' in err['Detail']
    err = api.fault(api.post('journalentry', {'Line': [je_line(10.0, 'Debit', '999'),
                                                       je_line(10.0, 'Credit', CHECKING)]}))
    assert err['code'] == '2500' and 'Accounts element id 999' in err['Detail']
    err = api.fault(api.post('journalentry', {'Line': [je_line(10.0, 'Debit', AR, ('Customer', '999')),
                                                       je_line(10.0, 'Credit', SALES)]}))
    assert err['code'] == '2500' and 'Names element id 999' in err['Detail']
    err = api.fault(api.post('journalentry', {'Line': [je_line(10.0, 'Debit', EXPENSE, ('Robot', '1')),
                                                       je_line(10.0, 'Credit', CHECKING)]}))
    assert err['code'] == '2170'
    assert api.fault(api.post('journalentry', {'DocNumber': 'x' * 22, 'Line': [je_line(1.0, 'Debit', EXPENSE),
                                                                              je_line(1.0, 'Credit', CHECKING)]}))[
        'code'] == '2050'


def test_journal_entry_moves_customer_and_vendor_balances(api, vendor):
    je = api.create('JournalEntry', {'Line': [je_line(70.0, 'Debit', AR, ('Customer', '1')),
                                              je_line(70.0, 'Credit', SALES)]})
    assert api.get('customer/1').json()['Customer']['Balance'] == 70.0
    api.create('JournalEntry', {'Line': [je_line(40.0, 'Debit', EXPENSE),
                                         je_line(40.0, 'Credit', AP, ('Vendor', vendor['Id']))]})
    assert vendor_balance(api, vendor) == 40.0
    r = api.post('journalentry', {'Id': je['Id'], 'SyncToken': '0', 'sparse': True,
                                  'Line': [je_line(20.0, 'Debit', AR, ('Customer', '1')),
                                           je_line(20.0, 'Credit', SALES)]})
    assert r.status == 200 and api.get('customer/1').json()['Customer']['Balance'] == 20.0
    api.post('journalentry', {'Id': je['Id'], 'SyncToken': '1'}, params={'operation': 'delete'})
    assert api.get('customer/1').json()['Customer']['Balance'] == 0
    assert api.fault(api.post('journalentry', {'Id': je['Id'], 'SyncToken': '2'}, params={'operation': 'void'}))[
        'code'] == '500'


def test_journal_entry_multicurrency(api):
    prefs = api.get('preferences').json()['Preferences']
    err = api.fault(api.post('journalentry', {'CurrencyRef': {'value': 'EUR'}, 'ExchangeRate': 1.2,
                                              'Line': [je_line(10.0, 'Debit', EXPENSE),
                                                       je_line(10.0, 'Credit', CHECKING)]}))
    assert err['code'] == '6000' and 'Multicurrency' in err['Detail']
    api.post('preferences', {'Id': '1', 'SyncToken': prefs['SyncToken'], 'sparse': True,
                             'CurrencyPrefs': {'MultiCurrencyEnabled': True}})
    je = api.create('JournalEntry', {'CurrencyRef': {'value': 'EUR'}, 'ExchangeRate': 1.2,
                                     'Line': [je_line(10.0, 'Debit', EXPENSE), je_line(10.0, 'Credit', CHECKING)]})
    assert je['CurrencyRef']['value'] == 'EUR' and je['ExchangeRate'] == 1.2 and je['HomeTotalAmt'] == 12.0


# ---------------------------------------------------------------- Purchase
def test_purchase_payment_types_accounts_and_credit(api, vendor):
    p = api.create('Purchase', {'PaymentType': 'Check', 'AccountRef': {'value': CHECKING}, 'DocNumber': '700',
                                'EntityRef': {'value': vendor['Id'], 'type': 'Vendor'},
                                'Line': [acct_line(25.0), item_line(10.0, qty=2, price=5)]})
    assert p['TotalAmt'] == 35.0 and p['AccountRef'] == {'value': CHECKING, 'name': 'Checking'}
    assert p['EntityRef']['type'] == 'Vendor' and 'Balance' not in p and 'APAccountRef' not in p
    assert vendor_balance(api, vendor) == 0
    cash = api.create('Purchase', {'PaymentType': 'Cash', 'AccountRef': {'value': '36'}, 'Line': [acct_line(5.0)]})
    assert cash['PaymentType'] == 'Cash'
    refund = api.create('Purchase', {'PaymentType': 'CreditCard', 'AccountRef': {'value': CARD}, 'Credit': True,
                                     'Line': [acct_line(8.0)]})
    assert refund['Credit'] is True and refund['TotalAmt'] == 8.0
    err = api.fault(api.post('purchase', {'PaymentType': 'CreditCard', 'AccountRef': {'value': CHECKING},
                                          'Line': [acct_line(1.0)]}))
    assert err['code'] == '2500' and err['Detail'].endswith('Accounts element id 35 is invalid')
    err = api.fault(api.post('purchase', {'PaymentType': 'Check', 'Line': [acct_line(1.0)]}))
    assert err['code'] == '2020' and 'AccountRef' in err['Detail']
    assert api.fault(api.post('purchase', {'AccountRef': {'value': CHECKING}, 'Line': [acct_line(1.0)]}))[
        'code'] == '2020'
    assert api.fault(api.post('purchase', {'PaymentType': 'Barter', 'AccountRef': {'value': CHECKING},
                                           'Line': [acct_line(1.0)]}))['code'] == '2170'
    err = api.fault(api.post('purchase', {'PaymentType': 'Check', 'AccountRef': {'value': CHECKING}, 'Credit': True,
                                          'Line': [acct_line(1.0)]}))
    assert err['code'] == '6000'
    err = api.fault(api.post('purchase', {'PaymentType': 'Check', 'AccountRef': {'value': CHECKING},
                                          'DocNumber': '700', 'Line': [acct_line(1.0)]}))
    assert err['code'] == '6140'           # WarnDuplicateCheckNumber is on in the seed
    r = api.post('purchase', {'Id': p['Id'], 'SyncToken': '0'}, params={'operation': 'delete'})
    assert r.status == 200
    q = api.query("select * from Purchase where PaymentType = 'CreditCard'")
    assert [x['Id'] for x in q['Purchase']] == [refund['Id']]


# ---------------------------------------------------------------- PurchaseOrder
def test_purchase_order_is_non_posting_and_closes_when_billed(api, vendor):
    po = api.create('PurchaseOrder', {'VendorRef': {'value': vendor['Id']}, 'Memo': 'to vendor',
                                      'ShipAddr': {'Line1': '1 Dock Road', 'City': 'Oakland'},
                                      'Line': [item_line(50.0, qty=5, price=10), acct_line(20.0)]})
    assert po['POStatus'] == 'Open' and po['TotalAmt'] == 70.0 and po['DocNumber'] == '1001'
    assert po['ShipAddr']['Id'] and po['APAccountRef']['value'] == AP and 'Balance' not in po
    assert vendor_balance(api, vendor) == 0
    b = bill(api, vendor, dict(item_line(50.0, qty=5, price=10),
                               LinkedTxn=[{'TxnId': po['Id'], 'TxnType': 'PurchaseOrder', 'TxnLineId': '1'}]))
    assert {'TxnId': po['Id'], 'TxnType': 'PurchaseOrder'} in b['LinkedTxn']
    assert api.get('purchaseorder/' + po['Id']).json()['PurchaseOrder']['POStatus'] == 'Open'
    b2 = bill(api, vendor, dict(acct_line(20.0),
                                LinkedTxn=[{'TxnId': po['Id'], 'TxnType': 'PurchaseOrder', 'TxnLineId': '2'}]))
    closed = api.get('purchaseorder/' + po['Id']).json()['PurchaseOrder']
    assert closed['POStatus'] == 'Closed'
    assert {lt['TxnId'] for lt in closed['LinkedTxn']} == {b['Id'], b2['Id']}
    api.post('bill', {'Id': b2['Id'], 'SyncToken': b2['SyncToken']}, params={'operation': 'delete'})
    assert api.get('purchaseorder/' + po['Id']).json()['PurchaseOrder']['POStatus'] == 'Open'
    err = api.fault(api.post('bill', {'VendorRef': {'value': vendor['Id']},
                                      'Line': [dict(acct_line(1.0), LinkedTxn=[{'TxnId': po['Id'],
                                                                                'TxnType': 'PurchaseOrder',
                                                                                'TxnLineId': '9'}])]}))
    assert err['code'] == '620'
    other = api.create('Vendor', {'DisplayName': 'Not the PO vendor'})
    err = api.fault(api.post('bill', {'VendorRef': {'value': other['Id']},
                                      'Line': [dict(acct_line(1.0), LinkedTxn=[{'TxnId': po['Id'],
                                                                                'TxnType': 'PurchaseOrder'}])]}))
    assert err['code'] == '620'
    termed = api.create('PurchaseOrder', {'VendorRef': {'value': vendor['Id']}, 'SalesTermRef': {'value': '2'},
                                          'DueDate': '2026-05-01', 'Line': [acct_line(1.0)]})
    assert termed['SalesTermRef'] == {'value': '2', 'name': 'Net 15'} and termed['DueDate'] == '2026-05-01'
    assert termed['DocNumber'] == '1002'
    assert api.fault(api.post('purchaseorder', {'VendorRef': {'value': vendor['Id']}, 'POStatus': 'Done',
                                                'Line': [acct_line(1.0)]}))['code'] == '2170'
    cur = api.get('purchaseorder/' + po['Id']).json()['PurchaseOrder']
    manual = api.post('purchaseorder', {'Id': po['Id'], 'SyncToken': cur['SyncToken'], 'sparse': True,
                                        'POStatus': 'Closed'}).json()['PurchaseOrder']
    assert manual['POStatus'] == 'Closed' and manual['TotalAmt'] == 70.0
    r = api.post('purchaseorder', {'Id': po['Id'], 'SyncToken': manual['SyncToken']}, params={'operation': 'delete'})
    assert r.status == 200


def test_ledger_entities_in_batch_cdc_and_queries(api, vendor):
    po = api.create('PurchaseOrder', {'VendorRef': {'value': vendor['Id']}, 'Line': [acct_line(9.0)]})
    r = api.post('batch', {'BatchItemRequest': [
        {'bId': 'je', 'operation': 'create',
         'JournalEntry': {'Line': [je_line(5.0, 'Debit', EXPENSE), je_line(5.0, 'Credit', CHECKING)]}},
        {'bId': 'pu', 'operation': 'create',
         'Purchase': {'PaymentType': 'Cash', 'AccountRef': {'value': CHECKING}, 'Line': [acct_line(3.0)]}},
        {'bId': 'po', 'operation': 'delete', 'PurchaseOrder': {'Id': po['Id'], 'SyncToken': po['SyncToken']}},
        {'bId': 'bad', 'operation': 'create',
         'JournalEntry': {'Line': [je_line(5.0, 'Debit', EXPENSE), je_line(4.0, 'Credit', CHECKING)]}}]})
    items = {i['bId']: i for i in r.json()['BatchItemResponse']}
    assert items['je']['JournalEntry']['TotalAmt'] == 5.0 and items['pu']['Purchase']['TotalAmt'] == 3.0
    assert items['po']['PurchaseOrder']['status'] == 'Deleted'
    assert items['bad']['Fault']['Error'][0]['code'] == '6000'
    since = po['MetaData']['CreateTime']
    r = api.get('cdc', params={'entities': 'JournalEntry,Purchase,PurchaseOrder', 'changedSince': since})
    groups = {k: v for g in r.json()['CDCResponse'][0]['QueryResponse'] for k, v in g.items() if isinstance(v, list)}
    assert [x['Id'] for x in groups['JournalEntry']] == [items['je']['JournalEntry']['Id']]
    assert groups['PurchaseOrder'][0]['status'] == 'Deleted'
    q = api.query("select * from JournalEntry where MetaData.CreateTime >= '%s' and TotalAmt = '5.0'" % since)
    assert q['totalCount'] == 1
    assert api.query("select count(*) from Purchase")['totalCount'] == 1
