import logging
import re

from odoo import _, api, fields, models

from .. import const
from ..tools import QboError
from ..tools.qbo_client import qbo_quote
from .qbo_binding import QboBlocked

_logger = logging.getLogger(__name__)


class AccountPayment(models.Model):
    """Customer payments registered in Odoo against sent invoices become QuickBooks Payments (opt-in).

    They go through the same binding state machine as invoices (qbo.binding): a deterministic
    requestid per payload, a marker lookup after an unknown outcome, so a payment is created once
    in QuickBooks whatever the timeouts and crashes. Payments that came from QuickBooks
    (qbo.payment.import) are never sent back, and ours are never imported back: the change feed
    recognises them by their marker even when the answer of their create was lost. Edits of a
    sent payment (amount, date, reference, what it pays) are sent as an update; a cancel voids it.
    Payments without a journal entry (a payment method without outstanding account, as Odoo
    Accounting allows) are sent too, applied to the invoices they are linked to.
    """
    _name = 'account.payment'
    _inherit = ['account.payment', 'qbo.sync.mixin']

    def _qbo_entity(self):
        """A customer payment is a QuickBooks Payment, a vendor payment a BillPayment."""
        return 'BillPayment' if self.payment_type == 'outbound' and self.partner_type == 'supplier' else 'Payment'

    @api.model
    def _qbo_synced_fields(self):
        return {'amount', 'date', 'memo', 'payment_reference', 'journal_id', 'partner_id', 'currency_id'}

    def _synchronize_to_moves(self, changed_fields):
        # The QuickBooks import updates a posted payment in place (reference, memo, date) and writes its
        # journal entry itself: Odoo 18 would rebuild the entry's lines from the payment, which would drop
        # the receivable line of each application and its reconciliation.
        if self.env.context.get('qbo_payment_in_place'):
            return
        super()._synchronize_to_moves(changed_fields)

    def action_post(self):
        """Posted again after an edit (reset to draft): a payment QuickBooks has is updated there."""
        res = super().action_post()
        for payment in self:
            binding = payment._qbo_binding()
            if binding and binding.qbo_id and binding.state in ('sent', 'variance', 'error', 'blocked'):
                binding._qbo_mark_to_send()
        return res

    # ------------------------------------------------------------------ queueing

    @api.model
    def _qbo_enqueue_payment_exports(self, limit=200):
        """Queue and send the payments of connections with 'Send Odoo payments to QuickBooks'.

        Candidates: posted inbound customer payments created since the option was turned on,
        applied to at least one invoice QuickBooks has (reconciled, or only linked when the payment
        has no journal entry), neither linked yet nor imported.
        """
        Binding = self.env['qbo.binding'].sudo()
        todo = Binding
        for connection in self.env['qbo.connection'].sudo().search([('state', '=', 'connected'),
                                                                     ('payment_export', '=', True)]):
            linked = Binding.search([('connection_id', '=', connection.id),
                                     ('res_model', '=', 'account.payment')]).mapped('res_id')
            domain = [('company_id', '=', connection.company_id.id), ('state', 'in', ('in_process', 'paid')),
                      '|', '&', ('payment_type', '=', 'inbound'), ('partner_type', '=', 'customer'),
                      '&', ('payment_type', '=', 'outbound'), ('partner_type', '=', 'supplier'),
                      ('id', 'not in', linked + self._qbo_imported_ids(connection))]
            if connection.payment_export_since:
                domain.append(('create_date', '>=', connection.payment_export_since))
            for payment in self.sudo().search(domain, limit=limit):
                if payment._qbo_document_applications(connection):
                    Binding._qbo_get_or_create(connection, payment, payment._qbo_entity())
            # Blocked for want of an invoice QuickBooks has (e.g. reset to draft, posted, then reconciled
            # again): a reconciliation is no edit of the payment, so it is looked at here.
            for binding in Binding.search([('connection_id', '=', connection.id), ('res_model', '=', 'account.payment'),
                                           ('state', '=', 'blocked')], limit=limit):
                payment = binding._qbo_record()
                if payment and payment.state in ('in_process', 'paid') and \
                        payment._qbo_document_applications(connection):
                    binding._qbo_mark_to_send()
            todo |= Binding.search([('connection_id', '=', connection.id), ('entity', 'in', ('Payment', 'BillPayment')),
                                    ('res_model', '=', 'account.payment')] + Binding._qbo_pending_domain())
        return todo._qbo_process(with_commit=True) if todo else {}

    @api.model
    def _qbo_imported_ids(self, connection):
        """Ids of the Odoo payments that book QuickBooks payments (first ones and adjustments)."""
        imports = self.env['qbo.payment.import'].sudo().search([('connection_id', '=', connection.id)])
        return (imports.payment_id | imports.adjustment_ids).ids

    @api.model
    def _qbo_waits_for_export(self, connection, payment):
        """True when `payment` is an Odoo payment the export will still send to QuickBooks (no Id yet):
        a customer payment (Payment) or a vendor payment (BillPayment)."""
        if not connection.payment_export or payment.state not in ('in_process', 'paid') \
                or (payment.payment_type, payment.partner_type) not in (('inbound', 'customer'),
                                                                        ('outbound', 'supplier')):
            return False
        binding = payment._qbo_binding(connection)
        if binding:
            return not binding.qbo_id and binding.state not in ('voided', 'deleted_in_qbo')
        if connection.payment_export_since and payment.create_date < connection.payment_export_since:
            return False
        return payment.id not in self._qbo_imported_ids(connection)

    def _qbo_document_applications(self, connection):
        """What this payment pays in QuickBooks: its invoices (a customer payment) or bills (a vendor payment)."""
        self.ensure_one()
        if self._qbo_entity() == 'BillPayment':
            return self._qbo_bill_applications(connection)
        return self._qbo_invoice_applications(connection)

    def _qbo_bill_applications(self, connection):
        """[(bill binding, amount in the payment's currency)] for the bills QuickBooks has that this vendor
        payment is reconciled with (its payable journal item against theirs)."""
        self.ensure_one()
        applications = []
        payable = self.move_id.line_ids.filtered(lambda line: line.account_id.account_type == 'liability_payable')
        for partial in payable.matched_credit_ids:
            bill = partial.credit_move_id.move_id
            binding = bill._qbo_binding(connection) if bill.move_type == 'in_invoice' else None
            if binding and binding.qbo_id and binding.state in ('sent', 'variance'):
                applications.append((binding, partial.debit_amount_currency))
        return applications

    def _qbo_invoice_applications(self, connection):
        """[(invoice binding, amount in the payment's currency)] for invoices QuickBooks has.

        With a journal entry: what each reconciliation applies. Without one (the payment method
        line has no outstanding account): the invoices the payment was registered for, each for
        what it has open, in date order, until the payment's amount is used up.
        """
        self.ensure_one()
        applications = []
        if not self.move_id:
            left = self.amount
            for invoice in self.invoice_ids.filtered(lambda m: m.move_type == 'out_invoice').sorted(
                    lambda m: (m.invoice_date or m.date, m.id)):
                binding = invoice._qbo_binding(connection)
                amount = min(left, invoice.amount_residual)
                if binding and binding.qbo_id and binding.state in ('sent', 'variance') and amount > 0:
                    applications.append((binding, amount))
                    left -= amount
            return applications
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
            if binding and binding.qbo_id and binding.state in ('sent', 'to_send', 'variance', 'error'):
                binding._qbo_mark_to_send()
        return res

    def _qbo_export(self, binding, client):
        """Create the QuickBooks Payment once, update it after an edit, void it when cancelled.

        Every write goes through the binding's intent (`qbo.binding._qbo_call`): a create whose
        outcome is unknown is looked up by its marker before anything is sent again.
        """
        self.ensure_one()
        res_ref = f"{self._name},{self.id}"
        if not binding.qbo_id and self.state == 'canceled':
            document = self._qbo_find_payment(client, binding, res_ref) if binding._qbo_pending_create() else None
            if document is None:
                # Never reached QuickBooks: nothing to void.
                if binding._qbo_pending_create():
                    binding._qbo_settle()
                binding.write({'state': 'voided', 'error_message': False})
                return
            binding._qbo_settle()
            binding.write({'qbo_id': document['Id'], 'qbo_sync_token': document['SyncToken']})
        if binding.qbo_id:
            if self.state == 'canceled':
                self._qbo_void_payment(binding, client)
            else:
                self._qbo_update_payment(binding, client)
            return
        connection = binding.connection_id
        payload = self._qbo_payment_payload(connection, binding)
        document = None
        if binding._qbo_pending_create():
            document = self._qbo_find_payment(client, binding, res_ref, payload)
            if document is not None:
                binding._qbo_settle()
        if document is None:
            # Durable intent and stable requestid (see qbo.binding._qbo_call).
            document = binding._qbo_call('create', lambda rid: client.create('Payment', payload, rid, res_ref=res_ref))
        self._qbo_write_answer(binding, document)

    def _qbo_write_answer(self, binding, document):
        """Record QuickBooks' answer (the Payment it holds now) on the binding: linked and sent."""
        binding.write({'qbo_id': document['Id'], 'qbo_sync_token': document['SyncToken'], 'state': 'sent',
                       'qbo_total': float(document.get('TotalAmt') or 0), 'odoo_total': self.amount,
                       'currency_id': self.currency_id.id})

    def _qbo_update_payment(self, binding, client):
        """Send an edit of a sent payment: a sparse update with the SyncToken we hold (lines are replaced
        all or none, as QuickBooks updates payments), read again only when QuickBooks says it is stale."""
        res_ref = f"{self._name},{self.id}"
        payload = self._qbo_payment_payload(binding.connection_id, binding)
        token = binding.qbo_sync_token or client.read('Payment', binding.qbo_id, res_ref=res_ref)['SyncToken']
        for attempt in range(2):
            body = dict(payload, Id=binding.qbo_id, SyncToken=token, sparse=True)
            try:
                document = binding._qbo_call('update', lambda rid, b=body: client.update('Payment', b, rid,
                                                                                        res_ref=res_ref))
                break
            except QboError as exc:
                if exc.code != const.FAULT_STALE_OBJECT or attempt:
                    raise
                current = client.read('Payment', binding.qbo_id, res_ref=res_ref)
                if self.env['qbo.payment.import']._qbo_is_void(current):
                    binding.write({'state': 'voided', 'error_message': _(
                        "This payment was voided in QuickBooks (Id %s): the edit was not sent.", binding.qbo_id)})
                    return
                token = current['SyncToken']
        self._qbo_write_answer(binding, document)

    def _qbo_void_payment(self, binding, client):
        """Void the QuickBooks Payment (Intuit: operation=update&include=void): its invoices are open again.

        Through the binding's intent, like every write: after an unknown outcome the read below
        finds the payment already voided and sends nothing.
        """
        res_ref = f"{self._name},{self.id}"
        current = client.read('Payment', binding.qbo_id, res_ref=res_ref)
        if self.env['qbo.payment.import']._qbo_is_void(current):
            if binding.intent_operation == 'void':
                binding._qbo_settle()
        else:
            body = {'Id': binding.qbo_id, 'SyncToken': current['SyncToken'], 'sparse': True}
            current = binding._qbo_call('void', lambda rid: client.request(
                'POST', 'payment', params={'operation': 'update', 'include': 'void'}, json_body=body,
                request_id=rid, operation='void', res_ref=res_ref)['Payment'])
        binding.write({'state': 'voided', 'error_message': False, 'qbo_sync_token': current.get('SyncToken')})

    def _qbo_payment_payload(self, connection, binding):
        """The QuickBooks Payment: customer, total, one line per invoice applied, method, reference."""
        applications = self._qbo_invoice_applications(connection)
        if not applications:
            raise QboBlocked(_("%s is not reconciled with an invoice sent to QuickBooks.", self.display_name))
        invoice = applications[0][0]._qbo_record()
        customer = invoice.commercial_partner_id._qbo_binding(connection, 'Customer')
        if not customer.qbo_id:
            raise QboBlocked(_("The customer %s is not in QuickBooks.", invoice.commercial_partner_id.display_name))
        payload = {
            'CustomerRef': {'value': customer.qbo_id},
            'TotalAmt': self.currency_id.round(self.amount),
            'TxnDate': str(self.date),
            'PrivateNote': self._qbo_private_note(binding),
            'Line': [{'Amount': self.currency_id.round(amount),
                      'LinkedTxn': [{'TxnId': invoice_binding.qbo_id, 'TxnType': 'Invoice'}]}
                     for invoice_binding, amount in applications],
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

    def _qbo_private_note(self, binding):
        """PrivateNote: the payment's number for people, then the binding's untranslated marker
        (``odoo:<database.uuid>:account.payment:<id>``, kept last: QuickBooks prefixes 'Voided - ')."""
        return f"Odoo {self.name} {binding._qbo_marker()}"

    @api.model
    def _qbo_own_payment_id(self, obj):
        """The id of the Odoo payment of this database whose marker a QuickBooks Payment carries, or None.

        Markers of other databases (another copy on the same QuickBooks company) are not ours.
        """
        marker = re.escape(self.env['qbo.mapper']._qbo_marker(self.browse()).rsplit(':', 1)[0])
        match = re.search(rf"{marker}:(\d+)\s*$", obj.get('PrivateNote') or '')
        return int(match.group(1)) if match else None

    def _qbo_find_payment(self, client, binding, res_ref, payload=None):
        """After an unknown outcome: the payment QuickBooks may have created, found by our marker among
        the customer's payments, page after page."""
        customer_id = (payload or {}).get('CustomerRef', {}).get('value') or \
            self.partner_id.commercial_partner_id._qbo_binding(binding.connection_id, 'Customer').qbo_id
        if not customer_id:
            return None
        rows = client.query_all('Payment', where=f"CustomerRef = {qbo_quote(customer_id)}", res_ref=res_ref)
        return next((row for row in rows if self._qbo_own_payment_id(row) == self.id), None)

    def _qbo_after_process(self, binding, outcome):
        if outcome == 'sent':
            body = _("Sent to QuickBooks as %(entity)s %(id)s.", entity=binding.entity, id=binding.qbo_id)
        else:
            body = _("Not sent to QuickBooks: %s", binding.error_message)
        self.sudo().message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_note')

    @api.model
    def _qbo_changed_in_qbo(self, binding, obj):
        """A payment sent from Odoo (its link: `binding`) changed in QuickBooks: our own echo is ignored, a
        void or delete shown (called by the change feed, see qbo.payment.import._qbo_sync_payment).

        An edit made there by someone else (a SyncToken beyond the one we hold) is taken as the
        current version; when it changed the amount it is shown as a variance, since the two
        systems no longer agree on what was paid (sending the Odoo payment again settles it).
        """
        if obj.get('status') == 'Deleted':
            state, message = 'deleted_in_qbo', _("This payment was deleted in QuickBooks (Id %s).", binding.qbo_id)
        elif self.env['qbo.payment.import']._qbo_is_void(obj):
            state, message = 'voided', _("This payment was voided in QuickBooks (Id %s).", binding.qbo_id)
        else:
            token = str(obj.get('SyncToken'))
            if not token.isdigit() or int(token) <= int(binding.qbo_sync_token or 0):
                return 'echo'  # our own write, or an older version read late
            total = float(obj.get('TotalAmt') or 0)
            vals = {'qbo_sync_token': token, 'qbo_total': total}
            record = binding._qbo_record()
            if record and binding.state == 'sent' and record.currency_id.compare_amounts(total, record.amount):
                vals.update(state='variance', error_message=_(
                    "Changed in QuickBooks (Id %(id)s): its total is now %(qbo)s, %(odoo)s in Odoo. Correct one of "
                    "the two; 'Send to QuickBooks' sends the Odoo payment again.", id=binding.qbo_id, qbo=total,
                    odoo=record.amount))
                record.sudo().message_post(body=vals['error_message'], message_type='comment',
                                           subtype_xmlid='mail.mt_note')
            binding.write(vals)
            return 'variance' if vals.get('state') == 'variance' else 'updated'
        if binding.state != state:
            binding.write({'state': state, 'error_message': message})
            record = binding._qbo_record()
            if record:
                record.sudo().message_post(body=message, message_type='comment', subtype_xmlid='mail.mt_note')
        return state

    @api.model
    def _qbo_link_exported_payment(self, connection, obj, entity='Payment'):
        """A QuickBooks Payment (or BillPayment: `entity`) carrying this database's payment marker that no
        binding holds by Id.

        The answer of our create was lost (timeout after commit, crash): the change feed read is
        then the lookup the next export would have made - the binding is linked and its intent
        settled, and the payment is never imported back as if it came from QuickBooks.

        :return: 'linked', 'echo' (ours, nothing to link) or None (not one of ours)
        """
        payment_id = self._qbo_own_payment_id(obj)
        if payment_id is None:
            return None
        binding = self.env['qbo.binding'].sudo().search([
            ('connection_id', '=', connection.id), ('res_model', '=', 'account.payment'), ('res_id', '=', payment_id),
            ('entity', '=', entity)], limit=1)
        if not binding or binding.qbo_id:
            # Ours, but its Odoo payment is gone, or linked to another QuickBooks payment: never imported.
            _logger.warning("QuickBooks %s %s carries the marker of Odoo payment %s, which is not waiting "
                            "for its QuickBooks Id: not imported.", entity, obj.get('Id'), payment_id)
            return 'echo'
        if binding._qbo_pending_create():
            binding._qbo_settle()
        vals = {'qbo_id': str(obj['Id']), 'qbo_sync_token': str(obj.get('SyncToken')),
                'qbo_total': float(obj.get('TotalAmt') or 0)}
        if binding.state in ('to_send', 'error'):
            payment = binding._qbo_record()
            # Created in QuickBooks; a cancel made meanwhile still has to void it (state stays to_send).
            if not payment or payment.state != 'canceled':
                vals.update(state='sent', error_message=False, error_code=False, next_retry_date=False,
                            retry_count=0, last_sync_date=fields.Datetime.now())
        binding.write(vals)
        if self.env['qbo.payment.import']._qbo_is_void(obj):
            self._qbo_changed_in_qbo(binding, obj)
        return 'linked'


class QboConnectionPaymentExport(models.AbstractModel):
    _name = 'qbo.connection.payment.export'
    _description = 'QuickBooks Online connection: sending Odoo payments'

    payment_export_since = fields.Datetime(
        readonly=True, copy=False, help="Only payments created after 'Send Odoo payments to QuickBooks' was turned on.")

    def write(self, vals):
        turned_on = self.filtered(lambda c: not c.payment_export) if vals.get('payment_export') else self.browse()
        res = super().write(vals)
        # The transaction's time, as create_date uses: payments created after this are sent.
        if turned_on:
            turned_on.write({'payment_export_since': self.env.cr.now()})
        return res
