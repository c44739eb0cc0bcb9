import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .qbo_mapper_payables import ENTITY_BY_BILL_TYPE

_logger = logging.getLogger(__name__)

# What each kind of Odoo document becomes in QuickBooks.
ENTITY_BY_INVOICE_TYPE = {'out_invoice': 'Invoice', 'out_refund': 'CreditMemo'}
ENTITY_BY_MOVE_TYPE = dict(ENTITY_BY_INVOICE_TYPE, **ENTITY_BY_BILL_TYPE)


class AccountMove(models.Model):
    """Posted customer invoices export as QuickBooks Invoices, credit notes as CreditMemos; vendor bills
    as Bills, vendor refunds as VendorCredits (their exporter is chosen by entity: see qbo.exporter)."""
    _name = 'account.move'
    _inherit = ['account.move', 'qbo.sync.mixin']

    qbo_doc_number = fields.Char('QuickBooks number', compute='_compute_qbo_extra',
                                 groups='account.group_account_invoice')
    qbo_variance = fields.Char('QuickBooks variance', compute='_compute_qbo_extra',
                               groups='account.group_account_invoice')
    qbo_show_button = fields.Boolean(compute='_compute_qbo_extra', groups='account.group_account_invoice')
    qbo_next_export = fields.Datetime('Next export run', compute='_compute_qbo_extra',
                                      groups='account.group_account_invoice',
                                      help="When the scheduler next sends what is queued (an estimate).")
    qbo_reissue_count = fields.Integer(
        'QuickBooks re-issues', copy=False, readonly=True, groups='account.group_account_invoice',
        help="How many times this document was sent to QuickBooks as a new document after its earlier one was "
             "voided or deleted there. With custom transaction numbers, the new document's number gets a suffix "
             "(-2, -3...): QuickBooks keeps the number of a voided document and refuses it a second time.")

    @api.depends('qbo_binding_ids.state', 'state', 'move_type')
    @api.depends_context('company')
    def _compute_qbo_extra(self):
        connections = self._qbo_connections_by_company()
        cron = self.env.ref('quickbooks_online.ir_cron_qbo_export', raise_if_not_found=False)
        next_run = cron.sudo().nextcall if cron and cron.sudo().active else False
        for move in self:
            connection = connections.get(move._qbo_company().id)
            binding = move._qbo_binding(connection) if move.id and connection else self.env['qbo.binding']
            move.qbo_doc_number = binding.qbo_doc_number if binding else False
            move.qbo_variance = binding.state == 'variance' and _(
                "QuickBooks total %(qbo)s (tax %(qtax)s) vs Odoo %(odoo)s (tax %(otax)s)",
                qbo=binding.qbo_total, qtax=binding.qbo_tax, odoo=binding.odoo_total, otax=binding.odoo_tax) or False
            move.qbo_show_button = bool(move._qbo_sends() and connection
                                        and connection.state == 'connected' and move.state == 'posted')
            # Queued (auto-send, an edit) and not waiting for a retry: the export job's next run.
            move.qbo_next_export = next_run if binding and binding.state == 'to_send' and \
                not binding.next_retry_date and connection.state == 'connected' else False

    def _qbo_entity(self):
        return ENTITY_BY_MOVE_TYPE.get(self.move_type, 'JournalEntry')

    def _qbo_sends(self):
        """Whether the connector sends this move: invoices, credit notes, vendor bills and refunds, and the
        miscellaneous entries of journals set to 'Send posted entries to QuickBooks' - not the entries
        Odoo makes for payments, bank statement lines, cash-basis taxes or exchange differences (their
        documents are sent, or QuickBooks makes its own)."""
        self.ensure_one()
        if self.move_type in ENTITY_BY_MOVE_TYPE:
            return True
        if self.move_type != 'entry' or not self.journal_id.qbo_send_entries:
            return False
        if self.origin_payment_id or self.statement_line_id or self.tax_cash_basis_origin_move_id:
            return False
        # An exchange difference entry: named by its reconciliation (partial, and full on 18.0), one query.
        reconciles = [self.env[model] for model in ('account.partial.reconcile', 'account.full.reconcile')
                      if 'exchange_move_id' in self.env[model]._fields]
        for Model in reconciles:
            Model.flush_model(['exchange_move_id'])
        tables = [SQL.identifier(Model._table) for Model in reconciles]
        self.env.cr.execute(SQL(" UNION ALL ").join(
            SQL("(SELECT 1 FROM %s WHERE exchange_move_id = %s LIMIT 1)", table, self.id) for table in tables))
        return not self.env.cr.fetchone()

    def _qbo_check_exportable(self):
        if not self._qbo_sends():
            raise UserError(_("%s is not an invoice, credit note, vendor bill or vendor refund, nor an entry of a "
                              "journal that sends its entries to QuickBooks.", self.display_name))
        if self.state != 'posted' and not self._qbo_binding():
            raise UserError(_("Post %s before sending it to QuickBooks.", self.display_name))

    # ------------------------------------------------------------------ lifecycle hooks

    def _post(self, soft=True):
        posted = super()._post(soft)
        candidates = posted.filtered(lambda m: m._qbo_sends())
        for move in candidates:
            binding = move._qbo_binding()
            if binding and binding.state in ('sent', 'variance', 'error', 'blocked'):
                binding._qbo_mark_to_send()  # re-posted after a reset to draft: update in QuickBooks
            elif binding and binding.state in ('voided', 'deleted_in_qbo'):
                # Re-posted after a cancel (voided there) or a deletion in QuickBooks: the old document
                # is gone for good (a void cannot be undone), so this posting is a new one.
                binding._qbo_exporter(move)._qbo_mark_resend_as_new(binding, move)
            elif not binding:
                connection = move._qbo_connection()
                if (connection and connection.state == 'connected'
                        and connection._qbo_auto_send_applies(move)):
                    # Queued now, sent by the scheduler at this company's next run ("Export every").
                    self.env['qbo.binding']._qbo_get_or_create(connection, move, move._qbo_entity())
        return posted

    def button_cancel(self):
        res = super().button_cancel()
        # Cancelled in Odoo -> voided in QuickBooks (queued; the export sees state 'cancel'). Queued
        # whatever the link holds: after an unknown create the export looks the document up first and
        # voids what it finds; a document that never reached QuickBooks is closed without a request.
        for move in self.filtered(lambda m: m._qbo_sends()):
            binding = move._qbo_recover_binding()
            if binding and binding.state not in ('voided', 'deleted_in_qbo'):
                binding._qbo_mark_to_send()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_in_quickbooks(self):
        """A document that is (or may be) live in QuickBooks is not deleted: it would stay open there.

        As account_edi refuses to reset a sent document, the user is told what to do instead:
        cancel it, which voids it in QuickBooks (deletes a credit memo); once the link says
        Voided (or Deleted in QuickBooks) the Odoo document can be deleted.
        """
        for move in self:
            if move._qbo_sends():
                move._qbo_recover_binding()  # a send whose request died may have reached QuickBooks
            for binding in move.sudo().qbo_binding_ids:
                if binding.state in ('voided', 'deleted_in_qbo'):
                    continue
                if binding.qbo_id:
                    raise UserError(_(
                        "%(move)s is in QuickBooks (%(entity)s %(number)s, Id %(id)s): deleting it here would leave "
                        "it open there. Cancel it instead: Odoo voids it in QuickBooks, and once its QuickBooks "
                        "status says Voided it can be deleted.", move=move.display_name, entity=binding.entity,
                        number=binding.qbo_doc_number or '', id=binding.qbo_id))
                if binding._qbo_pending_create():
                    raise UserError(_(
                        "%s may already be in QuickBooks (its last transfer did not get an answer). Cancel it "
                        "instead: Odoo looks for it in QuickBooks and voids it there; it can then be deleted.",
                        move.display_name))

    def unlink(self):
        # Links of deleted documents (never sent, voided or deleted in QuickBooks) go with them.
        bindings = self.sudo().qbo_binding_ids
        res = super().unlink()
        bindings.exists().unlink()
        return res

    @api.model
    def _qbo_enqueue_auto_send(self):
        """With 'Send posted invoices automatically', queue posted documents dated from each
        connection's cut-off that have no link yet (see qbo.connection._qbo_enqueue_auto_send)."""
        return self.env['qbo.connection']._qbo_enqueue_auto_send_all()

    # ------------------------------------------------------------------ export (qbo.exporter.invoice sends it)

    def _qbo_exporter(self):
        return self.env['qbo.exporter.invoice']

    def _qbo_dependencies(self, binding):
        """The customer (a bill's vendor, and the customers its lines are rebilled to) goes first, as a
        binding of its own (created in the document's currency if foreign)."""
        self.ensure_one()
        if self.state != 'posted':
            return []
        connection = binding.connection_id
        foreign = self.currency_id != self.company_id.currency_id
        if foreign and not connection.multi_currency:
            return []  # blocked by the currency check: no customer or vendor is created in the home currency first
        if self.move_type in ENTITY_BY_BILL_TYPE:
            parties = [(self.commercial_partner_id, 'Vendor', foreign)]
            parties += [(partner, 'Customer', False)
                        for partner in self.env['qbo.mapper.payables']._qbo_rebilled_partners(self)]
        elif self.move_type == 'entry':
            parties = [(partner, entity, foreign)
                       for partner, entity in self.env['qbo.mapper.ledger']._qbo_party_partners(self)]
        else:
            parties = [(self.commercial_partner_id, 'Customer', foreign)]
        return self._qbo_party_dependencies(connection, parties)

    def _qbo_party_dependencies(self, connection, parties):
        """The bindings of `parties` - (partner, entity, in the document's currency) - that must be sent
        before this move: those not yet in QuickBooks or queued again; a failed one is queued again."""
        self.ensure_one()
        Binding = self.env['qbo.binding']
        dependencies = []
        for partner, entity, in_document_currency in parties:
            partner_binding = Binding._qbo_get_or_create(connection, partner, entity)
            if partner_binding.qbo_id and partner_binding.state != 'to_send':
                continue
            if partner_binding.state in ('error', 'blocked'):
                partner_binding.write({'state': 'to_send', 'next_retry_date': False})
            dependencies.append((partner_binding, {'qbo_currency_id': self.currency_id.id}
                                 if in_document_currency else {}))
        return dependencies

    def _qbo_after_process(self, binding, outcome):
        self._qbo_after_process_many([(self, binding, outcome)])

    @api.model
    def _qbo_after_process_many(self, items):
        """A routine "sent" is logged (`_message_log_batch`: one insert for the batch, no notification);
        a variance or a failure, which someone must look at, is posted as a note."""
        routine = {}
        mapper = self.env['qbo.mapper']
        for move, binding, outcome in items:
            if outcome == 'sent' and binding.state == 'sent':
                # QuickBooks answers a create with SyncToken 0: anything later was an update of it.
                args = {'entity': binding.entity, 'number': binding.qbo_doc_number or '', 'id': binding.qbo_id}
                if (binding.qbo_sync_token or '0') != '0':
                    message = _("Updated in QuickBooks: %(entity)s %(number)s (Id %(id)s).", **args)
                else:
                    message = _("Sent to QuickBooks as %(entity)s %(number)s (Id %(id)s).", **args)
                routine[move.id] = '\n'.join([message] + mapper._qbo_send_notes(move, binding.connection_id))
                continue
            if outcome == 'sent' and binding.state != 'variance':
                continue  # voided: the exporter said so itself
            body = binding.error_message if binding.state == 'variance' else _(
                "Not sent to QuickBooks: %s", binding.error_message)
            move.sudo().message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_note')
        if routine:
            self.sudo().browse(list(routine))._message_log_batch(routine)

    def action_qbo_send_as_new(self):
        """After a deletion in QuickBooks: forget the old Id and create the document again."""
        for move in self:
            binding = move._qbo_binding()
            if binding and binding.state == 'deleted_in_qbo':
                binding._qbo_exporter(move)._qbo_mark_resend_as_new(binding, move)
        return self.action_qbo_send()
