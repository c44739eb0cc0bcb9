import logging
from typing import NamedTuple

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools.misc import formatLang

from .. import const
from ..tools import QboError, QboValidationError
from . import qbo_compat

_logger = logging.getLogger(__name__)


class PaymentKind(NamedTuple):
    """What tells a customer Payment from a BillPayment coming back from QuickBooks."""
    party_ref: str        # the QuickBooks reference to the payer or payee
    party_entity: str     # the binding entity of the Odoo partner behind it
    partner_type: str     # account.payment partner_type
    direction: int        # +1: money received (inbound payment), -1: money paid out (outbound)
    account_type: str     # the journal items the payment is reconciled with
    documents: dict       # {QuickBooks document it links: Odoo move type}
    paid_move_type: str   # the document it pays (the other one is a credit applied with it)
    reference: str        # the QuickBooks field of the payment's reference (check number)


# The models whose records send payments to QuickBooks (their links: qbo.binding), asked in this order
# whether a Payment or BillPayment read from QuickBooks carries their marker (see `_qbo_sync_payment`).
PAYMENT_SENDERS = ('qbo.credit.application', 'account.payment')
PAYMENT_KINDS = {
    'Payment': PaymentKind('CustomerRef', 'Customer', 'customer', 1, 'asset_receivable',
                           {'Invoice': 'out_invoice', 'CreditMemo': 'out_refund'}, 'out_invoice', 'PaymentRefNum'),
    'BillPayment': PaymentKind('VendorRef', 'Vendor', 'supplier', -1, 'liability_payable',
                               {'Bill': 'in_invoice', 'VendorCredit': 'in_refund'}, 'in_invoice', 'DocNumber'),
}


class QboPaymentImport(models.Model):
    """One QuickBooks Payment or BillPayment seen by the change feed, and what it became in Odoo.

    A payment linked to documents we sent becomes an Odoo payment whose journal entry has one
    receivable line per QuickBooks application, each reconciled with its document for exactly the
    amount QuickBooks applied (partial, several invoices, credit memos); what is left unapplied
    stays open on the customer as credit. A BillPayment is the same in the other direction (see
    `PAYMENT_KINDS`): an outbound vendor payment with one payable line per bill or vendor credit it
    applies, paid from the journal mapped to its bank or card account. A payment that links a
    document we don't know is listed here as *Unmatched*, never guessed. Void and delete in
    QuickBooks unreconcile and cancel the Odoo payment. Unique per connection, entity and
    QuickBooks Id, and skipped when its SyncToken did not change: the same change read twice
    (webhook redelivered, overlapping windows) does nothing.

    An edit in QuickBooks never undoes accounting work done in Odoo: an edit that keeps the amounts
    (memo, date, reference, deposit account) updates the Odoo payment in place, and an amount change
    books only the difference, as an adjustment payment of the same QuickBooks payment (see
    `_qbo_book_difference`), so that a bank-statement match or a reconciliation made by a user stays
    as it is. `booked` records what the Odoo payments hold, to compute that difference.
    """
    _name = 'qbo.payment.import'
    _description = 'Payment received in QuickBooks Online'
    _order = 'id desc'
    _rec_name = 'qbo_id'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True, readonly=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True)
    qbo_entity = fields.Selection([('Payment', 'Customer payment'), ('BillPayment', 'Bill payment')],
                                  'QuickBooks type', required=True, default='Payment', readonly=True, index=True)
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
    qbo_customer = fields.Char('QuickBooks customer or vendor', readonly=True)
    partner_id = fields.Many2one('res.partner', readonly=True)
    txn_date = fields.Date('Date', readonly=True)
    amount = fields.Float('Total', readonly=True, digits=(16, 2))
    unapplied_amount = fields.Float('Unapplied (credit)', readonly=True, digits=(16, 2))
    currency_name = fields.Char('Currency', readonly=True)
    reference = fields.Char(readonly=True)
    private_note = fields.Char('QuickBooks memo', readonly=True)
    payment_id = fields.Many2one('account.payment', 'Odoo payment', readonly=True, index=True)
    adjustment_ids = fields.Many2many(
        'account.payment', 'qbo_payment_import_adjustment_rel', 'import_id', 'payment_id', string='Adjustments',
        readonly=True, help="Amount changes made in QuickBooks after the import: each books only the difference.")
    booked = fields.Json(readonly=True, help="What the Odoo payments hold: the total, the unapplied amount and the "
                                             "amount applied per document.")
    move_ids = fields.Many2many('account.move', string='Documents paid', readonly=True)
    data = fields.Json('QuickBooks payment', readonly=True)

    _qbo_payment_uniq = qbo_compat.Constraint('unique(connection_id, qbo_entity, qbo_id)',
                                              'A QuickBooks payment is imported once per connection.')

    def _qbo_kind(self):
        """The `PaymentKind` of this record (a customer Payment when there is no record)."""
        return PAYMENT_KINDS[self[:1].qbo_entity or 'Payment']

    def _qbo_is_paid_document(self, move):
        """Whether this kind of payment pays `move` (an invoice, a bill) rather than applies it as a credit (a
        credit note, a vendor credit). A hook for bridges whose documents pay the same way (expense receipts)."""
        return move.move_type == self._qbo_kind().paid_move_type

    # ------------------------------------------------------------------ entry point (change feed)

    @api.model
    def _qbo_sync_payment(self, connection, obj, documents=None, entity='Payment'):
        """Bring one QuickBooks Payment or BillPayment (or its deletion) to Odoo. Idempotent.

        :param connection: the qbo.connection it comes from
        :param dict obj: the payment as CDC returns it (or {'Id', 'status': 'Deleted'})
        :param dict documents: {(entity, Id): object} of the invoices, credit memos, bills and vendor
            credits read with it (their Balance is what QuickBooks holds open); what is missing is read
            when needed
        :param str entity: 'Payment' or 'BillPayment' (a key of `PAYMENT_KINDS`)
        :return: 'echo', 'linked', 'imported', 'updated', 'unmatched', 'error', 'voided', 'deleted' or 'skipped'
        """
        qbo_id = str(obj.get('Id'))
        record = self.search([('connection_id', '=', connection.id), ('qbo_entity', '=', entity),
                              ('qbo_id', '=', qbo_id)], limit=1)
        Binding = self.env['qbo.binding'].sudo()
        exported = Binding.search([
            ('connection_id', '=', connection.id), ('entity', '=', entity), ('qbo_id', '=', qbo_id)], limit=1)
        if exported:
            # Our own payment (sent from Odoo): never imported back.
            return self.env[exported.res_model]._qbo_changed_in_qbo(exported, obj)
        deleted = obj.get('status') == 'Deleted'
        if not record and not deleted:
            # Sent from this database but its Id never recorded (the answer of the create was lost): the
            # marker says so, and the change feed serves as the lookup.
            for sender in PAYMENT_SENDERS:
                linked = self.env[sender]._qbo_link_exported_payment(connection, obj, entity)
                if linked:
                    return linked
        if record and not deleted and record.qbo_sync_token == str(obj.get('SyncToken')):
            return 'echo'
        if not record and deleted:
            return 'skipped'
        if not record:
            record = self.create({'connection_id': connection.id, 'qbo_entity': entity, 'qbo_id': qbo_id})
        try:
            with self.env.cr.savepoint():
                return record._qbo_apply(obj, documents)
        except UserError as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one bad payment must not hold back the feed (listed instead)
            # Details to the log and the transfer history under an incident id, not on the row.
            error = self.env['qbo.sync.log']._qbo_log_unexpected(connection, exc, f"qbo.payment.import,{record.id}")
        # The version that failed is kept: Retry applies it, not the one before.
        record.write({'state': 'error', 'message': error, 'qbo_sync_token': str(obj.get('SyncToken')), 'data': obj})
        return 'error'

    @api.model
    def _qbo_is_void(self, obj):
        """A voided QuickBooks payment keeps its Id with every amount at zero and 'Voided' in its note."""
        return (obj.get('PrivateNote') or '').startswith('Voided') and not float(obj.get('TotalAmt') or 0) and \
            not any(float(line.get('Amount') or 0) for line in obj.get('Line') or [])

    def _qbo_live_payments(self):
        """The Odoo payments that book this QuickBooks payment now (the first one and its adjustments)."""
        self.ensure_one()
        return (self.payment_id | self.adjustment_ids).filtered(lambda payment: payment.state != 'canceled')

    def _qbo_apply(self, obj, documents=None):
        """Bring the Odoo side of this QuickBooks payment to its current version.

        First version: one Odoo payment. Later versions: the same payment updated in place when the
        amounts are unchanged, else only the difference booked (`_qbo_book_difference`). Void and
        delete unreconcile and cancel what was booked: the payment no longer exists in QuickBooks.
        """
        self.ensure_one()
        if obj.get('status') == 'Deleted':
            self._qbo_undo(_("Deleted in QuickBooks."))
            self.write({'state': 'deleted', 'booked': False,
                        'message': _("Deleted in QuickBooks; the Odoo payment was cancelled.")})
            return 'deleted'
        kind = self._qbo_kind()
        party = obj.get(kind.party_ref) or {}
        vals = {
            'qbo_sync_token': str(obj.get('SyncToken')), 'data': obj,
            'qbo_customer': party.get('name') or party.get('value'),
            'txn_date': obj.get('TxnDate') or False, 'amount': float(obj.get('TotalAmt') or 0),
            'unapplied_amount': self._qbo_unapplied(obj),
            'currency_name': (obj.get('CurrencyRef') or {}).get('value'), 'reference': obj.get(kind.reference),
            'private_note': obj.get('PrivateNote') or False,
        }
        if self._qbo_is_void(obj):
            self._qbo_undo(_("Voided in QuickBooks."))
            self.write(dict(vals, state='voided', booked=False,
                            message=_("Voided in QuickBooks; the Odoo payment was cancelled.")))
            return 'voided'
        connection = self.connection_id
        live = self._qbo_live_payments()
        if live and not self.booked and self.state == 'imported' and self.data:
            # Imported before `booked` was recorded: the version it holds is the one last applied.
            self.booked = self._qbo_booked_vals(self.data, self._qbo_resolve(connection, self.data))
        applications, unknown = self._qbo_applications(connection, obj, documents)
        partner = self._qbo_partner(connection, obj, applications)
        vendor = kind.party_entity == 'Vendor'
        if live and partner and partner != live[:1].partner_id.commercial_partner_id:
            unknown.append(_("The payment moved to another vendor in QuickBooks (%s).", vals['qbo_customer'])
                           if vendor else
                           _("The payment moved to another customer in QuickBooks (%s).", vals['qbo_customer']))
        if unknown or not partner:
            problems = list(unknown)
            if not partner:
                problems.append(_("The QuickBooks vendor %s is not linked to an Odoo contact.", vals['qbo_customer'])
                                if vendor else
                                _("The QuickBooks customer %s is not linked to an Odoo contact.",
                                  vals['qbo_customer']))
            if live:
                problems.append(_("Odoo keeps the previous version of this payment (%s) until this is resolved.",
                                  live[:1].display_name))
            self.write(dict(vals, state='unmatched', partner_id=partner.id if partner else False,
                            message='\n'.join(problems)))
            return 'unmatched'
        if not live:
            payment = self._qbo_create_payment(connection, obj, partner, applications)
            self.write({'payment_id': payment.id, 'adjustment_ids': [Command.clear()]})
            notes, outcome = [], 'imported'
            changed = applications
        else:
            payment = live[:1]
            notes = self._qbo_update_in_place(payment, obj)
            changed = self._qbo_book_difference(connection, obj, partner, applications)
            outcome = 'updated'
        self.write(dict(vals, state='imported', message='\n'.join(notes) or False, partner_id=partner.id,
                        move_ids=[Command.set([move.id for move, _amount in applications])],
                        booked=self._qbo_booked_vals(obj, applications)))
        for move, amount in changed:
            money = formatLang(self.env, amount, currency_obj=move.currency_id)  # "$ 1,458.00", not "1458.0"
            if outcome != 'imported':
                body = _("Payment %(id)s changed in QuickBooks: %(amount)s more applied (negative: taken back), see "
                         "%(payment)s.", id=self.qbo_id, amount=money, payment=payment.display_name)
            elif vendor:
                body = _("Bill payment made in QuickBooks (Id %(id)s): %(amount)s applied, see %(payment)s.",
                         id=self.qbo_id, amount=money, payment=payment.display_name)
            else:
                body = _("Payment received in QuickBooks (Id %(id)s): %(amount)s applied, see %(payment)s.",
                         id=self.qbo_id, amount=money, payment=payment.display_name)
            move.sudo().message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_note')
        return outcome

    def _qbo_unapplied(self, obj):
        """What the payment leaves unapplied: customer credit (UnappliedAmt), or a BillPayment's total
        beyond what its lines apply to bills net of vendor credits (an advance to the vendor)."""
        if self._qbo_kind().party_entity == 'Customer':
            return float(obj.get('UnappliedAmt') or 0)
        applied = 0.0
        for line in obj.get('Line') or []:
            for link in (line.get('LinkedTxn') or [])[:1]:
                applied += float(line.get('Amount') or 0) * (-1 if link.get('TxnType') == 'VendorCredit' else 1)
        return round(float(obj.get('TotalAmt') or 0) - applied, 2)

    @api.model
    def _qbo_resolve(self, connection, obj):
        """[(move, amount)] of the documents of `obj` Odoo has (no checks: what a booked version applied)."""
        Binding = self.env['qbo.binding'].sudo()
        amounts = {}
        for line in obj.get('Line') or []:
            for link in line.get('LinkedTxn') or []:
                if link.get('TxnType') not in self._qbo_kind().documents:
                    continue
                binding = Binding.search([('connection_id', '=', connection.id), ('entity', '=', link.get('TxnType')),
                                          ('qbo_id', '=', str(link.get('TxnId')))], limit=1)
                move = binding._qbo_record() if binding and binding.res_model == 'account.move' else None
                if move:
                    amounts[move] = amounts.get(move, 0.0) + float(line.get('Amount') or 0)
        return list(amounts.items())

    @api.model
    def _qbo_booked_vals(self, obj, applications):
        """What booking `obj` with `applications` makes the Odoo payments hold (the `booked` field)."""
        return {'total': float(obj.get('TotalAmt') or 0), 'unapplied': self._qbo_unapplied(obj),
                'lines': [[move.id, amount] for move, amount in applications]}

    def _qbo_booked_amounts(self):
        """{move id: amount applied} by the Odoo payments of this record (what `booked` says)."""
        self.ensure_one()
        if not self._qbo_live_payments():
            return {}
        return {move_id: amount for move_id, amount in (self.booked or {}).get('lines') or []}

    # ------------------------------------------------------------------ resolution

    def _qbo_applications(self, connection, obj, documents=None):
        """[(move, amount)] per linked document, and the messages for what cannot be booked.

        Never pays an invoice twice across the two systems: what this version adds to a document
        (its difference from what is booked) must fit what Odoo has open, and must not leave Odoo
        with less open than QuickBooks itself has (then the document was also paid in Odoo by a
        payment QuickBooks does not know, whether the amounts match exactly or not). Odoo payments
        still on their way to QuickBooks (payment export) are counted as QuickBooks will count them.
        """
        Binding = self.env['qbo.binding'].sudo()
        applications = {}
        links = {}
        unknown = []
        for line in obj.get('Line') or []:
            amount = float(line.get('Amount') or 0)
            for link in line.get('LinkedTxn') or []:
                entity, txn_id = link.get('TxnType'), str(link.get('TxnId'))
                binding = Binding.search([('connection_id', '=', connection.id), ('entity', '=', entity),
                                          ('qbo_id', '=', txn_id)], limit=1)
                if entity not in self._qbo_kind().documents:
                    binding = None  # not a document this kind of payment pays (never reconciled across kinds)
                move = binding._qbo_record() if binding and binding.res_model == 'account.move' else None
                if not move:
                    unknown.append(_("QuickBooks %(entity)s %(id)s is not linked to an Odoo document.",
                                     entity=entity, id=txn_id))
                    continue
                if move.state != 'posted':
                    unknown.append(_("%s is not posted in Odoo.", move.display_name))
                    continue
                applications[move] = applications.get(move, 0.0) + amount
                links[move] = (entity, txn_id)
        booked = self._qbo_booked_amounts() if self else {}
        for move, amount in applications.items():
            added = amount - booked.get(move.id, 0.0)
            currency = move.currency_id
            if currency.compare_amounts(added, 0) <= 0:
                continue
            if currency.compare_amounts(added, move.amount_residual) > 0:
                # Paid in Odoo too (registered by hand): a second payment would only make a false credit.
                unknown.append(_("%(doc)s has %(residual)s left to pay in Odoo but QuickBooks applies %(amount)s: "
                                 "was it also paid in Odoo?", doc=move.display_name, residual=move.amount_residual,
                                 amount=added))
                continue
            qbo_open = self._qbo_document_open(connection, *links[move], documents=documents)
            if qbo_open is None:
                continue
            expected = qbo_open - self._qbo_pending_export(connection, move)
            left = move.amount_residual - added
            if currency.compare_amounts(left, expected) < 0:
                unknown.append(_("QuickBooks still has %(open)s open on %(doc)s, but with this payment Odoo would "
                                 "have %(left)s left to pay: was it also paid in Odoo?", open=qbo_open,
                                 doc=move.display_name, left=currency.round(left)))
        return [(move, amount) for move, amount in applications.items() if amount], unknown

    @api.model
    def _qbo_document_open(self, connection, entity, txn_id, documents=None):
        """What QuickBooks holds open on a document (its Balance), from the objects read with the
        payment, else read now; None when it cannot be read (the Odoo-side checks still apply)."""
        document = (documents or {}).get((entity, txn_id))
        if document is None:
            try:
                with connection._qbo_client_session() as client:
                    document = client.read(entity, txn_id)
            except Exception:  # noqa: BLE001 - offline: fall back to the Odoo-side checks
                _logger.info("QuickBooks %s %s could not be read for its balance", entity, txn_id, exc_info=True)
                return None
            if documents is not None:
                documents[(entity, txn_id)] = document
        balance = document.get('RemainingCredit' if entity == 'CreditMemo' else 'Balance', document.get('Balance'))
        return float(balance) if balance is not None else None

    @api.model
    def _qbo_pending_export(self, connection, move):
        """What Odoo payments reconciled with `move` apply to it but QuickBooks does not have yet:
        payments queued for the payment export (no QuickBooks Id yet). QuickBooks will count them."""
        if not connection.payment_export:
            return 0.0
        Payment = self.env['account.payment']
        pending = 0.0
        account_type = self._qbo_kind().account_type
        receivable = move.line_ids.filtered(lambda line: line.account_id.account_type == account_type)
        for partial in receivable.matched_debit_ids | receivable.matched_credit_ids:
            other = partial.credit_move_id if partial.debit_move_id in receivable else partial.debit_move_id
            payment = other.move_id.origin_payment_id
            if payment and Payment._qbo_waits_for_export(connection, payment):
                amount = partial.credit_amount_currency if partial.debit_move_id in receivable \
                    else partial.debit_amount_currency
                pending += amount
        # Payments without a journal entry (no outstanding account, Odoo Accounting) only link the invoice.
        for payment in move.matched_payment_ids.filtered(lambda p: not p.move_id):
            if Payment._qbo_waits_for_export(connection, payment):
                pending += payment.amount
        return pending

    @api.model
    def _qbo_partner(self, connection, obj, applications):
        """The paying customer (or the vendor paid): the documents' partner, else the linked QuickBooks one."""
        if applications:
            return applications[0][0].commercial_partner_id
        kind = self._qbo_kind()
        party_id = (obj.get(kind.party_ref) or {}).get('value')
        binding = self.env['qbo.binding'].sudo().search([
            ('connection_id', '=', connection.id), ('entity', '=', kind.party_entity), ('qbo_id', '=', party_id),
            ('res_model', '=', 'res.partner')], limit=1)
        return binding._qbo_record() if binding else None

    @api.model
    def _qbo_journal(self, connection, obj):
        """(journal, deposited) from the mappings: deposit account first, then payment method, then default.

        `deposited` is True when QuickBooks deposited the money straight to the account mapped to
        the journal; Undeposited Funds (or no mapping) means "received, not yet in the bank". A
        BillPayment is paid from its bank account (Check) or card account (CreditCard): the journal
        mapped to that account, the money taken from it directly.
        """
        Mapping = self.env['qbo.mapping'].sudo()
        if self._qbo_kind().party_entity == 'Vendor':
            detail = obj.get('CheckPayment') if obj.get('PayType') == 'Check' else obj.get('CreditCardPayment')
            account_ref = (detail or {}).get('BankAccountRef' if obj.get('PayType') == 'Check' else 'CCAccountRef')
            ref_ids = {'deposit_account': (account_ref or {}).get('value'), 'payment_method': None}
        else:
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

    @api.model
    def _qbo_liquidity_account(self, connection, journal, deposited):
        """The account the money is on: the bank (or card) account when deposited or paid from it directly,
        else outstanding receipts (outstanding payments for a bill payment)."""
        if deposited:
            return journal.default_account_id
        payment_type = 'inbound' if self._qbo_kind().direction > 0 else 'outbound'
        method_line = journal[f'{payment_type}_payment_method_line_ids'][:1]
        return method_line.payment_account_id or self.env['account.payment'].with_company(connection.company_id).new(
            {'journal_id': journal.id, 'company_id': connection.company_id.id})._get_outstanding_account(payment_type)

    def _qbo_label(self):
        """How the Odoo side names this QuickBooks payment (memo, journal item labels)."""
        if self._qbo_kind().party_entity == 'Vendor':
            return _("QuickBooks bill payment %s", self.qbo_id)
        return _("QuickBooks payment %s", self.qbo_id)

    def _qbo_memo(self, obj):
        """The Odoo payment's memo: which QuickBooks payment, then the memo written in QuickBooks."""
        label = self._qbo_label()
        note = (obj.get('PrivateNote') or '').strip()
        return f"{label}: {note}" if note else label

    # ------------------------------------------------------------------ Odoo payment

    def _qbo_create_payment(self, connection, obj, partner, applications, unapplied=None, total=None, label=None,
                            template=None):
        """An Odoo customer payment with one receivable line per application, reconciled exactly.

        Invoices get a credit line of the applied amount, credit notes a debit line (a $0 payment
        that applies a credit memo to an invoice nets to zero), the unapplied rest a credit line
        left open as customer credit. Negative amounts (an adjustment that takes an application
        back) make the opposite lines, reconciled by the caller. A bill payment is the mirror image
        (`PaymentKind.direction`): an outbound vendor payment, bills debited and vendor credits
        credited on their payable account, the unapplied rest a debit left open as an advance.

        :param unapplied: the unapplied amount to book (default: the payment's, see `_qbo_unapplied`)
        :param total: the amount received or paid (default: TotalAmt); negative: an adjustment in the
            opposite direction
        :param template: the payment being adjusted: its journal and liquidity account are kept
        :return: the posted payment; its lines in `applications` order come first after the liquidity line
        """
        self.ensure_one()
        company = connection.company_id
        if template:
            journal, outstanding = template.journal_id, template.outstanding_account_id
        else:
            journal, deposited = self._qbo_journal(connection, obj)
            outstanding = self._qbo_liquidity_account(connection, journal, deposited)
        currency = self.env['res.currency'].search([('name', '=', (obj.get('CurrencyRef') or {}).get('value'))],
                                                   limit=1) or company.currency_id
        rate = float(obj.get('ExchangeRate') or 1.0) if currency != company.currency_id else 1.0

        def balance(amount):
            return company.currency_id.round(amount * rate)

        kind = self._qbo_kind()
        direction = kind.direction  # +1: the money comes in (customer payment), -1: it goes out (bill payment)
        total = float(obj.get('TotalAmt') or 0) if total is None else total
        forward, backward = ('inbound', 'outbound') if direction > 0 else ('outbound', 'inbound')
        payment_type = backward if currency.compare_amounts(total, 0) < 0 else forward
        method_line = journal[f'{payment_type}_payment_method_line_ids'][:1]
        Payment = self.env['account.payment'].with_company(company)
        if not outstanding:
            raise UserError(_("The journal %s has no outstanding receipts account.", journal.display_name))
        partner_account = partner.with_company(company)[
            'property_account_receivable_id' if direction > 0 else 'property_account_payable_id']
        label = label or self._qbo_label()
        lines, targets = [], []
        for move, amount in applications:
            # Credit the invoice and debit the credit note; debit the bill and credit the vendor credit.
            sign = -direction if self._qbo_is_paid_document(move) else direction
            target = move.line_ids.filtered(lambda line: line.account_id.account_type == kind.account_type
                                            and not line.reconciled)
            lines.append({'name': f"{label}: {move.name}", 'account_id': (target[:1].account_id or partner_account).id,
                          'partner_id': partner.id, 'currency_id': currency.id,
                          'amount_currency': sign * amount, 'balance': sign * balance(amount)})
            targets.append(target if amount > 0 else None)
        unapplied = self._qbo_unapplied(obj) if unapplied is None else unapplied
        if unapplied:
            name = _("%s: unapplied (customer credit)", label) if direction > 0 else \
                _("%s: unapplied (advance to the vendor)", label)
            lines.append({'name': name, 'account_id': partner_account.id,
                          'partner_id': partner.id, 'currency_id': currency.id,
                          'amount_currency': -direction * unapplied, 'balance': -direction * balance(unapplied)})
            targets.append(None)
        liquidity = {'name': label, 'account_id': outstanding.id, 'partner_id': partner.id, 'currency_id': currency.id,
                     'amount_currency': direction * total, 'balance': -sum(line['balance'] for line in lines)}
        payment = Payment.with_context(qbo_importing=True).create({
            'payment_type': payment_type, 'partner_type': kind.partner_type, 'partner_id': partner.id,
            'amount': abs(total), 'currency_id': currency.id, 'date': obj.get('TxnDate') or fields.Date.today(),
            'journal_id': journal.id, 'payment_method_line_id': method_line.id,
            'outstanding_account_id': outstanding.id,
            'memo': self._qbo_memo(obj) if not template else label,
            'payment_reference': obj.get(kind.reference) or False,
            'line_ids': [Command.create(vals) for vals in [liquidity] + lines],
            # As the register-payment wizard does: the payment is 'paid' once its invoices (bills) are.
            'invoice_ids': [Command.set([m.id for m, amount in applications
                                         if self._qbo_is_paid_document(m) and amount > 0])],
        })
        # The payment recomputes it from its method line; keep the account the entry really uses.
        payment.outstanding_account_id = outstanding
        payment.action_post()
        counterparts = payment.move_id.line_ids.filtered(lambda line: line.account_id != outstanding).sorted('id')
        # Lines keep their creation order: one per application, in `targets` order.
        for line, target in zip(counterparts, targets):
            if target:
                (line | target).reconcile()
        return payment

    def _qbo_update_in_place(self, payment, obj):
        """Apply an edit that does not touch the amounts to the Odoo payment itself: reference and
        memo, date, deposit account. The payment keeps its record, its number and every reconciliation.

        The date of the posted entry moves as account.bank.statement.line moves its own (a posted
        entry's date is otherwise read-only): not in a locked period, nor on a hashed entry, nor out
        of its number's sequence period - then Odoo keeps its date and says why. The liquidity line
        moves to the new deposit account only while nothing (a bank statement) is matched with it.

        :return: notes on what could not follow QuickBooks (shown on the record and the payment)
        """
        notes = []
        in_place = payment.with_context(qbo_payment_in_place=True)
        vals = {}
        reference = obj.get(self._qbo_kind().reference) or False
        if (payment.payment_reference or False) != reference:
            vals['payment_reference'] = reference
        memo = self._qbo_memo(obj)
        if payment.memo != memo:
            vals['memo'] = memo
        if vals:
            in_place.write(vals)
        date = fields.Date.to_date(obj.get('TxnDate')) if obj.get('TxnDate') else None
        if date and date != payment.date:
            try:
                with self.env.cr.savepoint():
                    payment.move_id.with_context(skip_readonly_check=True).write({'date': date})
                    in_place.write({'date': date})
            except (UserError, ValidationError) as exc:
                notes.append(_("QuickBooks dates this payment %(date)s; Odoo keeps %(kept)s: %(reason)s",
                               date=date, kept=payment.date, reason=exc.args[0] if exc.args else exc))
        journal, deposited = self._qbo_journal(self.connection_id, obj)
        account = self._qbo_liquidity_account(self.connection_id, journal, deposited)
        liquidity = payment.move_id.line_ids.filtered(lambda line: line.account_id == payment.outstanding_account_id)
        if journal != payment.journal_id:
            notes.append(_("QuickBooks deposited this payment to another account, mapped to the journal %(journal)s; "
                           "the posted payment stays in %(kept)s.", journal=journal.display_name,
                           kept=payment.journal_id.display_name))
        elif account and liquidity and account != payment.outstanding_account_id:
            if liquidity.matched_debit_ids or liquidity.matched_credit_ids:
                notes.append(_("QuickBooks deposited this payment to another account; the payment is already matched "
                               "on %s in Odoo, so it stays there.", payment.outstanding_account_id.display_name))
            else:
                liquidity.write({'account_id': account.id})
                in_place.write({'outstanding_account_id': account.id})
        for note in notes:
            if note not in (self.message or ''):  # said at the previous version already
                payment.message_post(body=note, message_type='comment', subtype_xmlid='mail.mt_note')
        return notes

    def _qbo_book_difference(self, connection, obj, partner, applications):
        """An amount change: book only what changed, as an adjustment payment of this QuickBooks payment.

        The first payment and everything matched with it stay as they are. Per document, the
        adjustment applies what QuickBooks added (reconciled with the document) or takes back what
        QuickBooks removed: the import's own reconciliation with that document is undone, netted
        with the adjustment and redone for what remains; a user's matches are never touched. Its
        liquidity line is the difference in the amount received (negative: an outbound payment).

        :return: [(move, difference)] of the documents whose applied amount changed
        """
        booked = self._qbo_booked_amounts()
        booked_vals = self.booked or {}
        new = {move.id: amount for move, amount in applications}
        moves = {move.id: move for move, _amount in applications}
        moves.update((move.id, move) for move in self.env['account.move'].browse(list(booked)).exists())
        currency = self._qbo_live_payments()[:1].currency_id
        deltas = [(moves[move_id], currency.round(new.get(move_id, 0.0) - booked.get(move_id, 0.0)))
                  for move_id in moves]
        deltas = [(move, amount) for move, amount in deltas if not currency.is_zero(amount)]
        unapplied = currency.round(self._qbo_unapplied(obj) - float(booked_vals.get('unapplied') or 0))
        total = currency.round(float(obj.get('TotalAmt') or 0) - float(booked_vals.get('total') or 0))
        if not deltas and currency.is_zero(unapplied) and currency.is_zero(total):
            return []
        template = self.payment_id if self.payment_id.state != 'canceled' else self._qbo_live_payments()[:1]
        kind = self._qbo_kind()
        ours = self._qbo_live_payments().move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == kind.account_type)
        # Free the import's own reconciliations with the documents that lose an application: what remains
        # is re-applied below, after the adjustment's opposite line absorbed the difference.
        freed = {}
        for move, amount in deltas:
            if amount < 0:
                document_lines = move.line_ids.filtered(lambda line: line.account_id.account_type == kind.account_type)
                partials = (ours.matched_debit_ids | ours.matched_credit_ids).filtered(
                    lambda p, d=document_lines: p.debit_move_id in d or p.credit_move_id in d)
                applied_by_us = (partials.debit_move_id | partials.credit_move_id) & ours
                partials.unlink()
                freed[move] = (document_lines, applied_by_us)
        adjustment = self._qbo_create_payment(
            connection, obj, partner, deltas, unapplied=unapplied, total=total, template=template,
            label=_("QuickBooks payment %(id)s, changed (SyncToken %(token)s)", id=self.qbo_id,
                    token=obj.get('SyncToken')))
        new_lines = adjustment.move_id.line_ids.filtered(
            lambda line: line.account_id.account_type == kind.account_type)
        for move, (document_lines, applied_by_us) in freed.items():
            # The adjustment's line for this document nets with the import's own lines that were applied to
            # it, then what is left of those goes back to the document.
            taking_back = new_lines.filtered(lambda line, m=move: line.name.endswith(f": {m.name}"))
            (taking_back | applied_by_us).reconcile()
            rest = applied_by_us.filtered(lambda line: not line.reconciled)
            if rest:
                (rest | document_lines.filtered(lambda line: not line.reconciled)).reconcile()
        if currency.compare_amounts(unapplied, 0) < 0:
            # Less left as credit: the adjustment's debit nets with the credit still open (if a user used it
            # meanwhile, the debit stays open: the customer owes it again). A bill payment's advance is the
            # mirror image (a debit, taken back by a credit).
            direction = kind.direction
            open_credit = ours.filtered(lambda line: not line.reconciled and direction * line.amount_currency < 0)
            taking_back = new_lines.filtered(lambda line: not line.reconciled and direction * line.amount_currency > 0
                                             and 'unapplied' in (line.name or ''))
            if open_credit and taking_back:
                (open_credit | taking_back).reconcile()
        self.write({'adjustment_ids': [Command.link(adjustment.id)]})
        return deltas

    def _qbo_undo(self, reason):
        """Unreconcile and cancel the Odoo payments of this record (void or delete in QuickBooks).

        The cancelled payments stay linked here, as history.
        """
        for record in self:
            payments = record._qbo_live_payments()
            if not payments:
                continue
            # The import never matches a liquidity line: a match there is a user's (a bank statement), proof
            # in Odoo that the money came. Cancelling would undo it: a person decides (then Retry).
            matched = payments.move_id.line_ids.filtered(
                lambda line: line.account_id == line.move_id.origin_payment_id.outstanding_account_id
                and (line.matched_debit_ids or line.matched_credit_ids))
            if matched:
                raise UserError(_(
                    "%(reason)s %(payments)s is matched with %(what)s in Odoo: it is not cancelled "
                    "automatically. Check it, unmatch and cancel it by hand (or keep it), then Retry.",
                    reason=reason, payments=', '.join(matched.move_id.mapped('display_name')),
                    what=', '.join((matched.matched_debit_ids.debit_move_id | matched.matched_credit_ids.credit_move_id)
                                   .move_id.mapped('display_name'))))
            applied = record._qbo_booked_amounts()  # read before the payments are cancelled
            payments.move_id.line_ids.remove_move_reconcile()
            payments.action_draft()
            payments.action_cancel()
            for move in record.move_ids:
                # What happened there, then what it did here: not "cancelled in Odoo", which reads as a user's act.
                body = _("%(reason)s QuickBooks payment %(id)s no longer pays anything there, so its Odoo payment "
                         "%(payments)s was cancelled: %(amount)s of %(document)s is open again.",
                         reason=reason, id=record.qbo_id, payments=', '.join(payments.mapped('display_name')),
                         amount=formatLang(self.env, applied.get(move.id, 0.0), currency_obj=move.currency_id),
                         document=move.name)
                move.sudo().message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_note')

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
            obj = client.read(self.qbo_entity, self.qbo_id)
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
