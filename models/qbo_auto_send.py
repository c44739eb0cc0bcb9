from odoo import api, fields, models

from .. import const
from .account_move import ENTITY_BY_INVOICE_TYPE, ENTITY_BY_MOVE_TYPE
from .qbo_mapper_payables import ENTITY_BY_BILL_TYPE


class QboConnectionAutoSend(models.AbstractModel):
    """'Send posted invoices automatically' without a surprise backfill of the company's history.

    Only documents dated from the connection's cut-off date are queued by themselves; older ones
    can still be sent with the button or the list's server action.
    """
    _name = 'qbo.connection.auto.send'
    _description = 'QuickBooks Online connection: automatic sending'

    export_from_date = fields.Date(
        'Export documents dated from', copy=False,
        help="With 'Send posted invoices automatically', only invoices and credit notes dated from this day "
             "are queued by themselves. Older documents are sent only with 'Send to QuickBooks'. "
             "Set to the day the option is turned on when left empty.")

    def _qbo_export_from_date(self):
        """The auto-send cut-off; set to today the first time auto-send needs it."""
        self.ensure_one()
        if not self.export_from_date:
            self.sudo().export_from_date = fields.Date.context_today(self)
        return self.export_from_date

    def _qbo_auto_send_move_types(self):
        """The kinds of documents sent by themselves: invoices and credit notes with 'Send posted invoices
        automatically', vendor bills and refunds with 'Send posted vendor bills automatically'."""
        self.ensure_one()
        return ([*ENTITY_BY_INVOICE_TYPE] if self.auto_send else []) + \
            ([*ENTITY_BY_BILL_TYPE] if self.auto_send_bills else [])

    def _qbo_auto_send_applies(self, move):
        """Whether posting `move` queues it by itself (auto-send on for its kind, dated from the cut-off)."""
        self.ensure_one()
        if move.move_type == 'entry':
            return move._qbo_sends()  # the journal's own option ('Send posted entries to QuickBooks')
        date = move.invoice_date or move.date
        return move.move_type in self._qbo_auto_send_move_types() and bool(date) \
            and date >= self._qbo_export_from_date()

    def _qbo_auto_send_domain(self):
        """The posted documents the sweep below queues (a hook: bridges leave out those they send by an option
        of their own, e.g. the bills of expense reports)."""
        self.ensure_one()
        return [('company_id', '=', self.company_id.id), ('state', '=', 'posted'),
                ('move_type', 'in', self._qbo_auto_send_move_types()),
                ('invoice_date', '>=', self._qbo_export_from_date())]

    def _qbo_enqueue_auto_send(self, limit=const.AUTO_SEND_BATCH_SIZE):
        """Queue this connection's posted documents dated from the cut-off that have no link yet.

        Set-based: the database picks the documents without a binding (anti-join on a subquery),
        so the cost does not grow with the company's history; at most `limit` per call (the cron
        re-triggers itself while work remains).

        :return: the bindings created
        """
        self.ensure_one()
        Binding = self.env['qbo.binding'].sudo()
        linked = Binding._search([('connection_id', '=', self.id), ('res_model', '=', 'account.move')])
        moves = self.env['account.move'].sudo().search(self._qbo_auto_send_domain() + [
            ('id', 'not in', linked.subselect('res_id')),
        ], limit=limit, order='invoice_date, id')
        return Binding.create([{'connection_id': self.id, 'res_model': 'account.move', 'res_id': move.id,
                                'entity': ENTITY_BY_MOVE_TYPE[move.move_type]} for move in moves])

    @api.model
    def _qbo_enqueue_auto_send_all(self):
        """Cron entry: queue the new documents of every connected company when auto-send is on."""
        bindings = self.env['qbo.binding']
        # Per company: auto-send on, and its "Export every" interval elapsed (qbo_connection_settings.py).
        for connection in self._qbo_take_due_auto_send():
            bindings |= connection._qbo_enqueue_auto_send()
        return bindings
