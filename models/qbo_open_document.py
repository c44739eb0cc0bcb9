from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools import QboError
from . import qbo_compat

# The QuickBooks documents the mirror holds: the side of the ledger, the name-list reference, the sign of
# the open amount in the ledger's total, and the field that says what is open.
MIRROR_ENTITIES = {
    'Invoice': {'side': 'receivable', 'party': 'CustomerRef', 'sign': 1, 'open': 'Balance'},
    'CreditMemo': {'side': 'receivable', 'party': 'CustomerRef', 'sign': -1, 'open': 'RemainingCredit'},
    'Bill': {'side': 'payable', 'party': 'VendorRef', 'sign': 1, 'open': 'Balance'},
    'VendorCredit': {'side': 'payable', 'party': 'VendorRef', 'sign': -1, 'open': 'Balance'},
}


class QboOpenDocument(models.Model):
    """QuickBooks' open documents (invoices, credit memos, bills, vendor credits), as QuickBooks holds them.

    The QuickBooks side of the reconciliation, kept without reading QuickBooks per document: filled by
    one paged query per entity (`qbo.connection._qbo_mirror_refresh`, metered reads counted on the
    connection), then kept current by the change feed, which hands every changed document to
    `_qbo_mirror_apply`. A document that is paid, voided or deleted in QuickBooks leaves the mirror.
    """
    _name = 'qbo.open.document'
    _description = 'QuickBooks Online open document (mirror)'
    _order = 'side, qbo_party_name, due_date, id'
    _rec_name = 'doc_number'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True)
    entity = fields.Selection([(name, name) for name in MIRROR_ENTITIES], required=True)
    side = fields.Selection([('receivable', 'Receivable'), ('payable', 'Payable')], required=True, index=True)
    qbo_id = fields.Char('QuickBooks Id', required=True)
    sync_token = fields.Char()
    qbo_party_id = fields.Char('Customer/vendor Id', index=True)
    qbo_party_name = fields.Char('Customer/vendor')
    doc_number = fields.Char('Number')
    txn_date = fields.Date('Date')
    due_date = fields.Date('Due date')
    total_amt = fields.Float('Total', digits=(16, 2))
    balance = fields.Float('Open', digits=(16, 2), help="What QuickBooks holds open, in the document's currency.")
    home_balance = fields.Float('Open (home currency)', digits=(16, 2))
    currency = fields.Char()
    binding_id = fields.Many2one('qbo.binding', 'Our link', ondelete='set null', index=True,
                                 help="The Odoo document sent as this QuickBooks document, if any.")

    _qbo_object_uniq = qbo_compat.Constraint('unique(connection_id, entity, qbo_id)',
                                             'A QuickBooks document is mirrored once per connection.')

    @api.model
    def _qbo_vals(self, connection, entity, obj):
        """The mirror's fields of one QuickBooks document."""
        spec = MIRROR_ENTITIES[entity]
        party = obj.get(spec['party']) or {}
        balance = float(obj.get(spec['open'], obj.get('Balance')) or 0.0)
        currency = (obj.get('CurrencyRef') or {}).get('value') or connection.company_id.currency_id.name
        home = obj.get('HomeBalance')
        if home is None or spec['open'] != 'Balance':
            home = balance * float(obj.get('ExchangeRate') or 1.0)
        return {
            'connection_id': connection.id, 'entity': entity, 'side': spec['side'], 'qbo_id': str(obj['Id']),
            'sync_token': str(obj.get('SyncToken') or '0'), 'qbo_party_id': party.get('value') or False,
            'qbo_party_name': party.get('name') or False, 'doc_number': obj.get('DocNumber') or False,
            'txn_date': obj.get('TxnDate') or False, 'due_date': obj.get('DueDate') or obj.get('TxnDate') or False,
            'total_amt': float(obj.get('TotalAmt') or 0.0), 'balance': balance, 'home_balance': round(float(home), 2),
            'currency': currency,
        }

    @api.model
    def _qbo_store(self, connection, entity, objects, full=False):
        """Bring the mirror of `entity` to `objects` (QuickBooks' answer): open ones are created or updated,
        closed or deleted ones removed; `full`: `objects` are all of QuickBooks' open documents of
        `entity`, the others leave the mirror."""
        spec = MIRROR_ENTITIES[entity]
        existing = {doc.qbo_id: doc for doc in self.sudo().search([('connection_id', '=', connection.id),
                                                                  ('entity', '=', entity)])}
        latest = {}
        for obj in objects:
            key = str(obj.get('Id'))
            current = latest.get(key)
            if current is None or obj.get('status') == 'Deleted' or \
                    int(obj.get('SyncToken') or 0) >= int(current.get('SyncToken') or 0):
                latest[key] = obj
        gone = self.sudo()
        new = []
        for qbo_id, obj in latest.items():
            is_open = obj.get('status') != 'Deleted' and float(obj.get(spec['open'], obj.get('Balance')) or 0.0)
            doc = existing.get(qbo_id)
            if not is_open:
                gone |= doc or gone.browse()
                continue
            vals = self._qbo_vals(connection, entity, obj)
            if doc:
                doc.write(vals)
            else:
                new.append(vals)
        if full:
            gone |= self.sudo().browse([doc.id for qbo_id, doc in existing.items() if qbo_id not in latest])
        gone.unlink()
        created = self.sudo().create(new)
        (created | self.sudo().search([('connection_id', '=', connection.id), ('entity', '=', entity),
                                       ('qbo_id', 'in', list(latest))]))._qbo_link_bindings()
        return created

    def _qbo_link_bindings(self):
        """Point each document at the Odoo document sent as it (one search for the lot)."""
        if not self:
            return
        bindings = self.env['qbo.binding'].sudo().search([
            ('connection_id', 'in', self.connection_id.ids), ('entity', 'in', list(set(self.mapped('entity')))),
            ('qbo_id', 'in', self.mapped('qbo_id')), ('res_model', '=', 'account.move')])
        by_key = {(b.connection_id.id, b.entity, b.qbo_id): b for b in bindings}
        for doc in self:
            binding = by_key.get((doc.connection_id.id, doc.entity, doc.qbo_id))
            if doc.binding_id != binding:
                doc.binding_id = binding

    @api.model
    def _qbo_mirror_apply(self, connection, groups):
        """The change feed's hook: documents changed in QuickBooks ({entity: [objects]}, deletions included)
        update the mirror. Nothing is kept before the mirror was filled once (it would be partial)."""
        if not connection.qbo_mirror_date:
            return
        for entity in MIRROR_ENTITIES:
            if groups.get(entity):
                self._qbo_store(connection, entity, groups[entity])


class QboConnectionMirror(models.AbstractModel):
    """The connection's side of the mirror: when it was filled, and with how many metered reads."""
    _name = 'qbo.connection.mirror'
    _description = 'QuickBooks Online connection: mirror of open documents'

    qbo_mirror_date = fields.Datetime('Open documents read', readonly=True, copy=False,
                                      help="When QuickBooks' open documents were last read in full (since, the "
                                           "change feed keeps them current).")
    qbo_mirror_reads = fields.Integer('Metered reads of the last full read', readonly=True, copy=False)

    def _qbo_mirror_refresh(self):
        """Read QuickBooks' open invoices, credit memos, bills and vendor credits: one paged query per entity.

        :return: the number of metered reads it took (also kept on the connection)
        """
        self.ensure_one()
        Mirror = self.env['qbo.open.document']
        session = self._qbo_client_session()
        try:
            with session as client:
                for entity in MIRROR_ENTITIES:
                    # Open documents only: the paid ones of years of history are not needed to compare.
                    Mirror._qbo_store(self, entity, client.query_all(entity, where="Balance > '0'"), full=True)
        except QboError as exc:
            raise UserError(_("Reading QuickBooks' open documents failed: %s", exc)) from None
        reads = sum(1 for call in session.calls if call.get('method') == 'GET' or call.get('operation') == 'query')
        self.sudo().write({'qbo_mirror_date': fields.Datetime.now(), 'qbo_mirror_reads': reads})
        return reads
