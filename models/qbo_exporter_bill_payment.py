from odoo import _, api, models

from .. import const
from .qbo_binding import QboBlocked


class QboExporterBillPayment(models.AbstractModel):
    """Sends an Odoo vendor payment reconciled with sent bills to QuickBooks as a BillPayment, exactly once.

    PayType follows the payment's journal: a Credit Card journal pays by card (CreditCardPayment on
    the card account), any other by check (CheckPayment on the bank account); the QuickBooks account
    is the journal's 'Bank or card account' mapping. One line per bill the payment is reconciled
    with, for the amount reconciled. Every write goes through `binding._qbo_call`; after an unknown
    create the payment is found by its marker (PrivateNote) among the payments created since the
    intent, so a timeout or a crash never pays a bill twice. An edit updates the BillPayment in place
    (sparse, with the held SyncToken); a cancel voids it (QuickBooks: update with include=void).
    """
    _name = 'qbo.exporter.bill.payment'
    _inherit = 'qbo.exporter'
    _description = 'QuickBooks Online bill payment exporter'
    _qbo_entities = ('BillPayment',)
    _qbo_models = ('account.payment',)  # a vendor credit applied to bills sends itself (qbo.credit.application)
    _qbo_export_order = 3  # after the bills it pays
    _qbo_marker_field = 'PrivateNote'
    _qbo_app_pages = {'BillPayment': 'billpayment?txnId='}

    @api.model
    def _qbo_export(self, binding, payment, client):
        """Create, update or void the BillPayment of `payment`."""
        res_ref = f"{payment._name},{payment.id}"
        invoice_exporter = self.env['qbo.exporter.invoice']
        if binding._qbo_pending_create() and binding.intent_date:
            # The create may have reached QuickBooks: one lookup by our marker before anything else.
            found = binding._qbo_created_since(self, client, res_ref=res_ref).get(binding._qbo_marker())
            if found:
                binding._qbo_settle()
                binding.write({'qbo_id': found['Id'], 'qbo_sync_token': found['SyncToken']})
            else:
                binding._qbo_forget_intent()  # proved absent: the create goes with the same requestid
        if payment.state == 'canceled':
            self._qbo_void(binding, payment, client, res_ref)
            return
        payload = self._qbo_payload(binding, payment)
        if not binding.qbo_id:
            document = binding._qbo_call('create', lambda rid: client.create('BillPayment', payload, rid,
                                                                             res_ref=res_ref))
        else:
            def update(sync_token):
                body = dict(payload, Id=binding.qbo_id, SyncToken=sync_token, sparse=True)
                return binding._qbo_call('update', lambda rid: client.update('BillPayment', body, rid,
                                                                             res_ref=res_ref))

            sent, document = invoice_exporter._qbo_with_held_token(
                binding, 'update', update, lambda: client.read('BillPayment', binding.qbo_id, res_ref=res_ref))
            if not sent:
                if self.env['qbo.payment.import']._qbo_is_void(document):
                    binding.write({'state': 'voided', 'error_message': _(
                        "This bill payment was voided in QuickBooks (Id %s): the edit was not sent.", binding.qbo_id)})
                    return
                document = update(document['SyncToken'])
        binding.write({'qbo_id': document['Id'], 'qbo_sync_token': document['SyncToken'],
                       'qbo_total': float(document.get('TotalAmt') or 0), 'odoo_total': payment.amount,
                       'currency_id': payment.currency_id.id})

    @api.model
    def _qbo_void(self, binding, payment, client, res_ref):
        """Cancelled in Odoo: void the BillPayment (its bills are open again there); nothing to void when
        it never reached QuickBooks."""
        if not binding.qbo_id:
            binding.write({'state': 'voided', 'error_message': _(
                "Cancelled before it reached QuickBooks: there is nothing to void there.")})
            return
        current = client.read('BillPayment', binding.qbo_id, res_ref=res_ref)
        if not self.env['qbo.payment.import']._qbo_is_void(current):
            current = binding._qbo_call('void', lambda rid: client.void_by_update(
                'BillPayment', binding.qbo_id, current['SyncToken'], rid, res_ref=res_ref))
        elif binding.intent_operation == 'void':
            binding._qbo_settle()
        binding.write({'state': 'voided', 'error_message': False, 'qbo_sync_token': current.get('SyncToken')})

    @api.model
    def _qbo_payload(self, binding, payment):
        """The BillPayment: vendor, pay type and account from the journal, one line per bill paid."""
        connection = binding.connection_id
        applications = payment._qbo_bill_applications(connection)
        if not applications:
            raise QboBlocked(_("%s is not reconciled with a bill sent to QuickBooks.", payment.display_name))
        vendor = payment.partner_id.commercial_partner_id._qbo_binding(connection, 'Vendor')
        if not vendor or not vendor.qbo_id:
            raise QboBlocked(_("The vendor %s is not in QuickBooks.", payment.partner_id.commercial_partner_id.name))
        journal = payment.journal_id
        account = self.env['qbo.mapping']._qbo_find(connection, 'deposit_account', journal)
        if not account or not account.active:
            raise QboBlocked(_("Blocked: mapping - the journal %(journal)s has no active 'Bank or card account' "
                               "mapping: QuickBooks needs the account the bill is paid from (%(where)s).",
                               journal=journal.display_name, where=connection._qbo_where('mappings')))
        currency = payment.currency_id
        payload = {
            'VendorRef': {'value': vendor.qbo_id},
            'TotalAmt': currency.round(payment.amount),
            'TxnDate': str(payment.date),
            'PrivateNote': f"Odoo {payment.name} {binding._qbo_marker()}",
            'Line': [{'Amount': currency.round(amount),
                      'LinkedTxn': [{'TxnId': bill_binding.qbo_id, 'TxnType': bill_binding.entity}]}
                     for bill_binding, amount in applications],
        }
        if journal.type == 'credit':
            payload.update(PayType='CreditCard', CreditCardPayment={'CCAccountRef': {'value': account.qbo_id}})
        else:
            payload.update(PayType='Check', CheckPayment={'BankAccountRef': {'value': account.qbo_id}})
            if payment.payment_reference or payment.memo:
                payload['DocNumber'] = (payment.payment_reference or payment.memo)[:const.DOC_NUMBER_MAX_LENGTH]
        company_currency = payment.company_id.currency_id
        if currency != company_currency:
            payload['CurrencyRef'] = {'value': currency.name}
            payload['ExchangeRate'] = round(currency._get_conversion_rate(
                currency, company_currency, payment.company_id, payment.date), const.EXCHANGE_RATE_DIGITS)
        return payload
