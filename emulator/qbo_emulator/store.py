"""In-memory companies and their entities.

Objects are stored as plain JSON dicts exactly as they are returned by the API,
plus a few internal keys prefixed with ``_`` (stripped by ``util.public``):

* ``_cseq``   - creation sequence number (batch items must not see objects
                created by earlier items of the same batch);
* ``_updated`` - epoch of the last change (CDC / MetaData queries).

Deleted transactions are moved to ``Company.deleted`` so CDC can report them.
"""
import copy

from . import util

# kind: 'name' = name-list (never deleted, inactivated), 'txn' = transaction,
# 'tax' = TaxCode/TaxRate (read-only through their endpoints), 'single' = one object per company.
# seq: id sequence shared by entities ('names': Customer/Vendor/Employee, 'txn': transactions).
# label: the internal list name QBO uses in 2500 details ("Names element id 583 not found").
ENTITIES = {
    'Customer': {'kind': 'name', 'seq': 'names', 'label': 'Names'},
    'Vendor': {'kind': 'name', 'seq': 'names', 'label': 'Names'},
    'Employee': {'kind': 'name', 'seq': 'names', 'label': 'Names'},
    'Item': {'kind': 'name', 'seq': 'Item', 'label': 'Item'},
    'Account': {'kind': 'name', 'seq': 'Account', 'label': 'Accounts'},
    'Class': {'kind': 'name', 'seq': 'Class', 'label': 'Klasses'},
    'Term': {'kind': 'name', 'seq': 'Term', 'label': 'SalesTerm'},
    'PaymentMethod': {'kind': 'name', 'seq': 'PaymentMethod', 'label': 'PaymentMethod'},
    'TaxAgency': {'kind': 'name', 'seq': 'TaxAgency', 'label': 'TaxAgency'},
    'TaxCode': {'kind': 'tax', 'seq': 'TaxCode', 'label': 'TaxCode'},
    'TaxRate': {'kind': 'tax', 'seq': 'TaxRate', 'label': 'TaxRate'},
    'Invoice': {'kind': 'txn', 'seq': 'txn', 'label': 'Invoice'},
    'CreditMemo': {'kind': 'txn', 'seq': 'txn', 'label': 'CreditMemo'},
    'SalesReceipt': {'kind': 'txn', 'seq': 'txn', 'label': 'SalesReceipt'},
    'Payment': {'kind': 'txn', 'seq': 'txn', 'label': 'Payment'},
    'Bill': {'kind': 'txn', 'seq': 'txn', 'label': 'Bill'},
    'VendorCredit': {'kind': 'txn', 'seq': 'txn', 'label': 'VendorCredit'},
    'BillPayment': {'kind': 'txn', 'seq': 'txn', 'label': 'BillPayment'},
    'Purchase': {'kind': 'txn', 'seq': 'txn', 'label': 'Purchase'},
    'PurchaseOrder': {'kind': 'txn', 'seq': 'txn', 'label': 'PurchaseOrder'},
    'JournalEntry': {'kind': 'txn', 'seq': 'txn', 'label': 'JournalEntry'},
    # deleted like a transaction (REF-Attachable: delete), numbered on its own
    'Attachable': {'kind': 'txn', 'seq': 'Attachable', 'label': 'Attachable'},
    'TimeActivity': {'kind': 'txn', 'seq': 'txn', 'label': 'TimeActivity'},  # time_tracking.py
    'CompanyInfo': {'kind': 'single', 'seq': None, 'label': 'CompanyInfo'},
    'Preferences': {'kind': 'single', 'seq': None, 'label': 'Preferences'},
}

# lower-case URL segment / query name -> entity name
BY_LOWER = {k.lower(): k for k in ENTITIES}

NAME_ENTITIES = ('Customer', 'Vendor', 'Employee')


class Company:
    """One QBO company (realm)."""

    def __init__(self, realm_id, name, country, currency, tz_minutes, created):
        self.realm_id = realm_id
        self.name = name
        self.country = country
        self.currency = currency
        self.tz_minutes = tz_minutes
        self.created = created
        self.data = {e: {} for e in ENTITIES}
        self.deleted = {e: {} for e in ENTITIES}
        self.seqs = {}
        self.docnums = {}
        self.cseq = 0
        self.addr_seq = 100
        # set by the Emulator (not persisted): called as listener(realm_id, entity, id, operation, epoch,
        # deleted_id) for every change a QuickBooks webhook would report
        self.listener = None

    def notify(self, entity, obj_id, operation, now, deleted_id=None):
        """An object changed (operation: Create, Update, Delete, Void, Merge, Emailed)."""
        if self.listener is not None:
            self.listener(self.realm_id, entity, str(obj_id), operation, now, deleted_id)

    # -- basics -----------------------------------------------------------
    @property
    def is_us(self):
        return self.country == 'US'

    def next_id(self, entity):
        seq = ENTITIES[entity]['seq']
        n = self.seqs.get(seq, 0) + 1
        self.seqs[seq] = n
        return str(n)

    def bump_seq(self, entity, id_value):
        """Make sure later generated ids are above a seeded/explicit id."""
        seq = ENTITIES[entity]['seq']
        if seq and str(id_value).isdigit():
            self.seqs[seq] = max(self.seqs.get(seq, 0), int(id_value))

    def next_addr_id(self):
        self.addr_seq += 1
        return str(self.addr_seq)

    def next_cseq(self):
        self.cseq += 1
        return self.cseq

    def prefs(self):
        return self.data['Preferences']['1']

    def info(self):
        return self.data['CompanyInfo'][self.realm_id]

    def pref(self, section, key, default=None):
        return self.prefs().get(section, {}).get(key, default)

    def get(self, entity, obj_id):
        return self.data[entity].get(str(obj_id))

    def all(self, entity):
        return list(self.data[entity].values())

    def stamp(self, obj, now, created=False):
        """Set MetaData timestamps in the company's offset, plus internal bookkeeping."""
        ts = util.fmt_dt(now, self.tz_minutes)
        md = obj.setdefault('MetaData', {})
        if created or 'CreateTime' not in md:
            md['CreateTime'] = ts
            obj['_cseq'] = self.next_cseq()
        md['LastUpdatedTime'] = ts
        obj['_updated'] = now

    def put(self, entity, obj):
        self.data[entity][str(obj['Id'])] = obj
        self.bump_seq(entity, obj['Id'])

    def delete(self, entity, obj, now):
        """Hard delete (transactions); a marker is kept for CDC and the control API."""
        self.data[entity].pop(str(obj['Id']), None)
        marker = copy.deepcopy(obj)
        marker['_deleted_at'] = now
        marker['_updated'] = now
        marker.setdefault('MetaData', {})['LastUpdatedTime'] = util.fmt_dt(now, self.tz_minutes)
        self.deleted[entity][str(obj['Id'])] = marker
        self.notify(entity, obj['Id'], 'Delete', now)

    def find_name(self, display_name, exclude=None):
        """Case-insensitive DisplayName clash across Customer/Vendor/Employee (active or not)."""
        target = display_name.strip().lower()
        for ent in NAME_ENTITIES:
            for obj in self.data[ent].values():
                if exclude and obj['Id'] == exclude[1] and ent == exclude[0]:
                    continue
                if str(obj.get('DisplayName', '')).strip().lower() == target:
                    return ent, obj
        return None

    def find_by(self, entity, field, value, exclude_id=None):
        target = str(value).strip().lower()
        for obj in self.data[entity].values():
            if exclude_id is not None and obj['Id'] == exclude_id:
                continue
            if str(obj.get(field, '')).strip().lower() == target:
                return obj
        return None

    def summary(self):
        return {'realm_id': self.realm_id, 'name': self.name, 'country': self.country,
                'currency': self.currency}

    # -- persistence --------------------------------------------------------
    def to_json(self):
        return {'realm_id': self.realm_id, 'name': self.name, 'country': self.country,
                'currency': self.currency, 'tz_minutes': self.tz_minutes, 'created': self.created,
                'data': self.data, 'deleted': self.deleted, 'seqs': self.seqs, 'docnums': self.docnums,
                'cseq': self.cseq, 'addr_seq': self.addr_seq}

    @classmethod
    def from_json(cls, d):
        c = cls(d['realm_id'], d['name'], d['country'], d['currency'], d['tz_minutes'], d['created'])
        for e in ENTITIES:
            c.data[e] = d['data'].get(e, {})
            c.deleted[e] = d['deleted'].get(e, {})
        c.seqs = d['seqs']
        c.docnums = d['docnums']
        c.cseq = d['cseq']
        c.addr_seq = d['addr_seq']
        return c
