"""Payables and ledger transactions: Bill, VendorCredit, Purchase, PurchaseOrder, BillPayment, JournalEntry.

The four expense forms share one line model (REF-Bill): ``AccountBasedExpenseLineDetail`` (AccountRef,
ClassRef, CustomerRef + BillableStatus, TaxCodeRef) or ``ItemBasedExpenseLineDetail`` (ItemRef, Qty,
UnitPrice); QuickBooks computes TotalAmt (and Balance on Bill / VendorCredit) and, for non-US companies, the
purchase tax (TxnTaxDetail) from each tax code's ``PurchaseTaxRateList`` with ``compute.non_us_tax``.

A BillPayment applies amounts to Bills and VendorCredits through ``Line[].LinkedTxn``; its applications are
kept on the targets in ``_applied`` ({payment id: amount}) as for customer Payments, so that a Bill with
payments cannot be deleted (``entities.delete_obj``). Vendor balances are recomputed from the open
documents after every write, like customer balances.

Facts and their sources are listed in the emulator README ("Payables").
"""
import copy
from decimal import Decimal

from . import compute, entities, errors, util
from .refs import named_ref, ref_value, resolve
from .seed import currency_ref, make_account

EXPENSE_FORMS = ('Bill', 'VendorCredit', 'Purchase', 'PurchaseOrder')
ENTITIES_HERE = EXPENSE_FORMS + ('BillPayment', 'JournalEntry')
# transactions naming a vendor (VendorRef; a Purchase's EntityRef of type Vendor)
VENDOR_TXNS = ('Bill', 'VendorCredit', 'BillPayment', 'PurchaseOrder', 'Purchase')
EXPENSE_DETAILS = ('AccountBasedExpenseLineDetail', 'ItemBasedExpenseLineDetail')
BILLABLE_STATUSES = ('Billable', 'NotBillable', 'HasBeenBilled')
PAYMENT_TYPES = {'Cash': ('Bank',), 'Check': ('Bank',), 'CreditCard': ('Credit Card',)}
PAY_TYPES = {'Check': ('CheckPayment', 'BankAccountRef', 'Bank'),
             'CreditCard': ('CreditCardPayment', 'CCAccountRef', 'Credit Card')}
PO_STATUSES = ('Open', 'Closed')
ENTITY_TYPES = ('Customer', 'Vendor', 'Employee')
ZERO = Decimal('0')

# Fields QuickBooks owns on these forms; values sent by clients are ignored.
READ_ONLY = {'Id', 'SyncToken', 'MetaData', 'domain', 'sparse', 'status', 'TotalAmt', 'Balance', 'HomeTotalAmt',
             'HomeBalance', 'TxnTaxDetail', 'Line', 'LinkedTxn', 'RemainingCredit', 'UnappliedAmt'}


# --------------------------------------------------------------------------- shared helpers
def typed_account(ctx, ref, element, types):
    """Resolve an account reference that must be of one of ``types`` (AccountType); another account is
    refused as QuickBooks refuses it: 2500 "Accounts element id N is invalid"."""
    acc = resolve(ctx, 'Account', ref, element, label='Accounts')
    if acc.get('AccountType') not in types:
        raise errors.invalid_ref('Accounts', acc['Id'], 'is invalid')
    return acc


def default_ap_account(ctx):
    """The company's Accounts Payable account; QuickBooks creates "Accounts Payable (A/P)" with the first
    payable when the chart of accounts has none, and so does the emulator."""
    c = ctx.company
    for a in c.data['Account'].values():
        if a.get('AccountType') == 'Accounts Payable' and a.get('Active', True):
            return a
    acc = make_account(c, ctx.now, c.next_id('Account'), 'Accounts Payable (A/P)', 'Accounts Payable',
                       'AccountsPayable')
    c.put('Account', acc)
    c.notify('Account', acc['Id'], 'Create', ctx.now)
    return acc


def ap_account(ctx, body):
    """APAccountRef as stored: the one given (an Accounts Payable account) or the company's."""
    ref = body.get('APAccountRef')
    acc = typed_account(ctx, ref, 'APAccountRef', ('Accounts Payable',)) if ref else default_ap_account(ctx)
    return named_ref(acc, 'Name')


def required_vendor(ctx, body):
    if not body.get('VendorRef'):
        raise errors.required_missing('VendorRef', 'VendorRef')
    return resolve(ctx, 'Vendor', body['VendorRef'], 'VendorRef', label='Names')


def set_currency(ctx, obj, body, party):
    """CurrencyRef / ExchangeRate: the party's currency (the home currency without one); another currency
    needs multicurrency and must match the party's. Returns the exchange rate as a Decimal."""
    c = ctx.company
    home = c.currency
    cur = ((party or {}).get('CurrencyRef') or {}).get('value') or home
    if body.get('CurrencyRef'):
        want = ref_value(body['CurrencyRef'], 'CurrencyRef').upper()
        if want != home and not c.pref('CurrencyPrefs', 'MultiCurrencyEnabled'):
            raise errors.business('Multicurrency is not enabled for this company, the currency must be %s.' % home)
        if party is not None and want != cur:
            raise errors.business("The currency of the transaction must match the vendor's currency (%s)." % cur)
        cur = want
    obj['CurrencyRef'] = currency_ref(cur)
    if cur == home:
        obj.pop('ExchangeRate', None)
        return Decimal('1')
    rate = compute.to_dec(body.get('ExchangeRate', 1), 'ExchangeRate')
    obj['ExchangeRate'] = util.num(rate)
    return rate


def common_header(ctx, body, existing, obj):
    """Lengths, dates and TxnDate default shared by every form of this module."""
    compute.check_len(body.get('DocNumber'), 'DocNumber', 21)
    compute.check_len(body.get('PrivateNote'), 'PrivateNote', 4000)
    for f in ('TxnDate', 'DueDate'):
        compute.check_date(body.get(f), f)
    obj['TxnDate'] = body.get('TxnDate') or (existing or {}).get('TxnDate') or \
        util.fmt_date(ctx.now, ctx.company.tz_minutes)


def check_duplicate(ctx, entities_, docnum, self_id, same=None):
    """6140 when ``docnum`` is already used by one of ``entities_`` (filtered by ``same``), unless the
    request carries ``include=allowduplicatedocnum``."""
    if 'allowduplicatedocnum' in ctx.include:
        return
    target = str(docnum).strip().lower()
    for ent in entities_:
        for o in ctx.company.data[ent].values():
            if o['Id'] != self_id and str(o.get('DocNumber', '')).strip().lower() == target and \
                    (same is None or same(o)):
                raise errors.dup_docnum(docnum, ent, o['Id'])


def other_pref(ctx, name):
    """A Preferences.OtherPrefs NameValue flag (e.g. WarnDuplicateBillNumber) as a bool."""
    for nv in (ctx.company.prefs().get('OtherPrefs') or {}).get('NameValue') or []:
        if nv.get('Name') == name:
            return str(nv.get('Value')).lower() == 'true'
    return False


def tax_mode(ctx, body, obj):
    """'US' (no purchase tax computed), or the non-US GlobalTaxCalculation (TaxExcluded by default)."""
    c = ctx.company
    if c.is_us:
        if body.get('GlobalTaxCalculation') == 'TaxInclusive':
            raise errors.global_tax_on_us()
        obj.pop('GlobalTaxCalculation', None)
        return 'US'
    mode = body.get('GlobalTaxCalculation') or 'TaxExcluded'
    if mode not in ('TaxExcluded', 'TaxInclusive', 'NotApplicable'):
        raise errors.invalid_enum(mode, 'GlobalTaxCalculation')
    if not c.pref('TaxPrefs', 'UsingSalesTax'):
        mode = 'NotApplicable'
    obj['GlobalTaxCalculation'] = mode
    return mode


def line_class(ctx, det_in, det):
    """A line's ClassRef, resolved when the company tracks classes per line, dropped otherwise."""
    if det_in.get('ClassRef'):
        if ctx.company.pref('AccountingInfoPrefs', 'ClassTrackingPerTxnLine'):
            det['ClassRef'] = named_ref(resolve(ctx, 'Class', det_in['ClassRef'], 'ClassRef', label='Klasses'),
                                        'Name')
        else:
            det.pop('ClassRef', None)     # dropped when per-line class tracking is off, as on sales forms


def line_tax_code(ctx, mode, det_in, det, item):
    """The line's TaxCodeRef: TAX/NON on US forms (NON by default), a real code with purchase rates
    elsewhere (the item's PurchaseTaxCodeRef by default); returns the TaxCode object (non-US) or None."""
    if mode == 'US':
        tv = ref_value(det_in['TaxCodeRef'], 'TaxCodeRef') if det_in.get('TaxCodeRef') else 'NON'
        if tv not in ('TAX', 'NON'):
            raise errors.line_taxcode(tv)
        det['TaxCodeRef'] = {'value': tv}
        det.pop('TaxInclusiveAmt', None)       # non-US only (REF-Bill)
        return None
    using_tax = ctx.company.pref('TaxPrefs', 'UsingSalesTax')
    if det_in.get('TaxCodeRef') and not using_tax:
        raise errors.line_taxcode_without_tax(ref_value(det_in['TaxCodeRef'], 'TaxCodeRef'))
    ref = det_in.get('TaxCodeRef') or (item or {}).get('PurchaseTaxCodeRef')
    if ref and using_tax:
        code = compute.resolve_tax_code(ctx, ref, 'TaxCodeRef')
        det['TaxCodeRef'] = {'value': code['Id']}
        return code
    det.pop('TaxCodeRef', None)
    if mode != 'NotApplicable':
        raise errors.business('Make sure all your transactions have a VAT rate before you save.')
    return None


def line_customer(ctx, det_in, det):
    """A line's CustomerRef (the customer the cost is for) and BillableStatus (NotBillable by default)."""
    if det_in.get('CustomerRef'):
        det['CustomerRef'] = named_ref(resolve(ctx, 'Customer', det_in['CustomerRef'], 'CustomerRef',
                                               label='Names'))
    status = det_in.get('BillableStatus') or 'NotBillable'
    if status not in BILLABLE_STATUSES:
        raise errors.invalid_enum(status, 'BillableStatus')
    det['BillableStatus'] = status


def po_link(ctx, lt, vendor):
    """A Bill line's LinkedTxn to a PurchaseOrder (optionally one of its lines by TxnLineId)."""
    if lt.get('TxnType') != 'PurchaseOrder':
        raise errors.err(620, 'Txn ID cannot be linked',
                         'Transaction type %s cannot be linked to a bill line' % lt.get('TxnType'))
    tid = ref_value(lt.get('TxnId'), 'LinkedTxn.TxnId')
    po = ctx.lookup('PurchaseOrder', tid)
    if po is None:
        raise errors.invalid_ref('PurchaseOrder', tid)
    if po['VendorRef']['value'] != vendor['Id']:
        raise errors.err(620, 'Txn ID cannot be linked',
                         'The purchase order %s belongs to a different vendor' % tid)
    out = {'TxnId': tid, 'TxnType': 'PurchaseOrder'}
    if lt.get('TxnLineId') is not None:
        lid = str(lt['TxnLineId'])
        if lid not in {str(ln.get('Id')) for ln in po.get('Line', [])}:
            raise errors.err(620, 'Txn ID cannot be linked',
                             'The purchase order %s has no line %s' % (tid, lid))
        out['TxnLineId'] = lid
    return out


def expense_lines(ctx, entity, body, existing, mode, vendor):
    """Validate the lines of an expense form; returns (lines out, tax rows, subtotal)."""
    lines_in = body.get('Line')
    if not isinstance(lines_in, list) or not [ln for ln in lines_in if isinstance(ln, dict)]:
        raise errors.required_missing('Line', 'Line')
    old_ids = {str(ln.get('Id')) for ln in (existing or {}).get('Line', []) if ln.get('Id')}
    used, pending, out_lines, rows = set(), [], [], []
    subtotal = ZERO
    for ln in lines_in:
        if not isinstance(ln, dict):
            continue
        dtype = ln.get('DetailType')
        if not dtype:
            raise errors.required_missing('DetailType', 'Line.DetailType')
        if dtype not in EXPENSE_DETAILS:
            raise errors.invalid_enum(dtype, 'Line.DetailType')
        compute.check_len(ln.get('Description'), 'Line.Description', 4000)
        if ln.get('Amount') is None:
            raise errors.required_missing('Amount', 'Line.Amount')
        amount = util.round2(compute.to_dec(ln['Amount'], 'Line.Amount'))
        out = {k: copy.deepcopy(v) for k, v in ln.items() if k in ('Description', 'DetailType')}
        lid = str(ln['Id']) if ln.get('Id') is not None else None
        if lid and lid in old_ids and lid not in used:
            out['Id'] = lid
            used.add(lid)
        else:
            pending.append(out)
        det_in = ln.get(dtype) or {}
        det = {k: copy.deepcopy(v) for k, v in det_in.items() if k in ('MarkupInfo', 'TaxInclusiveAmt')}
        item = None
        if dtype == 'AccountBasedExpenseLineDetail':
            if not det_in.get('AccountRef'):
                raise errors.required_missing('AccountRef', 'Line.AccountBasedExpenseLineDetail.AccountRef')
            det['AccountRef'] = named_ref(resolve(ctx, 'Account', det_in['AccountRef'], 'AccountRef',
                                                  label='Accounts'), 'Name')
        else:
            if not det_in.get('ItemRef'):
                raise errors.required_missing('ItemRef', 'Line.ItemBasedExpenseLineDetail.ItemRef')
            item = resolve(ctx, 'Item', det_in['ItemRef'], 'ItemRef', label='Item')
            if item.get('Type') == 'Category':
                raise errors.invalid_ref('Item', item['Id'], 'is invalid : An item in this transaction is set up '
                                                             'as a category instead of a product or service.')
            det['ItemRef'] = named_ref(item, 'Name')
            qty, price = det_in.get('Qty'), det_in.get('UnitPrice')
            if qty is not None and price is not None:
                q, p = compute.to_dec(qty, 'Qty'), compute.to_dec(price, 'UnitPrice')
                if (q != 0 or p != 0) and util.round2(q * p) != amount:
                    raise errors.amount_calc(ln['Amount'])
                det['Qty'], det['UnitPrice'] = util.num(q), util.num(p)
            elif qty is not None and compute.to_dec(qty, 'Qty') != 0:
                det['Qty'] = util.num(compute.to_dec(qty, 'Qty'))
                det['UnitPrice'] = util.num(amount / compute.to_dec(qty, 'Qty'))
        line_class(ctx, det_in, det)
        line_customer(ctx, det_in, det)
        code = line_tax_code(ctx, mode, det_in, det, item)
        links = []
        for lt in ln.get('LinkedTxn') or []:
            if entity != 'Bill':
                raise errors.err(620, 'Txn ID cannot be linked',
                                 'Transaction type %s cannot be linked to a %s line' % (lt.get('TxnType'), entity))
            links.append(po_link(ctx, lt, vendor))
        if links:
            out['LinkedTxn'] = links
        out['Amount'] = util.num(amount)
        out[dtype] = det
        subtotal += amount
        out['LineNum'] = len(out_lines) + 1
        out_lines.append(out)
        rows.append({'out': out, 'amount': amount, 'code': code, 'detail': dtype})
    nxt = max([int(i) for i in used | old_ids if i.isdigit()] or [0])
    for out in pending:
        nxt += 1
        out['Id'] = str(nxt)
    return out_lines, rows, subtotal


def build_expense_form(ctx, entity, body, existing=None):
    """Bill, VendorCredit, Purchase or PurchaseOrder: validated and computed as QuickBooks stores it."""
    c = ctx.company
    if existing is not None and existing.get('_voided'):
        raise errors.business('This transaction has been voided and cannot be modified.')
    obj = {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY}
    common_header(ctx, body, existing, obj)
    party = None
    if entity == 'Purchase':
        party = purchase_header(ctx, body, obj, (existing or {}).get('Id'))
    else:
        party = required_vendor(ctx, body)
        obj['VendorRef'] = named_ref(party)
        obj['APAccountRef'] = ap_account(ctx, body)
    rate_x = set_currency(ctx, obj, body, party if entity != 'Purchase' or
                          (body.get('EntityRef') or {}).get('type') == 'Vendor' else None)
    mode = tax_mode(ctx, body, obj)
    lines, rows, subtotal = expense_lines(ctx, entity, body, existing, mode, party)
    txn_tax = {}
    tax_total = ZERO
    if mode != 'US':
        tax_total = compute.non_us_tax(ctx, mode, rows, subtotal, ZERO, body.get('TxnTaxDetail') or {}, txn_tax,
                                       rate_list='PurchaseTaxRateList')
        obj['TxnTaxDetail'] = txn_tax
    obj['Line'] = lines
    total = subtotal + tax_total
    obj['TotalAmt'] = util.num(total)
    self_id = (existing or {}).get('Id')
    if entity == 'Bill':
        bill_terms(ctx, body, obj, party)
        if body.get('DocNumber') and other_pref(ctx, 'WarnDuplicateBillNumber'):
            vid = party['Id']
            check_duplicate(ctx, ('Bill',), body['DocNumber'], self_id,
                            lambda o: o['VendorRef']['value'] == vid)
    elif entity == 'PurchaseOrder':
        # REF-PurchaseOrder has SalesTermRef and DueDate as given, no default due date
        if body.get('SalesTermRef'):
            obj['SalesTermRef'] = named_ref(resolve(ctx, 'Term', body['SalesTermRef'], 'SalesTermRef',
                                                    label='SalesTerm'), 'Name')
    else:
        obj.pop('SalesTermRef', None)     # a vendor credit or a purchase has no payment terms
        obj.pop('DueDate', None)
    if entity == 'PurchaseOrder':
        status = body.get('POStatus') or 'Open'
        if status not in PO_STATUSES:
            raise errors.invalid_enum(status, 'POStatus')
        obj['POStatus'] = status
        # a status echoed back unchanged (sparse or full update) is not a user's decision to close it
        same = existing is not None and status == existing.get('POStatus')
        obj['_manual_status'] = existing.get('_manual_status', status) if same else status
        compute.check_len(body.get('Memo'), 'Memo', 4000)
        entities.assign_addr_ids(ctx, obj, existing, ('ShipAddr', 'VendorAddr'))
        if not body.get('DocNumber'):
            obj['DocNumber'] = (existing or {}).get('DocNumber') or (
                compute.next_docnum(c, 'PurchaseOrder')
                if not c.pref('SalesFormsPrefs', 'CustomTxnNumbers') else None)
            if obj['DocNumber'] is None:
                del obj['DocNumber']
        obj['LinkedTxn'] = copy.deepcopy((existing or {}).get('LinkedTxn') or [])
    if entity in ('Bill', 'VendorCredit'):
        applied = dict((existing or {}).get('_applied') or {})
        paid = sum((util.D(v) for v in applied.values()), ZERO)
        if paid > total:
            raise errors.business('The transaction total cannot be less than the amount already paid or applied '
                                  '(%s).' % util.num(paid))
        if applied:
            obj['_applied'] = applied
        obj['Balance'] = util.num(total - paid)
        if entity == 'Bill':
            po_links = [lt for ln in lines for lt in ln.get('LinkedTxn', [])]
            obj['LinkedTxn'] = [{'TxnId': t, 'TxnType': 'PurchaseOrder'}
                                for t in dict.fromkeys(lt['TxnId'] for lt in po_links)]
            obj['LinkedTxn'] += [{'TxnId': p, 'TxnType': 'BillPayment'} for p in applied]
        if rate_x != 1 or obj.get('ExchangeRate'):
            obj['HomeBalance'] = util.num(util.round2(util.D(obj['Balance']) * rate_x))
    if obj.get('ExchangeRate'):
        obj['HomeTotalAmt'] = util.num(util.round2(total * rate_x))
    return obj


def bill_terms(ctx, body, obj, vendor):
    """SalesTermRef (the vendor's TermRef by default) and DueDate (TxnDate + the term when not given)."""
    term = None
    if body.get('SalesTermRef'):
        term = resolve(ctx, 'Term', body['SalesTermRef'], 'SalesTermRef', label='SalesTerm')
    elif vendor.get('TermRef'):
        term = ctx.company.get('Term', vendor['TermRef'].get('value'))
    if term is not None:
        obj['SalesTermRef'] = named_ref(term, 'Name')
    if not body.get('DueDate'):
        base = util.parse_date(obj['TxnDate'])
        obj['DueDate'] = (compute.term_due_date(term, base) if term else base).isoformat()


def purchase_header(ctx, body, obj, self_id):
    """Purchase: PaymentType with a header AccountRef of the matching type, EntityRef (payee) and Credit."""
    ptype = body.get('PaymentType')
    if not ptype:
        raise errors.required_missing('PaymentType', 'PaymentType')
    if ptype not in PAYMENT_TYPES:
        raise errors.invalid_enum(ptype, 'PaymentType')
    if not body.get('AccountRef'):
        raise errors.required_missing('AccountRef', 'AccountRef')
    obj['AccountRef'] = named_ref(typed_account(ctx, body['AccountRef'], 'AccountRef', PAYMENT_TYPES[ptype]),
                                  'Name')
    if body.get('Credit') not in (None, False) and ptype != 'CreditCard':
        # REF-Purchase: Credit is "valid only for credit card payment type".
        raise errors.business('Credit is only valid on a purchase paid by credit card (PaymentType CreditCard).')
    if ptype == 'CreditCard':
        obj['Credit'] = bool(body.get('Credit', False))
    else:
        obj.pop('Credit', None)
    if ptype == 'Check':
        obj.setdefault('PrintStatus', 'NotSet')
        if body.get('DocNumber') and other_pref(ctx, 'WarnDuplicateCheckNumber'):
            check_duplicate_check_number(ctx, body['DocNumber'], self_id)
    party = None
    ref = body.get('EntityRef')
    if ref:
        etype = ref.get('type') if isinstance(ref, dict) else None
        etype = etype or 'Vendor'
        if etype not in ENTITY_TYPES:
            raise errors.invalid_enum(etype, 'EntityRef.type')
        party = resolve(ctx, etype, ref, 'EntityRef', label='Names')
        obj['EntityRef'] = dict(named_ref(party), type=etype)
    return party


def check_duplicate_check_number(ctx, docnum, self_id):
    """OtherPrefs WarnDuplicateCheckNumber: a check number (DocNumber of a Check purchase or bill payment)
    already used is refused with 6140 unless ``allowduplicatedocnum``."""
    check_duplicate(ctx, ('Purchase',), docnum, self_id, lambda o: o.get('PaymentType') == 'Check')
    check_duplicate(ctx, ('BillPayment',), docnum, self_id, lambda o: o.get('PayType') == 'Check')


# --------------------------------------------------------------------------- bill payments
def build_bill_payment(ctx, body, existing=None):
    """Validate and compute a BillPayment; returns (object, {(TxnType, TxnId): amount})."""
    if existing is not None and existing.get('_voided'):
        raise errors.business('This transaction has been voided and cannot be modified.')
    vendor = required_vendor(ctx, body)
    ptype = body.get('PayType')
    if not ptype:
        raise errors.required_missing('PayType', 'PayType')
    if ptype not in PAY_TYPES:
        raise errors.invalid_enum(ptype, 'PayType')
    if body.get('TotalAmt') is None:
        raise errors.required_missing('TotalAmt', 'TotalAmt')
    obj = {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY}
    common_header(ctx, body, existing, obj)
    obj['VendorRef'] = named_ref(vendor)
    obj['APAccountRef'] = ap_account(ctx, body)
    detail, acc_field, acc_type = PAY_TYPES[ptype]
    det_in = body.get(detail) or {}
    if not det_in.get(acc_field):
        raise errors.required_missing(acc_field, '%s.%s' % (detail, acc_field))
    det = copy.deepcopy(det_in)
    det[acc_field] = named_ref(typed_account(ctx, det_in[acc_field], acc_field, (acc_type,)), 'Name')
    if ptype == 'Check':
        det.setdefault('PrintStatus', 'NotSet')
        if body.get('DocNumber') and other_pref(ctx, 'WarnDuplicateCheckNumber'):
            check_duplicate_check_number(ctx, body['DocNumber'], (existing or {}).get('Id'))
    obj[detail] = det
    obj.pop('CreditCardPayment' if ptype == 'Check' else 'CheckPayment', None)
    rate_x = set_currency(ctx, obj, body, vendor)
    total = util.round2(compute.to_dec(body['TotalAmt'], 'TotalAmt'))
    if total < 0:
        raise errors.business('You must set a transaction amount.')
    mine = (existing or {}).get('Id')
    applied, lines = {}, []
    for ln in body.get('Line') or []:
        if not isinstance(ln, dict):
            continue
        amount = util.round2(compute.to_dec(ln.get('Amount', 0), 'Line.Amount'))
        links = []
        for lt in ln.get('LinkedTxn') or []:
            ttype = lt.get('TxnType')
            tid = str(lt.get('TxnId'))
            if ttype not in ('Bill', 'VendorCredit'):
                raise errors.err(620, 'Txn ID cannot be linked',
                                 'Transaction type %s cannot be linked to a bill payment' % ttype)
            target = ctx.lookup(ttype, tid)
            if target is None:
                raise errors.invalid_ref(ttype, tid)
            if target['VendorRef']['value'] != vendor['Id']:
                raise errors.err(620, 'Txn ID cannot be linked',
                                 'The transaction %s belongs to a different vendor' % tid)
            links.append({'TxnId': tid, 'TxnType': ttype})
            applied[(ttype, tid)] = applied.get((ttype, tid), ZERO) + amount
        lines.append({'Amount': util.num(amount), 'LinkedTxn': links})
    for (ttype, tid), amount in applied.items():
        target = ctx.company.get(ttype, tid)
        open_amount = util.D(target.get('Balance', 0)) + util.D((target.get('_applied') or {}).get(mine, 0))
        if amount > open_amount:
            raise errors.business('The amount applied to %s %s (%s) is more than its open balance (%s).'
                                  % (ttype, tid, util.num(amount), util.num(open_amount)))
    applied_total = sum((a for (t, _), a in applied.items() if t == 'Bill'), ZERO) - \
        sum((a for (t, _), a in applied.items() if t == 'VendorCredit'), ZERO)
    if applied_total > total:
        raise errors.business('The payment amount must be greater than or equal to the amount applied.')
    obj['Line'] = lines
    obj['TotalAmt'] = util.num(total)
    obj['_unapplied'] = util.num(total - applied_total)
    if rate_x != 1:
        obj['HomeTotalAmt'] = util.num(util.round2(total * rate_x))
    return obj, applied


def apply_bill_links(ctx, pay_id, old, new):
    """Move bill payment applications from ``old`` to ``new`` ({(TxnType, TxnId): Decimal}) on the Bills and
    VendorCredits: their Balance (and a Bill's LinkedTxn) follow, their SyncToken moves and an Update event
    is notified, as when a customer payment is applied to an invoice."""
    c = ctx.company
    for key in set(old) | set(new):
        ttype, tid = key
        target = c.get(ttype, tid)
        if target is None:
            continue
        applied = dict(target.get('_applied') or {})
        applied.pop(pay_id, None)
        if new.get(key):
            applied[pay_id] = util.num(new[key])
        if applied == (target.get('_applied') or {}):
            continue
        target['_applied'] = applied
        paid = sum((util.D(v) for v in applied.values()), ZERO)
        target['Balance'] = util.num(util.D(target.get('TotalAmt', 0)) - paid)
        if ttype == 'Bill':
            target['LinkedTxn'] = [lt for lt in target.get('LinkedTxn', []) if lt.get('TxnType') != 'BillPayment']
            target['LinkedTxn'] += [{'TxnId': p, 'TxnType': 'BillPayment'} for p in applied]
        if 'HomeBalance' in target:
            target['HomeBalance'] = util.num(util.round2(util.D(target['Balance']) *
                                                         util.D(target.get('ExchangeRate', 1))))
        entities.touch(ctx, target, ttype)


def void_bill_payment(ctx, obj):
    """REF-BillPayment "Void a billpayment": the payment stays, amounts are zeroed, lines cleared and
    "Voided" is prepended to PrivateNote; the bills it paid are open again."""
    apply_bill_links(ctx, obj['Id'], entities.payment_links(obj), {})
    obj['Line'] = []
    obj['TotalAmt'] = 0
    obj['_unapplied'] = 0
    if 'HomeTotalAmt' in obj:
        obj['HomeTotalAmt'] = 0
    note = obj.get('PrivateNote')
    obj['PrivateNote'] = 'Voided' + (' - ' + note if note else '')
    obj['_voided'] = True


# --------------------------------------------------------------------------- journal entries
def build_journal_entry(ctx, body, existing=None):
    """JournalEntry: JournalEntryLineDetail lines (PostingType, AccountRef, Entity on A/R and A/P lines);
    debits must equal credits; TotalAmt is the debit total."""
    obj = {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY}
    common_header(ctx, body, existing, obj)
    rate_x = set_currency(ctx, obj, body, None)
    lines_in = body.get('Line')
    if not isinstance(lines_in, list) or not [ln for ln in lines_in if isinstance(ln, dict)]:
        raise errors.required_missing('Line', 'Line')
    old_ids = {str(ln.get('Id')) for ln in (existing or {}).get('Line', []) if ln.get('Id')}
    used, pending, lines = set(), [], []
    totals = {'Debit': ZERO, 'Credit': ZERO}
    for ln in lines_in:
        if not isinstance(ln, dict):
            continue
        dtype = ln.get('DetailType')
        if not dtype:
            raise errors.required_missing('DetailType', 'Line.DetailType')
        if dtype != 'JournalEntryLineDetail':
            raise errors.invalid_enum(dtype, 'Line.DetailType')
        compute.check_len(ln.get('Description'), 'Line.Description', 4000)
        if ln.get('Amount') is None:
            raise errors.required_missing('Amount', 'Line.Amount')
        amount = util.round2(compute.to_dec(ln['Amount'], 'Line.Amount'))
        det_in = ln.get('JournalEntryLineDetail') or {}
        posting = det_in.get('PostingType')
        if not posting:
            raise errors.required_missing('PostingType', 'Line.JournalEntryLineDetail.PostingType')
        if posting not in totals:
            raise errors.invalid_enum(posting, 'PostingType')
        if not det_in.get('AccountRef'):
            raise errors.required_missing('AccountRef', 'Line.JournalEntryLineDetail.AccountRef')
        account = resolve(ctx, 'Account', det_in['AccountRef'], 'AccountRef', label='Accounts')
        det = {'PostingType': posting, 'AccountRef': named_ref(account, 'Name')}
        line_class(ctx, det_in, det)
        entity = journal_entity(ctx, det_in.get('Entity'))
        if entity is not None:
            det['Entity'] = entity
        etype = (entity or {}).get('Type')
        if account.get('AccountType') == 'Accounts Receivable' and etype != 'Customer':
            raise errors.business('When you use Accounts Receivable, you must choose a customer in the Name field.')
        if account.get('AccountType') == 'Accounts Payable' and etype != 'Vendor':
            raise errors.business('When you use Accounts Payable, you must choose a vendor in the Name field.')
        out = {k: copy.deepcopy(v) for k, v in ln.items() if k in ('Description', 'DetailType')}
        out['Amount'] = util.num(amount)
        out['JournalEntryLineDetail'] = det
        lid = str(ln['Id']) if ln.get('Id') is not None else None
        if lid and lid in old_ids and lid not in used:
            out['Id'] = lid
            used.add(lid)
        else:
            pending.append(out)
        totals[posting] += amount
        lines.append(out)
    nxt = max([int(i) for i in used | old_ids if i.isdigit()] or [0])
    for out in pending:
        nxt += 1
        out['Id'] = str(nxt)
    if totals['Debit'] != totals['Credit']:
        raise errors.business('Please balance debits and credits. Debits %s, credits %s.'
                              % (util.num(totals['Debit']), util.num(totals['Credit'])))
    obj['Line'] = lines
    obj['Adjustment'] = bool(body.get('Adjustment', False))
    obj['TotalAmt'] = util.num(totals['Debit'])
    if rate_x != 1:
        obj['HomeTotalAmt'] = util.num(util.round2(totals['Debit'] * rate_x))
    return obj


def journal_entity(ctx, entity):
    """A line's ``Entity`` {Type, EntityRef}: the name must exist in the list its Type names."""
    if not entity:
        return None
    if not isinstance(entity, dict) or not entity.get('EntityRef'):
        raise errors.required_missing('EntityRef', 'Line.JournalEntryLineDetail.Entity.EntityRef')
    etype = entity.get('Type') or (entity['EntityRef'].get('type') if isinstance(entity['EntityRef'], dict)
                                   else None)
    if not etype:
        raise errors.required_missing('Type', 'Line.JournalEntryLineDetail.Entity.Type')
    if etype not in ENTITY_TYPES:
        raise errors.invalid_enum(etype, 'Entity.Type')
    party = resolve(ctx, etype, entity['EntityRef'], 'EntityRef', label='Names')
    return {'Type': etype, 'EntityRef': named_ref(party)}


def journal_effect(company, entity, party_id):
    """What the journal entries add to a customer's (A/R lines: debit +) or vendor's (A/P lines: credit +)
    balance."""
    acc_type, sign = ({'Customer': ('Accounts Receivable', {'Debit': 1, 'Credit': -1}),
                       'Vendor': ('Accounts Payable', {'Debit': -1, 'Credit': 1})})[entity]
    total = ZERO
    for je in company.data['JournalEntry'].values():
        for ln in je.get('Line', []):
            det = ln.get('JournalEntryLineDetail') or {}
            ent = det.get('Entity') or {}
            if ent.get('Type') != entity or ent.get('EntityRef', {}).get('value') != party_id:
                continue
            acc = company.get('Account', det['AccountRef']['value'])
            if acc is not None and acc.get('AccountType') == acc_type:
                total += sign[det['PostingType']] * util.D(ln.get('Amount', 0))
    return total


# --------------------------------------------------------------------------- after writes
def recompute_vendor_balance(ctx, vendor_id):
    """Vendor.Balance = open bills - open vendor credits - unapplied bill payments +/- A/P journal lines."""
    c = ctx.company
    vendor = c.get('Vendor', vendor_id)
    if vendor is None:
        return
    bal = ZERO
    for bill in c.data['Bill'].values():
        if bill['VendorRef']['value'] == vendor_id:
            bal += util.D(bill.get('Balance', 0))
    for vc in c.data['VendorCredit'].values():
        if vc['VendorRef']['value'] == vendor_id:
            bal -= util.D(vc.get('Balance', 0))
    for bp in c.data['BillPayment'].values():
        if bp['VendorRef']['value'] == vendor_id:
            bal -= util.D(bp.get('_unapplied', 0))
    bal += journal_effect(c, 'Vendor', vendor_id)
    vendor['Balance'] = util.num(bal)


def refresh_purchase_orders(ctx, po_ids):
    """A PurchaseOrder is Closed once Bills cover every line (QuickBooks closes a PO fully linked to bills);
    it lists the Bills that link it. A PO closed by hand stays closed."""
    c = ctx.company
    for po_id in po_ids:
        po = c.get('PurchaseOrder', po_id)
        if po is None:
            continue
        billed, bills = {}, []
        for bill in c.data['Bill'].values():
            for ln in bill.get('Line', []):
                for lt in ln.get('LinkedTxn', []):
                    if lt.get('TxnType') == 'PurchaseOrder' and lt.get('TxnId') == po_id:
                        key = lt.get('TxnLineId') or '*'
                        billed[key] = billed.get(key, ZERO) + util.D(ln.get('Amount', 0))
                        if bill['Id'] not in bills:
                            bills.append(bill['Id'])
        whole = '*' in billed
        received = whole or all(billed.get(str(ln.get('Id')), ZERO) >= util.D(ln.get('Amount', 0))
                                for ln in po.get('Line', []))
        status = 'Closed' if (received and bills) or po.get('_manual_status') == 'Closed' else 'Open'
        links = [{'TxnId': b, 'TxnType': 'Bill'} for b in bills]
        if status != po.get('POStatus') or links != po.get('LinkedTxn', []):
            po['POStatus'] = status
            po['LinkedTxn'] = links
            entities.touch(ctx, po, 'PurchaseOrder')


def linked_pos(obj):
    """Ids of the purchase orders a bill's lines link."""
    return {lt['TxnId'] for ln in (obj or {}).get('Line', []) for lt in ln.get('LinkedTxn', [])
            if lt.get('TxnType') == 'PurchaseOrder'}


def after_write(ctx, entity, obj, old=None, side=None):
    """Applications, purchase order status and party balances after a write, delete or void."""
    if entity == 'BillPayment':
        old_links = entities.payment_links(old) if old is not None else {}
        apply_bill_links(ctx, obj['Id'], old_links, side or {})
    if entity == 'Bill':
        refresh_purchase_orders(ctx, linked_pos(obj) | linked_pos(old))
    if entity == 'PurchaseOrder':
        refresh_purchase_orders(ctx, {obj['Id']})
    vendors = {((o or {}).get('VendorRef') or {}).get('value') for o in (obj, old)}
    customers = set()
    if entity == 'JournalEntry':
        for o in (obj, old):
            for ln in (o or {}).get('Line', []):
                ent = (ln.get('JournalEntryLineDetail') or {}).get('Entity') or {}
                target = {'Vendor': vendors, 'Customer': customers}.get(ent.get('Type'))
                if target is not None:
                    target.add(ent.get('EntityRef', {}).get('value'))
    for vid in vendors:
        if vid:
            recompute_vendor_balance(ctx, vid)
    for cid in customers:
        if cid:
            entities.recompute_customer_balance(ctx, cid)


def build(ctx, entity, body, existing=None):
    """Dispatch for this module's entities; returns (obj, side effects or None) like ``entities.build``."""
    if entity in EXPENSE_FORMS:
        return build_expense_form(ctx, entity, body, existing), None
    if entity == 'BillPayment':
        return build_bill_payment(ctx, body, existing)
    return build_journal_entry(ctx, body, existing), None
