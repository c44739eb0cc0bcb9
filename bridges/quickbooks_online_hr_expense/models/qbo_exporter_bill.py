from odoo import _, api, models


class QboExporterBillExpense(models.AbstractModel):
    """The bill exporter (and the expense exporter, built on it) for expense entries that were reset: posted but
    reversed in full (account.move `_qbo_expense_withdrawn` in this bridge). QuickBooks must hold nothing for
    them, so the export removes their Bill or Purchase as it does for a cancelled entry (neither has a void in
    this connector: both are deleted), with the same machinery: a create whose outcome is unknown is looked up
    by its marker first, the delete carries a durable intent and the held SyncToken, 610 means already gone.
    """
    _inherit = 'qbo.exporter.bill'

    @api.model
    def _qbo_withdrawn(self, move):
        return move._name == 'account.move' and move._qbo_expense_withdrawn()

    @api.model
    def _qbo_export(self, binding, move, client):
        if not self._qbo_withdrawn(move):
            return super()._qbo_export(binding, move, client)
        res_ref = f"{move._name},{move.id}"
        if not binding.qbo_id and not self._qbo_find_unknown_create(binding, move, client, res_ref):
            message = _("Reset before it reached QuickBooks: there is nothing to delete there.")
            binding._qbo_transition('voided', error_message=message)
            move.sudo().message_post(body=message, message_type='comment', subtype_xmlid='mail.mt_note')
            return None
        message = _("Reset in Odoo (the entry was reversed in full): the QuickBooks %(entity)s (Id %(id)s) was "
                    "deleted.", entity=binding.entity, id=binding.qbo_id)
        self._qbo_delete_document(binding, move, client, res_ref, message)
        return None

    @api.model
    def _qbo_batch_item(self, binding, move, client):
        """A reset entry goes alone (a delete, maybe after a lookup), never as a batch update."""
        return None if self._qbo_withdrawn(move) else super()._qbo_batch_item(binding, move, client)

    @api.model
    def _qbo_after_write(self, binding, move, client):
        """Nothing to attach to a document just deleted."""
        if self._qbo_withdrawn(move):
            return None
        return super()._qbo_after_write(binding, move, client)
