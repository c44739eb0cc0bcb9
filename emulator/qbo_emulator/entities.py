"""Create / read / update / delete / void semantics per entity (spec §2.2, §2.7, §3).

All functions expect the emulator lock to be held by the caller and raise
``errors.QBOError`` on validation failures. They return stored objects; the
HTTP layer strips internal keys with ``util.public``.
"""
import copy

from . import attachments, compute, errors, payables, time_tracking, util
from .refs import named_ref, resolve
from .seed import CLASSIFICATION, currency_ref
from .store import ENTITIES

COMMON_RO = {'Id', 'SyncToken', 'MetaData', 'domain', 'sparse', 'status'}

ACCOUNT_SUBTYPE_TYPE = {
    'SalesOfProductIncome': 'Income', 'ServiceFeeIncome': 'Income', 'DiscountsRefundsGiven': 'Income',
    'OtherPrimaryIncome': 'Income', 'UndepositedFunds': 'Other Current Asset', 'Inventory': 'Other Current Asset',
    'Checking': 'Bank', 'Savings': 'Bank', 'AccountsReceivable': 'Accounts Receivable',
    'AccountsPayable': 'Accounts Payable', 'SuppliesMaterialsCogs': 'Cost of Goods Sold',
    'OtherMiscellaneousServiceCost': 'Expense', 'SalesTaxPayable': 'Other Current Liability',
    'GlobalTaxPayable': 'Other Current Liability', 'CreditCard': 'Credit Card',
    'AdvertisingPromotional': 'Expense', 'SuppliesMaterials': 'Expense',
}
ITEM_TYPES = ('Inventory', 'NonInventory', 'Service', 'Group', 'Category')


def check_len(body, path, maxlen):
    cur = body
    for p in path.split('.'):
        if not isinstance(cur, dict):
            return
        cur = cur.get(p)
    if cur is not None and len(str(cur)) > maxlen:
        raise errors.string_length(path, maxlen, len(str(cur)))


def strip_ro(body, extra=()):
    return {k: copy.deepcopy(v) for k, v in body.items() if k not in COMMON_RO and k not in extra}


def assign_addr_ids(ctx, obj, existing, fields=('BillAddr', 'ShipAddr')):
    for f in fields:
        if isinstance(obj.get(f), dict):
            old = ((existing or {}).get(f) or {}).get('Id')
            obj[f]['Id'] = obj[f].get('Id') or old or ctx.company.next_addr_id()


def unique_name(ctx, entity, field, value, self_id):
    clash = ctx.company.find_by(entity, field, value, exclude_id=self_id)
    if clash is not None:
        raise errors.dup_name(clash['Id'])


# --------------------------------------------------------------------------- name lists
def build_person(ctx, entity, body, existing):
    """Customer / Vendor / Employee: name rules, 6080, 6240 across all three lists, defaults."""
    c = ctx.company
    for f, n in (('Title', 16), ('GivenName', 100), ('MiddleName', 100), ('FamilyName', 100), ('Suffix', 16),
                 ('DisplayName', 500), ('CompanyName', 100), ('PrintOnCheckName', 110), ('Notes', 2000),
                 ('PrimaryEmailAddr.Address', 100), ('PrimaryPhone.FreeFormNumber', 30),
                 ('Mobile.FreeFormNumber', 30), ('Fax.FreeFormNumber', 30),
                 ('AlternatePhone.FreeFormNumber', 30), ('WebAddr.URI', 1000), ('ResaleNum', 16)):
        check_len(body, f, n)
    parts = [str(body[f]).strip() for f in ('Title', 'GivenName', 'MiddleName', 'FamilyName', 'Suffix')
             if body.get(f) and str(body[f]).strip()]
    display = str(body.get('DisplayName') or '').strip() or ' '.join(parts)
    if not display:
        raise errors.no_name()
    if any(ch in display for ch in (':', '\t', '\n')):
        raise errors.invalid_property('DisplayName cannot contain a colon (:), tab or newline', 'DisplayName')
    clash = c.find_name(display, exclude=(entity, existing['Id']) if existing else None)
    if clash is not None:
        raise errors.dup_name(clash[1]['Id'])
    obj = strip_ro(body, ('FullyQualifiedName', 'BalanceWithJobs', 'Level', 'IsProject'))
    obj['DisplayName'] = display
    obj['Active'] = body.get('Active', True) is not False
    obj['PrintOnCheckName'] = body.get('PrintOnCheckName') or body.get('CompanyName') or display
    if existing is not None:
        obj['CurrencyRef'] = copy.deepcopy(existing.get('CurrencyRef'))   # read-only after create
    else:
        cur = ((body.get('CurrencyRef') or {}).get('value') or c.currency).upper()
        if cur != c.currency and not c.pref('CurrencyPrefs', 'MultiCurrencyEnabled'):
            raise errors.business('Multicurrency is not enabled for this company, the currency must be %s.'
                                  % c.currency)
        obj['CurrencyRef'] = currency_ref(cur)
    assign_addr_ids(ctx, obj, existing)
    if body.get('SalesTermRef'):
        obj['SalesTermRef'] = named_ref(resolve(ctx, 'Term', body['SalesTermRef'], 'SalesTermRef',
                                                label='SalesTerm'), 'Name')
    if body.get('TermRef'):
        obj['TermRef'] = named_ref(resolve(ctx, 'Term', body['TermRef'], 'TermRef', label='SalesTerm'), 'Name')
    if body.get('PaymentMethodRef'):
        obj['PaymentMethodRef'] = named_ref(resolve(ctx, 'PaymentMethod', body['PaymentMethodRef'],
                                                    'PaymentMethodRef'), 'Name')
    if entity == 'Customer':
        fqn = display
        obj['Job'] = False
        obj['BillWithParent'] = bool(body.get('BillWithParent', False))
        if body.get('ParentRef'):
            parent = resolve(ctx, 'Customer', body['ParentRef'], 'ParentRef', label='Names')
            obj['ParentRef'] = named_ref(parent)
            fqn = parent.get('FullyQualifiedName', parent['DisplayName']) + ':' + display
            obj['Job'] = bool(body.get('Job', True))
            obj['Level'] = parent.get('Level', 0) + 1
        obj['FullyQualifiedName'] = fqn
        obj['PreferredDeliveryMethod'] = body.get('PreferredDeliveryMethod') or 'Print'
        tax_prefs = c.prefs().get('TaxPrefs', {})
        if c.is_us and tax_prefs.get('UsingSalesTax'):
            taxable = body.get('Taxable')
            if taxable is None:
                taxable = not body.get('TaxExemptionReasonId')
            obj['Taxable'] = bool(taxable)
            if tax_prefs.get('PartnerTaxEnabled'):
                obj['DefaultTaxCodeRef'] = copy.deepcopy(tax_prefs.get('TaxGroupCodeRef') or {'value': '2'})
            elif taxable:
                ref = body.get('DefaultTaxCodeRef') or tax_prefs.get('TaxGroupCodeRef')
                if ref:
                    code = resolve(ctx, 'TaxCode', ref, 'DefaultTaxCodeRef', label='TaxCode')
                    obj['DefaultTaxCodeRef'] = {'value': code['Id']}
            else:
                obj.pop('DefaultTaxCodeRef', None)
        elif body.get('DefaultTaxCodeRef'):
            code = resolve(ctx, 'TaxCode', body['DefaultTaxCodeRef'], 'DefaultTaxCodeRef', label='TaxCode')
            obj['DefaultTaxCodeRef'] = {'value': code['Id']}
            obj.setdefault('Taxable', True)
        if existing is None:
            opening = util.round2(compute.to_dec(body.get('Balance', 0) or 0, 'Balance'))
            obj['Balance'] = util.num(opening)
            obj['_opening'] = util.num(opening)
        else:
            obj['Balance'] = existing.get('Balance', 0)
            obj['_opening'] = existing.get('_opening', 0)
        obj['BalanceWithJobs'] = obj['Balance']
        if existing is not None and existing.get('Active', True) and not obj['Active'] and obj['Balance']:
            raise errors.business('Delete List Has Balance Error : This customer cannot be deleted because it '
                                  'has a non-zero balance.')
    elif entity == 'Vendor':
        check_len(body, 'AcctNum', 100)
        check_len(body, 'TaxIdentifier', 20)
        obj['Vendor1099'] = bool(body.get('Vendor1099', False))
        obj['Balance'] = existing.get('Balance', 0) if existing else 0
        if existing is not None and existing.get('Active', True) and not obj['Active'] and obj['Balance']:
            raise errors.business('Delete List Has Balance Error : This vendor cannot be deleted because it has '
                                  'a non-zero balance.')
    else:
        obj.setdefault('BillableTime', False)
    return obj


def build_item(ctx, body, existing):
    if not body.get('Name'):
        raise errors.required_missing('Name', 'Name')
    check_len(body, 'Name', 100)
    check_len(body, 'Description', 4000)
    check_len(body, 'Sku', 100)
    if ':' in str(body['Name']):
        raise errors.invalid_property('Name cannot contain a colon (:)', 'Name')
    unique_name(ctx, 'Item', 'Name', body['Name'], existing and existing['Id'])
    itype = body.get('Type') or (existing or {}).get('Type')
    if not itype:
        raise errors.required_missing('Type', 'Type')
    if itype not in ITEM_TYPES:
        raise errors.invalid_enum(itype, 'Type')
    obj = strip_ro(body, ('FullyQualifiedName', 'Level'))
    obj['Type'] = itype
    obj['Active'] = body.get('Active', True) is not False
    need = {'Service': ['IncomeAccountRef'], 'NonInventory': ['IncomeAccountRef'],
            'Inventory': ['IncomeAccountRef', 'ExpenseAccountRef', 'AssetAccountRef']}.get(itype, [])
    for f in need:
        if not body.get(f):
            raise errors.required_missing(f, f)
    for f in ('IncomeAccountRef', 'ExpenseAccountRef', 'AssetAccountRef'):
        if body.get(f):
            obj[f] = named_ref(resolve(ctx, 'Account', body[f], f, label='Accounts'), 'Name')
    if itype == 'Inventory':
        if existing is None and body.get('QtyOnHand') is None:
            raise errors.required_missing('QtyOnHand', 'QtyOnHand')
        if existing is None and not body.get('InvStartDate'):
            raise errors.required_missing('InvStartDate', 'InvStartDate')
        if existing is not None and existing.get('TrackQtyOnHand') and body.get('TrackQtyOnHand') is False:
            raise errors.business('You cannot turn off quantity tracking for an inventory item.')
        obj['TrackQtyOnHand'] = True
    else:
        obj['TrackQtyOnHand'] = False
    for f in ('SalesTaxCodeRef', 'PurchaseTaxCodeRef'):
        if body.get(f):
            obj[f] = named_ref(resolve(ctx, 'TaxCode', body[f], f, label='TaxCode'), 'Name')
    if body.get('ClassRef'):
        obj['ClassRef'] = named_ref(resolve(ctx, 'Class', body['ClassRef'], 'ClassRef', label='Klasses'), 'Name')
    fqn = body['Name']
    if body.get('ParentRef'):
        parent = resolve(ctx, 'Item', body['ParentRef'], 'ParentRef', label='Item')
        obj['ParentRef'] = named_ref(parent, 'Name')
        obj['SubItem'] = True
        fqn = parent.get('FullyQualifiedName', parent['Name']) + ':' + fqn
        obj['Level'] = parent.get('Level', 0) + 1
    obj['FullyQualifiedName'] = fqn
    obj.setdefault('Taxable', False)
    obj.setdefault('UnitPrice', 0)
    obj.setdefault('PurchaseCost', 0)
    return obj


def build_account(ctx, body, existing):
    if not body.get('Name'):
        raise errors.required_missing('Name', 'Name')
    check_len(body, 'Name', 100)
    check_len(body, 'AcctNum', 20)
    check_len(body, 'Description', 100)
    if ':' in str(body['Name']) or '"' in str(body['Name']):
        raise errors.invalid_property('Name cannot contain a colon (:) or double quote (")', 'Name')
    unique_name(ctx, 'Account', 'Name', body['Name'], existing and existing['Id'])
    atype, sub = body.get('AccountType'), body.get('AccountSubType')
    if not atype and not sub:
        raise errors.err(6010, 'Invalid account type', 'You must select an account type / detail type.')
    if not atype:
        atype = ACCOUNT_SUBTYPE_TYPE.get(sub)
        if not atype:
            raise errors.invalid_enum(sub, 'AccountSubType')
    if atype not in CLASSIFICATION:
        raise errors.invalid_enum(atype, 'AccountType')
    obj = strip_ro(body, ('FullyQualifiedName', 'Classification', 'CurrentBalance',
                          'CurrentBalanceWithSubAccounts'))
    obj['AccountType'] = atype
    if sub:
        obj['AccountSubType'] = sub
    obj['Classification'] = CLASSIFICATION[atype]
    obj['Active'] = body.get('Active', True) is not False
    obj['CurrencyRef'] = copy.deepcopy((existing or {}).get('CurrencyRef') or currency_ref(ctx.company.currency))
    fqn = body['Name']
    obj['SubAccount'] = False
    if body.get('ParentRef'):
        parent = resolve(ctx, 'Account', body['ParentRef'], 'ParentRef', label='Accounts')
        obj['ParentRef'] = named_ref(parent, 'Name')
        obj['SubAccount'] = True
        fqn = parent['FullyQualifiedName'] + ':' + fqn
    obj['FullyQualifiedName'] = fqn
    obj['CurrentBalance'] = (existing or {}).get('CurrentBalance', 0)
    obj['CurrentBalanceWithSubAccounts'] = (existing or {}).get('CurrentBalanceWithSubAccounts', 0)
    return obj


def build_class(ctx, body, existing):
    if not body.get('Name'):
        raise errors.required_missing('Name', 'Name')
    check_len(body, 'Name', 100)
    unique_name(ctx, 'Class', 'Name', body['Name'], existing and existing['Id'])
    obj = strip_ro(body, ('FullyQualifiedName',))
    obj['Active'] = body.get('Active', True) is not False
    obj['SubClass'] = False
    fqn = body['Name']
    if body.get('ParentRef'):
        parent = resolve(ctx, 'Class', body['ParentRef'], 'ParentRef', label='Klasses')
        obj['ParentRef'] = named_ref(parent, 'Name')
        obj['SubClass'] = True
        fqn = parent['FullyQualifiedName'] + ':' + fqn
    obj['FullyQualifiedName'] = fqn
    return obj


def build_term(ctx, body, existing):
    if not body.get('Name'):
        raise errors.required_missing('Name', 'Name')
    check_len(body, 'Name', 31)
    unique_name(ctx, 'Term', 'Name', body['Name'], existing and existing['Id'])
    obj = strip_ro(body)
    obj['Active'] = body.get('Active', True) is not False
    if body.get('DayOfMonthDue') is not None:
        obj['Type'] = 'DATE_DRIVEN'
    else:
        obj['Type'] = 'STANDARD'
        days = int(body.get('DueDays') or 0)
        if not 0 <= days <= 999:
            raise errors.err(2040, 'Invalid Number', 'DueDays must be between 0 and 999', 'DueDays')
        obj['DueDays'] = days
    obj.setdefault('DiscountPercent', 0)
    obj.setdefault('DiscountDays', 0)
    return obj


def build_simple_named(ctx, entity, field, body, existing, defaults):
    if not body.get(field):
        raise errors.required_missing(field, field)
    check_len(body, field, 100 if entity != 'TaxAgency' else 100)
    unique_name(ctx, entity, field, body[field], existing and existing['Id'])
    obj = strip_ro(body)
    if entity != 'TaxAgency':
        obj['Active'] = body.get('Active', True) is not False
    for k, v in defaults.items():
        obj.setdefault(k, v)
    return obj


def build(ctx, entity, body, existing=None):
    """Dispatch to the builder of ``entity``; returns (obj, side_effects or None)."""
    if entity == 'Employee':
        return time_tracking.build_employee(ctx, body, existing, build_person), None
    if entity in ('Customer', 'Vendor'):
        return build_person(ctx, entity, body, existing), None
    if entity == 'TimeActivity':
        return time_tracking.build_time_activity(ctx, body, existing), None
    if entity == 'Item':
        return build_item(ctx, body, existing), None
    if entity == 'Account':
        return build_account(ctx, body, existing), None
    if entity == 'Class':
        return build_class(ctx, body, existing), None
    if entity == 'Term':
        return build_term(ctx, body, existing), None
    if entity == 'PaymentMethod':
        return build_simple_named(ctx, entity, 'Name', body, existing, {'Type': 'NON_CREDIT_CARD'}), None
    if entity == 'TaxAgency':
        return build_simple_named(ctx, entity, 'DisplayName', body, existing,
                                  {'TaxTrackedOnSales': True, 'TaxTrackedOnPurchases': False}), None
    if entity in compute.SALES_FORMS:
        if existing is not None and existing.get('_voided'):
            raise errors.business('This transaction has been voided and cannot be modified.')
        return compute.build_sales_txn(ctx, entity, body, existing), None
    if entity == 'Payment':
        return compute.build_payment(ctx, body, existing)
    if entity in payables.ENTITIES_HERE:
        return payables.build(ctx, entity, body, existing)
    if entity == 'Attachable':
        return attachments.build_attachable(ctx, body, existing), None
    raise errors.unsupported('Operation Create is not supported for %s.' % entity)


# --------------------------------------------------------------------------- writes
def finish_new(ctx, entity, obj):
    c = ctx.company
    obj['Id'] = c.next_id(entity)
    obj['SyncToken'] = '0'
    obj['domain'] = 'QBO'
    obj['sparse'] = False
    c.stamp(obj, ctx.now, created=True)
    c.put(entity, obj)
    c.notify(entity, obj['Id'], 'Create', ctx.now)
    return obj


def finish_update(ctx, entity, existing, obj):
    c = ctx.company
    obj['Id'] = existing['Id']
    obj['SyncToken'] = str(int(existing.get('SyncToken', '0')) + 1)
    obj['domain'] = 'QBO'
    obj['sparse'] = False
    obj['MetaData'] = {'CreateTime': existing['MetaData']['CreateTime']}
    obj['_cseq'] = existing.get('_cseq', 0)
    c.stamp(obj, ctx.now)
    c.put(entity, obj)
    c.notify(entity, obj['Id'], 'Update', ctx.now)
    return obj


def touch(ctx, obj, entity=None, operation='Update'):
    """QBO itself changed the object (e.g. a payment applied): SyncToken and LastUpdatedTime move; a webhook
    event (``operation``) is emitted when ``entity`` is given."""
    obj['SyncToken'] = str(int(obj.get('SyncToken', '0')) + 1)
    ctx.company.stamp(obj, ctx.now)
    if entity:
        ctx.company.notify(entity, obj['Id'], operation, ctx.now)


def apply_payment_links(ctx, pay_id, old, new):
    """Move payment applications from ``old`` to ``new`` ({(TxnType, TxnId): Decimal}) on the targets."""
    c = ctx.company
    touched = set(old) | set(new)
    for key in touched:
        ttype, tid = key
        target = c.get(ttype, tid)
        if target is None:
            continue
        applied = dict(target.get('_applied') or {})
        applied.pop(pay_id, None)
        if key in new and new[key]:
            applied[pay_id] = util.num(new[key])
        target['_applied'] = applied
        paid = sum((util.D(v) for v in applied.values()), util.D(0))
        total = util.D(target.get('TotalAmt', 0))
        if ttype == 'Invoice':
            target['Balance'] = util.num(total - util.D(target.get('Deposit', 0)) - paid)
            target['LinkedTxn'] = [lt for lt in target.get('LinkedTxn', []) if lt.get('TxnType') != 'Payment']
            target['LinkedTxn'] += [{'TxnId': p, 'TxnType': 'Payment'} for p in applied]
        else:
            target['Balance'] = util.num(total - paid)
            target['RemainingCredit'] = util.num(total - paid)
        if 'HomeBalance' in target:
            target['HomeBalance'] = util.num(util.round2(util.D(target['Balance']) *
                                                         util.D(target.get('ExchangeRate', 1))))
        touch(ctx, target, ttype)


def recompute_customer_balance(ctx, customer_id):
    c = ctx.company
    cust = c.get('Customer', customer_id)
    if cust is None:
        return
    bal = util.D(cust.get('_opening', 0))
    for inv in c.data['Invoice'].values():
        if inv['CustomerRef']['value'] == customer_id:
            bal += util.D(inv.get('Balance', 0))
    for cm in c.data['CreditMemo'].values():
        if cm['CustomerRef']['value'] == customer_id:
            bal -= util.D(cm.get('RemainingCredit', 0))
    for p in c.data['Payment'].values():
        if p['CustomerRef']['value'] == customer_id:
            bal -= util.D(p.get('UnappliedAmt', 0))
    bal += payables.journal_effect(c, 'Customer', customer_id)
    cust['Balance'] = util.num(bal)
    cust['BalanceWithJobs'] = cust['Balance']


def payment_links(obj):
    out = {}
    for ln in obj.get('Line', []):
        for lt in ln.get('LinkedTxn', []):
            key = (lt['TxnType'], str(lt['TxnId']))
            out[key] = out.get(key, util.D(0)) + util.D(ln.get('Amount', 0))
    return out


def after_write(ctx, entity, obj, old=None, side=None):
    if entity == 'Payment':
        old_links = payment_links(old) if old is not None else {}
        apply_payment_links(ctx, obj['Id'], old_links, side or {})
    cust_ids = {((o or {}).get('CustomerRef') or {}).get('value') for o in (obj, old)}
    if entity in ('Invoice', 'CreditMemo', 'Payment'):
        for cid in cust_ids:
            if cid:
                recompute_customer_balance(ctx, cid)
    if entity in payables.ENTITIES_HERE:
        payables.after_write(ctx, entity, obj, old, side)


def create(ctx, entity, body):
    kind = ENTITIES[entity]['kind']
    if kind in ('tax', 'single'):
        raise errors.unsupported('Operation Create is not supported for %s.' % entity)
    body = util.clean_input(body)
    obj, side = build(ctx, entity, body)
    finish_new(ctx, entity, obj)
    after_write(ctx, entity, obj, None, side)
    return obj


def fetch_for_write(ctx, entity, body):
    if body.get('Id') is None:
        raise errors.required_missing('Id', 'Id')
    obj_id = str(body['Id'])
    existing = ctx.lookup(entity, obj_id)
    if existing is None:
        if ENTITIES[entity]['kind'] == 'txn' or ctx.company.deleted[entity].get(obj_id):
            raise errors.deleted_object()
        raise errors.invalid_ref(ENTITIES[entity]['label'], obj_id)
    if body.get('SyncToken') is None:
        raise errors.required_missing('SyncToken', 'SyncToken')
    if str(body['SyncToken']) != str(existing.get('SyncToken', '0')):
        raise errors.stale()
    return existing


def update(ctx, entity, body):
    """Full update (omitted writable fields become NULL) or sparse update (``"sparse": true``)."""
    kind = ENTITIES[entity]['kind']
    if entity == 'Preferences':
        return update_preferences(ctx, body)
    if kind in ('tax', 'single'):
        raise errors.unsupported('Operation Update is not supported for %s.' % entity)
    body = util.clean_input(body)
    existing = fetch_for_write(ctx, entity, body)
    if body.get('sparse') in (True, 'true'):
        merged = util.public(existing)
        merged.update(body)
        if (entity in compute.SALES_FORMS or entity in payables.EXPENSE_FORMS) and 'Line' not in body:
            # keep the tax code the server chose, but let it recompute everything else
            merged['TxnTaxDetail'] = {k: v for k, v in (existing.get('TxnTaxDetail') or {}).items()
                                      if k == 'TxnTaxCodeRef'}
        source = merged
    else:
        source = dict(body)
    old = copy.deepcopy(existing)
    obj, side = build(ctx, entity, source, existing)
    finish_update(ctx, entity, existing, obj)
    after_write(ctx, entity, obj, old, side)
    return obj


def delete(ctx, entity, body):
    """Hard delete of a transaction; name lists cannot be deleted (inactivate instead)."""
    if ENTITIES[entity]['kind'] != 'txn':
        raise errors.unsupported('Operation Delete is not supported for %s. Make the object inactive instead.'
                                 % entity)
    body = util.clean_input(body)
    existing = fetch_for_write(ctx, entity, body)
    return delete_obj(ctx, entity, existing)


def delete_obj(ctx, entity, existing):
    if entity == 'Payment':
        apply_payment_links(ctx, existing['Id'], payment_links(existing), {})
    elif entity == 'BillPayment':
        payables.apply_bill_links(ctx, existing['Id'], payment_links(existing), {})
    elif existing.get('_applied'):
        raise errors.business('This transaction has payments applied to it. Delete or unlink the payments '
                              'first.')
    ctx.company.delete(entity, existing, ctx.now)
    after_write(ctx, entity, existing, None)
    return {'status': 'Deleted', 'domain': 'QBO', 'Id': existing['Id']}


def void(ctx, entity, body):
    if entity not in compute.VOIDABLE:
        # REF-CreditMemo lists create, read, update, delete, query, send and PDF: no void.
        raise errors.unsupported('Operation Void is not supported for %s.' % entity)
    body = util.clean_input(body)
    existing = fetch_for_write(ctx, entity, body)
    return void_obj(ctx, entity, existing)


def void_obj(ctx, entity, existing):
    if existing.get('_applied'):
        raise errors.business('This transaction has payments applied to it. Delete or unlink the payments '
                              'first.')
    if entity == 'Payment':
        apply_payment_links(ctx, existing['Id'], payment_links(existing), {})
        for ln in existing.get('Line', []):
            ln['Amount'] = 0
        existing['TotalAmt'] = 0
        existing['UnappliedAmt'] = 0
        note = existing.get('PrivateNote')
        existing['PrivateNote'] = 'Voided' + (' - ' + note if note else '')
        existing['_voided'] = True
    elif entity == 'BillPayment':
        payables.void_bill_payment(ctx, existing)
    else:
        compute.void_sales_txn(existing)
    touch(ctx, existing, entity, 'Void')
    after_write(ctx, entity, existing, None)
    return existing


# --------------------------------------------------------------------------- preferences
WRITABLE_PREFS = {
    'SalesFormsPrefs': {'CustomTxnNumbers', 'AllowDiscount', 'AllowShipping', 'AllowDeposit', 'AllowServiceDate',
                        'AllowEstimates', 'DefaultDiscountAccount', 'DefaultTerms', 'CustomField',
                        'DefaultCustomerMessage', 'AutoApplyCredit', 'AutoApplyPayments', 'UsingPriceLevels',
                        'IPNSupportEnabled', 'ETransactionAttachPDF', 'ETransactionPaymentEnabled',
                        'EmailCopyToCompany', 'SalesEmailCc', 'SalesEmailBcc', 'DefaultShippingAccount'},
    'AccountingInfoPrefs': {'ClassTrackingPerTxn', 'ClassTrackingPerTxnLine', 'TrackDepartments',
                            'DepartmentTerminology', 'CustomerTerminology', 'BookCloseDate'},
    'CurrencyPrefs': {'MultiCurrencyEnabled'},
    'EmailMessagesPrefs': None, 'ProductAndServicesPrefs': None, 'TimeTrackingPrefs': None,
    'VendorAndPurchasesPrefs': None, 'OtherPrefs': None,
}


def update_preferences(ctx, body):
    """Only the writable preferences change (see WRITABLE_PREFS); read-only ones such as TaxPrefs and
    CurrencyPrefs.HomeCurrency are silently kept, as QBO does."""
    body = util.clean_input(body)
    prefs = ctx.company.prefs()
    if body.get('SyncToken') is None:
        raise errors.required_missing('SyncToken', 'SyncToken')
    if str(body['SyncToken']) != str(prefs.get('SyncToken', '0')):
        raise errors.stale()
    new = copy.deepcopy(prefs)
    for section, allowed in WRITABLE_PREFS.items():
        sup = body.get(section)
        if not isinstance(sup, dict):
            continue
        target = new.setdefault(section, {})
        for k, v in sup.items():
            if allowed is None or k in allowed:
                target[k] = copy.deepcopy(v)
    acc = new.get('AccountingInfoPrefs', {})
    if acc.get('ClassTrackingPerTxn') and acc.get('ClassTrackingPerTxnLine'):
        raise errors.business('Class tracking can be per transaction or per line, not both.')
    if prefs.get('CurrencyPrefs', {}).get('MultiCurrencyEnabled') and \
            not new.get('CurrencyPrefs', {}).get('MultiCurrencyEnabled'):
        raise errors.business('Multicurrency cannot be turned off once it is turned on.')
    return finish_update(ctx, 'Preferences', prefs, new)


def patch_stored(ctx, entity, existing, fields):
    """Control API: change an object as another QuickBooks user would (validation relaxed)."""
    old = copy.deepcopy(existing)
    merged = util.deep_merge(util.public(existing), fields)
    side = None
    if entity == 'Payment' and not existing.get('_voided'):
        # Rebuilt like a saved payment, so that its applications (and the invoices' Balances) follow the edit
        # instead of being dropped.
        obj, side = compute.build_payment(ctx, merged, existing)
        for k, v in existing.items():
            if k.startswith('_'):
                obj[k] = v
    elif entity in compute.SALES_FORMS and not existing.get('_voided'):
        src = dict(merged)
        if 'TxnTaxDetail' not in fields:
            src['TxnTaxDetail'] = {k: v for k, v in (existing.get('TxnTaxDetail') or {}).items()
                                   if k == 'TxnTaxCodeRef'}
        obj = compute.build_sales_txn(ctx, entity, src, existing)
        for k in ('Id', 'SyncToken', 'MetaData', 'domain', 'sparse'):
            obj.pop(k, None)
    elif entity in payables.ENTITIES_HERE and not existing.get('_voided'):
        # Rebuilt like a saved form: totals, balances and bill payment applications follow the edit.
        src = dict(merged)
        if 'TxnTaxDetail' not in fields:
            src['TxnTaxDetail'] = {}
        obj, side = payables.build(ctx, entity, src, existing)
    else:
        obj = merged
        for k, v in existing.items():
            if k.startswith('_'):
                obj[k] = v
    if existing.get('_pseudo'):
        obj['_pseudo'] = True
        obj['MetaData'] = copy.deepcopy(existing['MetaData'])
        obj['MetaData']['LastUpdatedTime'] = util.fmt_dt(ctx.now, ctx.company.tz_minutes)
        obj['_updated'] = ctx.now
        ctx.company.put(entity, obj)
        ctx.company.notify(entity, obj['Id'], 'Update', ctx.now)
        return obj
    finish_update(ctx, entity, existing, obj)
    after_write(ctx, entity, obj, old, side)
    return obj
