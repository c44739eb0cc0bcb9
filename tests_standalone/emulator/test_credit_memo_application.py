"""A credit memo applied to an invoice through the API, as QuickBooks does it (qbo-api-reference §13 "Credit
memos", REF-Payment "Full update" sample): a Payment whose lines link the Invoice and the CreditMemo, TotalAmt 0
when the credit covers what is applied. The invoice's Balance, the credit memo's RemainingCredit and the
customer's Balance follow; a sparse update replaces the applications (Line is replaced all or none); a delete
opens both again. An application beyond what a document has open is refused, as QuickBooks refuses it.
"""
from conftest import connect
from test_webhooks_payments import credit_memo, invoice


def customer_balance(api, customer='1'):
    return api.get('customer/' + customer).json()['Customer']['Balance']


def zero_payment(api, applications, customer='1'):
    """[(entity, Id, amount)] -> a $0 Payment body."""
    return {'CustomerRef': {'value': customer}, 'TotalAmt': 0, 'Line': [
        {'Amount': amount, 'LinkedTxn': [{'TxnId': txn_id, 'TxnType': entity}]}
        for entity, txn_id, amount in applications]}


def test_zero_payment_applies_a_credit_memo_fully_then_partly_then_not(ctl, base):
    api = connect(ctl, base)
    start = customer_balance(api)
    inv, cm = invoice(api, 2484), credit_memo(api, 2484)
    assert customer_balance(api) == start                         # 2484 open, 2484 of credit
    pay = api.create('Payment', zero_payment(api, [('Invoice', inv['Id'], 2484), ('CreditMemo', cm['Id'], 2484)]))
    assert pay['TotalAmt'] == 0 and pay['UnappliedAmt'] == 0
    assert api.get('invoice/' + inv['Id']).json()['Invoice']['Balance'] == 0
    assert api.get('creditmemo/' + cm['Id']).json()['CreditMemo']['RemainingCredit'] == 0
    assert customer_balance(api) == start
    # a partial application (sparse update: the lines are replaced)
    r = api.post('payment', dict(zero_payment(api, [('Invoice', inv['Id'], 1000), ('CreditMemo', cm['Id'], 1000)]),
                                 Id=pay['Id'], SyncToken=pay['SyncToken'], sparse=True))
    assert r.status == 200, r.body
    pay = r.json()['Payment']
    assert api.get('invoice/' + inv['Id']).json()['Invoice']['Balance'] == 1484
    assert api.get('creditmemo/' + cm['Id']).json()['CreditMemo']['RemainingCredit'] == 1484
    assert customer_balance(api) == start
    # unapplied: the payment deleted, both open again
    r = api.post('payment', {'Id': pay['Id'], 'SyncToken': pay['SyncToken']}, params={'operation': 'delete'})
    assert r.status == 200, r.body
    assert api.get('invoice/' + inv['Id']).json()['Invoice']['Balance'] == 2484
    assert api.get('creditmemo/' + cm['Id']).json()['CreditMemo']['RemainingCredit'] == 2484


def test_an_application_beyond_what_is_open_is_refused(ctl, base):
    api = connect(ctl, base)
    inv, cm = invoice(api, 100), credit_memo(api, 30)
    # more credit than the credit memo has
    fault = api.fault(api.post('payment', zero_payment(api, [('Invoice', inv['Id'], 50),
                                                              ('CreditMemo', cm['Id'], 50)])))
    assert fault['code'] == '6000', fault
    # more than the invoice has open
    fault = api.fault(api.post('payment', dict(zero_payment(api, [('Invoice', inv['Id'], 150)]), TotalAmt=150)))
    assert fault['code'] == '6000', fault
    assert api.get('invoice/' + inv['Id']).json()['Invoice']['Balance'] == 100
    assert api.get('creditmemo/' + cm['Id']).json()['CreditMemo']['RemainingCredit'] == 30
    # what this payment applied already counts as open when it is updated
    pay = api.create('Payment', zero_payment(api, [('Invoice', inv['Id'], 30), ('CreditMemo', cm['Id'], 30)]))
    r = api.post('payment', dict(zero_payment(api, [('Invoice', inv['Id'], 30), ('CreditMemo', cm['Id'], 30)]),
                                 Id=pay['Id'], SyncToken=pay['SyncToken'], sparse=True))
    assert r.status == 200, r.body
