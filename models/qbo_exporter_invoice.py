import json
import logging
from datetime import timedelta

from odoo import _, api, fields, models

from .. import const
from ..tools import QboValidationError
from ..tools.qbo_client import qbo_quote
from .qbo_binding import QboBlocked, QboDeferred
from .qbo_mapper import qbo_clean_name

_logger = logging.getLogger(__name__)


class QboExporterInvoice(models.AbstractModel):
    """Sends a posted customer invoice or credit note to QuickBooks (Invoice / CreditMemo), exactly once.

    The sync machinery for documents: account.move only says what to send (qbo.mapper builds the
    payload) and reacts to the outcome (`_qbo_after_process`). Every write goes through
    `binding._qbo_call` (durable intent + stable requestid); after an unknown outcome or a
    duplicate number (6140) the document is looked up by our marker among the customer's
    documents before anything is sent again.
    """
    _name = 'qbo.exporter.invoice'
    _inherit = 'qbo.exporter'
    _description = 'QuickBooks Online invoice exporter'
    _qbo_entities = ('Invoice', 'CreditMemo')
    _qbo_export_order = 2
    # Where our marker is written (its last word), for the engine's one-query lookup of unknown creates.
    _qbo_marker_field = 'PrivateNote'
    _qbo_app_pages = {'Invoice': 'invoice?txnId=', 'CreditMemo': 'creditmemo?txnId='}
    #: Entities QuickBooks cannot void: a cancelled document is deleted there instead
    _qbo_deleted_on_cancel = ('CreditMemo',)
    #: Entities whose file (the invoice PDF) is attached in QuickBooks with 'Attach documents'
    _qbo_attached_entities = ('Invoice',)

    @api.model
    def _qbo_export(self, binding, move, client):
        """Create, update or void the QuickBooks document of this move, then check parity."""
        connection = binding.connection_id
        res_ref = f"{move._name},{move.id}"
        if move.state == 'cancel':
            self._qbo_void(binding, move, client, res_ref)
            return
        if move.state != 'posted':
            raise QboBlocked(_("Only posted invoices are sent to QuickBooks."))
        self._qbo_check_currency(move, connection)
        connection._qbo_check_default_tax()
        self._qbo_export_missing_items(binding, move, client)
        customer_id = self._qbo_customer_id(move, connection, client)
        mapper = self.env['qbo.mapper']
        # An update is sparse: fields only QuickBooks users set (e-mail, payment flags, custom fields) are kept.
        prepare = mapper._qbo_prepare_invoice_update_vals if binding.qbo_id else mapper._qbo_prepare_invoice_vals
        self._qbo_write_document(binding, move, client, prepare(move, connection, customer_id), res_ref)

    @api.model
    def _qbo_write_document(self, binding, record, client, payload, res_ref):
        """Create the QuickBooks document of `record` (or update the one `binding` links) with `payload`, then
        store what QuickBooks holds and check its totals (`_qbo_store_result`). Shared by the exporters of
        this family (bills, vendor credits, purchase orders); their own `_qbo_export` builds the payload."""
        if binding.qbo_id:
            document = self._qbo_update(binding, record, client, payload, res_ref)
        else:
            document = self._qbo_create(binding, record, client, payload, res_ref)
        if document is not None:
            self._qbo_store_result(binding, record, document)

    # ------------------------------------------------------------------ batch (see qbo.binding._qbo_process_batch)

    @api.model
    def _qbo_batch_item(self, binding, move, client):
        """('create', payload) of a new document or ('update', body) of an exported one for a batch
        request, or None to send it alone.

        An update goes in the batch with the SyncToken of our last write (no read first); a stale
        token (5010) or a document deleted in QuickBooks (610) is then handled alone. Voids, unknown
        outcomes (looked up first) and documents without a known SyncToken go alone.
        """
        if move.state != 'posted' or binding._qbo_pending_create():
            return None
        if binding.qbo_id and (not binding.qbo_sync_token
                               or (binding.intent_operation == 'update' and binding.intent_request_id)):
            return None
        connection = binding.connection_id
        self._qbo_check_currency(move, connection)
        if not self.env.context.get('qbo_default_tax_checked'):
            connection._qbo_check_default_tax()
        self._qbo_export_missing_items(binding, move, client)
        customer_id = self._qbo_customer_id(move, connection, client)
        mapper = self.env['qbo.mapper']
        if binding.qbo_id:
            payload = mapper._qbo_prepare_invoice_update_vals(move, connection, customer_id)
            return 'update', dict(payload, Id=binding.qbo_id, SyncToken=binding.qbo_sync_token)
        return 'create', mapper._qbo_prepare_invoice_vals(move, connection, customer_id)

    @api.model
    def _qbo_batch_context(self, connection):
        """Context of a whole batch: the default sales tax is checked once for all its documents."""
        try:
            connection._qbo_check_default_tax()
        except QboBlocked:
            return {}  # each document says so itself
        return {'qbo_default_tax_checked': True}

    @api.model
    def _qbo_batch_apply(self, binding, move, document):
        self._qbo_store_result(binding, move, document)

    @api.model
    def _qbo_batch_single_after(self, error):
        """Decided alone: a duplicate number (ours: link it; someone else's: say which), a stale
        SyncToken (read the document: voided in QuickBooks?) or a document deleted in QuickBooks."""
        return error.code in (const.FAULT_DUPLICATE_DOC_NUMBER, const.FAULT_STALE_OBJECT,
                              const.FAULT_OBJECT_NOT_FOUND)

    # ------------------------------------------------------------------ customer

    @api.model
    def _qbo_check_currency(self, move, connection):
        """A foreign-currency document needs Multicurrency in QuickBooks: checked before anything is
        created for it there. A customer created first would be in the home currency, which QuickBooks
        never changes: turning Multicurrency on afterwards would not help any more."""
        if move.currency_id != move.company_id.currency_id and not connection.multi_currency:
            raise QboBlocked(_("This document is in %(currency)s but the QuickBooks company works in %(home)s only: "
                               "turn on Multicurrency in QuickBooks (Account and settings > Advanced), then Test "
                               "connection and send it again. Nothing was created in QuickBooks for it.",
                               currency=move.currency_id.name, home=connection.qbo_home_currency))

    @api.model
    def _qbo_customer_id(self, move, connection, client, entity='Customer'):
        """The QuickBooks id of the document's customer (a bill's vendor, with `entity` 'Vendor'),
        exported before (see `_qbo_dependencies`).

        The customer is a binding of its own, exported and recorded before the document, so a
        failure of the document can never undo the customer's link.
        """
        partner = move.commercial_partner_id
        partner_binding = self.env['qbo.binding']._qbo_get_or_create(connection, partner, entity)
        if not partner_binding.qbo_id:
            if partner_binding.state in ('error', 'blocked'):
                raise QboBlocked(_("The %(entity)s %(name)s could not be sent to QuickBooks: %(error)s",
                                   entity=entity, name=partner.display_name, error=partner_binding.error_message))
            retry_at = partner_binding.next_retry_date or fields.Datetime.now() + timedelta(minutes=1)
            raise QboDeferred(_("Waiting for the %(entity)s %(name)s to be sent to QuickBooks.", entity=entity,
                                name=partner.display_name), retry_at=retry_at)
        # With multicurrency, a customer created for another currency cannot take home-currency documents either.
        if connection.multi_currency:
            customer_currency = partner_binding.qbo_currency
            if not customer_currency:
                # Linked before its currency was recorded: read it once and keep it (never once per document).
                customer = client.read(entity, partner_binding.qbo_id, res_ref=f"res.partner,{partner.id}")
                customer_currency = (customer.get('CurrencyRef') or {}).get('value') or connection.qbo_home_currency
                partner_binding.qbo_currency = customer_currency
            if customer_currency and customer_currency != move.currency_id.name:
                raise QboBlocked(_(
                    "QuickBooks customers and vendors have a single currency, which QuickBooks never changes: "
                    "%(name)s is in %(qbo)s there, this document is in %(odoo)s. Use %(qbo)s for %(name)s, or create "
                    "a separate company contact for its %(odoo)s documents (for example \"%(name)s (%(odoo)s)\", same "
                    "address) and use that one: the connector creates its own QuickBooks customer or vendor in "
                    "%(odoo)s.",
                    name=partner.display_name, qbo=customer_currency, odoo=move.currency_id.name))
        return partner_binding.qbo_id

    # ------------------------------------------------------------------ items

    @api.model
    def _qbo_export_missing_items(self, binding, move, client):
        """With 'Create missing items', give each unmapped product a QuickBooks Service item.

        An existing item with the same name is linked rather than duplicated (item names are
        unique in QuickBooks, so the name lookup is also the lookup after an unknown outcome).
        The create never touches the document's intent (which may be a create with an unknown outcome,
        to be looked up first): its requestid is derived from the product and the payload, so a retry
        after an unknown outcome replays it, and a payload fixed after a refusal is a new request.
        Without the option, unmapped products use the 'Unmatched item'.
        """
        connection = binding.connection_id
        if not connection.create_missing_items:
            return
        Mapping = self.env['qbo.mapping'].sudo()
        products = move.invoice_line_ids.filtered(lambda line: line.display_type == 'product').product_id
        missing = products.filtered(lambda p: not Mapping._qbo_find(connection, 'product', p))
        for product in missing:
            # A product whose match waits for a person gets no new item (see qbo.match): nothing is created
            # before every one is decided.
            self.env['qbo.match']._qbo_check_decided(connection, 'Item', product)
        for product in missing:
            if not connection.income_account_ref_id:
                raise QboBlocked(_("Blocked: mapping - set the 'Income account for new items' to create the "
                                   "QuickBooks item of %s.", product.display_name))
            name = qbo_clean_name(product.name, const.ITEM_NAME_MAX_LENGTH)
            res_ref = f"product.product,{product.id}"
            rows = client.query(f"SELECT * FROM Item WHERE Name = {qbo_quote(name)} AND Active IN (true, false)",
                                res_ref=res_ref).get('Item', [])
            if rows:
                item = rows[0]
            else:
                vals = self.env['qbo.mapper']._qbo_prepare_item_vals(product, connection, name)
                request_id = self.env['qbo.binding']._qbo_make_request_id(
                    connection, product._name, product.id, 'create-item', json.dumps(vals, sort_keys=True))
                item = client.create('Item', vals, request_id, res_ref=res_ref)
            ref = self.env['qbo.ref'].sudo().with_context(active_test=False).search([
                ('connection_id', '=', connection.id), ('entity', '=', 'Item'), ('qbo_id', '=', item['Id'])])
            vals = {'name': item['Name'], 'active': item.get('Active', True), 'data': item}
            if ref:
                ref.write(vals)
            else:
                ref = ref.create(dict(vals, connection_id=connection.id, entity='Item', qbo_id=item['Id']))
            Mapping.create({'connection_id': connection.id, 'mapping_type': 'product', 'res_id': product.id,
                            'qbo_ref_id': ref.id})

    # ------------------------------------------------------------------ documents

    @api.model
    def _qbo_find_ours(self, binding, move, client, payload, res_ref):
        """Our document in QuickBooks, found by its marker (PrivateNote), or None.

        Searched by DocNumber when QuickBooks uses custom numbers; else, after an unknown outcome,
        among the documents created since the intent (`binding._qbo_created_since`: the customer's
        Id may be unknown, a crash can lose it too); else among the customer's documents, page after
        page (no 100-row cap). The marker is untranslated, so the lookup works whatever the language
        of the user who sent the document first.
        """
        entity = binding.entity
        marker = binding._qbo_marker()

        def ours(rows):
            return next((row for row in rows if (row.get('PrivateNote') or '').rstrip().endswith(marker)), None)

        if payload.get('DocNumber'):
            rows = client.query(f"SELECT * FROM {entity} WHERE DocNumber = {qbo_quote(payload['DocNumber'])}",
                                res_ref=res_ref).get(entity, [])
            found = ours(rows)
            if found:
                return found
        if binding.intent_date:
            return binding._qbo_created_since(self, client, res_ref=res_ref).get(marker)
        customer_id = (payload.get('CustomerRef') or {}).get('value')
        if not customer_id:
            return None
        return ours(client.query_all(entity, where=f"CustomerRef = {qbo_quote(customer_id)}", res_ref=res_ref))

    @api.model
    def _qbo_create(self, binding, move, client, payload, res_ref):
        """Create exactly once: a marker lookup after an unknown outcome, the same requestid on a retry."""
        entity = binding.entity
        if binding._qbo_pending_create():
            existing = self._qbo_find_ours(binding, move, client, payload, res_ref)
            if existing:
                binding._qbo_settle()
                binding.write({'qbo_id': existing['Id'], 'qbo_sync_token': existing['SyncToken']})
                return self._qbo_update(binding, move, client, payload, res_ref, current=existing)
        try:
            return binding._qbo_call('create', lambda rid: client.create(entity, payload, rid, res_ref=res_ref))
        except QboValidationError as exc:
            if exc.code != const.FAULT_DUPLICATE_DOC_NUMBER:
                raise
            duplicate = exc
        # 6140: the number exists. Link when it is ours, else say which document holds it.
        existing = self._qbo_find_ours(binding, move, client, payload, res_ref)
        if existing:
            binding.write({'qbo_id': existing['Id'], 'qbo_sync_token': existing['SyncToken']})
            return self._qbo_update(binding, move, client, payload, res_ref, current=existing)
        raise QboBlocked(_("QuickBooks already has a %(entity)s numbered %(number)s that was not created from "
                           "this Odoo document (%(detail)s). Renumber one of them, or set a number prefix "
                           "(Settings > Accounting > QuickBooks Online).",
                           entity=entity, number=payload.get('DocNumber'),
                           detail=duplicate.detail or duplicate.message))

    @api.model
    def _qbo_with_held_token(self, binding, operation, send, read):
        """Send a write with the SyncToken of our last write, reading the document only when we must.

        The last write's response is the truth (its SyncToken is stored), so the write goes without
        a read first. The document is read instead - and returned, for the caller to decide - when
        QuickBooks answers 5010 (stale object: someone changed it since, e.g. a payment, a user, a
        void), when no SyncToken is held, or after an unknown outcome of this same operation.
        Other faults (610: deleted in QuickBooks) propagate from the write or the read alike.

        :param send: callable(sync_token) making the write
        :param read: callable() returning the current document
        :return: (True, what `send` returned) or (False, the current document)
        """
        unknown = binding.intent_operation == operation and binding.intent_request_id
        if binding.qbo_sync_token and not unknown:
            try:
                return True, send(binding.qbo_sync_token)
            except QboValidationError as exc:
                if not exc.is_stale_object:
                    raise
        current = read()
        if unknown:
            # The read answers the unknown write (applied or not, the document says what it holds now):
            # what follows is a new request. The old requestid would make QuickBooks replay the old answer
            # instead of applying what Odoo holds now (edited since, say, after a crash).
            binding._qbo_settle()
        return False, current

    @api.model
    def _qbo_update(self, binding, move, client, payload, res_ref, current=None):
        """Update with the SyncToken we hold (see `_qbo_with_held_token`); a document voided in
        QuickBooks is not updated, one deleted there (610) is marked so."""
        if current is None:
            try:
                sent, result = self._qbo_with_held_token(
                    binding, 'update', lambda token: self._qbo_send_update(binding, client, payload, token, res_ref),
                    lambda: client.read(binding.entity, binding.qbo_id, res_ref=res_ref))
            except QboValidationError as exc:
                if exc.code == const.FAULT_OBJECT_NOT_FOUND:
                    self._qbo_mark_deleted(binding, move)
                    return None
                raise
            if sent:
                return result
            current = result
        if self._qbo_is_voided(current):
            self._qbo_mark_gone(binding, move, 'voided', _("This document was voided in QuickBooks (Id %s).",
                                                           binding.qbo_id))
            return None
        return self._qbo_send_update(binding, client, payload, current['SyncToken'], res_ref)

    @api.model
    def _qbo_send_update(self, binding, client, payload, sync_token, res_ref):
        body = dict(payload, Id=binding.qbo_id, SyncToken=sync_token)
        return binding._qbo_call('update', lambda rid: client.update(binding.entity, body, rid, res_ref=res_ref))

    @api.model
    def _qbo_mark_deleted(self, binding, move):
        self._qbo_mark_gone(binding, move, 'deleted_in_qbo', _(
            "This document was deleted in QuickBooks (Id %s). It is not re-created automatically: "
            "use 'Send again as new' if it should exist there.", binding.qbo_id))

    @api.model
    def _qbo_is_voided(self, document):
        return (document.get('PrivateNote') or '').startswith('Voided') and not document.get('TotalAmt')

    @api.model
    def _qbo_mark_gone(self, binding, move, state, message):
        binding.write({'state': state, 'error_message': message})
        move.sudo().message_post(body=message, message_type='comment', subtype_xmlid='mail.mt_note')

    @api.model
    def _qbo_find_unknown_create(self, binding, move, client, res_ref):
        """A cancelled document whose create has an unknown outcome: look it up by our marker.

        Found: the binding is linked to it (and the create intent settled), so that it is voided.
        Not found: the lookup proves the create never took effect; the intent is settled too (a later
        re-post gets a new requestid). Returns whether QuickBooks holds the document.
        """
        if not binding._qbo_pending_create():
            return False
        existing = self._qbo_find_ours(binding, move, client, self._qbo_lookup_hints(binding, move), res_ref)
        binding._qbo_settle()
        if not existing:
            return False
        binding.write({'qbo_id': existing['Id'], 'qbo_sync_token': existing['SyncToken'],
                       'qbo_doc_number': existing.get('DocNumber')})
        return True

    @api.model
    def _qbo_lookup_hints(self, binding, move):
        """What narrows the lookup of a document whose create has an unknown outcome, as payload keys
        (see `_qbo_find_ours`): its customer's Id and its number, when known. Neither is needed (a crash
        may have lost the customer's link too): the lookup goes by the intent's date and our marker."""
        connection = binding.connection_id
        customer = self.env['qbo.binding']._qbo_get_or_create(connection, move.commercial_partner_id, 'Customer')
        hints = {'CustomerRef': {'value': customer.qbo_id}} if customer.qbo_id else {}
        doc_number = self.env['qbo.mapper']._qbo_doc_number(move, connection)
        if doc_number:
            hints['DocNumber'] = doc_number
        return hints

    @api.model
    def _qbo_mark_resend_as_new(self, binding, move):
        """Re-posted after a void, or sent again after a deletion in QuickBooks: a new document.

        The old QuickBooks Id is forgotten (a voided document stays voided there, with zero amounts)
        and the link starts a new generation, so that the create gets a new requestid: QuickBooks
        must not replay the answer of the first create. The move counts its re-issues: with custom
        transaction numbers the new document needs a number of its own (see qbo.mapper).
        """
        move.sudo().qbo_reissue_count += 1
        binding.write({'qbo_id': False, 'qbo_sync_token': False, 'qbo_doc_number': False, 'state': 'to_send',
                       'error_message': False, 'error_code': False, 'next_retry_date': False, 'retry_count': 0,
                       'intent_operation': False, 'intent_request_id': False, 'intent_date': False,
                       'request_generation': binding.request_generation + 1})
        binding._qbo_trigger_cron()

    @api.model
    def _qbo_void(self, binding, move, client, res_ref):
        """Cancelled in Odoo: void the QuickBooks document (QuickBooks keeps it with zero amounts).

        A create whose outcome is unknown is looked up first (see `_qbo_find_unknown_create`): the
        document may be live in QuickBooks without Odoo knowing its Id. Sent with the SyncToken we
        hold; the document is read only on a stale token (5010) or after an unknown outcome, to see
        whether it is voided already.
        """
        if not binding.qbo_id and not self._qbo_find_unknown_create(binding, move, client, res_ref):
            message = _("Cancelled before it reached QuickBooks: there is nothing to void there.")
            binding.write({'state': 'voided', 'error_message': message})
            move.sudo().message_post(body=message, message_type='comment', subtype_xmlid='mail.mt_note')
            return
        if binding.entity in self._qbo_deleted_on_cancel:
            self._qbo_delete_document(binding, move, client, res_ref, self._qbo_deleted_message(binding))
            return
        entity, qbo_id = binding.entity, binding.qbo_id

        def void(sync_token):
            binding._qbo_call('void', lambda rid: client.void(entity, qbo_id, sync_token, rid, res_ref=res_ref))

        sent, current = self._qbo_with_held_token(binding, 'void', void,
                                                  lambda: client.read(entity, qbo_id, res_ref=res_ref))
        if not sent and not self._qbo_is_voided(current):
            void(current['SyncToken'])
        binding.write({'state': 'voided', 'error_message': False})
        move.sudo().message_post(body=_("Voided in QuickBooks (Id %s).", binding.qbo_id),
                                 message_type='comment', subtype_xmlid='mail.mt_note')

    @api.model
    def _qbo_deleted_message(self, binding):
        """What the document says once its QuickBooks document was deleted on cancel."""
        return _("Cancelled in Odoo: the QuickBooks credit memo (Id %s) was deleted, QuickBooks has no void for "
                 "credit memos.", binding.qbo_id)

    @api.model
    def _qbo_delete_document(self, binding, move, client, res_ref, message):
        """Delete the QuickBooks document of a cancelled move (entities without a void), then say `message`.

        Sent with the SyncToken we hold; read only on a stale token (5010) or after an unknown outcome.
        Already gone (610 from the read or the delete): nothing to do.
        """
        entity, qbo_id = binding.entity, binding.qbo_id

        def delete(sync_token):
            binding._qbo_call('delete', lambda rid: client.delete(entity, qbo_id, sync_token, rid, res_ref=res_ref))

        try:
            sent, current = self._qbo_with_held_token(binding, 'delete', delete,
                                                      lambda: client.read(entity, qbo_id, res_ref=res_ref))
            if not sent:
                delete(current['SyncToken'])
        except QboValidationError as exc:
            if exc.code != const.FAULT_OBJECT_NOT_FOUND:
                raise
        binding.write({'state': 'voided', 'error_message': message})
        move.sudo().message_post(body=message, message_type='comment', subtype_xmlid='mail.mt_note')

    @api.model
    def _qbo_expected_total(self, binding, move):
        """The total QuickBooks must hold for `move` (Odoo's total; see the journal entry exporter)."""
        return move.amount_total

    @api.model
    def _qbo_expected_tax(self, binding, move):
        """The tax QuickBooks must hold for `move` (Odoo's tax total; see the bill exporter for purchases)."""
        return move.amount_tax

    @api.model
    def _qbo_store_result(self, binding, move, document):
        """Store what QuickBooks holds and compare its totals with Odoo's (parity check)."""
        qbo_total = float(document.get('TotalAmt') or 0.0)
        qbo_tax = float((document.get('TxnTaxDetail') or {}).get('TotalTax') or 0.0)
        currency = move.currency_id
        odoo_total = self._qbo_expected_total(binding, move)
        odoo_tax = self._qbo_expected_tax(binding, move)
        vals = {
            'qbo_id': document['Id'], 'qbo_sync_token': document['SyncToken'],
            'qbo_doc_number': document.get('DocNumber'), 'currency_id': currency.id,
            'odoo_total': odoo_total, 'odoo_tax': odoo_tax, 'qbo_total': qbo_total, 'qbo_tax': qbo_tax,
        }
        if currency.compare_amounts(qbo_total, odoo_total) or currency.compare_amounts(qbo_tax, odoo_tax):
            reason = self.env['qbo.mapper']._qbo_variance_reason(move, binding.connection_id)
            vals.update(state='variance', error_message=_(
                "Variance: QuickBooks holds a total of %(qbo)s (tax %(qtax)s) but Odoo has %(odoo)s (tax %(otax)s). "
                "%(reason)s", qbo=qbo_total, qtax=qbo_tax, odoo=odoo_total, otax=odoo_tax,
                reason=reason))
        else:
            vals['state'] = 'sent'
        binding.write(vals)
        # Once an invoice or a credit note is in QuickBooks, the credits Odoo applied to it follow.
        self.env['qbo.credit.application']._qbo_queue_for_moves(move)

    @api.model
    def _qbo_after_write(self, binding, move, client):
        """Once QuickBooks holds the document: attach its file (opt-in; see qbo.exporter.attachment)."""
        if binding.entity in self._qbo_attached_entities and move.state == 'posted':
            self.env['qbo.exporter.attachment']._qbo_attach(binding, move, client)
