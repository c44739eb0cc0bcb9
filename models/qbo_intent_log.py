from odoo import api, fields, models, sql_db
from odoo.tools import SQL

# Rows of answered generations are useless; rows older than this are dropped whatever their state
# (QuickBooks forgets a requestid long before: a lookup by marker is then the only recovery anyway).
KEEP_DAYS = 30


class QboIntentLog(models.Model):
    """Write-ahead log of the intents of interactive exports (the Send button, list actions, Retry).

    The cron commits each binding's intent before its request leaves (see qbo.binding._qbo_begin).
    A button cannot commit its own transaction, so a request killed after QuickBooks committed (a
    worker killed, the server restarted) would roll its intents back with it, and the next attempt,
    in another batch (another batch requestid), would create the documents a second time. So the
    intent is also written here, on a cursor of its own, committed before the request leaves.

    A row is pending while its binding has not reached a later generation (each answer from
    QuickBooks starts one): the next export adopts it as the binding's intent and looks the object
    up before sending. No foreign key: the row must outlive a rolled-back binding. Read and written
    with SQL only, by the connector, always on a cursor of its own: the caller's snapshot may predate
    the rows it must see. Nobody edits it.
    """
    _name = 'qbo.intent.log'
    _description = 'QuickBooks Online intent log'
    _log_access = False

    connection_id = fields.Integer(required=True, readonly=True, index=True)
    res_model = fields.Char(required=True, readonly=True)
    res_id = fields.Integer(required=True, readonly=True)
    # The link's QuickBooks entity: a partner has a Customer and a Vendor link (empty on rows logged before).
    entity = fields.Char(readonly=True)
    operation = fields.Char(required=True, readonly=True)
    request_id = fields.Char(required=True, readonly=True)
    generation = fields.Integer(required=True, readonly=True)
    logged_at = fields.Datetime(required=True, readonly=True)

    @api.model
    def _qbo_cursor(self):
        """A cursor of its own on this database, committed when its block ends."""
        return sql_db.db_connect(self.env.cr.dbname).cursor()

    @api.model
    def _qbo_log(self, bindings):
        """Commit the current intents of `bindings` on a cursor of its own (one statement for a whole
        batch), before their requests leave."""
        now = fields.Datetime.now()
        rows = [(b.connection_id.id, b.res_model, b.res_id, b.entity, b.intent_operation, b.intent_request_id,
                 b.request_generation, now) for b in bindings]
        with self._qbo_cursor() as cr:
            cr.execute(SQL("""INSERT INTO qbo_intent_log
                                     (connection_id, res_model, res_id, entity, operation, request_id, generation,
                                      logged_at)
                              VALUES %s""", SQL(", ").join(SQL("%s", row) for row in rows)))

    @api.model
    def _qbo_forget(self, bindings):
        """The requests certainly never reached QuickBooks: their logged intents are void (one statement)."""
        keys = tuple((b.connection_id.id, b.res_model, b.res_id, b.entity, b.request_generation) for b in bindings)
        with self._qbo_cursor() as cr:
            cr.execute(SQL("DELETE FROM qbo_intent_log WHERE (connection_id, res_model, res_id, entity, generation) "
                           "IN %s", keys))

    @api.model
    def _qbo_logged(self, connection, record):
        """True when a write of `record` on `connection` was logged: it may exist in QuickBooks even
        though no binding survived the request that sent it."""
        with self._qbo_cursor() as cr:
            cr.execute(SQL("SELECT 1 FROM qbo_intent_log WHERE connection_id = %s AND res_model = %s AND res_id = %s "
                           "LIMIT 1", connection.id, record._name, record.id))
            return bool(cr.fetchone())

    @api.model
    def _qbo_adopt(self, bindings):
        """Give the bindings without an intent the pending intent logged for them, if any (one query).

        A logged intent of the binding's current generation (or a later one: a binding rolled back
        and created anew starts at 0 again) was sent without its answer ever being recorded.
        """
        bindings = bindings.filtered(lambda b: not b.intent_request_id)
        if not bindings:
            return
        keys = [(b.connection_id.id, b.res_model, b.res_id) for b in bindings]
        with self._qbo_cursor() as cr:
            cr.execute(SQL(
                """SELECT connection_id, res_model, res_id, operation, request_id, generation, logged_at, entity
                     FROM qbo_intent_log
                    WHERE (connection_id, res_model, res_id) IN %s
                 ORDER BY generation DESC, id DESC""", tuple(keys)))
            logged = {}
            for row in cr.fetchall():
                logged.setdefault((row[0], row[1], row[2]), []).append(row[3:])
        for binding in bindings:
            entries = [entry for entry in logged.get((binding.connection_id.id, binding.res_model, binding.res_id), [])
                       if entry[2] >= binding.request_generation and entry[4] in (None, binding.entity)]
            if not binding.qbo_id:
                # Without an Id only a create matters, even one followed by later writes that were rolled
                # back with it (found, linked, updated, then lost): its object may exist, look it up.
                entries = [entry for entry in entries if entry[0] == 'create']
            if entries:
                operation, request_id, generation, logged_at, _entity = entries[0]
                binding.write({'intent_operation': operation, 'intent_request_id': request_id,
                               'intent_date': logged_at, 'request_generation': generation})

    @api.model
    def _qbo_vacuum(self):
        """Drop the rows of answered generations and the very old ones (the export cron, once per run)."""
        with self._qbo_cursor() as cr:
            cr.execute(SQL(
                """DELETE FROM qbo_intent_log AS log
                    WHERE log.logged_at < %s
                       OR EXISTS (SELECT 1 FROM qbo_binding AS binding
                                   WHERE binding.connection_id = log.connection_id
                                     AND binding.res_model = log.res_model AND binding.res_id = log.res_id
                                     AND (log.entity IS NULL OR binding.entity = log.entity)
                                     AND binding.request_generation > log.generation)""",
                fields.Datetime.subtract(fields.Datetime.now(), days=KEEP_DAYS)))
