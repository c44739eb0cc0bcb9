from odoo import _, api, models

from .. import const
from ..tools import QboValidationError
from .qbo_binding import QboBlocked
from .qbo_mapper import qbo_clean_name


class QboExporterItem(models.AbstractModel):
    """Sends the Odoo edits of products mapped to QuickBooks items: sparse Item updates of the fields Odoo owns.

    Items are reference data: they are imported, mapped to products (or created on demand by
    'Create missing items'), never created by this exporter. What it sends is the master data
    Odoo owns (Settings > QuickBooks > Master data ownership: name, sales description, sales
    price, active; "most recent" counts as Odoo's for an Odoo edit): an update with the item's Id,
    the SyncToken held and only those fields; the fields QuickBooks owns are left out.

    A product's link (entity Item) holds no QuickBooks Id of its own: the item is the one its
    mapping names, and several products may map to one item (a link holds an Id once). The
    SyncToken held is the item's reference row's (`qbo.ref.data`), which the answer of every write
    replaces (never read back) and every change read from QuickBooks refreshes, so that the echo
    of our own write in the change feed is recognised (see `qbo.master.field._qbo_apply_item`).
    """
    _name = 'qbo.exporter.item'
    _inherit = 'qbo.exporter'
    _description = 'QuickBooks Online item exporter'
    _qbo_entities = ('Item',)
    _qbo_models = ('product.product',)
    # After the documents: an item made inactive is refused on the documents of the same run still naming it.
    _qbo_export_order = 5
    _qbo_name_list = True

    @api.model
    def _qbo_ref(self, binding, product):
        """The reference row of the item `product` is mapped to on the binding's connection.

        :raise QboBlocked: the product is not mapped (any more): queued again once it is
        """
        ref = self.env['qbo.mapping']._qbo_find(binding.connection_id, 'product', product)
        if not ref:
            raise QboBlocked(_("Blocked: mapping - %s is not mapped to a QuickBooks item any more: nothing to "
                               "update. Map it to an item to send its edits.", product.display_name))
        return ref

    @api.model
    def _qbo_owners(self, connection):
        """{field key: owner} of items on `connection`, once per batch (see `_qbo_batch_context`)."""
        shared = self.env.context.get('qbo_item_owners')
        return dict(shared) if shared else self.env['qbo.master.field']._qbo_owners(connection, 'Item')

    @api.model
    def _qbo_update_body(self, binding, product, ref, sync_token=None):
        """The sparse update of `ref`'s item: Id, SyncToken and the fields Odoo owns (or the most recent edit).

        Names are cleaned as QuickBooks wants them (no ':', no tabs or newlines, at most 100 characters).
        """
        owners = self._qbo_owners(binding.connection_id)
        body = {'Id': ref.qbo_id, 'SyncToken': sync_token or (ref.data or {}).get('SyncToken'), 'sparse': True}
        sent = {key for key, owner in owners.items() if owner != 'qbo'}
        if 'name' in sent:
            body['Name'] = qbo_clean_name(product.name, const.ITEM_NAME_MAX_LENGTH)
        if 'description' in sent:
            body['Description'] = (product.description_sale or '')[:const.LINE_DESCRIPTION_MAX_LENGTH]
        if 'price' in sent:
            body['UnitPrice'] = product.lst_price
        if 'active' in sent:
            body['Active'] = bool(product.active)
        return body

    @api.model
    def _qbo_export(self, binding, product, client):
        """Update the product's item alone (an unknown outcome, a stale SyncToken, or a batch of one)."""
        ref = self._qbo_ref(binding, product)
        res_ref = f"{product._name},{product.id}"
        # Sent with the SyncToken held, unless it is known to be stale: an update whose outcome is unknown
        # (its requestid would replay the old answer instead of applying what Odoo holds now), no token
        # held, or the batch just refused ours (5010).
        read_first = ((binding.intent_operation == 'update' and binding.intent_request_id)
                      or not (ref.data or {}).get('SyncToken') or self.env.context.get('qbo_stale_token'))
        if not read_first:
            body = self._qbo_update_body(binding, product, ref)
            try:
                item = binding._qbo_call('update', lambda rid: client.update('Item', body, rid, res_ref=res_ref))
                self._qbo_apply(binding, ref, item)
                return
            except QboValidationError as exc:
                if not exc.is_stale_object:
                    raise
                # Changed in QuickBooks since the SyncToken we hold (settled by the refusal): read it below.
        item = self._qbo_refresh(binding, client, ref, res_ref)
        if binding.intent_request_id:
            binding._qbo_settle()
        body = self._qbo_update_body(binding, product, ref, sync_token=item['SyncToken'])
        item = binding._qbo_call('update', lambda rid: client.update('Item', body, rid, res_ref=res_ref))
        self._qbo_apply(binding, ref, item)

    @api.model
    def _qbo_refresh(self, binding, client, ref, res_ref):
        """Read the item (a metered read, only after a 5010 or an unknown outcome) and apply it as a change read
        from QuickBooks: the products mapped to it get the fields QuickBooks owns (or edited last), so that
        nothing QuickBooks changed is lost behind the SyncToken of our next write."""
        item = client.read('Item', ref.qbo_id, res_ref=res_ref)
        self.env['qbo.master.field']._qbo_apply_item(binding.connection_id, item)
        return item

    @api.model
    def _qbo_apply(self, binding, ref, item):
        """The write's answer is the truth: the reference row takes it (name, active, data and SyncToken)."""
        ref.sudo().write(self.env['qbo.connection']._qbo_ref_vals('Item', item))
        binding.write({'qbo_sent_name': item.get('Name')})

    # ------------------------------------------------------------------ batch (see qbo.binding._qbo_process_batch)

    @api.model
    def _qbo_batch_context(self, connection):
        return {'qbo_item_owners': tuple(self.env['qbo.master.field']._qbo_owners(connection, 'Item').items())}

    @api.model
    def _qbo_batch_item(self, binding, product, client):
        """A sparse update in a batch; an unknown outcome or a missing SyncToken goes alone (a read first)."""
        ref = self._qbo_ref(binding, product)
        if binding.intent_request_id or not (ref.data or {}).get('SyncToken'):
            return None
        return 'update', self._qbo_update_body(binding, product, ref)

    @api.model
    def _qbo_batch_apply(self, binding, product, item):
        self._qbo_apply(binding, self._qbo_ref(binding, product), item)

    @api.model
    def _qbo_batch_single_after(self, error):
        """A stale SyncToken (5010) is handled alone: a read, then the update again (once)."""
        return error.code == const.FAULT_STALE_OBJECT
