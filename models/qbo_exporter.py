from odoo import api, models


class QboExporter(models.AbstractModel):
    """What one QuickBooks entity declares to the sync engine (qbo.binding), and nothing else.

    Each exporter (``qbo.exporter.<entity>``) inherits this model, declares its entities and
    their place in a run, where its marker lives, and implements the hooks below; the engine
    reads the declarations through `_qbo_declarations` and calls only these hooks, so adding an
    entity means adding its exporter file, not touching the engine. Defaults: not batched, no
    shared batch context, no marker (unknown creates looked up one by one by the exporter).
    """
    _name = 'qbo.exporter'
    _description = 'QuickBooks Online exporter (declaration)'

    #: QuickBooks entities this exporter sends (binding.entity)
    _qbo_entities = ()
    #: Odoo models whose records it sends (empty: any). A record of another model linked as one of these
    #: entities sends itself, through its own `_qbo_exporter()` (e.g. a vendor credit applied to bills,
    #: qbo.credit.application, is a BillPayment too, with a payload and lifecycle of its own).
    _qbo_models = ()
    #: Place in a run: lower first (a customer before its invoices, an invoice before its payment)
    _qbo_export_order = 9
    #: The field of the QuickBooks object whose last word is our marker (one-query lookups of a batch)
    _qbo_marker_field = None
    #: Name-list entity (Customer, Vendor, Item...): inactive objects are searched too
    _qbo_name_list = False
    #: {entity: page of QuickBooks' web app showing an object, followed by its Id} ("Open in QuickBooks")
    _qbo_app_pages = {}

    @api.model
    def _qbo_declarations(self):
        """{entity: exporter} of every installed exporter (read by the engine)."""
        declared = {}
        for name in self.env.registry.descendants(['qbo.exporter'], '_inherit'):
            exporter = self.env[name]
            for entity in exporter._qbo_entities:
                declared[entity] = exporter
        return declared

    @api.model
    def _qbo_export_order_of(self, entity):
        """The place of `entity` in a run (see `_qbo_export_order`)."""
        exporter = self._qbo_declarations().get(entity)
        return exporter._qbo_export_order if exporter is not None else self._qbo_export_order

    # ------------------------------------------------------------------ hooks

    @api.model
    def _qbo_export(self, binding, record, client):
        """Send `record` alone (create, update, void...), recording the answer on `binding`."""
        raise NotImplementedError

    @api.model
    def _qbo_batch_context(self, connection):
        """Context shared by every item of one batch (checks that hold for all of them, made once)."""
        return {}

    @api.model
    def _qbo_batch_item(self, binding, record, client):
        """(operation, payload) of `record` in a batch request, or None to send it alone."""
        return None

    @api.model
    def _qbo_batch_apply(self, binding, record, answer):
        """Record QuickBooks' answer to the item of `record` in a batch."""
        raise NotImplementedError

    @api.model
    def _qbo_after_write(self, binding, record, client):
        """After QuickBooks accepted `record`'s write (alone or in a batch): follow-up calls that must not
        fail the write itself (e.g. attaching the document's file)."""

    @api.model
    def _qbo_batch_single_after(self, error):
        """True when a batch item refused with `error` must be handled alone (a lookup, a read)."""
        return False
