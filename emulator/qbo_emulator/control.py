"""The ``/_emulator/`` control API (JSON in/out, loopback only, no auth).

This is the contract used by the Odoo tests; see ``testing.EmulatorControl``
for the matching client. Handlers return ``(status, json_body)``.
"""
import base64
import copy

from . import entities, errors, payables, util, webhooks
from .refs import Ctx
from .store import BY_LOWER, ENTITIES

SETTINGS_TYPES = {'latency_ms': float, 'limits_enabled': bool, 'refresh_rotation': str,
                  'refresh_grace_seconds': float, 'code_lifetime_seconds': float,
                  'rate_limit_per_minute': int, 'rate_limit_per_second': int, 'concurrency_limit': int,
                  'batch_limit_per_minute': int,
                  'webhook_window_seconds': float, 'webhook_retry_scale': float}


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def company_or_404(emu, realm):
    c = emu.companies.get(realm)
    if c is None:
        raise ControlError(404, 'unknown realm %s' % realm)
    return c


def entity_or_404(name):
    ent = BY_LOWER.get(str(name).lower())
    if ent is None:
        raise ControlError(404, 'unknown entity %s' % name)
    return ent


def seed_objects(emu, c, entity, count, prefix):
    """Create ``count`` simple valid objects quickly (bypasses request validation, keeps shapes)."""
    now = emu.clock.now()
    ctx = Ctx(c, now)
    ids = []
    prefix = prefix or 'Seed %s' % entity
    for i in range(1, count + 1):
        name = '%s %05d' % (prefix, i)
        if entity in ('Customer', 'Vendor', 'Employee'):
            if c.find_name(name):
                continue
            body = {'DisplayName': name, 'CompanyName': name}
            if entity == 'Employee':
                body = {'DisplayName': name, 'GivenName': prefix, 'FamilyName': '%05d' % i}
            obj, _ = entities.build(ctx, entity, body)
        elif entity == 'Item':
            obj, _ = entities.build(ctx, entity, {'Name': name, 'Type': 'Service', 'UnitPrice': i,
                                                  'IncomeAccountRef': {'value': '79' if c.is_us else '1'}})
        elif entity == 'Account':
            obj, _ = entities.build(ctx, entity, {'Name': name, 'AccountType': 'Income',
                                                  'AccountSubType': 'ServiceFeeIncome'})
        elif entity in ('Class', 'PaymentMethod'):
            obj, _ = entities.build(ctx, entity, {'Name': name})
        elif entity == 'Term':
            obj, _ = entities.build(ctx, entity, {'Name': name[:31], 'DueDays': i % 90})
        elif entity == 'Invoice':
            obj = entities.create(ctx, 'Invoice', {
                'CustomerRef': {'value': '1'},
                'Line': [{'DetailType': 'SalesItemLineDetail', 'Amount': float(i),
                          'SalesItemLineDetail': {'ItemRef': {'value': '1'}, 'Qty': 1, 'UnitPrice': float(i)}}]})
            ids.append(obj['Id'])
            continue
        else:
            raise ControlError(400, 'seeding %s is not supported' % entity)
        entities.finish_new(ctx, entity, obj)
        ids.append(obj['Id'])
    return ids


def record_payment(emu, c, data):
    """Receive a customer payment as a QuickBooks user would (Sales > Receive payment): ``invoices`` and
    ``credit_memos`` are lists of ``{"id", "amount"}`` (amount defaults to the open balance / remaining
    credit), ``unapplied`` an amount left as customer credit. ``total`` defaults to invoices - credits +
    unapplied, so applying a credit memo to an invoice of the same amount is a $0 payment, as in QuickBooks.
    Optional: ``customer_id``, ``txn_date``, ``payment_method_id``, ``deposit_account_id``, ``reference``,
    ``private_note``. Applying more than an invoice's balance is refused, as QuickBooks' screen does."""
    lines = []
    customers = set()
    totals = {'Invoice': util.D(0), 'CreditMemo': util.D(0)}
    for ttype, key, open_field in (('Invoice', 'invoices', 'Balance'),
                                   ('CreditMemo', 'credit_memos', 'RemainingCredit')):
        for spec in data.get(key) or []:
            spec = spec if isinstance(spec, dict) else {'id': spec}
            target = c.get(ttype, str(spec.get('id')))
            if target is None:
                raise ControlError(404, 'unknown %s %s' % (ttype, spec.get('id')))
            open_amount = util.D(target.get(open_field, target.get('Balance', 0)) or 0)
            amount = util.round2(util.D(spec['amount'])) if spec.get('amount') not in (None, '') else open_amount
            if amount <= 0 or amount > open_amount:
                raise ControlError(400, '%s %s: amount %s must be positive and at most its open amount %s'
                                   % (ttype, target['Id'], amount, open_amount))
            customers.add(target['CustomerRef']['value'])
            totals[ttype] += amount
            lines.append({'Amount': util.num(amount), 'LinkedTxn': [{'TxnId': target['Id'], 'TxnType': ttype}]})
    customer_id = str(data.get('customer_id') or next(iter(customers), ''))
    if not customer_id:
        raise ControlError(400, 'customer_id is required when no invoice or credit memo is given')
    if customers - {customer_id}:
        raise ControlError(400, 'every invoice and credit memo must belong to customer %s' % customer_id)
    unapplied = util.round2(util.D(data.get('unapplied') or 0))
    total = data.get('total')
    total = util.round2(util.D(total)) if total not in (None, '') else \
        totals['Invoice'] - totals['CreditMemo'] + unapplied
    if total < 0:
        raise ControlError(400, 'the credits applied exceed the invoices paid: apply less credit')
    body = {'CustomerRef': {'value': customer_id}, 'TotalAmt': util.num(total), 'Line': lines}
    for src, field, wrap in (('txn_date', 'TxnDate', None), ('payment_method_id', 'PaymentMethodRef', 'ref'),
                             ('deposit_account_id', 'DepositToAccountRef', 'ref'), ('reference', 'PaymentRefNum', None),
                             ('private_note', 'PrivateNote', None)):
        if data.get(src) not in (None, ''):
            body[field] = {'value': str(data[src])} if wrap else data[src]
    return entities.create(Ctx(c, emu.clock.now()), 'Payment', body)


def edit_payment(emu, c, payment, data):
    """Open a received payment again and save it, as a QuickBooks user would: any of ``invoices`` /
    ``credit_memos`` (the new applications, replacing the old ones: QuickBooks' lines are all or none),
    ``total``, ``unapplied``, ``txn_date``, ``reference``, ``private_note`` (the screen's memo),
    ``deposit_account_id``, ``payment_method_id``. What is not given keeps its value. The SyncToken and
    LastUpdatedTime move, the invoices' Balances follow (an application cannot exceed what the invoice
    has open besides this payment), and an Update event is notified."""
    if payment.get('_voided'):
        raise ControlError(400, 'a voided payment cannot be edited')
    body = {'Id': payment['Id'], 'SyncToken': payment['SyncToken'], 'sparse': True}
    if 'invoices' in data or 'credit_memos' in data:
        lines = []
        for ttype, key, open_field in (('Invoice', 'invoices', 'Balance'),
                                       ('CreditMemo', 'credit_memos', 'RemainingCredit')):
            for spec in data.get(key) or []:
                spec = spec if isinstance(spec, dict) else {'id': spec}
                target = c.get(ttype, str(spec.get('id')))
                if target is None:
                    raise ControlError(404, 'unknown %s %s' % (ttype, spec.get('id')))
                # What is open on the document if this payment were not applied to it.
                mine = util.D((target.get('_applied') or {}).get(payment['Id'], 0))
                open_amount = util.D(target.get(open_field, target.get('Balance', 0)) or 0) + mine
                amount = util.round2(util.D(spec['amount'])) if spec.get('amount') not in (None, '') \
                    else open_amount
                if amount <= 0 or amount > open_amount:
                    raise ControlError(400, '%s %s: amount %s must be positive and at most its open amount %s'
                                       % (ttype, target['Id'], amount, open_amount))
                lines.append({'Amount': util.num(amount), 'LinkedTxn': [{'TxnId': target['Id'], 'TxnType': ttype}]})
        body['Line'] = lines
        if data.get('total') in (None, ''):
            applied = sum((util.D(ln['Amount']) * (1 if ln['LinkedTxn'][0]['TxnType'] == 'Invoice' else -1)
                           for ln in lines), util.D(0))
            unapplied = data.get('unapplied')
            unapplied = util.D(payment.get('UnappliedAmt') or 0) if unapplied in (None, '') else util.D(unapplied)
            body['TotalAmt'] = util.num(util.round2(applied + unapplied))
    if data.get('total') not in (None, ''):
        body['TotalAmt'] = util.num(util.round2(util.D(data['total'])))
    for src, field, wrap in (('txn_date', 'TxnDate', None), ('payment_method_id', 'PaymentMethodRef', 'ref'),
                             ('deposit_account_id', 'DepositToAccountRef', 'ref'), ('reference', 'PaymentRefNum', None),
                             ('private_note', 'PrivateNote', None)):
        if src in data:
            body[field] = {'value': str(data[src])} if wrap and data[src] not in (None, '') else data[src]
    return entities.update(Ctx(c, emu.clock.now()), 'Payment', body)


def record_bill_payment(emu, c, data):
    """Pay bills as a QuickBooks user would (Expenses > Pay bills): ``bills`` and ``vendor_credits`` are lists
    of ``{"id", "amount"}`` (amount defaults to the open balance), ``pay_type`` Check (default, from
    ``bank_account_id``, the first bank account by default) or CreditCard (``cc_account_id``, the first credit
    card account by default). ``total`` defaults to bills - vendor credits. Optional: ``vendor_id``,
    ``txn_date``, ``reference`` (the check number, DocNumber), ``private_note``. The stored BillPayment is
    returned; the bills' Balances and the vendor's balance follow, and webhook events are notified."""
    lines, vendors = [], set()
    totals = {'Bill': util.D(0), 'VendorCredit': util.D(0)}
    for ttype, key in (('Bill', 'bills'), ('VendorCredit', 'vendor_credits')):
        for spec in data.get(key) or []:
            spec = spec if isinstance(spec, dict) else {'id': spec}
            target = c.get(ttype, str(spec.get('id')))
            if target is None:
                raise ControlError(404, 'unknown %s %s' % (ttype, spec.get('id')))
            open_amount = util.D(target.get('Balance', 0) or 0)
            amount = util.round2(util.D(spec['amount'])) if spec.get('amount') not in (None, '') else open_amount
            if amount <= 0 or amount > open_amount:
                raise ControlError(400, '%s %s: amount %s must be positive and at most its open amount %s'
                                   % (ttype, target['Id'], amount, open_amount))
            vendors.add(target['VendorRef']['value'])
            totals[ttype] += amount
            lines.append({'Amount': util.num(amount), 'LinkedTxn': [{'TxnId': target['Id'], 'TxnType': ttype}]})
    vendor_id = str(data.get('vendor_id') or next(iter(vendors), ''))
    if not vendor_id:
        raise ControlError(400, 'vendor_id is required when no bill or vendor credit is given')
    if vendors - {vendor_id}:
        raise ControlError(400, 'every bill and vendor credit must belong to vendor %s' % vendor_id)
    total = data.get('total')
    total = util.round2(util.D(total)) if total not in (None, '') else totals['Bill'] - totals['VendorCredit']
    pay_type = data.get('pay_type') or 'Check'
    if pay_type not in ('Check', 'CreditCard'):
        raise ControlError(400, 'pay_type must be Check or CreditCard')
    acc_type, detail, field, key = (('Bank', 'CheckPayment', 'BankAccountRef', 'bank_account_id')
                                    if pay_type == 'Check' else
                                    ('Credit Card', 'CreditCardPayment', 'CCAccountRef', 'cc_account_id'))
    acc_id = data.get(key) or next((a['Id'] for a in c.data['Account'].values()
                                    if a.get('AccountType') == acc_type and a.get('Active', True)), None)
    if not acc_id:
        raise ControlError(400, 'the company has no %s account' % acc_type)
    body = {'VendorRef': {'value': vendor_id}, 'PayType': pay_type, 'TotalAmt': util.num(total), 'Line': lines,
            detail: {field: {'value': str(acc_id)}}}
    for src, field_name in (('txn_date', 'TxnDate'), ('reference', 'DocNumber'), ('private_note', 'PrivateNote')):
        if data.get(src) not in (None, ''):
            body[field_name] = data[src]
    ctx = Ctx(c, emu.clock.now(), include=['allowduplicatedocnum'])
    try:
        return entities.create(ctx, 'BillPayment', body)
    except errors.QBOError as e:
        raise ControlError(400, str(e))


def download_file(emu, parts):
    """``GET files/<realm>/<attachable id>``: (status, bytes, content type) of an uploaded file."""
    with emu.lock:
        c = emu.companies.get(parts[0]) if len(parts) == 2 else None
        obj = c.get('Attachable', parts[1]) if c is not None else None
        if obj is None or '_content' not in obj:
            return 404, b'not found', 'text/plain'
        return 200, base64.b64decode(obj['_content']), obj.get('ContentType') or 'application/octet-stream'


def merge_names(emu, c, entity, source, data):
    """Merge ``source`` into ``into`` as a QuickBooks user would (Customer/Vendor/Item with the same name
    rules): transactions move to the survivor (a vendor's bills, credits, payments, orders and purchases
    too), the merged record is made inactive and renamed "<name> (deleted)", and a Merge event names both
    (``deletedId``)."""
    if entity not in ('Customer', 'Vendor', 'Item'):
        raise ControlError(400, 'merge is supported for Customer, Vendor and Item')
    into = c.get(entity, str(data.get('into') or ''))
    if into is None or into is source:
        raise ControlError(400, 'into must name another %s' % entity)
    now = emu.clock.now()
    ctx = Ctx(c, now)
    field = {'Item': 'ItemRef', 'Vendor': 'VendorRef'}.get(entity, 'CustomerRef')
    txn_entities = payables.VENDOR_TXNS if entity == 'Vendor' else ('Invoice', 'CreditMemo', 'SalesReceipt',
                                                                    'Payment')
    for txn_entity in txn_entities:
        for txn in c.data[txn_entity].values():
            if field == 'ItemRef':
                refs = [(ln.get('SalesItemLineDetail') or {}).get('ItemRef') for ln in txn.get('Line', [])]
            elif txn_entity == 'Purchase':
                refs = [txn.get('EntityRef')] if (txn.get('EntityRef') or {}).get('type') == 'Vendor' else []
            else:
                refs = [txn.get(field)]
            hit = False
            for ref in refs:
                if ref and ref.get('value') == source['Id']:
                    ref['value'] = into['Id']
                    ref['name'] = into.get('DisplayName', into.get('Name'))
                    hit = True
            if hit:
                entities.touch(ctx, txn, txn_entity)
    name_field = 'Name' if entity == 'Item' else 'DisplayName'
    source[name_field] = '%s (deleted)' % source[name_field]
    source['Active'] = False
    if entity == 'Customer':
        entities.recompute_customer_balance(ctx, into['Id'])
        entities.recompute_customer_balance(ctx, source['Id'])
    if entity == 'Vendor':
        payables.recompute_vendor_balance(ctx, into['Id'])
        payables.recompute_vendor_balance(ctx, source['Id'])
    entities.touch(ctx, source)
    entities.touch(ctx, into)
    c.notify(entity, into['Id'], 'Merge', now, deleted_id=source['Id'])
    return into


USAGE_KEYS = ('requests', 'reads', 'writes', 'throttled', 'peak_per_second', 'peak_per_minute',
              'peak_batch_per_minute', 'peak_concurrent')


def usage_of(emu, realm):
    """API calls answered for ``realm`` since the last reset: ``requests`` (all), ``reads`` (metered
    "CorePlus" calls answered 2xx), ``writes`` (2xx "Core" calls, not metered), ``throttled`` (429s sent),
    and the peaks of admitted requests: per second, per minute, batch requests per minute, concurrent."""
    u = emu.usage.get(realm) or {}
    return {k: u.get(k, 0) for k in USAGE_KEYS}


def raw(obj, deleted=False):
    out = util.public(obj)
    if deleted:
        out['status'] = 'Deleted'
    return out


def handle(emu, method, parts, params, data):
    """Route ``/_emulator/<parts...>``."""
    if not parts:
        raise ControlError(404, 'not found')
    head = parts[0]
    if head == 'health':
        return 200, {'ok': True}
    if head == 'reset' and method == 'POST':
        emu.reset()
        return 200, {'ok': True, 'realm_id': next(iter(emu.companies))}
    if head == 'apps' and len(parts) == 3 and parts[2] == 'webhook':
        return app_webhook(emu, method, parts[1], data)
    if head == 'apps' and method == 'POST':
        if not data.get('client_id'):
            raise ControlError(400, 'client_id is required')
        with emu.lock:
            emu.oauth.register_app(data['client_id'], data.get('client_secret', ''), data.get('redirect_uris', []))
            emu.dirty = True
        return 200, {'ok': True, 'client_id': data['client_id']}
    if head == 'apps' and method == 'GET':
        return 200, {'apps': [{'client_id': k, 'redirect_uris': v['redirect_uris']}
                              for k, v in emu.oauth.apps.items()],
                     'default_client_id': emu.default_client}
    if head == 'companies':
        return companies(emu, method, parts[1:], params, data)
    if head == 'faults':
        if method == 'POST':
            try:
                f = emu.add_fault(data)
            except (ValueError, TypeError) as e:
                raise ControlError(400, str(e))
            return 200, {'ok': True, 'fault': f}
        if method == 'DELETE':
            with emu.lock:
                emu.faults.clear()
            return 200, {'ok': True}
        if method == 'GET':
            return 200, {'faults': copy.deepcopy(emu.faults)}
    if head == 'tokens' and len(parts) > 1 and method == 'POST':
        with emu.lock:
            if parts[1] == 'expire':
                which = data.get('which', 'access')
                if which not in ('access', 'refresh', 'all'):
                    raise ControlError(400, 'which must be access, refresh or all')
                emu.oauth.expire(data.get('realm_id'), which)
            elif parts[1] == 'revoke':
                emu.oauth.revoke_realm(data.get('realm_id'))
            else:
                raise ControlError(404, 'not found')
            emu.dirty = True
        return 200, {'ok': True}
    if head == 'tokens' and method == 'GET':
        with emu.lock:
            return 200, {'grants': [{'realm_id': g['realm_id'], 'client_id': g['client_id'],
                                     'revoked': g['revoked'], 'scope': g['scope']}
                                    for g in emu.oauth.grants.values()]}
    if head == 'clock':
        if len(parts) > 1 and parts[1] == 'advance' and method == 'POST':
            now = emu.clock.advance(float(data.get('seconds', 0)))
            return 200, {'ok': True, 'now': util.fmt_dt(now, 0, ms=True), 'offset_seconds': emu.clock.offset}
        return 200, {'now': util.fmt_dt(emu.clock.now(), 0, ms=True), 'offset_seconds': emu.clock.offset}
    if head == 'settings':
        if method == 'POST':
            with emu.lock:
                for k, v in data.items():
                    if k not in SETTINGS_TYPES:
                        raise ControlError(400, 'unknown setting %s' % k)
                    if k == 'refresh_rotation' and v not in ('always', 'daily'):
                        raise ControlError(400, 'refresh_rotation must be always or daily')
                    emu.settings[k] = SETTINGS_TYPES[k](v)
        return 200, dict(emu.settings)
    if head == 'requests':
        if method == 'DELETE':
            with emu.lock:
                emu.log.clear()
            return 200, {'ok': True}
        pc = params.get('path_contains')
        with emu.lock:
            rows = [dict(r) for r in emu.log if not pc or pc in r['path']]
        return 200, {'requests': rows}
    if head == 'webhooks' and len(parts) == 1:
        if method == 'POST':
            for k in ('url', 'realm_id'):
                if not data.get(k):
                    raise ControlError(400, '%s is required' % k)
            if data.get('format', 'legacy') not in ('legacy', 'cloudevents'):
                raise ControlError(400, 'format must be legacy or cloudevents')
            entry = webhooks.send_later(data, emu.clock.now(), emu.webhook_log)
            return 200, {'ok': True, 'body': entry['body'], 'signature': entry['signature']}
        return 200, {'sent': list(emu.webhook_log)}
    if head == 'webhooks' and parts[1:] == ['flush'] and method == 'POST':
        # outside the emulator lock: the receiver may call the API while it handles the delivery
        return 200, {'attempts': emu.webhooks.run_once(force=True)}
    if head == 'webhooks' and parts[1:] == ['status'] and method == 'GET':
        return 200, emu.webhooks.status()
    if head == 'usage':
        with emu.lock:
            if method == 'DELETE':
                emu.usage.clear()
            return 200, {'usage': {realm: usage_of(emu, realm) for realm in emu.usage}}
    if head == 'state' and method == 'POST':
        emu.save()
        return 200, {'ok': True}
    raise ControlError(404, 'not found')


def app_webhook(emu, method, client_id, data):
    """``GET|POST apps/<client_id>/webhook``: the app's endpoint as set in Intuit's developer portal: ``url``
    (empty removes it), ``format`` (cloudevents | legacy), ``verifier_token``, ``enabled``, and optionally
    ``realm_ids`` (companies notified even without an OAuth grant)."""
    if client_id not in emu.oauth.apps:
        raise ControlError(404, 'unknown app %s' % client_id)
    if method == 'POST':
        try:
            cfg = emu.webhooks.configure(client_id, data.get('url'), data.get('format', 'cloudevents'),
                                         data.get('verifier_token', ''), data.get('enabled', True),
                                         data.get('realm_ids'))
        except ValueError as e:
            raise ControlError(400, str(e))
        emu.dirty = True
    else:
        cfg = emu.webhooks.config(client_id)
    if cfg:
        cfg = dict(cfg, verifier_token_set=bool(cfg.pop('verifier_token')))
    return 200, {'client_id': client_id, 'webhook': cfg}


def companies(emu, method, parts, params, data):
    if not parts:
        if method == 'POST':
            c = emu.create_company(data.get('name'), data.get('country', 'US'), data.get('currency'),
                                   data.get('preferences'))
            return 200, c.summary()
        return 200, {'companies': [c.summary() for c in emu.companies.values()]}
    with emu.lock:
        c = company_or_404(emu, parts[0])
        rest = parts[1:]
        now = emu.clock.now()
        if not rest:
            return 200, c.summary()
        if rest[0] == 'seed' and method == 'POST':
            ent = entity_or_404(data.get('entity', 'Customer'))
            ids = seed_objects(emu, c, ent, int(data.get('count', 1)), data.get('prefix'))
            emu.dirty = True
            return 200, {'created': len(ids), 'ids': ids}
        if rest[0] == 'usage':
            if method == 'DELETE':
                emu.usage.pop(c.realm_id, None)
            return 200, usage_of(emu, c.realm_id)
        if rest[0] == 'payments' and len(rest) == 2 and method == 'POST':
            payment = c.get('Payment', rest[1])
            if payment is None:
                raise ControlError(404, 'unknown Payment %s' % rest[1])
            pay = edit_payment(emu, c, payment, data)
            emu.dirty = True
            return 200, raw(pay)
        if rest[0] == 'payments' and method == 'POST':
            pay = record_payment(emu, c, data)
            emu.dirty = True
            return 200, raw(pay)
        if rest[0] == 'billpayments' and method == 'POST':
            pay = record_bill_payment(emu, c, data)
            emu.dirty = True
            return 200, raw(pay)
        if rest[0] == 'preferences' and method in ('POST', 'PATCH'):
            prefs = c.prefs()
            ctx = Ctx(c, now)
            new = util.deep_merge(util.public(prefs), data)
            entities.finish_update(ctx, 'Preferences', prefs, new)
            emu.dirty = True
            return 200, raw(new)
        if rest[0] != 'entities' or len(rest) < 2:
            raise ControlError(404, 'not found')
        ent = entity_or_404(rest[1])
        if len(rest) == 2:
            rows = [raw(o) for o in c.data[ent].values()] + [raw(o, True) for o in c.deleted[ent].values()]
            rows.sort(key=lambda o: util.id_sort_key(o.get('Id')))
            return 200, {'entity': ent, 'objects': rows}
        obj_id = rest[2]
        obj = c.get(ent, obj_id)
        ctx = Ctx(c, now)
        if len(rest) == 4 and rest[3] == 'void' and method == 'POST':
            if obj is None:
                raise ControlError(404, 'not found')
            entities.void_obj(ctx, ent, obj)
            emu.dirty = True
            return 200, raw(obj)
        if len(rest) == 4 and rest[3] == 'merge' and method == 'POST':
            if obj is None:
                raise ControlError(404, 'not found')
            into = merge_names(emu, c, ent, obj, data)
            emu.dirty = True
            return 200, raw(into)
        if method == 'GET':
            if obj is not None:
                return 200, raw(obj)
            if obj_id in c.deleted[ent]:
                return 200, raw(c.deleted[ent][obj_id], True)
            raise ControlError(404, 'not found')
        if obj is None:
            raise ControlError(404, 'not found')
        if method == 'PATCH':
            new = entities.patch_stored(ctx, ent, obj, data)
            emu.dirty = True
            return 200, raw(new)
        if method == 'DELETE':
            if ENTITIES[ent]['kind'] == 'txn':
                res = entities.delete_obj(ctx, ent, obj)
            else:
                res = raw(entities.patch_stored(ctx, ent, obj, {'Active': False}))
            emu.dirty = True
            return 200, res
    raise ControlError(405, 'method not allowed')
