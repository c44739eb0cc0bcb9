"""python-quickbooks (an independent client) creates and reads back the payables and ledger entities."""
import pytest

pytest.importorskip('quickbooks')
from quickbooks import exceptions as qbe  # noqa: E402
from quickbooks.objects.attachable import Attachable  # noqa: E402
from quickbooks.objects.base import AttachableRef, LinkedTxn, Ref  # noqa: E402
from quickbooks.objects.bill import Bill  # noqa: E402
from quickbooks.objects.billpayment import BillPayment, BillPaymentCreditCard, BillPaymentLine, CheckPayment  # noqa: E402
from quickbooks.objects.detailline import (  # noqa: E402
    AccountBasedExpenseLine,
    AccountBasedExpenseLineDetail,
    ItemBasedExpenseLine,
    ItemBasedExpenseLineDetail,
)
from quickbooks.objects.journalentry import Entity, JournalEntry, JournalEntryLine, JournalEntryLineDetail  # noqa: E402
from quickbooks.objects.purchase import Purchase  # noqa: E402
from quickbooks.objects.purchaseorder import PurchaseOrder  # noqa: E402
from quickbooks.objects.vendor import Vendor  # noqa: E402
from quickbooks.objects.vendorcredit import VendorCredit  # noqa: E402
from test_python_quickbooks import qb  # noqa: E402,F401  (the connected client fixture)


def ref(value):
    r = Ref()
    r.value = value
    return r


def account_line(amount, account='7'):
    line = AccountBasedExpenseLine()
    line.Amount = amount
    line.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
    line.AccountBasedExpenseLineDetail.AccountRef = ref(account)
    return line


def item_line(amount, qty, price):
    line = ItemBasedExpenseLine()
    line.Amount = amount
    line.ItemBasedExpenseLineDetail = ItemBasedExpenseLineDetail()
    line.ItemBasedExpenseLineDetail.ItemRef = ref('1')
    line.ItemBasedExpenseLineDetail.Qty = qty
    line.ItemBasedExpenseLineDetail.UnitPrice = price
    return line


def new_vendor(qb, name):  # noqa: F811
    v = Vendor()
    v.DisplayName = name
    v.AcctNum = 'ACC-9'
    return v.save(qb=qb)


def new_bill(qb, vendor, *lines):  # noqa: F811
    b = Bill()
    b.VendorRef = vendor.to_ref()
    b.Line = list(lines)
    return b.save(qb=qb)


def payment_line(amount, txn):
    line = BillPaymentLine()
    line.Amount = amount
    linked = LinkedTxn()
    linked.TxnId = txn.Id
    linked.TxnType = txn.qbo_object_name
    line.LinkedTxn = [linked]
    return line


def test_vendor_bill_vendor_credit_and_bill_payments(qb):  # noqa: F811
    vendor = new_vendor(qb, 'PyQB Vendor')
    assert Vendor.get(vendor.Id, qb=qb).AcctNum == 'ACC-9'
    bill = new_bill(qb, vendor, account_line(100.0), item_line(20.0, 2, 10))
    assert bill.TotalAmt == 120.0 and bill.Balance == 120.0 and bill.APAccountRef.value == '33'
    vc = VendorCredit()
    vc.VendorRef = vendor.to_ref()
    vc.Line = [account_line(20.0)]
    vc = vc.save(qb=qb)
    assert VendorCredit.get(vc.Id, qb=qb).TotalAmt == 20.0

    check = BillPayment()
    check.PayType = 'Check'
    check.TotalAmt = 30.0
    check.VendorRef = vendor.to_ref()
    check.CheckPayment = CheckPayment()
    check.CheckPayment.BankAccountRef = ref('35')
    check.Line = [payment_line(50.0, bill), payment_line(20.0, vc)]
    check = check.save(qb=qb)
    assert Bill.get(bill.Id, qb=qb).Balance == 70.0

    card = BillPayment()
    card.PayType = 'CreditCard'
    card.TotalAmt = 70.0
    card.VendorRef = vendor.to_ref()
    card.CreditCardPayment = BillPaymentCreditCard()
    card.CreditCardPayment.CCAccountRef = ref('41')
    card.Line = [payment_line(70.0, bill)]
    card = card.save(qb=qb)
    read = BillPayment.get(card.Id, qb=qb)
    assert read.PayType == 'CreditCard' and read.CreditCardPayment.CCAccountRef.value == '41'
    assert Bill.get(bill.Id, qb=qb).Balance == 0 and Vendor.get(vendor.Id, qb=qb).Balance == 0
    assert {p.Id for p in BillPayment.filter(VendorRef=vendor.Id, qb=qb)} == {check.Id, card.Id}

    BillPayment.get(card.Id, qb=qb).void(qb=qb)
    assert BillPayment.get(card.Id, qb=qb).TotalAmt == 0 and Bill.get(bill.Id, qb=qb).Balance == 70.0
    BillPayment.get(check.Id, qb=qb).delete(qb=qb)
    assert Bill.get(bill.Id, qb=qb).Balance == 120.0
    Bill.get(bill.Id, qb=qb).delete(qb=qb)
    with pytest.raises(qbe.ObjectNotFoundException):
        Bill.get(bill.Id, qb=qb)


def test_bill_payment_errors_become_exceptions(qb):  # noqa: F811
    vendor = new_vendor(qb, 'PyQB Strict Vendor')
    bill = new_bill(qb, vendor, account_line(10.0))
    bp = BillPayment()
    bp.PayType = 'Check'
    bp.TotalAmt = 50.0
    bp.VendorRef = vendor.to_ref()
    bp.CheckPayment = CheckPayment()
    bp.CheckPayment.BankAccountRef = ref('41')          # a credit card account, not a bank account
    bp.Line = [payment_line(10.0, bill)]
    with pytest.raises(qbe.ValidationException) as ei:
        bp.save(qb=qb)
    assert ei.value.error_code == 2500


def test_journal_entry_purchase_and_purchase_order(qb):  # noqa: F811
    vendor = new_vendor(qb, 'PyQB Ledger Vendor')
    je = JournalEntry()
    for posting, account, amount in (('Debit', '7', 60.0), ('Credit', '33', 60.0)):
        line = JournalEntryLine()
        line.Amount = amount
        line.JournalEntryLineDetail = JournalEntryLineDetail()
        line.JournalEntryLineDetail.PostingType = posting
        line.JournalEntryLineDetail.AccountRef = ref(account)
        if account == '33':
            line.JournalEntryLineDetail.Entity = Entity()
            line.JournalEntryLineDetail.Entity.Type = 'Vendor'
            line.JournalEntryLineDetail.Entity.EntityRef = ref(vendor.Id)
        je.Line.append(line)
    je = je.save(qb=qb)
    assert JournalEntry.get(je.Id, qb=qb).TotalAmt == 60.0
    assert Vendor.get(vendor.Id, qb=qb).Balance == 60.0

    purchase = Purchase()
    purchase.PaymentType = 'CreditCard'
    purchase.AccountRef = ref('41')
    purchase.Line = [account_line(12.5)]
    purchase = purchase.save(qb=qb)
    assert Purchase.get(purchase.Id, qb=qb).TotalAmt == 12.5

    po = PurchaseOrder()
    po.VendorRef = vendor.to_ref()
    po.APAccountRef = ref('33')
    po.Line = [item_line(30.0, 3, 10)]
    po = po.save(qb=qb)
    assert PurchaseOrder.get(po.Id, qb=qb).POStatus == 'Open'
    billed = account_line(30.0)
    billed.LinkedTxn = [po.to_linked_txn()]            # TxnLineId 1: the PO's first line
    new_bill(qb, vendor, billed)
    assert PurchaseOrder.get(po.Id, qb=qb).POStatus == 'Closed'


def test_attachable_note_and_upload(qb):  # noqa: F811
    vendor = new_vendor(qb, 'PyQB Attach Vendor')
    bill = new_bill(qb, vendor, account_line(10.0))
    link = AttachableRef()
    link.EntityRef = ref(bill.Id)
    link.EntityRef.type = 'Bill'
    note = Attachable()
    note.Note = 'approved'
    note.AttachableRef = [link]
    note = note.save(qb=qb)
    assert Attachable.get(note.Id, qb=qb).Note == 'approved'

    upload = Attachable()
    upload.FileName = 'receipt.pdf'
    upload.ContentType = 'application/pdf'
    upload._FileBytes = b'%PDF-1.4 receipt body'
    upload.AttachableRef = [link]
    saved = upload.save(qb=qb)
    got = Attachable.get(saved.Id, qb=qb)
    assert got.FileName == 'receipt.pdf' and got.Size == len(b'%PDF-1.4 receipt body')
    assert got.ContentType == 'application/pdf'
    linked = Attachable.where("AttachableRef.EntityRef.value = '%s'" % bill.Id, qb=qb)
    assert {a.Id for a in linked} == {note.Id, saved.Id}
