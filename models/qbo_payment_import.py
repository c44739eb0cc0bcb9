import logging

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import const
from ..tools import QboError, QboValidationError
from . import qbo_compat

_logger = logging.getLogger(__name__)


class QboPaymentImport(models.Model):
    """One QuickBooks Payment seen by the change feed, and what it became in Odoo.

    A payment linked to documents we sent becomes an Odoo payment whose journal entry has one
    receivable line per QuickBooks application, each reconciled with its document for exactly the
    amount QuickBooks applied (partial, several invoices, credit memos); what is left unapplied
    stays open on the customer as credit. A payment that links a document we don't know is listed
    here as *Unmatched*, never guessed. Void and delete in QuickBooks unreconcile and cancel the
    Odoo payment. Unique per connection and QuickBooks Id, and skipped when its SyncToken did not
    change: the same change read twice (webhook redelivered, overlapping windows) does nothing.
    """
    _name = 'qbo.payment.import'
    _description = 'Payment received in QuickBooks Online'
    _order = 'id desc'
    _rec_name = 'qbo_id'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True, readonly=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True)
    qbo_id = fields.Char('QuickBooks Id', required=True, readonly=True)
    qbo_sync_token = fields.Char(readonly=True)
    state = fields.Selection([
        ('imported', 'Imported'),
        ('unmatched', 'Unmatched'),
        ('error', 'Error'),
        ('voided', 'Voided in QuickBooks'),
        ('deleted', 'Deleted in QuickBooks'),
    ], required=True, default='imported', readonly=True, index=True)
    message = fields.Text(readonly=True)
    qbo_customer = fields.Char('QuickBooks customer', readonly=True)
    partner_id = fields.Many2one('res.partner', readonly=True)
    txn_date = fields.Date('Date', readonly=True)
    amount = fields.Float('Total', readonly=True, digits=(16, 2))
    unapplied_amount = fields.Float('Unapplied (credit)', readonly=True, digits=(16, 2))
    currency_name = fields.Char('Currency', readonly=True)
    reference = fields.Char(readonly=True)
    payment_id = fields.Many2one('account.payment', 'Odoo payment', readonly=True, index=True)
    move_ids = fields.Many2many('account.move', string='Documents paid', readonly=True)
    data = fields.Json('QuickBooks payment', readonly=True)

    _qbo_payment_uniq = qbo_compat.Constraint('unique(connection_id, qbo_id)',
                                              'A QuickBooks payment is imported once per connection.')

    # ------------------------------------------------------------------ entry point (change feed)

    @api.model
    def _qbo_sync_payment(self, connection, obj):
        """Bring one QuickBooks Payment (or its deletion) to Odoo. Idempotent.

        :param connection: the qbo.connection it comes from
        :param dict obj: the Payment as CDC returns it (or {'Id', 'status': 'Deleted'})
        :return: 'echo', 'imported', 'unmatched', 'error', 'voided', 'deleted' or 'skipped'
        """
        qbo_id = str(obj.get('Id'))
        record = self.search([('connection_id', '=', connection.id), ('qbo_id', '=', qbo_id)], limit=1)
        exported = self.env['qbo.binding'].sudo().search([
            ('connection_id', '=', connection.id), ('entity', '=', 'Payment'), ('qbo_id', '=', qbo_id)], limit=1)
        if exported:
            # Our own payment (sent from Odoo): never imported back.
            return exported._qbo_payment_changed_in_qbo(obj)
        deleted = obj.get('status') == 'Deleted'
        if record and not deleted and record.qbo_sync_token == str(obj.get('SyncToken')):
            return 'echo'
        if not record and deleted:
            return 'skipped'
        if not record:
            record = self.create({'connection_id': connection.id, 'qbo_id': qbo_id})
        try:
            with self.env.cr.savepoint():
                return record._qbo_apply(obj)
        except UserError as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one bad payment must not hold back the feed (listed instead)
            # Details to the log and the transfer history under an incident id, not on the row.
            error = self.env['qbo.sync.log']._qbo_log_unexpected(connection, exc, f"qbo.payment.import,{record.id}")
        record.write({'state': 'error', 'message': error, 'qbo_sync_token': str(obj.get('SyncToken'))})
        return 'error'

    @api.model
    def _qbo_is_void(self, obj):
        """A voided QuickBooks payment keeps its Id with every amount at zero and 'Voided' in its note."""
        return (obj.get('PrivateNote') or '').startswith('Voided') and not float(obj.get('TotalAmt') or 0) and \
            not any(float(line.get('Amount') or 0) for line in obj.get('Line') or [])

    def _qbo_apply(self, obj):
        """(Re)build the Odoo side of this QuickBooks payment from its current version."""
        self.ensure_one()
        if obj.get('status') == 'Deleted':
            self._qbo_undo(_("Deleted in QuickBooks."))
            self.write({'state': 'deleted', 'message': _("Deleted in QuickBooks; the Odoo payment was cancelled.")})
            return 'deleted'
        vals = {
            'qbo_sync_token': str(obj.get('SyncToken')), 'data': obj,
            'qbo_customer': (obj.get('CustomerRef') or {}).get('name') or (obj.get('CustomerRef') or {}).get('value'),
            'txn_date': obj.get('TxnDate') or False, 'amount': float(obj.get('TotalAmt') or 0),
            'unapplied_amount': float(obj.get('UnappliedAmt') or 0),
            'currency_name': (obj.get('CurrencyRef') or {}).get('value'), 'reference': obj.get('PaymentRefNum'),
        }
        # A changed payment is rebuilt: the previous Odoo payment is unreconciled and cancelled.
        self._qbo_undo(_("Changed in QuickBooks (SyncToken %s).", obj.get('SyncToken')))
        if self._qbo_is_void(obj):
            self.write(dict(vals, state='voided', message=_("Voided in QuickBooks; the Odoo payment was cancelled.")))
            return 'voided'
        connection = self.connection_id
        applications, unknown = self._qbo_applications(connection, obj)
        partner = self._qbo_partner(connection, obj, applications)
        if unknown or not partner:
            problems = list(unknown)
            if not partner:
                problems.append(_("The QuickBooks customer %s is not linked to an Odoo contact.",
                                  vals['qbo_customer']))
            self.write(dict(vals, state='unmatched', partner_id=partner.id if partner else False,
                            message='\n'.join(problems), move_ids=[Command.clear()]))
            return 'unmatched'
        payment = self._qbo_create_payment(connection, obj, partner, applications)
        self.write(dict(vals, state='imported', message=False, partner_id=partner.id, payment_id=payment.id,
                        move_ids=[Command.set([move.id for move, _amount in applications])]))
        for move, amount in applications:
            move.sudo().message_post(body=_(
                "Payment received in QuickBooks (Id %(id)s): %(amount)s applied, see %(payment)s.",
                id=self.qbo_id, amount=amount, payment=payment.display_name),
                message_type='comment', subtype_xmlid='mail.mt_note')
        return 'imported'

    # ------------------------------------------------------------------ resolution

    @api.model
    def _qbo_applications(self, connection, obj):
        """[(move, amount)] per linked document, and the messages for documents we don't know."""
        Binding = self.env['qbo.binding'].sudo()
        applications = {}
        unknown = []
        for line in obj.get('Line') or []:
            amount = float(line.get('Amount') or 0)
            for link in line.get('LinkedTxn') or []:
                entity, txn_id = link.get('TxnType'), str(link.get('TxnId'))
                binding = Binding.search([('connection_id', '=', connection.id), ('entity', '=', entity),
                                          ('qbo_id', '=', txn_id)], limit=1)
                move = binding._qbo_record() if binding and binding.res_model == 'account.move' else None
                if not move:
                    unknown.append(_("QuickBooks %(entity)s %(id)s is not linked to an Odoo document.",
                                     entity=entity, id=txn_id))
                    continue
                if move.state != 'posted':
                    unknown.append(_("%s is not posted in Odoo.", move.display_name))
                    continue
                applications[move] = applications.get(move, 0.0) + amount
        for move, amount in applications.items():
            # Paid in Odoo too (registered by hand): a second payment would only make a false credit.
            if move.currency_id.compare_amounts(amount, move.amount_residual) > 0:
                unknown.append(_("%(doc)s has %(residual)s left to pay in Odoo but QuickBooks applies %(amount)s: "
                                 "was it also paid in Odoo?", doc=move.display_name, residual=move.amount_residual,
                                 amount=amount))
        return [(move, amount) for move, amount in applications.items() if amount], unknown

    @api.model
    def _qbo_partner(self, connection, obj, applications):
        """The paying customer: the documents' customer, else the linked QuickBooks customer."""
        if applications:
            return applications[0][0].commercial_partner_id
        customer_id = (obj.get('CustomerRef') or {}).get('value')
        binding = self.env['qbo.binding'].sudo().search([
            ('connection_id', '=', connection.id), ('entity', '=', 'Customer'), ('qbo_id', '=', customer_id),
            ('res_model', '=', 'res.partner')], limit=1)
        return binding._qbo_record() if binding else None

    @api.model
    def _qbo_journal(self, connection, obj):
        """(journal, deposited) from the mappings: deposit account first, then payment method, then default.

        `deposited` is True when QuickBooks deposited the money straight to the account mapped to
        the journal; Undeposited Funds (or no mapping) means "received, not yet in the bank".
        """
        Mapping = self.env['qbo.mapping'].sudo()
        ref_ids = {'deposit_account': (obj.get('DepositToAccountRef') or {}).get('value'),
                   'payment_method': (obj.get('PaymentMethodRef') or {}).get('value')}
        for mapping_type in ('deposit_account', 'payment_method'):
            if not ref_ids[mapping_type]:
                continue
            mapping = Mapping.search([('connection_id', '=', connection.id), ('mapping_type', '=', mapping_type),
                                      ('qbo_ref_id.qbo_id', '=', ref_ids[mapping_type])], limit=1)
            if mapping:
                return self.env['account.journal'].browse(mapping.res_id), mapping_type == 'deposit_account'
        journal = connection.payment_journal_id or self.env['account.journal'].search([
            ('company_id', '=', connection.company_id.id), ('type', '=', 'bank')], limit=1)
        if not journal:
            raise UserError(_("No journal for QuickBooks payments: map the payment method or deposit account to a "
                              "journal (QuickBooks mappings), or set the connection's payment journal."))
        return journal, False

    # ------------------------------------------------------------------ Odoo payment

    def _qbo_create_payment(self, connection, obj, partner, applications):
        """An inbound customer payment with one receivable line per application, reconciled exactly.

        Invoices get a credit line of the applied amount, credit notes a debit line (a $0 payment
        that applies a credit memo to an invoice nets to zero), the unapplied rest a credit line
        left open as customer credit.
        """
        self.ensure_one()
        company = connection.company_id
        journal, deposited = self._qbo_journal(connection, obj)
        currency = self.env['res.currency'].search([('name', '=', (obj.get('CurrencyRef') or {}).get('value'))],
                                                   limit=1) or company.currency_id
        rate = float(obj.get('ExchangeRate') or 1.0) if currency != company.currency_id else 1.0

        def balance(amount):
            return company.currency_id.round(amount * rate)

        method_line = journal.inbound_payment_method_line_ids[:1]
        Payment = self.env['account.payment'].with_company(company)
        outstanding = journal.default_account_id if deposited else (
            method_line.payment_account_id
            or Payment.new({'journal_id': journal.id, 'company_id': company.id})._get_outstanding_account('inbound'))
        if not outstanding:
            raise UserError(_("The journal %s has no outstanding receipts account.", journal.display_name))
        receivable = partner.with_company(company).property_account_receivable_id
        label = _("QuickBooks payment %s", self.qbo_id)
        lines, targets = [], []
        for move, amount in applications:
            sign = -1 if move.move_type == 'out_invoice' else 1  # credit the invoice, debit the credit note
            target = move.line_ids.filtered(lambda line: line.account_id.account_type == 'asset_receivable'
                                            and not line.reconciled)
            lines.append({'name': f"{label}: {move.name}", 'account_id': (target[:1].account_id or receivable).id,
                          'partner_id': partner.id, 'currency_id': currency.id,
                          'amount_currency': sign * amount, 'balance': sign * balance(amount)})
            targets.append(target)
        unapplied = float(obj.get('UnappliedAmt') or 0)
        if unapplied:
            lines.append({'name': _("%s: unapplied (customer credit)", label), 'account_id': receivable.id,
                          'partner_id': partner.id, 'currency_id': currency.id,
                          'amount_currency': -unapplied, 'balance': -balance(unapplied)})
            targets.append(None)
        total = float(obj.get('TotalAmt') or 0)
        liquidity = {'name': label, 'account_id': outstanding.id, 'partner_id': partner.id, 'currency_id': currency.id,
                     'amount_currency': total, 'balance': -sum(line['balance'] for line in lines)}
        payment = Payment.with_context(qbo_importing=True).create({
            'payment_type': 'inbound', 'partner_type': 'customer', 'partner_id': partner.id,
            'amount': total, 'currency_id': currency.id, 'date': obj.get('TxnDate') or fields.Date.today(),
            'journal_id': journal.id, 'payment_method_line_id': method_line.id,
            'outstanding_account_id': outstanding.id,
            'memo': label, 'payment_reference': obj.get('PaymentRefNum') or False,
            'line_ids': [Command.create(vals) for vals in [liquidity] + lines],
            # As the register-payment wizard does: the payment is 'paid' once its invoices are.
            'invoice_ids': [Command.set([m.id for m, _amount in applications if m.move_type == 'out_invoice'])],
        })
        # The payment recomputes it from its method line; keep the account the entry really uses.
        payment.outstanding_account_id = outstanding
        payment.action_post()
        counterparts = payment.move_id.line_ids.filtered(lambda line: line.account_id != outstanding)
        # Lines keep their creation order: one per application, in `targets` order.
        for line, target in zip(counterparts.sorted('id'), targets):
            if target:
                (line | target).reconcile()
        return payment

    def _qbo_undo(self, reason):
        """Unreconcile and cancel the Odoo payment of this record (before a rebuild, void or delete).

        The cancelled payment stays linked here, as history, until a rebuild replaces it.
        """
        for record in self.filtered(lambda r: r.payment_id and r.payment_id.state != 'canceled'):
            payment = record.payment_id
            payment.move_id.line_ids.remove_move_reconcile()
            payment.action_draft()
            payment.action_cancel()
            for move in record.move_ids:
                move.sudo().message_post(body=_("QuickBooks payment %(id)s cancelled in Odoo: %(reason)s",
                                                id=record.qbo_id, reason=reason),
                                         message_type='comment', subtype_xmlid='mail.mt_note')

    # ------------------------------------------------------------------ actions

    def action_qbo_retry(self):
        """Import again (after linking the missing document or setting a journal mapping).

        Accounting managers only. The stored row is never the input: the payment is read again
        from QuickBooks (one read per row) and rebuilt from that answer, so a row edited in the
        database cannot fabricate a payment. Gone from QuickBooks (610), it is treated as deleted.
        """
        if not self.env.su:
            self.check_access('read')
            if not self.env.user.has_group('account.group_account_manager'):
                raise AccessError(_("Only accounting managers can retry payments from QuickBooks."))
            # Rows are read-only to users: the connector writes them.
            return self.sudo().action_qbo_retry()
        for connection, records in self.filtered(lambda r: r.state in ('unmatched', 'error')).grouped(
                'connection_id').items():
            try:
                with connection._qbo_client_session() as client:
                    for record in records:
                        record._qbo_retry_with(client)
            except QboError as exc:
                return connection._qbo_notification(_("QuickBooks payments not read"),
                                                    self.env['qbo.error.advice']._qbo_describe(exc), 'danger')
        return True

    def _qbo_retry_with(self, client):
        """Read this payment from QuickBooks and rebuild its Odoo side from the answer."""
        self.ensure_one()
        try:
            obj = client.read('Payment', self.qbo_id)
        except QboValidationError as exc:
            if exc.code != const.FAULT_OBJECT_NOT_FOUND:
                raise
            obj = {'Id': self.qbo_id, 'status': 'Deleted'}
        try:
            with self.env.cr.savepoint():
                self._qbo_apply(obj)
        except UserError as exc:
            self.write({'state': 'error', 'message': str(exc)})

    def action_qbo_open_payment(self):
        self.ensure_one()
        return {'type': 'ir.actions.act_window', 'res_model': 'account.payment', 'res_id': self.payment_id.id,
                'view_mode': 'form'}
