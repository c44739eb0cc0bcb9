"""The HTML overview at ``/``: what each company holds, and plain forms to act as a QuickBooks user.

Shown per company: customers, items, invoices and credit memos (each with its lines, tax and balance),
payments (with what they are applied to), and the webhook endpoints with their last deliveries. Forms
(POST, loopback only, then back to ``/``): receive a payment for an invoice (any amount, optionally
applying one of the customer's credit memos); receive one payment over several invoices of a customer
(partial amounts, credit memos, unapplied amount); void or delete a payment. They call the same functions
as the control API.
"""
import html
import urllib.parse

from . import control, entities, errors, util
from .refs import Ctx

STYLE = ('body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse;margin-bottom:1em}'
         'td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top}th{background:#f3f3f3}'
         'table.lines{margin:2px 0 2px 1em;font-size:90%}table.lines td,table.lines th{border-color:#e3e3e3}'
         'form{display:inline;margin:0}input[type=text]{width:6em}.void{color:#999}'
         '.num{text-align:right}')
MAX_ROWS = 500


def _e(value):
    return html.escape('' if value is None else str(value))


def _sorted(objs):
    return sorted(objs, key=lambda o: util.id_sort_key(o['Id']))[:MAX_ROWS]


def _ref(obj, key):
    ref = obj.get(key) or {}
    return ref.get('name') or ref.get('value') or ''


def _table(headers, rows):
    out = ['<table><tr>%s</tr>' % ''.join('<th>%s</th>' % _e(h) for h in headers)]
    out.extend(rows)
    out.append('</table>')
    return ''.join(out)


def _cells(values, cls=''):
    return '<tr%s>%s</tr>' % (' class="%s"' % cls if cls else '', ''.join('<td>%s</td>' % v for v in values))


def _lines(doc):
    """A document's lines as QuickBooks holds them (item, description, qty x price, amount, tax code)."""
    rows = []
    for ln in doc.get('Line', []):
        dtype = ln.get('DetailType', '')
        det = ln.get(dtype) or {}
        ref = det.get('ItemRef') or det.get('AccountRef') or {}     # expense lines name an account
        item = ref.get('name') or ref.get('value') or ''
        if dtype == 'JournalEntryLineDetail':
            item = '%s %s' % (det.get('PostingType', ''), item)
        if dtype == 'DiscountLineDetail':
            item = 'Discount %s%%' % det['DiscountPercent'] if det.get('PercentBased') else 'Discount'
        elif dtype == 'SubTotalLineDetail':
            item = 'Subtotal'
        qty = det.get('Qty')
        price = det.get('UnitPrice')
        rows.append(_cells([_e(ln.get('LineNum', '')), _e(item), _e(ln.get('Description', '')),
                            _e('%s x %s' % (qty, price) if qty is not None else ''),
                            _e(ln.get('Amount', '')), _e(_ref(det, 'TaxCodeRef')), _e(_ref(det, 'ClassRef'))]))
    if not rows:
        return ''
    head = ''.join('<th>%s</th>' % h for h in ('#', 'Item', 'Description', 'Qty x price', 'Amount', 'Tax code',
                                               'Class'))
    return '<table class="lines"><tr>%s</tr>%s</table>' % (head, ''.join(rows))


def _tax(doc):
    detail = doc.get('TxnTaxDetail') or {}
    code = _ref(detail, 'TxnTaxCodeRef')
    return '%s%s' % (detail.get('TotalTax', 0), ' (%s)' % code if code else '')


def _pay_form(c, inv):
    if inv.get('_voided') or not util.D(inv.get('Balance', 0) or 0):
        return ''
    customer_id = inv['CustomerRef']['value']
    credits = [cm for cm in c.data['CreditMemo'].values()
               if cm['CustomerRef']['value'] == customer_id and util.D(cm.get('RemainingCredit', 0) or 0)]
    options = ''.join('<option value="%s">credit memo %s (%s left)</option>' % (
        _e(cm['Id']), _e(cm.get('DocNumber') or cm['Id']), _e(cm.get('RemainingCredit'))) for cm in credits)
    credit = ('<select name="credit_memo"><option value="">no credit</option>%s</select> ' % options
              if options else '')
    return ('<form method="post" action="/_emulator/ui/%s/pay"><input type="hidden" name="invoice" value="%s">'
            '<input type="text" name="amount" value="%s" aria-label="amount"> %s'
            '<button type="submit">Receive payment</button></form>'
            % (_e(c.realm_id), _e(inv['Id']), _e(inv.get('Balance')), credit))


def _payment_forms(c, pay):
    if pay.get('_voided'):
        return 'voided'
    return ''.join('<form method="post" action="/_emulator/ui/%s/payment/%s/%s"><button type="submit">%s</button>'
                   '</form> ' % (_e(c.realm_id), _e(pay['Id']), action, label)
                   for action, label in (('void', 'Void'), ('delete', 'Delete')))


def _receive_forms(c):
    """QuickBooks' *Receive payment* screen, one per customer with open invoices: an amount per invoice (empty:
    not paid), credit memos to apply, an amount left unapplied (customer credit)."""
    def open_docs(entity, field, customer_id):
        return [o for o in _sorted(c.data[entity].values()) if o['CustomerRef']['value'] == customer_id
                and not o.get('_voided') and util.D(o.get(field, 0) or 0)]

    out = []
    for cust in _sorted(c.data['Customer'].values()):
        invoices = open_docs('Invoice', 'Balance', cust['Id'])
        credits = open_docs('CreditMemo', 'RemainingCredit', cust['Id'])
        if not invoices:
            continue
        fields = ''.join('<label>invoice %s (open %s) <input type="text" name="invoice_%s"></label> ' % (
            _e(o.get('DocNumber') or o['Id']), _e(o['Balance']), _e(o['Id'])) for o in invoices)
        fields += ''.join('<label>credit memo %s (%s left) <input type="text" name="credit_%s"></label> ' % (
            _e(o.get('DocNumber') or o['Id']), _e(o['RemainingCredit']), _e(o['Id'])) for o in credits)
        out.append('<form method="post" action="/_emulator/ui/%s/receive" style="display:block;margin:4px 0">'
                   '<input type="hidden" name="customer" value="%s"><b>%s</b>: %s<label>unapplied '
                   '<input type="text" name="unapplied"></label> <label>reference <input type="text" '
                   'name="reference"></label> <button type="submit">Receive payment</button></form>'
                   % (_e(c.realm_id), _e(cust['Id']), _e(cust.get('DisplayName')), fields))
    if not out:
        return ''
    return ('<h3>Receive payment</h3><p>Amounts applied to each invoice (empty: not paid) and credit memos '
            'to apply; the payment total is invoices - credits + unapplied.</p>' + ''.join(out))


def _applied_to(pay):
    parts = []
    for ln in pay.get('Line', []):
        for lt in ln.get('LinkedTxn', []):
            parts.append('%s %s: %s' % (lt.get('TxnType'), lt.get('TxnId'), ln.get('Amount')))
    return '; '.join(parts)


def company_html(c):
    out = ['<h2 id="realm-%s">%s <small>realm %s, %s, %s</small></h2>' % (
        _e(c.realm_id), _e(c.name), _e(c.realm_id), _e(c.country), _e(c.currency))]
    out.append('<h3>Customers</h3>')
    out.append(_table(('Id', 'DisplayName', 'Email', 'Currency', 'Balance', 'Active'), [
        _cells([_e(o['Id']), _e(o.get('DisplayName')), _e((o.get('PrimaryEmailAddr') or {}).get('Address')),
                _e(_ref(o, 'CurrencyRef')), _e(o.get('Balance')), _e(o.get('Active', True))])
        for o in _sorted(c.data['Customer'].values())]))
    out.append('<h3>Items</h3>')
    out.append(_table(('Id', 'Name', 'Type', 'Unit price', 'Income account', 'Active'), [
        _cells([_e(o['Id']), _e(o.get('Name')), _e(o.get('Type')), _e(o.get('UnitPrice')),
                _e(_ref(o, 'IncomeAccountRef')), _e(o.get('Active', True))])
        for o in _sorted(c.data['Item'].values())]))
    for entity, title, open_field in (('Invoice', 'Invoices', 'Balance'),
                                      ('CreditMemo', 'Credit memos', 'RemainingCredit')):
        out.append('<h3>%s</h3>' % title)
        rows = []
        for o in _sorted(c.data[entity].values()):
            rows.append(_cells([_e(o['Id']), _e(o.get('DocNumber')), _e(o.get('TxnDate')),
                                _e(_ref(o, 'CustomerRef')), _e(_ref(o, 'CurrencyRef')), _e(_tax(o)),
                                _e(o.get('TotalAmt')), _e(o.get(open_field)), _e(o.get('PrivateNote')),
                                _pay_form(c, o) if entity == 'Invoice' else ''],
                               'void' if o.get('_voided') else ''))
            rows.append('<tr><td></td><td colspan="9">%s</td></tr>' % _lines(o))
        out.append(_table(('Id', 'DocNumber', 'Date', 'Customer', 'Currency', 'Tax', 'Total',
                           'Balance' if entity == 'Invoice' else 'Remaining credit', 'Note', ''), rows))
    out.append(_receive_forms(c))
    out.append('<h3>Payments</h3>')
    out.append(_table(('Id', 'Date', 'Customer', 'Total', 'Unapplied', 'Applied to', 'Reference', ''), [
        _cells([_e(o['Id']), _e(o.get('TxnDate')), _e(_ref(o, 'CustomerRef')), _e(o.get('TotalAmt')),
                _e(o.get('UnappliedAmt')), _e(_applied_to(o)), _e(o.get('PaymentRefNum')), _payment_forms(c, o)],
               'void' if o.get('_voided') else '')
        for o in _sorted(c.data['Payment'].values())]))
    out.append(_payables_html(c))
    return ''.join(out)


def _payables_html(c):
    """Vendors and the payables and ledger documents, when the company has any."""
    out = []
    if c.data['Vendor']:
        out.append('<h3>Vendors</h3>')
        out.append(_table(('Id', 'DisplayName', 'Currency', 'Balance', 'Active'), [
            _cells([_e(o['Id']), _e(o.get('DisplayName')), _e(_ref(o, 'CurrencyRef')), _e(o.get('Balance')),
                    _e(o.get('Active', True))]) for o in _sorted(c.data['Vendor'].values())]))
    for entity, title, party in (('Bill', 'Bills', 'VendorRef'), ('VendorCredit', 'Vendor credits', 'VendorRef'),
                                 ('PurchaseOrder', 'Purchase orders', 'VendorRef'),
                                 ('Purchase', 'Expenses (purchases)', 'EntityRef'),
                                 ('JournalEntry', 'Journal entries', None)):
        if not c.data[entity]:
            continue
        out.append('<h3>%s</h3>' % title)
        rows = []
        for o in _sorted(c.data[entity].values()):
            rows.append(_cells([_e(o['Id']), _e(o.get('DocNumber')), _e(o.get('TxnDate')),
                                _e(_ref(o, party) if party else ''), _e(_ref(o, 'CurrencyRef')), _e(_tax(o)),
                                _e(o.get('TotalAmt')), _e(o.get('Balance', o.get('POStatus', ''))),
                                _e(o.get('PrivateNote'))]))
            rows.append('<tr><td></td><td colspan="8">%s</td></tr>' % _lines(o))
        out.append(_table(('Id', 'DocNumber', 'Date', 'Vendor / payee', 'Currency', 'Tax', 'Total',
                           'Balance / status', 'Note'), rows))
    if c.data['BillPayment']:
        out.append('<h3>Bill payments</h3>')
        out.append(_table(('Id', 'Date', 'Vendor', 'Pay type', 'Total', 'Applied to', 'Check no.'), [
            _cells([_e(o['Id']), _e(o.get('TxnDate')), _e(_ref(o, 'VendorRef')), _e(o.get('PayType')),
                    _e(o.get('TotalAmt')), _e(_applied_to(o)), _e(o.get('DocNumber'))],
                   'void' if o.get('_voided') else '')
            for o in _sorted(c.data['BillPayment'].values())]))
    return ''.join(out)


def webhooks_html(emu):
    status = emu.webhooks.status()
    if not status['endpoints']:
        return ''
    out = ['<h2>Webhooks</h2>', _table(('App', 'URL', 'Format', 'Enabled'), [
        _cells([_e(cid), _e(cfg['url']), _e(cfg['format']), _e(cfg['enabled'])])
        for cid, cfg in status['endpoints'].items()])]
    out.append('<p>%d event(s) waiting, %d delivery(ies) being retried.</p>' % (
        status['pending'], len(status['retrying'])))
    out.append(_table(('Delivery', 'Attempt', 'Time (UTC)', 'Events', 'Status', 'Next attempt'), [
        _cells([_e(d['delivery_id']), _e(d['attempt']), _e(d['time']), _e(d['events']),
                _e(d['status'] or d['error']), _e(d.get('next_attempt', ''))])
        for d in reversed(status['deliveries'][-20:])]))
    return ''.join(out)


def index(emu):
    out = ['<!DOCTYPE html><html><head><meta charset="utf-8"><title>QuickBooks Online emulator</title>'
           '<style>%s</style></head><body><h1>QuickBooks Online emulator</h1>' % STYLE]
    with emu.lock:
        out.extend(company_html(c) for c in emu.companies.values())
    out.append(webhooks_html(emu))
    out.append('</body></html>')
    return ''.join(out)


def error_html(message):
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>Not done</title></head><body>'
            '<h1>QuickBooks did not accept this</h1><p>%s</p><p><a href="/">Back</a></p></body></html>'
            % _e(message))


def action(emu, parts, form):
    """Handle ``POST /_emulator/ui/<realm>/pay`` and ``.../payment/<id>/(void|delete)``.

    Returns (status, html or None, location or None): a redirect back to the page on success."""
    if len(parts) < 2:
        return 404, error_html('Unknown action'), None
    try:
        with emu.lock:
            c = control.company_or_404(emu, parts[0])
            if parts[1:] == ['pay']:
                # "amount" is what the invoice receives; a chosen credit memo covers what it can of it and
                # the rest is paid in money (all credit: a $0 payment, as in QuickBooks)
                inv = c.get('Invoice', str(form.get('invoice')))
                if inv is None:
                    raise control.ControlError(404, 'Invoice %s does not exist (any more)' % form.get('invoice'))
                applied = util.round2(util.D(form.get('amount') or inv.get('Balance', 0)))
                data = {'invoices': [{'id': inv['Id'], 'amount': str(applied)}]}
                cm = c.get('CreditMemo', str(form['credit_memo'])) if form.get('credit_memo') else None
                if cm is not None:
                    credit = min(util.D(cm.get('RemainingCredit', 0) or 0), applied)
                    data['credit_memos'] = [{'id': cm['Id'], 'amount': str(credit)}]
                control.record_payment(emu, c, data)
            elif parts[1:] == ['receive']:
                data = {'customer_id': form.get('customer'), 'unapplied': form.get('unapplied') or 0,
                        'invoices': [{'id': k[len('invoice_'):], 'amount': v} for k, v in sorted(form.items())
                                     if k.startswith('invoice_') and v.strip()],
                        'credit_memos': [{'id': k[len('credit_'):], 'amount': v} for k, v in sorted(form.items())
                                         if k.startswith('credit_') and v.strip()]}
                if form.get('reference'):
                    data['reference'] = form['reference']
                control.record_payment(emu, c, data)
            elif len(parts) == 4 and parts[1] == 'payment' and parts[3] in ('void', 'delete'):
                pay = c.get('Payment', parts[2])
                if pay is None:
                    raise control.ControlError(404, 'Payment %s does not exist (any more)' % parts[2])
                ctx = Ctx(c, emu.clock.now())
                if parts[3] == 'void':
                    entities.void_obj(ctx, 'Payment', pay)
                else:
                    entities.delete_obj(ctx, 'Payment', pay)
            else:
                return 404, error_html('Unknown action'), None
            emu.dirty = True
    except control.ControlError as e:
        return e.status, error_html(e.message), None
    except errors.QBOError as e:
        return e.status, error_html(str(e)), None
    except (ValueError, ArithmeticError) as e:
        return 400, error_html('Invalid amount: %s' % e), None
    return 303, None, '/#realm-' + urllib.parse.quote(parts[0])
