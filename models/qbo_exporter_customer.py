import logging
import re

from odoo import _, api, models
from odoo.exceptions import UserError

from .. import const
from ..tools import QboValidationError
from ..tools.qbo_client import qbo_quote
from .qbo_mapper import qbo_clean_name

_logger = logging.getLogger(__name__)

_EXISTING_ID = re.compile(r'Id=(\d+)')
# "A business validation error has occurred": among others, QuickBooks' refusal to make a customer
# with an open balance inactive ("Delete List Has Balance Error").
FAULT_BUSINESS_VALIDATION = '6000'


class QboExporterCustomer(models.AbstractModel):
    """Sends a commercial partner to QuickBooks as a Customer, exactly once.

    The sync machinery for customers: res.partner only says what to send (payload builders in
    qbo.mapper) and reacts to the outcome. Every write goes through `binding._qbo_call` (durable
    intent + stable requestid); every customer we create carries our marker in its Notes, so a
    duplicate-name answer (6240) or an unknown outcome finds our own customer instead of
    creating a suffixed second one.
    """
    _name = 'qbo.exporter.customer'
    _inherit = 'qbo.exporter'
    _description = 'QuickBooks Online customer exporter'
    _qbo_entities = ('Customer',)
    _qbo_export_order = 1
    # Where our marker is written (its last word), for the engine's one-query lookup of unknown creates.
    _qbo_marker_field = 'Notes'
    _qbo_name_list = True  # name-list entity: inactive customers are searched too
    _qbo_app_pages = {'Customer': 'customerdetail?nameId='}

    @api.model
    def _qbo_display_name(self, partner, connection, suffix=False):
        """DisplayName on `connection`: the cleaned name, plus a visible suffix after a clash with someone else."""
        base = qbo_clean_name(partner.name or partner.display_name, const.DISPLAY_NAME_MAX_LENGTH)
        if not suffix:
            return base
        tag = f" ({partner.ref or partner.id})"
        return qbo_clean_name(base[:const.DISPLAY_NAME_MAX_LENGTH - len(tag)] + tag, const.DISPLAY_NAME_MAX_LENGTH)

    @api.model
    def _qbo_payload(self, binding, partner):
        """The customer payload; keeps the (possibly suffixed) name QuickBooks knows unless renamed in Odoo."""
        display_name = self._qbo_display_name(partner, binding.connection_id)
        sent = binding.qbo_sent_name
        if sent and sent.rstrip(')').rsplit(' (', 1)[0] == display_name:
            display_name = sent  # as QuickBooks knows it (with the suffix a clash gave it)
        currency_id = self.env.context.get('qbo_currency_id')
        return self.env['qbo.mapper']._qbo_prepare_customer_vals(
            partner, binding.connection_id, display_name,
            currency=self.env['res.currency'].browse(currency_id) if currency_id else None)

    @api.model
    def _qbo_export(self, binding, partner, client):
        """Create or update the QuickBooks customer of this partner; never create a second one."""
        payload = self._qbo_payload(binding, partner)
        res_ref = f"{partner._name},{partner.id}"
        if binding.qbo_id:
            customer = self._qbo_update(binding, client, payload, res_ref)
        else:
            customer = self._qbo_create(binding, partner, client, payload, res_ref)
        self._qbo_apply(binding, customer)

    # ------------------------------------------------------------------ batch (see qbo.binding._qbo_process_batch)

    @api.model
    def _qbo_batch_item(self, binding, partner, client):
        """(operation, payload) of this customer in a batch request, or None to send it alone.

        An unknown outcome is looked up first, alone; a create and a sparse update (with the
        SyncToken we hold) go in batches.
        """
        if binding._qbo_pending_create():
            return None
        if not binding.qbo_id:
            # A customer whose match waits for a person is not created (see qbo.match).
            self.env['qbo.match']._qbo_check_decided(binding.connection_id, binding.entity, partner)
        payload = self._qbo_payload(binding, partner)
        if not binding.qbo_id:
            return 'create', payload
        if payload.get('Active') is False:
            return None  # archived: QuickBooks may refuse it (open balance), handled alone (see _qbo_update)
        return 'update', self._qbo_update_body(binding, payload)

    @api.model
    def _qbo_batch_apply(self, binding, partner, customer):
        self._qbo_apply(binding, customer)

    @api.model
    def _qbo_batch_single_after(self, error):
        """A duplicate name (ours? the same party?) or a stale SyncToken: handled alone, with a lookup."""
        return error.code in (const.FAULT_DUPLICATE_NAME, const.FAULT_STALE_OBJECT)

    @api.model
    def _qbo_apply(self, binding, customer):
        """Record what QuickBooks answered (the write's response is the truth: no read-back)."""
        binding.write({'qbo_id': customer['Id'], 'qbo_sync_token': customer['SyncToken'],
                       'qbo_sent_name': customer.get('DisplayName'),
                       'qbo_currency': (customer.get('CurrencyRef') or {}).get('value') or False})

    @api.model
    def _qbo_update_body(self, binding, payload):
        """Sparse update body. Notes that hold only our marker are left alone: the marker was written at
        creation, and notes typed in QuickBooks since then are kept."""
        body = dict(payload, Id=binding.qbo_id, SyncToken=binding.qbo_sync_token, sparse=True)
        body.pop('CurrencyRef', None)  # read-only after creation
        if (body.get('Notes') or '').strip() == binding._qbo_marker():
            body.pop('Notes')
        return self.env['qbo.master.field']._qbo_strip_update(binding, body)

    @api.model
    def _qbo_update(self, binding, client, payload, res_ref):
        """Sparse update with the known SyncToken (see `_qbo_send_update`).

        An archived partner is made inactive in QuickBooks, which QuickBooks refuses while the
        customer has an open balance (fault 6000, "Delete List Has Balance Error"): the rest of the
        update is then sent with the customer kept active, and the partner says why (not an error
        of the link, nor of the invoices that use it).
        """
        body = self._qbo_update_body(binding, payload)
        try:
            return self._qbo_send_update(binding, client, body, res_ref)
        except QboValidationError as exc:
            if body.get('Active') is not False or exc.code != FAULT_BUSINESS_VALIDATION:
                raise
            refusal = exc
        current = client.read(binding.entity, binding.qbo_id, res_ref=res_ref)
        balance = current.get('Balance') or 0.0
        if not balance:
            raise refusal
        body = dict(body, SyncToken=current['SyncToken'])
        body.pop('Active')
        customer = binding._qbo_call('update', lambda rid: client.update(binding.entity, body, rid, res_ref=res_ref))
        partner = binding._qbo_record()
        if partner:
            partner._qbo_message(_(
                "Archived in Odoo but kept active in QuickBooks: QuickBooks does not make a customer with an open "
                "balance inactive (balance there: %(balance)s). Once that balance is paid or written off in "
                "QuickBooks, send this customer again to make it inactive there.", balance=balance))
        return customer

    @api.model
    def _qbo_send_update(self, binding, client, body, res_ref):
        """Send a sparse update with the SyncToken we hold; on a stale token (5010) re-read and retry once.

        After an update with an unknown outcome the customer is read first and the update goes with a
        new requestid: the old one would make QuickBooks replay its old answer instead of applying the
        current data (edited since, say, after a crash).
        """
        if binding.intent_operation == 'update' and binding.intent_request_id:
            body = dict(body, SyncToken=client.read(binding.entity, binding.qbo_id, res_ref=res_ref)['SyncToken'])
            binding._qbo_settle()
            return binding._qbo_call('update', lambda rid: client.update(binding.entity, body, rid, res_ref=res_ref))
        try:
            return binding._qbo_call('update', lambda rid: client.update(binding.entity, body, rid, res_ref=res_ref))
        except QboValidationError as exc:
            if not exc.is_stale_object:
                raise
        current = client.read(binding.entity, binding.qbo_id, res_ref=res_ref)
        body = dict(body, SyncToken=current['SyncToken'])
        return binding._qbo_call('update', lambda rid: client.update(binding.entity, body, rid, res_ref=res_ref))

    @api.model
    def _qbo_is_ours(self, customer, marker):
        return (customer.get('Notes') or '').rstrip().endswith(marker)

    @api.model
    def _qbo_is_same_party(self, customer, partner):
        """A customer not created by us is this partner: same email, or same VAT number *and* same
        billing postal code.

        A VAT number never decides alone: QuickBooks masks `PrimaryTaxIdentifier` in responses
        (only its last five characters are shown) and VAT groups share one number.
        """
        email = ((customer.get('PrimaryEmailAddr') or {}).get('Address') or '').strip().lower()
        if partner.email and email and email == partner.email.strip().lower():
            return True
        masked = (customer.get('PrimaryTaxIdentifier') or '').replace(' ', '')
        vat = (partner.vat or '').replace(' ', '')
        postal = ((customer.get('BillAddr') or {}).get('PostalCode') or '').replace(' ', '').lower()
        return bool(vat and masked and masked[-5:] == vat[-5:]
                    and partner.zip and postal == partner.zip.replace(' ', '').lower())

    @api.model
    def _qbo_find_ours(self, binding, partner, client, payload, res_ref):
        """After an unknown outcome: our customer, by the marker among the customers created since the
        intent (renamed since, or not), else under the name we sent (plain or suffixed); or None."""
        marker = binding._qbo_marker()
        if binding.intent_date:
            found = binding._qbo_created_since(self, client, res_ref=res_ref).get(marker)
            if found:
                return found
        for name in dict.fromkeys((payload['DisplayName'],
                                    self._qbo_display_name(partner, binding.connection_id, suffix=True))):
            rows = client.query(f"SELECT * FROM {binding.entity} WHERE DisplayName = {qbo_quote(name)} "
                                f"AND Active IN (true, false)", res_ref=res_ref).get(binding.entity, [])
            found = next((row for row in rows if self._qbo_is_ours(row, marker)), None)
            if found:
                return found
        return None

    @api.model
    def _qbo_create(self, binding, partner, client, payload, res_ref):
        """Create the customer. A duplicate name (6240) links ours or the same party, else gets a suffix."""
        self.env['qbo.match']._qbo_check_decided(binding.connection_id, binding.entity, partner)  # see qbo.match
        if binding._qbo_pending_create():
            # A previous create may have reached QuickBooks: look before creating again.
            existing = self._qbo_find_ours(binding, partner, client, payload, res_ref)
            if existing:
                binding._qbo_settle()
                return self._qbo_link(binding, partner, client, existing, payload, res_ref)
        try:
            return binding._qbo_call('create',
                                     lambda rid: client.create(binding.entity, payload, rid, res_ref=res_ref))
        except QboValidationError as exc:
            if exc.code != const.FAULT_DUPLICATE_NAME:
                raise
            existing = self._qbo_name_holder(binding, client, exc, res_ref)
        ours = existing and self._qbo_is_ours(existing, binding._qbo_marker())
        if existing and (ours or self._qbo_is_same_party(existing, partner)):
            return self._qbo_link(binding, partner, client, existing, payload, res_ref)
        payload = dict(payload, DisplayName=self._qbo_display_name(partner, binding.connection_id, suffix=True))
        _logger.info("QuickBooks name clash for partner %s: sending as %r", partner.id, payload['DisplayName'])
        try:
            return binding._qbo_call('create',
                                     lambda rid: client.create(binding.entity, payload, rid, res_ref=res_ref))
        except QboValidationError as exc:
            # The suffixed name is taken too: by ours when an earlier create under it lost its answer and
            # its link (chaos seed 3, episode 19: a crashed run after the same clash). Link it if it is.
            existing = exc.code == const.FAULT_DUPLICATE_NAME and self._qbo_name_holder(binding, client, exc, res_ref)
            if not (existing and self._qbo_is_ours(existing, binding._qbo_marker())):
                raise
        return self._qbo_link(binding, partner, client, existing, payload, res_ref)

    @api.model
    def _qbo_name_holder(self, binding, client, error, res_ref):
        """The object of the binding's entity that holds the name a 6240 `error` refused (its message names
        the Id), or None when it names none or the holder is another kind (a vendor or an employee:
        QuickBooks names are unique across the three)."""
        clash = _EXISTING_ID.search(error.detail or error.message or '')
        if not clash:
            return None
        try:
            return client.read(binding.entity, clash.group(1), res_ref=res_ref)
        except QboValidationError:
            return None

    @api.model
    def _qbo_link(self, binding, partner, client, existing, payload, res_ref):
        """Link the binding to an existing customer and bring it up to date (sparse update)."""
        holder = binding.search([('connection_id', '=', binding.connection_id.id), ('entity', '=', binding.entity),
                                 ('qbo_id', '=', existing['Id']), ('id', '!=', binding.id)], limit=1)
        if holder:
            # Two contacts QuickBooks would see as one customer (same name and e-mail): say so.
            raise UserError(_(
                "%(partner)s has the same name and e-mail as %(other)s, already QuickBooks %(entity)s %(name)s "
                "(Id %(id)s). QuickBooks keeps one %(entity)s per name: merge the two contacts, or change this "
                "one's name or e-mail, then send it again.", partner=partner.display_name,
                other=holder.record_name or holder.res_id,
                entity=binding.entity, name=existing.get('DisplayName'), id=existing['Id']))
        binding.write({'qbo_id': existing['Id'], 'qbo_sync_token': existing['SyncToken']})
        if not self._qbo_is_ours(existing, binding._qbo_marker()):
            partner.sudo().message_post(
                body=_("Linked to the existing QuickBooks %(entity)s %(name)s (Id %(id)s).",
                       entity=binding.entity, name=existing.get('DisplayName'), id=existing['Id']),
                message_type='comment', subtype_xmlid='mail.mt_note')
        return self._qbo_update(binding, client, dict(payload, DisplayName=existing['DisplayName']), res_ref)

    # ------------------------------------------------------------------ merges made in QuickBooks

    @api.model
    def _qbo_apply_merges(self, connection, client, events):
        """Customers, vendors and items merged in QuickBooks: move the link of the merged one to the survivor.

        QuickBooks makes the merged object inactive (renamed "... (deleted)") and moves its
        transactions to the survivor; the Merge event names the survivor (its Id) and the merged one
        (deletedId). A link left on the merged Id would make every next document fail with 610
        (inactive name). The survivor is read (its SyncToken, name and currency); when another
        partner is already linked to it, the partners must be merged in Odoo too: the link is
        blocked with that explanation rather than guessed. Items: see `qbo.master.field._qbo_merge_item`.

        :param events: qbo.webhook.event records of Customer, Vendor and Item Merge events
        """
        Binding = self.env['qbo.binding'].sudo()
        for event in events:
            if not event.merged_entity_id or not event.entity_id:
                continue
            entity = event.entity
            if entity == 'Item':
                try:
                    self.env['qbo.master.field']._qbo_merge_item(connection, client, event)
                except QboValidationError as exc:  # the survivor is gone too: the next export says so
                    _logger.warning("QuickBooks merge of item %s into %s: %s", event.merged_entity_id,
                                    event.entity_id, exc)
                continue
            merged = Binding.search([('connection_id', '=', connection.id), ('entity', '=', entity),
                                     ('qbo_id', '=', event.merged_entity_id)], limit=1)
            partner = merged._qbo_record() if merged else None
            if not partner:
                continue
            holder = Binding.search([('connection_id', '=', connection.id), ('entity', '=', entity),
                                     ('qbo_id', '=', event.entity_id)], limit=1)
            if holder:
                message = _("This %(entity)s was merged in QuickBooks into %(survivor)s (Id %(id)s), which is linked "
                            "to the Odoo contact %(other)s. Merge the two contacts in Odoo too; until then this "
                            "contact's documents are not sent.", entity=entity.lower(),
                            survivor=holder.qbo_sent_name or event.entity_id, id=event.entity_id,
                            other=holder.record_name)
                merged.write({'state': 'blocked', 'error_message': message})
                partner._qbo_message(message)
                continue
            try:
                survivor = client.read(entity, event.entity_id, res_ref=f"res.partner,{partner.id}")
            except QboValidationError as exc:  # the survivor is gone too: the next export says so
                _logger.warning("QuickBooks merge of %s %s into %s: %s", entity, event.merged_entity_id,
                                event.entity_id, exc)
                continue
            vals = {'qbo_id': survivor['Id'], 'qbo_sync_token': survivor['SyncToken'],
                    'qbo_sent_name': survivor.get('DisplayName'),
                    'qbo_currency': (survivor.get('CurrencyRef') or {}).get('value') or False}
            if merged.state in ('error', 'blocked'):
                vals.update(state='sent', error_message=False, error_code=False)
            merged.write(vals)
            partner._qbo_message(_("Merged in QuickBooks into %(name)s (%(entity)s Id %(id)s, was Id %(old)s): this "
                                   "contact is now linked to it.", name=survivor.get('DisplayName'), entity=entity,
                                   id=survivor['Id'], old=event.merged_entity_id))
            # Documents refused because they named the merged customer or vendor (610) go again.
            moves = self.env['account.move'].sudo().search([('commercial_partner_id', '=', partner.id)])
            Binding.search([('connection_id', '=', connection.id), ('res_model', '=', 'account.move'),
                            ('res_id', 'in', moves.ids), ('state', '=', 'error'),
                            ('error_code', '=', const.FAULT_OBJECT_NOT_FOUND)])._qbo_mark_to_send()


class QboExporterSelf(models.AbstractModel):
    """Exporter of records that keep their export code themselves (`record._qbo_export(binding, client)`)."""
    _name = 'qbo.exporter.self'
    _inherit = 'qbo.exporter'
    _description = 'QuickBooks Online exporter (record-defined)'
    _qbo_entities = ('Payment',)
    _qbo_export_order = 3
    _qbo_app_pages = {'Payment': 'recvpayment?txnId='}

    @api.model
    def _qbo_export(self, binding, record, client):
        record._qbo_export(binding, client)
