from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools import QboError
from ..tools.qbo_client import qbo_quote

DIFFERENCE_KINDS = [
    ('missing_qbo', 'Missing in QuickBooks'),
    ('missing_odoo', 'Missing in Odoo'),
    ('total', 'Total differs'),
    ('balance', 'Open amount differs'),
    ('paid', 'Paid on one side only'),
    ('other_doc', 'Linked to a different document'),
]
FIXES = [
    ('resend', 'Send again'),
    ('relink', 'Link'),
    ('import_payment', 'Import the payment'),
    ('send_payment', 'Send the payment'),
]
# The QuickBooks payment that pays a document of each entity, and the reference to its customer or vendor.
PAYMENT_OF = {'Invoice': ('Payment', 'CustomerRef'), 'CreditMemo': ('Payment', 'CustomerRef'),
              'Bill': ('BillPayment', 'VendorRef'), 'VendorCredit': ('BillPayment', 'VendorRef')}


class QboReconciliationDocument(models.Model):
    """A document that differs between Odoo and QuickBooks, with the fix when there is one.

    Fixes go through the connector's usual paths: a send through the engine (queue, intents, Send
    button), a link made as the match review makes it (a binding in state sent with QuickBooks' Id and
    SyncToken, through the state machine), or the payment import of the change feed. The next run of
    the reconciliation shows what they changed.
    """
    _name = 'qbo.reconciliation.document'
    _description = 'QuickBooks Online reconciliation: document'
    _order = 'side, kind, id'

    run_id = fields.Many2one('qbo.reconciliation', required=True, ondelete='cascade', index=True)
    line_id = fields.Many2one('qbo.reconciliation.line', 'Partner and month', ondelete='cascade', index=True)
    connection_id = fields.Many2one(related='run_id.connection_id')
    company_id = fields.Many2one(related='run_id.company_id', store=True)
    side = fields.Selection([('receivable', 'Receivable'), ('payable', 'Payable')], required=True)
    kind = fields.Selection(DIFFERENCE_KINDS, 'Difference', required=True, index=True)
    month = fields.Char('Due month')
    partner_id = fields.Many2one('res.partner')
    entity = fields.Char('Document type')
    move_id = fields.Many2one(
        'account.move', 'Odoo document', index=True,
        domain="[('company_id', '=', company_id), ('state', '=', 'posted'), "
               "('move_type', 'in', ('out_invoice', 'out_refund') if side == 'receivable' "
               "else ('in_invoice', 'in_refund'))]",
        help="For a document missing in Odoo: choose the Odoo document it is, then Link.")
    odoo_total = fields.Float('Total in Odoo', digits=(16, 2))
    odoo_balance = fields.Float('Open in Odoo', digits=(16, 2))
    odoo_due_date = fields.Date('Due in Odoo')
    qbo_document_id = fields.Many2one('qbo.open.document', 'QuickBooks document', ondelete='set null')
    target_id = fields.Many2one('qbo.open.document', 'Link to', ondelete='set null',
                                help="The QuickBooks document the fix links the Odoo document to.")
    qbo_id = fields.Char('QuickBooks Id')
    qbo_entity = fields.Char('QuickBooks type')
    qbo_party_id = fields.Char('QuickBooks customer/vendor Id')
    qbo_party_name = fields.Char('QuickBooks customer/vendor')
    qbo_number = fields.Char('QuickBooks number')
    qbo_total = fields.Float('Total in QuickBooks', digits=(16, 2))
    qbo_balance = fields.Float('Open in QuickBooks', digits=(16, 2))
    qbo_due_date = fields.Date('Due in QuickBooks')
    note = fields.Char('What differs', compute='_compute_note')
    fix = fields.Selection(FIXES, compute='_compute_fix')
    fixed = fields.Boolean(readonly=True, help="A fix was applied; the next run checks it.")
    fix_note = fields.Char('Fix outcome', readonly=True)

    @api.depends('kind', 'move_id', 'target_id', 'odoo_balance', 'qbo_balance', 'fixed')
    def _compute_fix(self):
        for line in self:
            fix = False
            if line.kind in ('missing_qbo', 'total') and line.move_id:
                fix = 'resend'
            elif line.kind in ('missing_odoo', 'other_doc') and line.move_id and line.target_id:
                fix = 'relink'
            elif line.kind in ('balance', 'paid') and line.move_id:
                fix = 'import_payment' if line.qbo_balance < line.odoo_balance else 'send_payment'
            line.fix = False if line.fixed else fix

    @api.depends('kind', 'odoo_total', 'qbo_total', 'odoo_balance', 'qbo_balance', 'target_id', 'qbo_id')
    def _compute_note(self):
        for line in self:
            args = {'odoo_total': f"{line.odoo_total:.2f}", 'qbo_total': f"{line.qbo_total:.2f}",
                    'odoo_open': f"{line.odoo_balance:.2f}", 'qbo_open': f"{line.qbo_balance:.2f}",
                    'id': line.qbo_id or '', 'target': line.target_id.doc_number or line.target_id.qbo_id or ''}
            if line.kind == 'missing_qbo':
                note = _("Open in Odoo (%(odoo_open)s), not in QuickBooks.", **args)
            elif line.kind == 'missing_odoo' and line.move_id:
                note = _("Open in QuickBooks (%(qbo_open)s, Id %(id)s), not linked to its Odoo document.", **args)
            elif line.kind == 'missing_odoo':
                note = _("Open in QuickBooks (%(qbo_open)s, Id %(id)s), not in Odoo: choose the Odoo document it "
                         "is, or remove it in QuickBooks.", **args)
            elif line.kind == 'total':
                note = _("Total %(odoo_total)s in Odoo, %(qbo_total)s in QuickBooks.", **args)
            elif line.kind == 'other_doc':
                note = _("Linked to QuickBooks Id %(id)s, which is another document; %(target)s is this one.",
                         **args) if line.target_id else _("Linked to QuickBooks Id %(id)s, which is another "
                                                          "document (customer/vendor or number differ).", **args)
            else:
                note = _("Open %(odoo_open)s in Odoo, %(qbo_open)s in QuickBooks.", **args)
            line.note = note

    # ------------------------------------------------------------------ fixes

    def _qbo_check_fixer(self):
        self.run_id.connection_id._qbo_check_manager()

    def action_qbo_fix(self):
        """The fix of each selected line (see `fix`); the lines say what happened."""
        self._qbo_check_fixer()
        result = None
        for line in self:
            method = {'resend': line._qbo_fix_resend, 'relink': line._qbo_fix_relink,
                      'import_payment': line._qbo_fix_import_payment,
                      'send_payment': line._qbo_fix_send_payment}.get(line.fix)
            if not method:
                raise UserError(_("%s: there is no fix to apply here.", line.move_id.display_name or line.qbo_number
                                  or line.qbo_id))
            result = method()
        return result if len(self) == 1 else self.run_id[:1].connection_id._qbo_notification(
            _("Fixes applied"), _("%s fix(es) applied: run the reconciliation again to check them.", len(self)),
            'success')

    def _qbo_fix_resend(self):
        """Send the Odoo document through the engine (created, or updated with Odoo's lines)."""
        self.ensure_one()
        move = self.move_id
        binding = move._qbo_binding()
        if binding and binding.state == 'deleted_in_qbo':
            result = move.action_qbo_send_as_new()
        else:
            result = move.action_qbo_send()
        binding = move._qbo_binding()
        self.write({'fixed': bool(binding and binding.state == 'sent'),
                    'fix_note': binding.error_message or False if binding and binding.state != 'sent'
                    else _("Sent as QuickBooks Id %s.", binding.qbo_id if binding else '')})
        return result

    def _qbo_fix_relink(self):
        """Link the Odoo document to the QuickBooks document `target_id` (as the match review links)."""
        self.ensure_one()
        move, doc = self.move_id, self.target_id
        connection = self.run_id.connection_id
        Binding = self.env['qbo.binding'].sudo()
        if move._qbo_entity() != doc.entity:
            raise UserError(_("%(move)s is a %(entity)s in QuickBooks' terms, not a %(other)s.",
                              move=move.display_name, entity=move._qbo_entity(), other=doc.entity))
        holder = Binding.search([('connection_id', '=', connection.id), ('entity', '=', doc.entity),
                                 ('qbo_id', '=', doc.qbo_id)], limit=1)
        if holder and (holder.res_model, holder.res_id) != (move._name, move.id):
            raise UserError(_("QuickBooks %(entity)s %(number)s is linked to %(other)s already.",
                              entity=doc.entity, number=doc.doc_number or doc.qbo_id, other=holder.record_name))
        binding = Binding._qbo_get_or_create(connection, move, doc.entity)
        if binding.intent_request_id:
            raise UserError(_("A write of %s to QuickBooks has an unknown outcome: let it finish, then run the "
                              "reconciliation again.", move.display_name))
        if binding.state not in ('to_send', 'sent', 'variance'):
            binding._qbo_transition('to_send')
        binding.write({'qbo_id': doc.qbo_id, 'qbo_sync_token': doc.sync_token, 'qbo_doc_number': doc.doc_number})
        binding._qbo_transition('sent', last_sync_date=fields.Datetime.now(), error_message=False,
                                error_code=False, retry_count=0, next_retry_date=False)
        doc.sudo().binding_id = binding  # the mirror is written by the connector only
        self.write({'fixed': True, 'fix_note': _("Linked to QuickBooks %(entity)s %(number)s (Id %(id)s).",
                                                 entity=doc.entity, number=doc.doc_number or '', id=doc.qbo_id)})
        return True

    def _qbo_fix_import_payment(self):
        """Import the QuickBooks payments of this document (one paged query of its customer's or vendor's
        payments), through the change feed's payment import."""
        self.ensure_one()
        connection = self.run_id.connection_id
        entity = self.qbo_entity or self.move_id._qbo_entity()
        payment_entity, ref = PAYMENT_OF[entity]
        party = self.qbo_party_id or self.env['qbo.binding'].sudo().search([
            ('connection_id', '=', connection.id), ('res_model', '=', 'res.partner'),
            ('res_id', '=', self.move_id.commercial_partner_id.id),
            ('entity', '=', 'Customer' if payment_entity == 'Payment' else 'Vendor')], limit=1).qbo_id
        if not party or not self.qbo_id:
            raise UserError(_("%s is not linked to a QuickBooks document.", self.move_id.display_name))
        try:
            with connection._qbo_client_session() as client:
                payments = client.query_all(payment_entity, where=f"{ref} = {qbo_quote(party)}")
        except QboError as exc:
            raise UserError(_("QuickBooks' payments could not be read: %s", exc)) from None
        Import = self.env['qbo.payment.import'].sudo()
        outcomes = []
        for obj in payments:
            links = {(linked.get('TxnType'), str(linked.get('TxnId'))) for payment_line in obj.get('Line') or []
                     for linked in payment_line.get('LinkedTxn') or []}
            if (entity, self.qbo_id) in links:
                outcomes.append(Import._qbo_sync_payment(connection, obj, None, payment_entity))
        if not outcomes:
            raise UserError(_("No QuickBooks payment applies to %s: it was closed another way (voided, or a "
                              "journal entry); look at it in QuickBooks.", self.move_id.display_name))
        done = [outcome for outcome in outcomes if outcome in ('imported', 'updated', 'linked', 'echo')]
        self.write({'fixed': bool(done), 'fix_note': _("Payments: %s.", ', '.join(outcomes))})
        return connection._qbo_notification(
            _("Payment imported") if done else _("Payment not imported"),
            _("%(count)s QuickBooks payment(s) of %(move)s: %(outcomes)s. See Payments from QuickBooks for any "
              "that needs a look.", count=len(outcomes), move=self.move_id.display_name,
              outcomes=', '.join(outcomes)), 'success' if len(done) == len(outcomes) else 'warning')

    def _qbo_fix_send_payment(self):
        """Send to QuickBooks the Odoo payments of this document that it does not have (through the engine)."""
        self.ensure_one()
        payments = self.move_id._get_reconciled_payments()
        imported = self.env['qbo.payment.import'].sudo().search([('payment_id', 'in', payments.ids)])
        payments -= imported.payment_id
        if not payments:
            raise UserError(_("%s has no Odoo payment to send: register the payment in QuickBooks, or check the "
                              "document there.", self.move_id.display_name))
        result = payments.action_qbo_send()
        sent = all(payment._qbo_binding().state == 'sent' for payment in payments)
        self.write({'fixed': sent, 'fix_note': _("Payments sent.") if sent else _("Payments not sent: see them.")})
        return result

    def action_qbo_open_move(self):
        self.ensure_one()
        return {'type': 'ir.actions.act_window', 'res_model': 'account.move', 'res_id': self.move_id.id,
                'views': [(False, 'form')], 'target': 'current'}
