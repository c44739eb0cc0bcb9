import logging
import re

from odoo import _, api, fields, models

from .. import const
from ..tools import QboValidationError
from ..tools.qbo_client import qbo_quote
from . import qbo_compat
from .qbo_binding import QboBlocked

_logger = logging.getLogger(__name__)


# How a credit is applied, per kind of refund: the lines of the refund reconciled, where the other
# document is, its type, the amount of the partial in the refund's currency, the party of the payment.
APPLIED_SIDES = {
    'out_refund': {'account_type': 'asset_receivable', 'partials': 'matched_debit_ids', 'other_line': 'debit_move_id',
                   'document_type': 'out_invoice', 'amount': 'credit_amount_currency', 'party': 'Customer'},
    'in_refund': {'account_type': 'liability_payable', 'partials': 'matched_credit_ids',
                  'other_line': 'credit_move_id', 'document_type': 'in_invoice', 'amount': 'debit_amount_currency',
                  'party': 'Vendor'},
}


class QboCreditApplication(models.Model):
    """A credit note that Odoo reconciled with invoices, applied the same way in QuickBooks.

    QuickBooks applies a CreditMemo to an Invoice with a Payment whose lines link both (TotalAmt 0
    when the credit covers it: REF-Payment "Full update" sample); without it the invoice stays open
    there and the credit unapplied, and the customer's balance disagrees with Odoo's. One record per
    credit note holds that Payment, sent like every Payment through the binding engine (entity
    'Payment', `qbo.exporter.self`; a vendor refund's, entity 'BillPayment' with lines linking the bills and
    the VendorCredit, through qbo.exporter.bill.payment): a durable intent and a stable requestid per write, a marker
    lookup after an unknown outcome. Reconciling more or less (a partial reversal, a credit note
    reconciled later by hand, an unreconcile) replaces the Payment's lines; nothing left applied
    deletes it, as a QuickBooks user unapplies a credit. Only invoices and credit notes QuickBooks
    has take part: the others are applied once they are sent.
    """
    _name = 'qbo.credit.application'
    _inherit = ['qbo.sync.mixin']
    _description = 'QuickBooks Online credit note application'

    move_id = fields.Many2one('account.move', 'Credit note', required=True, ondelete='cascade', index=True,
                              readonly=True)
    company_id = fields.Many2one(related='move_id.company_id', store=True)
    currency_id = fields.Many2one(related='move_id.currency_id')
    qbo_sent_lines = fields.Json(
        'Applied in QuickBooks', readonly=True, copy=False,
        help="What the last write applied: [[invoice QuickBooks Id, amount]]. An unchanged reconciliation sends "
             "nothing again.")

    _move_uniq = qbo_compat.Constraint('unique(move_id)', 'A credit note has one QuickBooks application.')

    @api.depends('move_id')
    def _compute_display_name(self):
        for application in self:
            application.display_name = _("%s applied to invoices", application.move_id.display_name)

    def _qbo_entity(self):
        """A credit note is applied by a Payment, a vendor refund by a BillPayment (lines linking the bills and
        the VendorCredit, TotalAmt 0)."""
        return 'BillPayment' if self.move_id.move_type == 'in_refund' else 'Payment'

    # ------------------------------------------------------------------ what Odoo applies

    @api.model
    def _qbo_applications_of(self, refund, connection):
        """[(invoice binding, amount in the credit note's currency)] of the invoices QuickBooks has that
        Odoo reconciled `refund` with (directly: what a payment reconciles goes with that payment)."""
        amounts = {}
        side = APPLIED_SIDES[refund.move_type]
        lines = refund.line_ids.filtered(lambda line: line.account_id.account_type == side['account_type'])
        for partial in lines.mapped(side['partials']):
            invoice = partial[side['other_line']].move_id
            if invoice.move_type != side['document_type'] or invoice.state != 'posted':
                continue
            binding = invoice._qbo_binding(connection)
            if binding and binding.qbo_id and binding.state in ('sent', 'variance'):
                amounts[binding] = amounts.get(binding, 0.0) + partial[side['amount']]
        return [(binding, refund.currency_id.round(amount)) for binding, amount in amounts.items() if amount]

    @api.model
    def _qbo_lines_key(self, applications):
        """What a set of applications sends, comparable with `qbo_sent_lines`."""
        return sorted([binding.qbo_id, amount] for binding, amount in applications)

    @api.model
    def _qbo_queue_for_moves(self, moves):
        """Queue the application of every credit note among (or reconciled with) `moves` whose QuickBooks
        side no longer matches Odoo's reconciliations (called on reconcile, unreconcile and after a
        credit note or an invoice reached QuickBooks)."""
        refunds = moves.filtered(lambda m: m.move_type in APPLIED_SIDES)
        invoices = moves.filtered(lambda m: m.move_type in ('out_invoice', 'in_invoice'))
        refunds |= (invoices.line_ids.matched_credit_ids.credit_move_id.move_id
                    | invoices.line_ids.matched_debit_ids.debit_move_id.move_id).filtered(
            lambda m: m.move_type in APPLIED_SIDES)
        if not refunds:
            return
        Binding = self.env['qbo.binding'].sudo()
        existing = {app.move_id.id: app for app in self.sudo().search([('move_id', 'in', refunds.ids)])}
        for refund in refunds.sudo():
            connection = refund._qbo_connection()
            if not connection:
                continue
            application = existing.get(refund.id)
            binding = application._qbo_binding(connection) if application else Binding
            credit = refund._qbo_binding(connection)
            if not (credit and credit.qbo_id) and not (binding and binding.qbo_id):
                continue  # the credit note is not in QuickBooks: applied once it is sent
            wanted = self._qbo_lines_key(self._qbo_applications_of(refund, connection))
            if binding:
                if binding.state == 'to_send' or (wanted == (application.qbo_sent_lines or [])
                                                  and binding.state in ('sent', 'variance')):
                    continue
                if binding.state in ('voided', 'deleted_in_qbo'):
                    if not wanted:
                        continue
                    # Unapplied (its Payment deleted), now applied again: a new Payment, a new generation.
                    binding.write({'qbo_id': False, 'qbo_sync_token': False, 'state': 'to_send',
                                   'error_message': False, 'next_retry_date': False, 'retry_count': 0,
                                   'request_generation': binding.request_generation + 1})
                    binding._qbo_trigger_cron()
                else:
                    binding._qbo_mark_to_send()
            elif wanted:
                application = application or self.sudo().create({'move_id': refund.id})
                Binding._qbo_get_or_create(connection, application, application._qbo_entity())._qbo_trigger_cron()

    # ------------------------------------------------------------------ export (through qbo.exporter.self)

    def _qbo_export(self, binding, client):
        """Create, replace the lines of, or delete the QuickBooks Payment applying this credit note."""
        self.ensure_one()
        connection = binding.connection_id
        res_ref = f"{self._name},{self.id}"
        entity = binding.entity
        refund = self.move_id
        credit = refund._qbo_binding(connection)
        applications = self._qbo_applications_of(refund, connection) if refund.state == 'posted' else []
        if not binding.qbo_id and binding._qbo_pending_create():
            found = self._qbo_find_ours(binding, client, res_ref)
            if found:
                binding._qbo_settle()
                binding.write({'qbo_id': found['Id'], 'qbo_sync_token': found['SyncToken']})
            elif not applications:
                binding._qbo_forget_intent()  # proved absent, and nothing to create any more
        if not applications:
            if binding.qbo_id:
                self._qbo_delete(binding, client, res_ref)
            message = _("%s is no longer applied to an invoice in Odoo: nothing is applied in QuickBooks either.",
                        refund.display_name)
            binding.write({'state': 'voided', 'error_message': message})
            self.qbo_sent_lines = []
            return
        if not credit or not credit.qbo_id:
            raise QboBlocked(_("Send the credit note %s to QuickBooks first.", refund.display_name))
        payload = self._qbo_payload(binding, credit, applications)
        if binding.qbo_id:
            def send(sync_token):
                body = dict(payload, Id=binding.qbo_id, SyncToken=sync_token, sparse=True)
                return binding._qbo_call('update', lambda rid: client.update(entity, body, rid, res_ref=res_ref))

            sent, result = self.env['qbo.exporter.invoice']._qbo_with_held_token(
                binding, 'update', send, lambda: client.read(entity, binding.qbo_id, res_ref=res_ref))
            document = result if sent else send(result['SyncToken'])
        else:
            document = binding._qbo_call('create', lambda rid: client.create(entity, payload, rid, res_ref=res_ref))
        binding.write({'qbo_id': document['Id'], 'qbo_sync_token': document['SyncToken'], 'state': 'sent',
                       'error_message': False, 'qbo_total': float(document.get('TotalAmt') or 0),
                       'odoo_total': 0.0, 'currency_id': refund.currency_id.id})
        self.qbo_sent_lines = self._qbo_lines_key(applications)

    def _qbo_payload(self, binding, credit, applications):
        """The QuickBooks Payment (BillPayment): one line per invoice (bill), one for the credit memo (vendor
        credit), received (paid) nothing."""
        refund = self.move_id
        side = APPLIED_SIDES[refund.move_type]
        party = refund.commercial_partner_id._qbo_binding(binding.connection_id, side['party'])
        if not party or not party.qbo_id:
            raise QboBlocked(_("The %(entity)s %(name)s is not in QuickBooks.", entity=side['party'],
                               name=refund.commercial_partner_id.display_name))
        applied = refund.currency_id.round(sum(amount for _binding, amount in applications))
        lines = [{'Amount': amount, 'LinkedTxn': [{'TxnId': invoice.qbo_id, 'TxnType': invoice.entity}]}
                 for invoice, amount in applications]
        lines.append({'Amount': applied, 'LinkedTxn': [{'TxnId': credit.qbo_id, 'TxnType': credit.entity}]})
        payload = {f"{side['party']}Ref": {'value': party.qbo_id}, 'TotalAmt': 0}
        if side['party'] == 'Vendor':
            payload.update(self._qbo_bill_payment_account(binding.connection_id))
        return {
            **payload,
            'TxnDate': str(refund.invoice_date or refund.date),
            # The number for people, then the untranslated marker (kept last, see qbo.mapper._qbo_marker).
            'PrivateNote': f"Odoo {refund.name} {binding._qbo_marker()}",
            'Line': lines,
        }

    @api.model
    def _qbo_bill_payment_account(self, connection):
        """A BillPayment names the account it pays from, even for 0: the 'Bank or card account' of the
        connection's payment journal (a Check), as QuickBooks' own "apply vendor credit" does."""
        journal = connection.payment_journal_id
        account = journal and self.env['qbo.mapping']._qbo_find(connection, 'deposit_account', journal)
        if not account:
            raise QboBlocked(_("Applying a vendor credit in QuickBooks takes a bill payment of 0 from a bank account: "
                               "choose the 'Journal for QuickBooks payments' in %(settings)s and map it to its "
                               "QuickBooks bank account in %(mappings)s.",
                               settings=connection._qbo_where('settings'), mappings=connection._qbo_where('mappings')))
        return {'PayType': 'Check', 'CheckPayment': {'BankAccountRef': {'value': account.qbo_id}}}

    def _qbo_find_ours(self, binding, client, res_ref):
        """After an unknown outcome: the Payment QuickBooks may have created, by our marker among the
        customer's payments (page after page), or None."""
        side = APPLIED_SIDES[self.move_id.move_type]
        party = self.move_id.commercial_partner_id._qbo_binding(binding.connection_id, side['party'])
        if not party or not party.qbo_id:
            return None
        marker = binding._qbo_marker()
        rows = client.query_all(binding.entity, where=f"{side['party']}Ref = {qbo_quote(party.qbo_id)}",
                                res_ref=res_ref)
        return next((row for row in rows if (row.get('PrivateNote') or '').rstrip().endswith(marker)), None)

    def _qbo_delete(self, binding, client, res_ref):
        """Unapply: delete the Payment (the credit memo and the invoices are open again in QuickBooks).

        With the SyncToken we hold; read only on a stale token or after an unknown outcome. Already
        gone (610, deleted by someone, or by our own unanswered delete): nothing to do.
        """
        qbo_id, entity = binding.qbo_id, binding.entity

        def delete(sync_token):
            binding._qbo_call('delete', lambda rid: client.delete(entity, qbo_id, sync_token, rid,
                                                                  res_ref=res_ref))

        try:
            sent, current = self.env['qbo.exporter.invoice']._qbo_with_held_token(
                binding, 'delete', delete, lambda: client.read(entity, qbo_id, res_ref=res_ref))
            if not sent:
                delete(current['SyncToken'])
        except QboValidationError as exc:
            if exc.code != const.FAULT_OBJECT_NOT_FOUND:
                raise

    def _qbo_after_process(self, binding, outcome):
        """Say on the credit note what QuickBooks now applies (or why not)."""
        if outcome == 'sent' and binding.state == 'sent':
            invoices = ', '.join(self.env['qbo.binding'].sudo().search([
                ('connection_id', '=', binding.connection_id.id), ('entity', 'in', ('Invoice', 'Bill')),
                ('qbo_id', 'in', [qbo_id for qbo_id, _amount in self.qbo_sent_lines or []])]).mapped('record_name'))
            body = _("Credit applied in QuickBooks to %(invoices)s (%(entity)s %(id)s).", invoices=invoices,
                     entity=binding.entity, id=binding.qbo_id)
        elif outcome == 'sent':
            body = binding.error_message
        else:
            body = _("The credit could not be applied in QuickBooks: %s", binding.error_message)
        self.move_id.sudo().message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_note')

    @api.model
    def _qbo_own_id(self, obj):
        """The id of the application of this database whose marker a QuickBooks Payment carries, or None."""
        marker = re.escape(self.env['qbo.mapper']._qbo_marker(self.browse()).rsplit(':', 1)[0])
        match = re.search(rf"{marker}:(\d+)\s*$", obj.get('PrivateNote') or '')
        return int(match.group(1)) if match else None

    @api.model
    def _qbo_changed_in_qbo(self, binding, obj):
        """A credit application's Payment (its link: `binding`) read by the change feed: ours (echo), or
        deleted there (see qbo.payment.import._qbo_sync_payment)."""
        if obj.get('status') == 'Deleted' or self.env['qbo.payment.import']._qbo_is_void(obj):
            if binding.state in ('voided', 'deleted_in_qbo'):
                return 'echo'  # our own delete (unapplied in Odoo)
            application = binding._qbo_record()
            message = _("The QuickBooks payment applying this credit note (Id %s) was deleted or voided there: the "
                        "credit is open again in QuickBooks, not in Odoo. Unreconcile and reconcile it again in Odoo "
                        "to apply it again.", binding.qbo_id)
            binding.write({'state': 'deleted_in_qbo', 'error_message': message})
            if application:
                application.move_id.sudo().message_post(body=message, message_type='comment',
                                                        subtype_xmlid='mail.mt_note')
            return 'deleted_in_qbo'
        token = str(obj.get('SyncToken'))
        if not token.isdigit() or int(token) <= int(binding.qbo_sync_token or 0):
            return 'echo'
        binding.write({'qbo_sync_token': token})
        return 'updated'

    @api.model
    def _qbo_link_exported_payment(self, connection, obj, entity='Payment'):
        """A credit application's Payment (BillPayment) whose create answer was lost is linked, never imported.

        :return: 'linked', 'echo' (ours, nothing to link) or None (not one of ours)
        """
        application_id = self._qbo_own_id(obj)
        if application_id is None:
            return None
        binding = self.env['qbo.binding'].sudo().search([
            ('connection_id', '=', connection.id), ('res_model', '=', 'qbo.credit.application'),
            ('res_id', '=', application_id)], limit=1)
        if binding and not binding.qbo_id:
            if binding._qbo_pending_create():
                binding._qbo_settle()
            binding.write({'qbo_id': str(obj['Id']), 'qbo_sync_token': str(obj.get('SyncToken'))})
            return 'linked'
        return 'echo'
