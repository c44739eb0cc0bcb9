from odoo import _, api, models


class QboExporterJournalEntry(models.AbstractModel):
    """Sends a posted miscellaneous entry of a journal that opted in to QuickBooks as a JournalEntry, once.

    The bill exporter's machinery (durable intent, marker lookups, sparse updates with the held
    SyncToken, batches, delete on cancel: QuickBooks has no void for journal entries) with the
    payload of qbo.mapper.ledger. The parity check compares QuickBooks' TotalAmt (its debit total)
    with Odoo's debits.
    """
    _name = 'qbo.exporter.journal.entry'
    _inherit = 'qbo.exporter.bill'
    _description = 'QuickBooks Online journal entry exporter'
    _qbo_entities = ('JournalEntry',)
    _qbo_export_order = 4  # after the customers and vendors its lines name
    _qbo_marker_field = 'PrivateNote'
    _qbo_app_pages = {'JournalEntry': 'journal?txnId='}
    _qbo_deleted_on_cancel = ('JournalEntry',)
    _qbo_attached_entities = ()

    @api.model
    def _qbo_payload(self, binding, move, client):
        return self.env['qbo.mapper.ledger']._qbo_prepare_journal_entry_vals(move, binding.connection_id)

    @api.model
    def _qbo_lookup_hints(self, binding, move):
        return {}  # by the intent's date and our marker only (an entry has no single party)

    @api.model
    def _qbo_deleted_message(self, binding):
        return _("Cancelled in Odoo: the QuickBooks journal entry (Id %s) was deleted; QuickBooks has no void for "
                 "journal entries.", binding.qbo_id)

    @api.model
    def _qbo_expected_total(self, binding, move):
        return self.env['qbo.mapper.ledger']._qbo_debit_total(move)

    @api.model
    def _qbo_expected_tax(self, binding, move):
        return 0.0
