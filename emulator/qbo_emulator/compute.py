"""Server-side computation of sales transactions (Invoice, CreditMemo, SalesReceipt) and Payments.

QBO recomputes everything derived from the lines, whatever the client sends:
line ids, the SubTotalLineDetail line, discount amounts, TxnTaxDetail,
TotalAmt, Balance, HomeTotalAmt, DueDate and DocNumber. This module mirrors
that (spec §3.3, §3.4, §3.8).

US tax model (non-AST): line TaxCodeRef is TAX/NON; the header tax group
(TxnTaxDetail.TxnTaxCodeRef) supplies the rates applied to the sum of TAX
lines; each rate is rounded half-up to cents. Non-US: each line carries a real
tax code and tax is computed per line, then summarised per TaxRate.
"""
import copy
import datetime as dt
from decimal import Decimal

from . import errors, util
from .refs import named_ref, ref_value, resolve
from .seed import currency_ref

SALES_FORMS = ('Invoice', 'CreditMemo', 'SalesReceipt')
# Transactions the API can void (a CreditMemo can only be deleted; REF-BillPayment documents its void).
VOIDABLE = ('Invoice', 'SalesReceipt', 'Payment', 'BillPayment')
ZERO = Decimal('0')

# Fields the server owns on sales forms; values sent by clients are ignored.
READ_ONLY = {'Id', 'SyncToken', 'MetaData', 'domain', 'sparse', 'TotalAmt', 'Balance', 'HomeTotalAmt',
             'HomeBalance', 'DeliveryInfo', 'InvoiceLink', 'RemainingCredit', 'AutoDocNumber',
             'TxnTaxDetail', 'Line', 'LinkedTxn', 'FreeFormAddress', 'TaxExemptionRef', 'RecurDataRef',
             'AllowIPNPayment', 'EInvoiceStatus', 'status'}

# A TaxInclusiveAmt may differ from net x (1 + rate) by the rounding of the line's tax.
INCLUSIVE_TOLERANCE = Decimal('0.01')

# AST engine emulation: ship-to state -> tax group id (sandbox-like companies only).
AST_STATE_CODES = {'CA': '2', 'AZ': '3'}


def check_len(value, element, maxlen):
    if value is not None and len(str(value)) > maxlen:
        raise errors.string_length(element, maxlen, len(str(value)))


def to_dec(value, element):
    try:
        return util.D(value)
    except ValueError:
        raise errors.malformed('Invalid number for %s: %r' % (element, value))


def check_date(value, element):
    if value is not None and util.parse_date(value) is None:
        raise errors.malformed('Invalid date for %s: %s' % (element, value))


def term_due_date(term, txn_date):
    """DueDate from a Term: STANDARD = TxnDate + DueDays; DATE_DRIVEN = DayOfMonthDue (next month if close)."""
    if term.get('Type') == 'DATE_DRIVEN' and term.get('DayOfMonthDue'):
        day = int(term['DayOfMonthDue'])
        year, month = txn_date.year, txn_date.month
        if txn_date.day > day or (term.get('DueNextMonthDays') is not None and
                                  txn_date.day > 31 - int(term.get('DueNextMonthDays') or 0)):
            month += 1
            if month > 12:
                month, year = 1, year + 1
        for d in (day, 30, 29, 28):
            try:
                return dt.date(year, month, d)
            except ValueError:
                continue
    return txn_date + dt.timedelta(days=int(term.get('DueDays') or 0))


def copy_addr(company, addr, keep_id=True):
    a = copy.deepcopy(addr)
    if not keep_id or not a.get('Id'):
        a['Id'] = company.next_addr_id()
    return a


def next_docnum(company, entity):
    """Auto DocNumber: last number + 1, skipping values already used by that transaction type."""
    used = {str(o.get('DocNumber')) for o in company.data[entity].values() if o.get('DocNumber')}
    n = int(company.docnums.get(entity, 1000)) + 1
    while str(n) in used:
        n += 1
    company.docnums[entity] = n
    return str(n)


def note_docnum(company, entity, docnum):
    if str(docnum).isdigit():
        company.docnums[entity] = max(int(company.docnums.get(entity, 0)), int(docnum))


def check_docnum(ctx, entity, docnum, self_id):
    if 'allowduplicatedocnum' in ctx.include:
        return
    target = str(docnum).strip().lower()
    for o in ctx.company.data[entity].values():
        if o['Id'] != self_id and str(o.get('DocNumber', '')).strip().lower() == target:
            raise errors.dup_docnum(docnum, entity, o['Id'])


def find_account(company, subtype, fallback_id):
    for a in company.data['Account'].values():
        if a.get('AccountSubType') == subtype and a.get('Active', True):
            return a
    return company.get('Account', fallback_id)


def tax_rates_of(ctx, code, rate_list='SalesTaxRateList'):
    """[(TaxRate object, Decimal rate)] of a tax code's sales (or ``PurchaseTaxRateList``) rate list."""
    out = []
    for det in (code.get(rate_list) or {}).get('TaxRateDetail') or []:
        rid = str((det.get('TaxRateRef') or {}).get('value'))
        rate = ctx.company.get('TaxRate', rid)
        if rate is not None:
            out.append((rate, util.D(rate.get('RateValue', 0))))
    return out


def resolve_tax_code(ctx, ref, element):
    code = resolve(ctx, 'TaxCode', ref, element, label='TaxCode')
    if code.get('_pseudo'):
        raise errors.invalid_ref('TaxCode', code['Id'])
    return code


def tax_line(rate_id, rate_value, net, amount):
    return {'DetailType': 'TaxLineDetail', 'Amount': util.num(amount),
            'TaxLineDetail': {'TaxRateRef': {'value': rate_id}, 'PercentBased': True,
                              'TaxPercent': util.num(rate_value) if rate_value % 1 else int(rate_value),
                              'NetAmountTaxable': util.num(net)}}


def prorate(total, parts):
    """Split ``total`` over ``parts`` (list of Decimals) proportionally, remainder on the last one."""
    if not parts:
        return []
    base = sum(parts)
    out = []
    for p in parts[:-1]:
        out.append(util.round2(total * p / base) if base else ZERO)
    out.append(total - sum(out))
    return out


def build_sales_txn(ctx, entity, body, existing=None):
    """Validate a sales form payload (already merged for updates) and compute the stored object."""
    c = ctx.company
    prefs = c.prefs()
    sales = prefs.get('SalesFormsPrefs', {})
    acct_prefs = prefs.get('AccountingInfoPrefs', {})
    tax_prefs = prefs.get('TaxPrefs', {})

    if entity != 'SalesReceipt' and not body.get('CustomerRef'):
        raise errors.required_missing('CustomerRef')
    lines_in = body.get('Line')
    if not isinstance(lines_in, list) or not [ln for ln in lines_in if isinstance(ln, dict)]:
        raise errors.required_missing('Line')
    check_len(body.get('DocNumber'), 'DocNumber', 21)
    check_len(body.get('PrivateNote'), 'PrivateNote', 4000)
    check_len((body.get('CustomerMemo') or {}).get('value'), 'CustomerMemo', 1000)
    check_len((body.get('BillEmail') or {}).get('Address'), 'BillEmail.Address', 100)
    for f in ('TxnDate', 'DueDate', 'ShipDate'):
        check_date(body.get(f), f)

    customer = None
    if body.get('CustomerRef'):
        customer = resolve(ctx, 'Customer', body['CustomerRef'], 'CustomerRef', label='Names')

    obj = {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY}
    if customer is not None:
        obj['CustomerRef'] = named_ref(customer)

    # --- currency -------------------------------------------------------------
    home = c.currency
    cur = (customer or {}).get('CurrencyRef', {}).get('value') or home
    if body.get('CurrencyRef'):
        want = ref_value(body['CurrencyRef'], 'CurrencyRef').upper()
        if want != home and not prefs.get('CurrencyPrefs', {}).get('MultiCurrencyEnabled'):
            raise errors.business('Multicurrency is not enabled for this company, the currency must be %s.' % home)
        if customer is not None and want != cur:
            raise errors.business("The currency of the transaction must match the customer's currency (%s)." % cur)
        cur = want
    obj['CurrencyRef'] = currency_ref(cur)
    rate_x = to_dec(body.get('ExchangeRate', 1), 'ExchangeRate') if cur != home else Decimal('1')
    if cur != home:
        obj['ExchangeRate'] = util.num(rate_x)
    else:
        obj.pop('ExchangeRate', None)

    # --- dates, terms, addresses ---------------------------------------------
    txn_date = body.get('TxnDate') or (existing or {}).get('TxnDate') or util.fmt_date(ctx.now, c.tz_minutes)
    obj['TxnDate'] = txn_date
    if entity == 'Invoice':
        term = None
        if body.get('SalesTermRef'):
            term = resolve(ctx, 'Term', body['SalesTermRef'], 'SalesTermRef', label='SalesTerm')
            obj['SalesTermRef'] = named_ref(term, 'Name')
        elif customer is not None and customer.get('SalesTermRef'):
            term = c.get('Term', customer['SalesTermRef'].get('value'))
            if term is not None:
                obj['SalesTermRef'] = named_ref(term, 'Name')
        if term is None and sales.get('DefaultTerms'):
            term = c.get('Term', sales['DefaultTerms'].get('value'))
        if not body.get('DueDate'):
            base = util.parse_date(txn_date)
            obj['DueDate'] = (term_due_date(term, base) if term else base).isoformat()
    for addr in ('BillAddr', 'ShipAddr'):
        if body.get(addr):
            old_id = ((existing or {}).get(addr) or {}).get('Id')
            a = copy.deepcopy(body[addr])
            a['Id'] = a.get('Id') or old_id or c.next_addr_id()
            obj[addr] = a
        elif customer is not None and customer.get(addr):
            obj[addr] = copy.deepcopy(customer[addr])
    if body.get('ClassRef'):
        if acct_prefs.get('ClassTrackingPerTxn'):
            obj['ClassRef'] = named_ref(resolve(ctx, 'Class', body['ClassRef'], 'ClassRef', label='Klasses'), 'Name')
        else:
            obj.pop('ClassRef', None)    # QBO ignores a header class when per-transaction tracking is off
    obj.pop('DepartmentRef', None) if not acct_prefs.get('TrackDepartments') else None
    if body.get('PaymentMethodRef'):
        obj['PaymentMethodRef'] = named_ref(resolve(ctx, 'PaymentMethod', body['PaymentMethodRef'],
                                                    'PaymentMethodRef'), 'Name')

    # --- DocNumber ------------------------------------------------------------
    self_id = (existing or {}).get('Id')
    if body.get('DocNumber'):
        obj['DocNumber'] = str(body['DocNumber'])
        check_docnum(ctx, entity, obj['DocNumber'], self_id)
        note_docnum(c, entity, obj['DocNumber'])
    elif existing is not None and existing.get('DocNumber'):
        obj['DocNumber'] = existing['DocNumber']        # keep the number already assigned
    elif not sales.get('CustomTxnNumbers') or body.get('AutoDocNumber'):
        obj['DocNumber'] = next_docnum(c, entity)
    else:
        obj.pop('DocNumber', None)

    # --- tax mode -------------------------------------------------------------
    using_tax = bool(tax_prefs.get('UsingSalesTax'))
    if c.is_us:
        if body.get('GlobalTaxCalculation') == 'TaxInclusive':
            # REF-Invoice: "Not applicable to US companies". The default TaxExcluded is tolerated and
            # dropped (python-quickbooks sends it on every US invoice); tax-inclusive US prices cannot be.
            raise errors.global_tax_on_us()
        obj.pop('GlobalTaxCalculation', None)
        mode = 'US'
    else:
        mode = body.get('GlobalTaxCalculation') or 'TaxExcluded'
        if mode not in ('TaxExcluded', 'TaxInclusive', 'NotApplicable'):
            raise errors.invalid_enum(mode, 'GlobalTaxCalculation')
        if not using_tax:
            mode = 'NotApplicable'
        obj['GlobalTaxCalculation'] = mode

    # --- lines ----------------------------------------------------------------
    old_line_ids = {str(ln.get('Id')) for ln in (existing or {}).get('Line', []) if ln.get('Id')}
    used_ids = set()
    pending_ids = []
    main_lines, discount_lines, shipping_lines = [], [], []
    subtotal = ZERO
    line_num = 0
    cust_taxable = customer is None or customer.get('Taxable', True) is not False
    for ln in lines_in:
        if not isinstance(ln, dict):
            continue
        dtype = ln.get('DetailType')
        if dtype == 'SubTotalLineDetail':
            continue          # generated by the server
        if dtype not in ('SalesItemLineDetail', 'DiscountLineDetail', 'DescriptionOnly', 'GroupLineDetail'):
            if not dtype:
                raise errors.required_missing('DetailType', 'Line.DetailType')
            raise errors.invalid_enum(dtype, 'Line.DetailType')
        check_len(ln.get('Description'), 'Line.Description', 4000)
        out = {k: copy.deepcopy(v) for k, v in ln.items()
               if k in ('Description', 'DetailType', 'LinkedTxn', 'CustomField') and v not in ([], None)}
        lid = str(ln.get('Id')) if ln.get('Id') is not None else None
        if lid and lid in old_line_ids and lid not in used_ids:
            out['Id'] = lid
            used_ids.add(lid)
        else:
            pending_ids.append(out)
        if dtype == 'SalesItemLineDetail':
            if ln.get('Amount') is None:
                raise errors.required_missing('Amount', 'Line.Amount')
            amount = util.round2(to_dec(ln['Amount'], 'Line.Amount'))
            det_in = ln.get('SalesItemLineDetail') or {}
            det = {k: copy.deepcopy(v) for k, v in det_in.items()
                   if k in ('ServiceDate', 'Qty', 'UnitPrice', 'MarkupInfo', 'ItemAccountRef', 'PriceLevelRef',
                            'DiscountAmt', 'DiscountRate', 'TaxInclusiveAmt')}
            item = None
            shipping = False
            if det_in.get('ItemRef'):
                iv = ref_value(det_in['ItemRef'], 'ItemRef')
                if iv in ('SHIPPING_ITEM_ID', 'GRATUITY_ITEM_ID'):
                    if iv == 'SHIPPING_ITEM_ID' and not sales.get('AllowShipping'):
                        raise errors.invalid_ref('Item', iv)
                    det['ItemRef'] = {'value': iv}
                    shipping = True
                else:
                    item = resolve(ctx, 'Item', det_in['ItemRef'], 'ItemRef', label='Item')
                    if item.get('Type') == 'Category':
                        raise errors.invalid_ref('Item', iv, 'is invalid : An item in this transaction is set up '
                                                             'as a category instead of a product or service.')
                    det['ItemRef'] = named_ref(item, 'Name')
            qty = det_in.get('Qty')
            price = det_in.get('UnitPrice')
            if qty is not None and price is not None:
                q, p = to_dec(qty, 'Qty'), to_dec(price, 'UnitPrice')
                # clients that send neither a quantity nor a price (0/0) are not checked
                if (q != 0 or p != 0) and util.round2(q * p) != amount:
                    raise errors.amount_calc(ln['Amount'])
            elif qty is not None and price is None and to_dec(qty, 'Qty') != 0:
                det['UnitPrice'] = util.num(amount / to_dec(qty, 'Qty'))
            if det_in.get('ClassRef'):
                if acct_prefs.get('ClassTrackingPerTxnLine'):
                    det['ClassRef'] = named_ref(resolve(ctx, 'Class', det_in['ClassRef'], 'ClassRef',
                                                        label='Klasses'), 'Name')
            # line tax code
            tax_code = None
            if mode == 'US':
                if det_in.get('TaxCodeRef'):
                    tv = ref_value(det_in['TaxCodeRef'], 'TaxCodeRef')
                    if using_tax and tv not in ('TAX', 'NON'):
                        raise errors.line_taxcode(tv)
                elif shipping:
                    tv = 'NON'
                else:
                    tv = 'TAX' if (item is not None and item.get('Taxable') and cust_taxable) else 'NON'
                if using_tax or det_in.get('TaxCodeRef'):
                    det['TaxCodeRef'] = {'value': tv}
            elif item is not None or shipping:
                if det_in.get('TaxCodeRef') and not using_tax:
                    # Sales tax (VAT/GST) off: the company has no usable tax code.
                    raise errors.line_taxcode_without_tax(ref_value(det_in['TaxCodeRef'], 'TaxCodeRef'))
                ref = det_in.get('TaxCodeRef') or (item or {}).get('SalesTaxCodeRef')
                if ref and using_tax:
                    tax_code = resolve_tax_code(ctx, ref, 'TaxCodeRef')
                    det['TaxCodeRef'] = {'value': tax_code['Id']}
                elif mode != 'NotApplicable':
                    raise errors.business('Make sure all your transactions have a VAT rate before you save.')
            out['Amount'] = util.num(amount)
            out['SalesItemLineDetail'] = det
            rec = {'out': out, 'amount': amount, 'item': item, 'code': tax_code,
                   'taxable': det.get('TaxCodeRef', {}).get('value') == 'TAX'}
            if shipping:
                shipping_lines.append(rec)
            else:
                if item is not None:            # a line without ItemRef is documentation only
                    subtotal += amount
                line_num += 1
                out['LineNum'] = line_num
                main_lines.append(rec)
        elif dtype == 'DiscountLineDetail':
            if not sales.get('AllowDiscount'):
                raise errors.business('Discounts are not enabled for this company.')
            det_in = ln.get('DiscountLineDetail') or {}
            det = {'PercentBased': bool(det_in.get('PercentBased'))}
            if det['PercentBased']:
                if det_in.get('DiscountPercent') is None:
                    raise errors.discount_missing()
                det['DiscountPercent'] = det_in['DiscountPercent']
                amount = None
            else:
                if ln.get('Amount') is None:
                    raise errors.discount_missing()
                amount = util.round2(to_dec(ln['Amount'], 'Line.Amount'))
            acc_ref = det_in.get('DiscountAccountRef') or {'value': sales.get('DefaultDiscountAccount') or '86'}
            det['DiscountAccountRef'] = named_ref(resolve(ctx, 'Account', acc_ref, 'DiscountAccountRef',
                                                          label='Accounts'), 'Name')
            if det_in.get('TaxCodeRef'):
                det['TaxCodeRef'] = copy.deepcopy(det_in['TaxCodeRef'])
            if det_in.get('ClassRef') and acct_prefs.get('ClassTrackingPerTxnLine'):
                det['ClassRef'] = named_ref(resolve(ctx, 'Class', det_in['ClassRef'], 'ClassRef',
                                                    label='Klasses'), 'Name')
            out['DiscountLineDetail'] = det
            discount_lines.append({'out': out, 'amount': amount, 'det': det})
        elif dtype == 'GroupLineDetail':
            amount = util.round2(to_dec(ln.get('Amount', 0), 'Line.Amount'))
            out['Amount'] = util.num(amount)
            out['GroupLineDetail'] = copy.deepcopy(ln.get('GroupLineDetail') or {})
            subtotal += amount
            line_num += 1
            out['LineNum'] = line_num
            main_lines.append({'out': out, 'amount': amount, 'item': None, 'code': None, 'taxable': False})
        else:  # DescriptionOnly
            out['DescriptionLineDetail'] = copy.deepcopy(ln.get('DescriptionLineDetail') or {})
            if ln.get('Amount') is not None:
                out['Amount'] = util.num(to_dec(ln['Amount'], 'Line.Amount'))
            line_num += 1
            out['LineNum'] = line_num
            main_lines.append({'out': out, 'amount': ZERO, 'item': None, 'code': None, 'taxable': False})
    if not main_lines and not shipping_lines:
        raise errors.required_missing('Line')

    # line ids: kept when they matched an existing line, otherwise next free number
    next_line = max([int(i) for i in used_ids | old_line_ids if i.isdigit()] or [0])
    for out in pending_ids:
        next_line += 1
        out['Id'] = str(next_line)

    discount_total = ZERO
    for d in discount_lines:
        if d['amount'] is None:
            d['amount'] = util.round2(subtotal * to_dec(d['det']['DiscountPercent'], 'DiscountPercent') / 100)
        d['out']['Amount'] = util.num(d['amount'])
        discount_total += d['amount']
    shipping_total = sum((s['amount'] for s in shipping_lines), ZERO)

    # --- tax --------------------------------------------------------------------
    txn_tax = {}
    tax_total = ZERO
    supplied_tax = body.get('TxnTaxDetail') or {}
    if mode == 'US':
        if using_tax:
            base = sum((r['amount'] for r in main_lines + shipping_lines if r['taxable'] and
                        (r['item'] is not None or r in shipping_lines)), ZERO)
            if body.get('ApplyTaxAfterDiscount') and discount_total and subtotal:
                taxable_items = sum((r['amount'] for r in main_lines if r['taxable'] and r['item']), ZERO)
                base -= util.round2(discount_total * taxable_items / subtotal)
            code = None
            if tax_prefs.get('PartnerTaxEnabled'):
                # AST: the engine chooses the code from the ship-to address; client values are replaced
                state = ((obj.get('ShipAddr') or obj.get('BillAddr') or {}).get('CountrySubDivisionCode') or '')
                cid = AST_STATE_CODES.get(state.upper()) or (tax_prefs.get('TaxGroupCodeRef') or {}).get('value')
                code = c.get('TaxCode', cid) if cid else None
            elif supplied_tax.get('TxnTaxCodeRef'):
                code = resolve_tax_code(ctx, supplied_tax['TxnTaxCodeRef'], 'TxnTaxCodeRef')
            elif base:
                cid = None
                if customer is not None and cust_taxable and customer.get('DefaultTaxCodeRef'):
                    cid = customer['DefaultTaxCodeRef'].get('value')
                cid = cid or (tax_prefs.get('TaxGroupCodeRef') or {}).get('value')
                code = c.get('TaxCode', cid) if cid else None
                if code is not None and code.get('_pseudo'):
                    code = None
            if code is not None:
                rates = tax_rates_of(ctx, code)
                amounts = [util.round2(base * rv / 100) for _, rv in rates]
                if supplied_tax.get('TotalTax') is not None:
                    # explicit TotalTax is honoured and prorated across the rates (spec §3.4)
                    override = util.round2(to_dec(supplied_tax['TotalTax'], 'TotalTax'))
                    if override != sum(amounts, ZERO):
                        amounts = prorate(override, amounts if sum(amounts, ZERO) else [Decimal(1)] * len(amounts))
                txn_tax['TxnTaxCodeRef'] = {'value': code['Id']}
                tax_total = sum(amounts, ZERO)
                txn_tax['TotalTax'] = util.num(tax_total)
                txn_tax['TaxLine'] = [tax_line(r['Id'], rv, base, a) for (r, rv), a in zip(rates, amounts)]
            else:
                txn_tax['TotalTax'] = 0
        else:
            txn_tax['TotalTax'] = 0
    else:
        tax_total = non_us_tax(ctx, mode, main_lines + shipping_lines, subtotal, discount_total, supplied_tax, txn_tax)
    obj['TxnTaxDetail'] = txn_tax

    # --- totals -----------------------------------------------------------------
    total = subtotal - discount_total + shipping_total + tax_total
    lines_out = [r['out'] for r in main_lines]
    lines_out.append({'Amount': util.num(subtotal), 'DetailType': 'SubTotalLineDetail', 'SubTotalLineDetail': {}})
    lines_out += [d['out'] for d in discount_lines]
    lines_out += [s['out'] for s in shipping_lines]
    obj['Line'] = lines_out
    obj['TotalAmt'] = util.num(total)
    obj.setdefault('ApplyTaxAfterDiscount', bool(body.get('ApplyTaxAfterDiscount', False)))
    if c.is_us is False:
        obj.pop('ApplyTaxAfterDiscount', None)
    obj.setdefault('PrintStatus', 'NeedToPrint' if entity == 'Invoice' else 'NotSet')
    obj.setdefault('EmailStatus', 'NotSet')
    if obj.get('BillEmail') and obj['EmailStatus'] == 'NeedToSend' and not obj['BillEmail'].get('Address'):
        raise errors.required_missing('BillEmail', 'BillEmail')
    if obj['EmailStatus'] == 'NeedToSend' and not obj.get('BillEmail'):
        raise errors.required_missing('BillEmail', 'BillEmail')

    # custom field definitions from the preferences are always echoed
    obj['CustomField'] = merge_custom_fields(prefs, body.get('CustomField'))
    if not obj['CustomField']:
        del obj['CustomField']

    paid = sum((util.D(v) for v in ((existing or {}).get('_applied') or {}).values()), ZERO)
    if entity == 'Invoice':
        deposit = util.round2(to_dec(body.get('Deposit', 0) or 0, 'Deposit'))
        if deposit:
            obj['DepositToAccountRef'] = named_ref(
                resolve(ctx, 'Account', body.get('DepositToAccountRef') or
                        {'value': find_account(c, 'UndepositedFunds', '4')['Id']},
                        'DepositToAccountRef', label='Accounts'), 'Name')
        obj['Deposit'] = util.num(deposit)
        obj['Balance'] = util.num(total - deposit - paid)
        obj['LinkedTxn'] = copy.deepcopy([lt for lt in (body.get('LinkedTxn') or [])
                                          if lt.get('TxnType') not in ('Payment', 'ReimburseCharge')])
        obj['LinkedTxn'] += [{'TxnId': pid, 'TxnType': 'Payment'} for pid in ((existing or {}).get('_applied') or {})]
        if existing is not None and existing.get('_applied'):
            obj['_applied'] = dict(existing['_applied'])
    elif entity == 'CreditMemo':
        obj['Balance'] = util.num(total - paid)
        obj['RemainingCredit'] = util.num(total - paid)
        if existing is not None and existing.get('_applied'):
            obj['_applied'] = dict(existing['_applied'])
    else:
        obj['Balance'] = 0
        obj['DepositToAccountRef'] = named_ref(
            resolve(ctx, 'Account', body.get('DepositToAccountRef') or
                    {'value': find_account(c, 'UndepositedFunds', '4')['Id']},
                    'DepositToAccountRef', label='Accounts'), 'Name')
    if cur != home:
        obj['HomeTotalAmt'] = util.num(util.round2(total * rate_x))
        if 'Balance' in obj:
            obj['HomeBalance'] = util.num(util.round2(util.D(obj['Balance']) * rate_x))
    return obj


def non_us_tax(ctx, mode, rows, subtotal, discount_total, supplied_tax, txn_tax, rate_list='SalesTaxRateList'):
    """Non-US (global tax model) tax of a sales form; fills ``txn_tax`` and returns the total tax.

    Line ``Amount`` is net in every mode (GlobalTaxCalculation only says how prices were
    entered); on TaxInclusive documents the gross is ``SalesItemLineDetail.TaxInclusiveAmt``,
    which must agree with the net amount and the code's rates (else 6000: the client sent a gross
    as net, VAT would be charged on VAT). Tax is computed per line and summarised per TaxRate;
    a TaxLine the client supplies for a rate of the document replaces QuickBooks' amount (the
    difference is kept in ``OverrideDeltaAmount``). Purchase forms pass ``rate_list='PurchaseTaxRateList'``
    and rows whose ``detail`` names their line detail (e.g. ``AccountBasedExpenseLineDetail``).
    """
    by_rate = {}
    factor = (subtotal - discount_total) / subtotal if (discount_total and subtotal) else Decimal(1)
    for r in rows:
        if r['code'] is None or mode == 'NotApplicable':
            continue
        rates = tax_rates_of(ctx, r['code'], rate_list)
        total_rate = sum((rv for _, rv in rates), ZERO)
        net = util.round2(r['amount'] * factor)
        det = r['out'][r.get('detail', 'SalesItemLineDetail')]
        gross = det.get('TaxInclusiveAmt')
        if mode == 'TaxInclusive' and gross is not None:
            gross = util.round2(to_dec(gross, 'TaxInclusiveAmt'))
            expected = util.round2(util.round2(r['amount']) * (1 + total_rate / 100))
            if abs(gross - expected) > INCLUSIVE_TOLERANCE:
                raise errors.inclusive_amount_mismatch(r['amount'], gross, total_rate)
            det['TaxInclusiveAmt'] = util.num(gross)
            line_tax = util.round2((gross - util.round2(r['amount'])) * factor)
            parts = prorate(line_tax, [rv for _, rv in rates]) if total_rate else [ZERO] * len(rates)
        else:
            det.pop('TaxInclusiveAmt', None)
            parts = [util.round2(net * rv / 100) for _, rv in rates]
            if mode == 'TaxInclusive':
                det['TaxInclusiveAmt'] = util.num(util.round2(r['amount']) + sum(parts, ZERO))
        for (rate, rv), part in zip(rates, parts):
            acc = by_rate.setdefault(rate['Id'], [rv, ZERO, ZERO])
            acc[1] += net
            acc[2] += part
    overrides = {}
    for tl in supplied_tax.get('TaxLine') or []:
        rid = str(((tl.get('TaxLineDetail') or {}).get('TaxRateRef') or {}).get('value'))
        if rid in by_rate and tl.get('Amount') is not None:
            overrides[rid] = util.round2(to_dec(tl['Amount'], 'TaxLine.Amount'))
    lines = []
    for rid, (rv, net, amount) in by_rate.items():
        line = tax_line(rid, rv, net, overrides.get(rid, amount))
        if rid in overrides and overrides[rid] != amount:
            line['TaxLineDetail']['OverrideDeltaAmount'] = util.num(overrides[rid] - amount)
        lines.append(line)
    tax_total = sum((overrides.get(rid, v[2]) for rid, v in by_rate.items()), ZERO)
    txn_tax['TotalTax'] = util.num(tax_total)
    if lines:
        txn_tax['TaxLine'] = lines
    return tax_total


def merge_custom_fields(prefs, supplied):
    """Echo the company's enabled custom field definitions, with any StringValue supplied."""
    defs = []
    groups = (prefs.get('SalesFormsPrefs') or {}).get('CustomField') or []
    values = {}
    for grp in groups:
        for f in grp.get('CustomField', []):
            values[f.get('Name')] = f
    for n in (1, 2, 3):
        use = values.get('SalesFormsPrefs.UseSalesCustom%d' % n)
        name = values.get('SalesFormsPrefs.SalesCustomName%d' % n)
        if use and use.get('BooleanValue') and name:
            defs.append({'DefinitionId': str(n), 'Type': 'StringType', 'Name': name.get('StringValue')})
    for s in supplied or []:
        for d in defs:
            if str(s.get('DefinitionId')) == d['DefinitionId'] or (s.get('Name') and s.get('Name') == d['Name']):
                if s.get('StringValue') is not None:
                    check_len(s['StringValue'], 'CustomField.StringValue', 31)
                    d['StringValue'] = s['StringValue']
    return defs


def void_sales_txn(obj):
    """Void: all amounts zeroed, PrivateNote prefixed "Voided" (the object stays, unlike delete)."""
    for ln in obj.get('Line', []):
        if 'Amount' in ln:
            ln['Amount'] = 0
        det = ln.get('SalesItemLineDetail')
        if det and 'Qty' in det:
            det['Qty'] = 0
        if det and 'TaxInclusiveAmt' in det:
            det['TaxInclusiveAmt'] = 0
    tt = obj.get('TxnTaxDetail') or {}
    tt['TotalTax'] = 0
    for tl in tt.get('TaxLine', []):
        tl['Amount'] = 0
        tl.get('TaxLineDetail', {})['NetAmountTaxable'] = 0
    obj['TxnTaxDetail'] = tt
    for f in ('TotalAmt', 'Balance', 'HomeTotalAmt', 'HomeBalance', 'Deposit', 'RemainingCredit'):
        if f in obj:
            obj[f] = 0
    note = obj.get('PrivateNote')
    obj['PrivateNote'] = 'Voided' + (' - ' + note if note and not note.startswith('Voided') else '')
    obj['_voided'] = True
    return obj


def build_payment(ctx, body, existing=None):
    """Validate and compute a Payment; returns (object, {(TxnType, TxnId): amount})."""
    c = ctx.company
    if not body.get('CustomerRef'):
        raise errors.required_missing('CustomerRef')
    if body.get('TotalAmt') is None:
        raise errors.required_missing('TotalAmt')
    check_len(body.get('PaymentRefNum'), 'PaymentRefNum', 21)
    check_len(body.get('PrivateNote'), 'PrivateNote', 4000)
    check_date(body.get('TxnDate'), 'TxnDate')
    customer = resolve(ctx, 'Customer', body['CustomerRef'], 'CustomerRef', label='Names')
    total = util.round2(to_dec(body['TotalAmt'], 'TotalAmt'))
    obj = {k: copy.deepcopy(v) for k, v in body.items()
           if k not in READ_ONLY | {'UnappliedAmt', 'ProcessPayment'}}
    obj['CustomerRef'] = named_ref(customer)
    obj['TxnDate'] = body.get('TxnDate') or (existing or {}).get('TxnDate') or util.fmt_date(ctx.now, c.tz_minutes)
    obj['CurrencyRef'] = copy.deepcopy(customer.get('CurrencyRef') or currency_ref(c.currency))
    dep = body.get('DepositToAccountRef') or {'value': find_account(c, 'UndepositedFunds', '4')['Id']}
    obj['DepositToAccountRef'] = named_ref(resolve(ctx, 'Account', dep, 'DepositToAccountRef',
                                                   label='Accounts'), 'Name')
    if body.get('PaymentMethodRef'):
        obj['PaymentMethodRef'] = named_ref(resolve(ctx, 'PaymentMethod', body['PaymentMethodRef'],
                                                    'PaymentMethodRef'), 'Name')
    applied = {}
    lines = []
    for ln in body.get('Line') or []:
        if not isinstance(ln, dict):
            continue
        amount = util.round2(to_dec(ln.get('Amount', 0), 'Line.Amount'))
        links = []
        for lt in ln.get('LinkedTxn') or []:
            ttype = lt.get('TxnType')
            tid = str(lt.get('TxnId'))
            if ttype not in ('Invoice', 'CreditMemo'):
                raise errors.err(620, 'Txn ID cannot be linked',
                                 'Transaction type %s cannot be linked to a payment' % ttype)
            target = ctx.lookup(ttype, tid)
            if target is None:
                raise errors.invalid_ref(ttype, tid)
            if target['CustomerRef']['value'] != customer['Id']:
                raise errors.err(620, 'Txn ID cannot be linked',
                                 'The transaction %s belongs to a different customer' % tid)
            links.append({'TxnId': tid, 'TxnType': ttype})
            applied[(ttype, tid)] = applied.get((ttype, tid), ZERO) + amount
        lines.append({'Amount': util.num(amount), 'LinkedTxn': links})
    applied_total = sum((a for (t, _), a in applied.items() if t == 'Invoice'), ZERO) - \
        sum((a for (t, _), a in applied.items() if t == 'CreditMemo'), ZERO)
    if applied_total > total:
        raise errors.business('The payment amount must be greater than or equal to the amount applied.')
    obj['Line'] = lines
    obj['TotalAmt'] = util.num(total)
    obj['UnappliedAmt'] = util.num(total - applied_total)
    obj['ProcessPayment'] = False
    return obj, applied
