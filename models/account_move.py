import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..tools import QboValidationError
from ..tools.qbo_client import qbo_quote
from .qbo_binding import QboBlocked
from .qbo_mapper import qbo_clean_name

_logger = logging.getLogger(__name__)

ENTITY_BY_MOVE_TYPE = {'out_invoice': 'Invoice', 'out_refund': 'CreditMemo'}


class AccountMove(models.Model):
    """Posted customer invoices export as QuickBooks Invoices, credit notes as CreditMemos."""
    _name = 'account.move'
    _inherit = ['account.move', 'qbo.sync.mixin']

    qbo_doc_number = fields.Char('QuickBooks number', compute='_compute_qbo_extra',
                                 groups='account.group_account_invoice')
    qbo_variance = fields.Char('QuickBooks variance', compute='_compute_qbo_extra',
                               groups='account.group_account_invoice')
    qbo_show_button = fields.Boolean(compute='_compute_qbo_extra', groups='account.group_account_invoice')

    @api.depends('qbo_binding_ids.state', 'state', 'move_type')
    @api.depends_context('company')
    def _compute_qbo_extra(self):
        connections = self._qbo_connections_by_company()
        for move in self:
            connection = connections.get(move._qbo_company().id)
            binding = move._qbo_binding(connection) if move.id and connection else self.env['qbo.binding']
            move.qbo_doc_number = binding.qbo_doc_number if binding else False
            move.qbo_variance = binding.state == 'variance' and _(
                "QuickBooks total %(qbo)s (tax %(qtax)s) vs Odoo %(odoo)s (tax %(otax)s)",
                qbo=binding.qbo_total, qtax=binding.qbo_tax, odoo=binding.odoo_total, otax=binding.odoo_tax) or False
            move.qbo_show_button = bool(move.move_type in ENTITY_BY_MOVE_TYPE and connection
                                        and connection.state == 'connected' and move.state == 'posted')

    def _qbo_entity(self):
        return ENTITY_BY_MOVE_TYPE[self.move_type]

    def _qbo_check_exportable(self):
        if self.move_type not in ENTITY_BY_MOVE_TYPE:
            raise UserError(_("%s is not a customer invoice or credit note.", self.display_name))
        if self.state != 'posted' and not self._qbo_binding():
            raise UserError(_("Post %s before sending it to QuickBooks.", self.display_name))

    # ------------------------------------------------------------------ lifecycle hooks

    def _post(self, soft=True):
        posted = super()._post(soft)
        candidates = posted.filtered(lambda m: m.move_type in ENTITY_BY_MOVE_TYPE)
        for move in candidates:
            binding = move._qbo_binding()
            if binding and binding.state in ('sent', 'variance', 'error', 'blocked'):
                binding._qbo_mark_to_send()  # re-posted after a reset to draft: update in QuickBooks
            elif not binding:
                connection = move._qbo_connection()
                if (connection and connection.state == 'connected' and connection.auto_send
                        and connection._qbo_auto_send_applies(move)):
                    # Queued now, sent by the scheduler at this company's next run ("Export every").
                    self.env['qbo.binding']._qbo_get_or_create(connection, move, move._qbo_entity())
        return posted

    def button_cancel(self):
        res = super().button_cancel()
        # Cancelled in Odoo -> voided in QuickBooks (queued; the export sees state 'cancel').
        for move in self:
            binding = move._qbo_binding()
            if binding and binding.qbo_id and binding.state not in ('voided', 'deleted_in_qbo'):
                binding._qbo_mark_to_send()
        return res

    @api.model
    def _qbo_enqueue_auto_send(self):
        """With 'Send posted invoices automatically', queue posted documents dated from each
        connection's cut-off that have no link yet (see qbo.connection._qbo_enqueue_auto_send)."""
        return self.env['qbo.connection']._qbo_enqueue_auto_send_all()

    # ------------------------------------------------------------------ export

    def _qbo_export(self, binding, client):
        """Create, update or void the QuickBooks document of this move, then check parity."""
        self.ensure_one()
        connection = binding.connection_id
        res_ref = f"{self._name},{self.id}"
        if self.state == 'cancel':
            self._qbo_void(binding, client, res_ref)
            return
        if self.state != 'posted':
            raise QboBlocked(_("Only posted invoices are sent to QuickBooks."))
        connection._qbo_check_default_tax()
        self._qbo_export_missing_items(connection, client)
        customer_id = self._qbo_export_customer(connection, client)
        mapper = self.env['qbo.mapper']
        if binding.qbo_id:
            # Sparse: fields only QuickBooks users set (e-mail, payment flags, custom fields) are kept.
            payload = mapper._qbo_prepare_invoice_update_vals(self, connection, customer_id)
            document = self._qbo_update_document(binding, client, payload, res_ref)
        else:
            payload = mapper._qbo_prepare_invoice_vals(self, connection, customer_id)
            document = self._qbo_create_document(binding, client, payload, res_ref)
        if document is None:
            return
        self._qbo_store_result(binding, document)

    def _qbo_export_customer(self, connection, client):
        """Export the invoice's customer first when QuickBooks does not have it (or it changed)."""
        partner = self.commercial_partner_id
        foreign = self.currency_id != self.company_id.currency_id and connection.multi_currency
        partner_binding = self.env['qbo.binding']._qbo_get_or_create(connection, partner, 'Customer')
        # With multicurrency, a customer created for another currency cannot take home-currency documents either.
        if partner_binding.qbo_id and connection.multi_currency:
            customer = client.read('Customer', partner_binding.qbo_id, res_ref=f"res.partner,{partner.id}")
            customer_currency = (customer.get('CurrencyRef') or {}).get('value')
            if customer_currency and customer_currency != self.currency_id.name:
                raise QboBlocked(_(
                    "QuickBooks customers have a single currency: %(name)s is in %(qbo)s there, this document is in "
                    "%(odoo)s. Invoice this customer in %(qbo)s, or use a separate contact for %(odoo)s.",
                    name=partner.display_name, qbo=customer_currency, odoo=self.currency_id.name))
        if partner_binding.qbo_id and partner_binding.state == 'sent':
            return partner_binding.qbo_id
        try:
            partner.with_context(qbo_currency=self.currency_id if foreign else None)._qbo_export(
                partner_binding, client)
        except QboValidationError as exc:
            raise QboBlocked(_("The customer %(name)s could not be sent to QuickBooks: %(error)s",
                               name=partner.display_name, error=exc)) from None
        partner_binding.write({'state': 'sent', 'error_message': False, 'last_sync_date': fields.Datetime.now()})
        return partner_binding.qbo_id

    def _qbo_export_missing_items(self, connection, client):
        """With 'Create missing items', give each unmapped product a QuickBooks Service item.

        An existing item with the same name is linked rather than duplicated (item names are
        unique in QuickBooks). Without the option, unmapped products use the 'Unmatched item'.
        """
        if not connection.create_missing_items:
            return
        Mapping = self.env['qbo.mapping'].sudo()
        products = self.invoice_line_ids.filtered(lambda line: line.display_type == 'product').product_id
        for product in products.filtered(lambda p: not Mapping._qbo_find(connection, 'product', p)):
            if not connection.income_account_ref_id:
                raise QboBlocked(_("Blocked: mapping - set the 'Income account for new items' to create the "
                                   "QuickBooks item of %s.", product.display_name))
            name = qbo_clean_name(product.name, const.ITEM_NAME_MAX_LENGTH)
            res_ref = f"product.product,{product.id}"
            rows = client.query(f"SELECT * FROM Item WHERE Name = {qbo_quote(name)} AND Active IN (true, false)",
                                res_ref=res_ref).get('Item', [])
            item = rows[0] if rows else client.create('Item', self.env['qbo.mapper']._qbo_prepare_item_vals(
                product, connection, name), request_id=f"odoo-item-{connection.id}-{product.id}", res_ref=res_ref)
            ref = self.env['qbo.ref'].sudo().with_context(active_test=False).search([
                ('connection_id', '=', connection.id), ('entity', '=', 'Item'), ('qbo_id', '=', item['Id'])])
            vals = {'name': item['Name'], 'active': item.get('Active', True), 'data': item}
            if ref:
                ref.write(vals)
            else:
                ref = ref.create(dict(vals, connection_id=connection.id, entity='Item', qbo_id=item['Id']))
            Mapping.create({'connection_id': connection.id, 'mapping_type': 'product', 'res_id': product.id,
                            'qbo_ref_id': ref.id})

    def _qbo_find_by_marker(self, client, entity, res_ref):
        """Find our document in QuickBooks by its DocNumber (custom numbers) or PrivateNote marker."""
        marker = self.env['qbo.mapper']._qbo_private_note(self)
        doc_number = self._qbo_expected_doc_number()
        rows = client.query(f"SELECT * FROM {entity} WHERE DocNumber = {qbo_quote(doc_number)}",
                            res_ref=res_ref).get(entity, []) if doc_number else []
        rows = rows or client.query(f"SELECT * FROM {entity} WHERE TxnDate = '{self.invoice_date}'",
                                    res_ref=res_ref).get(entity, [])
        return next((row for row in rows if (row.get('PrivateNote') or '').endswith(marker)), None)

    def _qbo_expected_doc_number(self):
        connection = self._qbo_connection()
        try:
            return self.env['qbo.mapper']._qbo_doc_number(self, connection)
        except QboBlocked:
            return None

    def _qbo_create_document(self, binding, client, payload, res_ref):
        """Create exactly once: replayed requestid, and a marker lookup after an unknown outcome."""
        entity = binding.entity
        if binding.outcome_unknown:
            existing = self._qbo_find_by_marker(client, entity, res_ref)
            if existing:
                binding.write({'qbo_id': existing['Id'], 'qbo_sync_token': existing['SyncToken']})
                return self._qbo_update_document(binding, client, payload, res_ref)
        try:
            return client.create(entity, payload, binding._qbo_request_id('create', payload), res_ref=res_ref)
        except QboValidationError as exc:
            if exc.code != const.FAULT_DUPLICATE_DOC_NUMBER:
                raise
            duplicate = exc
        # 6140: the number exists. Link when it is ours, else say which document holds it.
        existing = self._qbo_find_by_marker(client, entity, res_ref)
        if existing:
            binding.write({'qbo_id': existing['Id'], 'qbo_sync_token': existing['SyncToken']})
            return self._qbo_update_document(binding, client, payload, res_ref)
        raise QboBlocked(_("QuickBooks already has a %(entity)s numbered %(number)s that was not created from "
                           "this Odoo document (%(detail)s). Renumber one of them, or set a number prefix "
                           "(%(where)s).",
                           entity=entity, number=payload.get('DocNumber'), where=self.env['qbo.connection']._qbo_where('settings'),
                           detail=duplicate.detail or duplicate.message))

    def _qbo_update_document(self, binding, client, payload, res_ref):
        """Full update with the current SyncToken; detect documents voided or deleted in QuickBooks."""
        entity = binding.entity
        try:
            current = client.read(entity, binding.qbo_id, res_ref=res_ref)
        except QboValidationError as exc:
            if exc.code == const.FAULT_OBJECT_NOT_FOUND:
                self._qbo_mark_gone(binding, 'deleted_in_qbo', _(
                    "This document was deleted in QuickBooks (Id %s). It is not re-created automatically: "
                    "use 'Send again as new' if it should exist there.", binding.qbo_id))
                return None
            raise
        if self._qbo_is_voided(current):
            self._qbo_mark_gone(binding, 'voided', _("This document was voided in QuickBooks (Id %s).",
                                                     binding.qbo_id))
            return None
        body = dict(payload, Id=binding.qbo_id, SyncToken=current['SyncToken'])
        return client.update(entity, body, binding._qbo_request_id('update', body), res_ref=res_ref)

    @api.model
    def _qbo_is_voided(self, document):
        return (document.get('PrivateNote') or '').startswith('Voided') and not document.get('TotalAmt')

    def _qbo_mark_gone(self, binding, state, message):
        binding.write({'state': state, 'error_message': message})
        self.sudo().message_post(body=message, message_type='comment', subtype_xmlid='mail.mt_note')

    def _qbo_void(self, binding, client, res_ref):
        """Cancelled in Odoo: void the Invoice; delete the CreditMemo (the API has no void for it)."""
        if not binding.qbo_id:
            binding.write({'state': 'voided'})
            return
        if binding.entity == 'CreditMemo':
            self._qbo_delete_credit_memo(binding, client, res_ref)
            return
        current = client.read(binding.entity, binding.qbo_id, res_ref=res_ref)
        if not self._qbo_is_voided(current):
            client.void(binding.entity, binding.qbo_id, current['SyncToken'],
                        binding._qbo_request_id('void', {'Id': binding.qbo_id, 'SyncToken': current['SyncToken']}),
                        res_ref=res_ref)
        binding.write({'state': 'voided', 'error_message': False})
        self.sudo().message_post(body=_("Voided in QuickBooks (Id %s).", binding.qbo_id),
                                 message_type='comment', subtype_xmlid='mail.mt_note')

    def _qbo_delete_credit_memo(self, binding, client, res_ref):
        """Delete the QuickBooks CreditMemo of a cancelled credit note (already gone: nothing to do)."""
        try:
            current = client.read('CreditMemo', binding.qbo_id, res_ref=res_ref)
        except QboValidationError as exc:
            if exc.code != const.FAULT_OBJECT_NOT_FOUND:
                raise
            current = None
        if current:
            body = {'Id': binding.qbo_id, 'SyncToken': current['SyncToken']}
            client.delete('CreditMemo', binding.qbo_id, current['SyncToken'],
                          binding._qbo_request_id('delete', body), res_ref=res_ref)
        message = _("Cancelled in Odoo: the QuickBooks credit memo (Id %s) was deleted, QuickBooks has no void "
                    "for credit memos.", binding.qbo_id)
        binding.write({'state': 'voided', 'error_message': message})
        self.sudo().message_post(body=message, message_type='comment', subtype_xmlid='mail.mt_note')

    def _qbo_store_result(self, binding, document):
        """Store what QuickBooks holds and compare its totals with Odoo's (parity check)."""
        qbo_total = float(document.get('TotalAmt') or 0.0)
        qbo_tax = float((document.get('TxnTaxDetail') or {}).get('TotalTax') or 0.0)
        currency = self.currency_id
        vals = {
            'qbo_id': document['Id'], 'qbo_sync_token': document['SyncToken'],
            'qbo_doc_number': document.get('DocNumber'), 'currency_id': currency.id,
            'odoo_total': self.amount_total, 'odoo_tax': self.amount_tax, 'qbo_total': qbo_total, 'qbo_tax': qbo_tax,
        }
        if currency.compare_amounts(qbo_total, self.amount_total) or currency.compare_amounts(qbo_tax, self.amount_tax):
            reason = self.env['qbo.mapper']._qbo_variance_reason(self, binding.connection_id)
            vals.update(state='variance', error_message=_(
                "Variance: QuickBooks holds a total of %(qbo)s (tax %(qtax)s) but Odoo has %(odoo)s (tax %(otax)s). "
                "%(reason)s", qbo=qbo_total, qtax=qbo_tax, odoo=self.amount_total, otax=self.amount_tax,
                reason=reason))
        else:
            vals['state'] = 'sent'
        binding.write(vals)

    def _qbo_after_process(self, binding, outcome):
        if binding.state == 'variance':
            body = binding.error_message
        elif outcome == 'sent':
            body = _("Sent to QuickBooks as %(entity)s %(number)s (Id %(id)s).", entity=binding.entity,
                     number=binding.qbo_doc_number or '', id=binding.qbo_id)
        else:
            body = _("Not sent to QuickBooks: %s", binding.error_message)
        self.sudo().message_post(body=body, message_type='comment', subtype_xmlid='mail.mt_note')

    def action_qbo_send_as_new(self):
        """After a deletion in QuickBooks: forget the old Id and create the document again."""
        for move in self:
            binding = move._qbo_binding()
            if binding and binding.state == 'deleted_in_qbo':
                binding.write({'qbo_id': False, 'qbo_sync_token': False, 'state': 'to_send',
                               'request_generation': binding.request_generation + 1})
        return self.action_qbo_send()
