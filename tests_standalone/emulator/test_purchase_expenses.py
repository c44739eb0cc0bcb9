"""Purchase (an expense paid by card, check or cash) as the expenses bridge sends it, over HTTP (REF-Purchase).

test_ledger.py covers PaymentType, the header AccountRef and its type, Credit and check numbers; these are the
rules an employee's company-card expense meets besides: a payee of any kind, billable lines, Line required,
delete (no void).
"""
from test_payables import CARD, CHECKING, acct_line


def test_purchase_payee_is_a_vendor_customer_or_employee_of_that_kind(api):
    employee = api.create('Employee', {'GivenName': 'Erin', 'FamilyName': 'Travels'})
    p = api.create('Purchase', {'PaymentType': 'CreditCard', 'AccountRef': {'value': CARD},
                                'EntityRef': {'value': employee['Id'], 'type': 'Employee'},
                                'Line': [acct_line(12.5)]})
    assert p['EntityRef'] == {'value': employee['Id'], 'name': 'Erin Travels', 'type': 'Employee'}
    # The reference names an employee, the type says Vendor: not found among the vendors.
    err = api.fault(api.post('purchase', {'PaymentType': 'CreditCard', 'AccountRef': {'value': CARD},
                                          'EntityRef': {'value': employee['Id'], 'type': 'Vendor'},
                                          'Line': [acct_line(1.0)]}))
    assert err['code'] == '2500'
    err = api.fault(api.post('purchase', {'PaymentType': 'CreditCard', 'AccountRef': {'value': CARD},
                                          'EntityRef': {'value': employee['Id'], 'type': 'Partner'},
                                          'Line': [acct_line(1.0)]}))
    assert err['code'] == '2170'


def test_purchase_billable_line_keeps_its_customer(api):
    customer = api.create('Customer', {'DisplayName': 'Contoso'})
    p = api.create('Purchase', {'PaymentType': 'Cash', 'AccountRef': {'value': CHECKING},
                                'Line': [acct_line(40.0, CustomerRef={'value': customer['Id']},
                                                   BillableStatus='Billable'), acct_line(2.5)]})
    billable, plain = (line['AccountBasedExpenseLineDetail'] for line in p['Line'])
    assert billable['CustomerRef'] == {'value': customer['Id'], 'name': 'Contoso'}
    assert billable['BillableStatus'] == 'Billable'
    assert plain['BillableStatus'] == 'NotBillable' and 'CustomerRef' not in plain
    assert p['TotalAmt'] == 42.5
    err = api.fault(api.post('purchase', {'PaymentType': 'Cash', 'AccountRef': {'value': CHECKING},
                                          'Line': [acct_line(1.0, BillableStatus='Maybe')]}))
    assert err['code'] == '2170'


def test_purchase_needs_lines_and_is_deleted_not_voided(api):
    err = api.fault(api.post('purchase', {'PaymentType': 'CreditCard', 'AccountRef': {'value': CARD}}))
    assert err['code'] == '2020' and err['element'] == 'Line'
    p = api.create('Purchase', {'PaymentType': 'CreditCard', 'AccountRef': {'value': CARD},
                                'Line': [acct_line(9.99)]})
    err = api.fault(api.post('purchase', {'Id': p['Id'], 'SyncToken': p['SyncToken']},
                             params={'operation': 'void'}))
    assert 'not supported' in err['Detail']
    assert api.post('purchase', {'Id': p['Id'], 'SyncToken': p['SyncToken']},
                    params={'operation': 'delete'}).status == 200
    assert api.fault(api.get('purchase/' + p['Id']))['code'] == '610'
