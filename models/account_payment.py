import logging

from odoo import _, api, fields, models

from .qbo_binding import QboBlocked

_logger = logging.getLogger(__name__)


class AccountPayment(models.Model):
    """Customer payments registered in Odoo against sent invoices become QuickBooks Payments (opt-in).

    They go through the same binding state machine as invoices (qbo.binding): a deterministic
    requestid per payload, a marker lookup after an unknown outcome, so a payment is created once
    in QuickBooks whatever the timeouts and crashes. Payments that came from QuickBooks
    (qbo.payment.import) are never sent back, and ours are never imported back.
    """
    _name = 'account.payment'
    _inherit = ['account.payment', 'qbo.sync.mixin']

    def _qbo_entity(self):
        return 'Payment'

    # ------------------------------------------------------------------ queueing

    @api.model
    def _qbo_enqueue_payment_exports(self, limit=200):
        """Queue and send the payments of connections with 'Send Odoo payments to QuickBooks'.

        Candidates: posted inbound customer payments created since the option was turned on,
        reconciled with at least one invoice QuickBooks has, neither linked yet nor imported.
        """
        Binding = self.env['qbo.binding'].sudo()
        todo = Binding
        for connection in self.env['qbo.connection'].sudo().search([('state', '=', 'connected'),
                                                                     ('payment_export', '=', True)]):
            linked = Binding.search([('connection_id', '=', connection.id),
                                     ('res_model', '=', 'account.payment')]).mapped('res_id')
            imported = self.env['qbo.payment.import'].sudo().search([
                ('connection_id', '=', connection.id), ('payment_id', '!=', False)]).payment_id.ids
            domain = [('company_id', '=', connection.company_id.id), ('payment_type', '=', 'inbound'),
                      ('partner_type', '=', 'customer'), ('state', 'in', ('in_process', 'paid')),
                      ('id', 'not in', linked + imported)]
            if connection.payment_export_since:
                domain.append(('create_date', '>=', connection.payment_export_since))
            for payment in self.sudo().search(domain, limit=limit):
                if payment._qbo_invoice_applications(connection):
                    Binding._qbo_get_or_create(connection, payment, 'Payment')
            todo |= Binding.search([('connection_id', '=', connection.id), ('entity', '=', 'Payment'),
                                    ('res_model', '=', 'account.payment')] + Binding._qbo_pending_domain())
        return todo._qbo_process(with_commit=True) if todo else {}

    def _qbo_invoice_applications(self, connection):
        """[(invoice binding, amount in the payment's currency)] for invoices QuickBooks has."""
        self.ensure_one()
        applications = []
        receivable = self.move_id.line_ids.filtered(lambda line: line.account_id.account_type == 'asset_receivable')
        for partial in receivable.matched_debit_ids:
            invoice = partial.debit_move_id.move_id
            binding = invoice._qbo_binding(connection) if invoice.move_type == 'out_invoice' else None
            if binding and binding.qbo_id and binding.state in ('sent', 'variance'):
                applications.append((binding, partial.credit_amount_currency))
        return applications

    # ------------------------------------------------------------------ export

    def action_cancel(self):
        """Cancelled in Odoo -> voided in QuickBooks (queued, like invoices)."""
        res = super().action_cancel()
        for payment in self:
            binding = payment._qbo_binding()
            if binding and binding.qbo_id and binding.state == 'sent':
                binding._qbo_mark_to_send()
        return res

    def _qbo_export(self, binding, client):
        """Create the QuickBooks Payment once; a sent payment is never re-sent, only voided when cancelled."""
        self.ensure_one()
        if binding.qbo_id:
            if self.state == 'canceled':
                self._qbo_void_payment(binding, client)
            return
        connection = binding.connection_id
        payload = self._qbo_payment_payload(connection)
        res_ref = f"{self._name},{self.id}"
        document = None
        if binding._qbo_pending_create():
            document = self._qbo_find_payment(client, payload, res_ref)
            if document is not None:
                binding._qbo_settle()
        if document is None:
            # Durable intent and stable requestid (see qbo.binding._qbo_call).
            document = binding._qbo_call('create', lambda rid: client.create('Payment', payload, rid, res_ref=res_ref))
        binding.write({'qbo_id': document['Id'], 'qbo_sync_token': document['SyncToken'], 'state': 'sent',
                       'qbo_total': float(document.get('TotalAmt') or 0), 'odoo_total': self.amount,
                       'currency_id': self.currency_id.id})

    def _qbo_void_payment(self, binding, client):
        """Void the QuickBooks Payment (Intuit: operation=update&include=void): its invoices are open again."""
        res_ref = f"{self._name},{self.id}"
        current = client.read('Payment', binding.qbo_id, res_ref=res_ref)
        if not self.env['qbo.payment.import']._qbo_is_void(current):
            body = {'Id': binding.qbo_id, 'SyncToken': current['SyncToken'], 'sparse': True}
            client.request('POST', 'payment', params={'operation': 'update', 'include': 'void'}, json_body=body,
                           request_id=binding._qbo_request_id('void', body), operation='void', res_ref=res_ref)
        binding.write({'state': 'voided', 'error_message': False})

    def _qbo_payment_payload(self, connection):
        """The QuickBooks Payment: customer, total, one line per invoice applied, method, reference."""
        applications = self._qbo_invoice_applications(connection)
        if not applications:
            raise QboBlocked(_("%s is not reconciled with an invoice sent to QuickBooks.", self.display_name))
        invoice = applications[0][0]._qbo_record()
        customer = invoice.commercial_partner_id._qbo_binding(connection)
        if not customer.qbo_id:
            raise QboBlocked(_("The customer %s is not in QuickBooks.", invoice.commercial_partner_id.display_name))
        payload = {
            'CustomerRef': {'value': customer.qbo_id},
            'TotalAmt': self.currency_id.round(self.amount),
            'TxnDate': str(self.date),
            'PrivateNote': self._qbo_marker(),
            'Line': [{'Amount': self.currency_id.round(amount),
                      'LinkedTxn': [{'TxnId': binding.qbo_id, 'TxnType': 'Invoice'}]}
                     for binding, amount in applications],
        }
        reference = self.payment_reference or self.memo
        if reference:
            payload['PaymentRefNum'] = reference[:21]
        Mapping = self.env['qbo.mapping'].sudo()
        method = Mapping._qbo_find(connection, 'payment_method', self.journal_id)
        if method:
            payload['PaymentMethodRef'] = {'value': method.qbo_id}
        deposit = Mapping._qbo_find(connection, 'deposit_account', self.journal_id)
        if deposit:
            payload['DepositToAccountRef'] = {'value': deposit.qbo_id}
        company_currency = self.company_id.currency_id
        if self.currency_id != company_currency:
            payload['CurrencyRef'] = {'value': self.currency_id.name}
            payload['ExchangeRate'] = round(self.currency_id._get_conversion_rate(
                self.currency_id, company_currency, self.company_id, self.date), 6)
        return payload

    def _qbo_marker(self):
        """PrivateNote marker: finds the payment again in QuickBooks after an unknown outcome."""
        return _("Odoo payment %(name)s (id %(id)s)", name=self.name, id=self.id)

    def _qbo_find_payment(self, client, payload, res_ref):
        """After a timeout: the payment QuickBooks may have created (same date and our marker)."""
        rows = client.query(f"SELECT * FROM Payment WHERE TxnDate = '{payload['TxnDate']}'",
                            res_ref=res_ref).get('Payment', [])
        return next((row for row in rows if (row.get('PrivateNote') or '').endswith(payload['PrivateNote'])), None)

    def _qbo_after_process(self, binding, outcome):
        if outcome == 'sent':
            body = _("Sent to QuickBooks as Payment %s.", binding.qbo_id)
        else:
            body = _("Not sent to QuickBooks: %s", binding.error_message)
        self.sudo().message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_note')


class QboBindingPayment(models.Model):
    _inherit = 'qbo.binding'

    def _qbo_payment_changed_in_qbo(self, obj):
        """A payment sent from Odoo changed in QuickBooks: our own echo is ignored, a void or delete shown."""
        self.ensure_one()
        if obj.get('status') == 'Deleted':
            state, message = 'deleted_in_qbo', _("This payment was deleted in QuickBooks (Id %s).", self.qbo_id)
        elif self.env['qbo.payment.import']._qbo_is_void(obj):
            state, message = 'voided', _("This payment was voided in QuickBooks (Id %s).", self.qbo_id)
        else:
            return 'echo'
        if self.state != state:
            self.write({'state': state, 'error_message': message})
            record = self._qbo_record()
            if record:
                record.sudo().message_post(body=message, message_type='comment', subtype_xmlid='mail.mt_note')
        return state


class QboConnectionPaymentExport(models.Model):
    _inherit = 'qbo.connection'

    payment_export_since = fields.Datetime(
        readonly=True, copy=False, help="Only payments created after 'Send Odoo payments to QuickBooks' was turned on.")

    def write(self, vals):
        turned_on = self.filtered(lambda c: not c.payment_export) if vals.get('payment_export') else self.browse()
        res = super().write(vals)
        # The transaction's time, as create_date uses: payments created after this are sent.
        if turned_on:
            turned_on.write({'payment_export_since': self.env.cr.now()})
        return res
