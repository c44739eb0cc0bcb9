import logging
import uuid
from datetime import timedelta

from markupsafe import escape

from odoo import _, api, fields, models, modules
from odoo.exceptions import UserError
from odoo.tools import SQL

from .. import const
from ..tools import QboError, QboRateLimitError, QboServerError
from ..tools.qbo_client import error_from_batch_fault
from ..tools.qbo_exceptions import is_auth_failure, is_definite_answer, never_executed
from . import qbo_compat
from .qbo_connection import QboReconnectNeeded

_logger = logging.getLogger(__name__)

# Export order inside one run: an invoice needs its customer (and items) first.
ENTITY_ORDER = {'Item': 0, 'Customer': 1, 'Invoice': 2, 'CreditMemo': 2}
# Exponential back-off of transient failures (minutes), capped at the last value.
RETRY_DELAYS_MINUTES = (1, 5, 15, 60, 240)
# uuid5 namespace of our requestids (any fixed uuid; never change it: it would change every requestid).
REQUEST_ID_NAMESPACE = uuid.UUID('6f1c3c2e-8a4b-5d0e-9f17-0d0b0c0a1e51')
# First key of the advisory locks taken on bindings (second key: the binding id).
LOCK_CLASS = 0x51B0
# Fields that record what QuickBooks answered: kept when an export fails after the answer came.
TRUTH_FIELDS = ['qbo_id', 'qbo_sync_token', 'qbo_sent_name', 'request_generation', 'last_request_id',
                'intent_operation', 'intent_request_id', 'intent_date']


class QboBlocked(UserError):
    """The record cannot be exported until someone fixes its data or a mapping.

    Puts the binding in the visible 'blocked' state with this message; it is queued again by
    itself once the mapping is set (see qbo.mapping) or the record is edited.
    """


class QboDeferred(QboError):
    """The record waits for another one (its customer) that is itself deferred: retry at `retry_at`."""
    transient = True

    def __init__(self, message, retry_at=None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_at = retry_at


class QboBinding(models.Model):
    """Outbox and link between one Odoo record and one QuickBooks object, per connection (realm).

    The state machine shared by the "Send to QuickBooks" button, the server actions and the cron:
    to_send -> sent | variance | error | blocked; sent -> to_send when the record changes;
    voided / deleted_in_qbo are terminal until someone acts. A partner shared by two companies
    connected to two realms has two bindings, hence two QuickBooks ids.
    """
    _name = 'qbo.binding'
    _description = 'QuickBooks Online link'
    _order = 'id desc'
    _rec_name = 'record_name'

    connection_id = fields.Many2one('qbo.connection', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True)
    res_model = fields.Char('Model', required=True, index=True)
    res_id = fields.Many2oneReference('Record', model_field='res_model', required=True, index=True)
    record_name = fields.Char(compute='_compute_record_name', search='_search_record_name')
    entity = fields.Char('QuickBooks entity', required=True)
    qbo_id = fields.Char('QuickBooks Id', copy=False, index=True)
    qbo_sync_token = fields.Char(copy=False)
    qbo_doc_number = fields.Char('QuickBooks number', copy=False)
    qbo_sent_name = fields.Char('Name sent', copy=False,
                                help="The (cleaned) name QuickBooks knows this record by.")
    qbo_currency = fields.Char('Currency in QuickBooks', copy=False,
                               help="A customer's currency in QuickBooks (CurrencyRef of the last write's answer): "
                                    "checked against each document's currency without a read.")
    state = fields.Selection(const.SYNC_STATES, default='to_send', required=True, index=True, copy=False)
    error_message = fields.Text(copy=False)
    error_code = fields.Char(copy=False)
    intuit_tid = fields.Char(copy=False)
    retry_count = fields.Integer(copy=False)
    next_retry_date = fields.Datetime(copy=False, index=True)
    last_sync_date = fields.Datetime(copy=False)
    # Exactly once (see _qbo_call): the generation counts the answers QuickBooks gave for this
    # record; the requestid of a write is derived from it, so a retry after an unknown outcome
    # reuses the requestid (QuickBooks replays its answer) and anything after an answer gets a new one.
    request_generation = fields.Integer(default=0, copy=False)
    last_request_id = fields.Char(copy=False)
    # The durable intent: the write about to be sent (committed first in the cron) and its requestid.
    # Set and unanswered = outcome unknown: the next attempt looks for our object before sending.
    intent_operation = fields.Char(copy=False)
    intent_request_id = fields.Char(copy=False)
    intent_date = fields.Datetime(copy=False)
    outcome_unknown = fields.Boolean(compute='_compute_outcome_unknown',
                                     help="A write may have reached QuickBooks without its answer being recorded.")
    odoo_total = fields.Monetary(currency_field='currency_id', copy=False)
    qbo_total = fields.Monetary(currency_field='currency_id', copy=False)
    odoo_tax = fields.Monetary(currency_field='currency_id', copy=False)
    qbo_tax = fields.Monetary(currency_field='currency_id', copy=False)
    currency_id = fields.Many2one('res.currency', copy=False)
    qbo_url = fields.Char('Open in QuickBooks', compute='_compute_qbo_url')

    _record_uniq = qbo_compat.Constraint('unique(connection_id, res_model, res_id)',
                                         'A record is linked at most once per QuickBooks connection.')
    _qbo_object_uniq = qbo_compat.Constraint('unique(connection_id, entity, qbo_id)',
                                             'A QuickBooks object is linked to at most one Odoo record.')

    @api.depends('res_model', 'res_id')
    def _compute_record_name(self):
        for binding in self:
            record = binding._qbo_record()
            binding.record_name = record.display_name if record else f"{binding.res_model},{binding.res_id}"

    @api.depends('intent_request_id')
    def _compute_outcome_unknown(self):
        for binding in self:
            binding.outcome_unknown = bool(binding.intent_request_id)

    def _search_record_name(self, operator, value):
        """Search the linked records by their display name (the Transfers list's search box).

        The name is computed from the linked record, so the search runs on each linked model's
        stored name fields (its `_search_display_name`) and returns the matching (model, id) pairs.
        """
        groups = self.sudo()._read_group([], ['res_model'])
        domains = []
        for (res_model,) in groups:
            if not res_model or res_model not in self.env:
                continue
            ids = self.env[res_model]._search([('display_name', operator, value)])
            domains.append(['&', ('res_model', '=', res_model), ('res_id', 'in', ids)])
        return qbo_compat.domain_or(domains)

    @api.depends('qbo_id', 'entity', 'connection_id.environment', 'connection_id.custom_base_url')
    def _compute_qbo_url(self):
        for binding in self:
            url = False
            if binding.qbo_id:
                app = binding.connection_id._qbo_endpoints()['app'] if binding.connection_id else ''
                if binding.connection_id.environment == 'custom':
                    url = f"{app}/#{binding.entity.lower()}-{binding.qbo_id}"
                else:
                    page = {'Customer': 'customerdetail?nameId=', 'Invoice': 'invoice?txnId=',
                            'CreditMemo': 'creditmemo?txnId=', 'Item': 'items?itemId='}.get(binding.entity, '')
                    url = f"{app}/{page}{binding.qbo_id}"
            binding.qbo_url = url

    # ------------------------------------------------------------------ helpers

    def _qbo_record(self):
        self.ensure_one()
        if not self.res_model or self.res_model not in self.env:
            return None
        return self.env[self.res_model].browse(self.res_id).exists()

    def _qbo_records(self):
        """{binding id: its record (or None when gone)}, one query per model; the records of one model
        share their prefetch set, so that reading a field of one reads it for all (no query per record)."""
        by_model = {}
        for binding in self:
            by_model.setdefault(binding.res_model, []).append(binding)
        result = {}
        for res_model, bindings in by_model.items():
            if not res_model or res_model not in self.env:
                result.update((binding.id, None) for binding in bindings)
                continue
            records = self.env[res_model].browse({binding.res_id for binding in bindings}).exists()
            found = {record.id: record for record in records}
            result.update((binding.id, found.get(binding.res_id)) for binding in bindings)
        return result

    @api.model
    def _qbo_get_or_create(self, connection, record, entity):
        """Return the binding of `record` on `connection`, creating it (state to_send) if needed.

        Exportable models read it through their `qbo_binding_ids`, which the ORM fetches for a
        whole prefetched set at once (an invoice batch's customers: one query, not one per invoice).
        """
        if 'qbo_binding_ids' in record._fields:
            binding = record.sudo().qbo_binding_ids.filtered(lambda b: b.connection_id.id == connection.id)[:1]
        else:
            binding = self.sudo().search([('connection_id', '=', connection.id), ('res_model', '=', record._name),
                                          ('res_id', '=', record.id)], limit=1)
        if not binding:
            binding = self.sudo().create({'connection_id': connection.id, 'res_model': record._name,
                                          'res_id': record.id, 'entity': entity})
            if 'qbo_binding_ids' in record._fields:
                record.invalidate_recordset(['qbo_binding_ids'])
        return binding

    def _qbo_next_attempt_label(self):
        """When the scheduler will try this binding again, in the user's timezone ('in a few minutes' if unset)."""
        self.ensure_one()
        if not self.next_retry_date:
            return _("within a few minutes")
        return fields.Datetime.to_string(fields.Datetime.context_timestamp(self, self.next_retry_date))[:16]

    def _qbo_mark_to_send(self):
        """Queue the bindings again (record edited, mapping fixed, Retry clicked)."""
        todo = self.filtered(lambda b: b.state not in ('voided',))
        todo.write({'state': 'to_send', 'next_retry_date': False, 'retry_count': 0})
        if todo:
            self._qbo_trigger_cron()

    @api.model
    def _qbo_trigger_cron(self, at=None):
        """Wake the export cron now, or at `at` (a deferred retry). One pending wake-up per moment."""
        cron = self.env.ref('quickbooks_online.ir_cron_qbo_export', raise_if_not_found=False)
        if not cron or not cron.active:
            return
        if at and self.env['ir.cron.trigger'].sudo().search_count(
                [('cron_id', '=', cron.id), ('call_at', '>', fields.Datetime.now()), ('call_at', '<=', at)], limit=1):
            return  # an earlier wake-up is planned; that run plans the next one
        cron.sudo()._trigger(at)

    @api.model
    def _qbo_can_commit(self):
        """Commit only in real cron runs: never inside tests (same rule as account.move.send).

        Tests that drive the cron on a real cursor of their own (committed data, two transactions)
        opt in with the context key ``qbo_cron_commit``.
        """
        return self.env.context.get('qbo_cron_commit', not modules.module.current_test)

    # ------------------------------------------------------------------ exactly once: identity and intents

    @api.model
    def _qbo_database_uuid(self):
        return self.env['ir.config_parameter'].sudo().get_param('database.uuid') or self.env.cr.dbname

    @api.model
    def _qbo_make_request_id(self, connection, res_model, res_id, operation, generation):
        """requestid = uuid5 of (database.uuid, model, record id, connection, operation, generation).

        Stable across restarts, serialization retries and payload edits (unlike a binding row id or
        a payload hash), 36 characters so that it also fits a batch request, and unique per
        database: two Odoo databases on one QuickBooks company never replay each other's answers.
        """
        key = f"{self._qbo_database_uuid()}:{res_model}:{res_id}:{connection.id}:{operation}:{generation}"
        return str(uuid.uuid5(REQUEST_ID_NAMESPACE, key))

    def _qbo_request_id(self, operation, payload=None):
        """This binding's requestid for `operation` in its current generation.

        :param payload: ignored (older callers pass it): the requestid must not change with the
            payload, or a retry after an unknown outcome would not be replayed
        """
        self.ensure_one()
        return self._qbo_make_request_id(self.connection_id, self.res_model, self.res_id, operation,
                                         self.request_generation)

    def _qbo_marker(self):
        """Untranslated marker written on the QuickBooks object (Customer.Notes, PrivateNote)."""
        self.ensure_one()
        return self.env['qbo.mapper']._qbo_marker(self._qbo_record())

    def _qbo_begin(self, operation):
        """Record the durable intent of a write and return the requestid to send it with.

        In the cron the intent is committed before the request leaves: after a crash, a timeout or
        a dropped connection the binding says "outcome unknown" (an intent without an answer), and
        the next attempt looks for what it may have created before sending the same requestid
        again. The binding stays locked by the run (session advisory lock) across the commit.
        """
        self.ensure_one()
        request_id = self._qbo_request_id(operation)
        if (self.intent_operation, self.intent_request_id) != (operation, request_id):
            self.write({'intent_operation': operation, 'intent_request_id': request_id,
                        'intent_date': fields.Datetime.now(), 'last_request_id': request_id})
        if self.env.context.get('qbo_committing'):
            self.env.cr.commit()  # pylint: disable=invalid-commit  # cron only: the intent must survive a crash
        return request_id

    def _qbo_settle(self):
        """QuickBooks answered the intent (success or a definite refusal): next writes get a new generation."""
        self.ensure_one()
        self.write({'intent_operation': False, 'intent_request_id': False, 'intent_date': False,
                    'request_generation': self.request_generation + 1})

    def _qbo_call(self, operation, send):
        """Send one write exactly once: intent first, then the request with the intent's requestid.

        :param str operation: 'create', 'update', 'void', 'delete' or a label such as 'item-42'
        :param send: callable(request_id) doing the HTTP call and returning its result
        :return: what `send` returned
        :raise QboError: as raised by the client; definite answers are settled first, transient
            and unknown outcomes keep the intent (same requestid next time)
        """
        self.ensure_one()
        request_id = self._qbo_begin(operation)
        try:
            result = send(request_id)
        except QboError as exc:
            if is_definite_answer(exc):
                self._qbo_settle()
            elif never_executed(exc):
                # Refused before execution (429, authentication, connection refused): nothing to look for.
                self.write({'intent_operation': False, 'intent_request_id': False, 'intent_date': False})
            raise
        self._qbo_settle()
        return result

    def _qbo_pending_create(self):
        """True when a create was sent (or about to be) and its answer was never recorded."""
        self.ensure_one()
        return self.intent_operation == 'create' and bool(self.intent_request_id)

    # ------------------------------------------------------------------ locks

    def _qbo_try_lock(self, session):
        """Take this binding's advisory lock without waiting; False when another worker holds it.

        Session locks (cron) survive the commits of one export; transaction locks (button) end with
        the request. Both live in one lock space, so the button and the cron exclude each other.
        """
        self.ensure_one()
        function = 'pg_try_advisory_lock' if session else 'pg_try_advisory_xact_lock'
        self.env.cr.execute(SQL(f"SELECT {function}(%s, %s)", LOCK_CLASS, self.id))  # noqa: S608 - constant name
        return self.env.cr.fetchone()[0]

    def _qbo_claim(self, limit):
        """Cron: lock (session advisory locks) up to `limit` of these bindings, in their order, skipping
        those another worker holds; return the claimed ones. One statement for the whole run's work.

        Claiming at selection is what lets two cron workers (or servers) drain one queue side by
        side: each takes the next free bindings instead of both walking the same ones. Session locks,
        not transaction locks: the claim must survive the commits of the run (intents are committed
        before each request leaves), which is also why the export cron needs a session-pooled (not a
        transaction-pooled pgbouncer) connection; the shared rate limiter does not (see README).
        """
        # Every free candidate is locked in one statement, then what exceeds `limit` is given back.
        locked = self._qbo_try_lock_many(self.ids, session=True)
        ids = [binding_id for binding_id in self.ids if binding_id in locked]
        self._qbo_unlock_many(ids[limit:])
        return self.browse(ids[:limit])

    @api.model
    def _qbo_try_lock_many(self, ids, session):
        """Lock the bindings `ids` that no one else holds (one statement); return the set of locked ids."""
        if not ids:
            return set()
        function = 'pg_try_advisory_lock' if session else 'pg_try_advisory_xact_lock'
        self.env.cr.execute(SQL(f"SELECT id FROM unnest(%s::int[]) AS id WHERE {function}(%s, id)",  # noqa: S608
                                ids, LOCK_CLASS))
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _qbo_unlock_many(self, ids):
        if ids:
            self.env.cr.execute(SQL("SELECT pg_advisory_unlock(%s, id) FROM unnest(%s::int[]) AS id",
                                    LOCK_CLASS, list(ids)))

    def _qbo_lock_for_button(self):
        """Refuse to export bindings that a cron worker is exporting right now."""
        for binding in self:
            if not binding._qbo_try_lock(session=False):
                raise UserError(_("These records are being sent to QuickBooks right now. Try again in a minute."))

    # ------------------------------------------------------------------ processing (button and cron)

    def _qbo_with_dependencies(self):
        """The bindings to process, each preceded by what it needs (an invoice's customer).

        A dependency is exported as a binding of its own, in its own savepoint or transaction, so
        that its outcome (a customer created in QuickBooks) is recorded even if the document that
        needed it fails afterwards. Returns a list of (binding, context) pairs in export order.
        """
        ordered = self.sorted(lambda b: (b.connection_id.id, ENTITY_ORDER.get(b.entity, 9), b.id))
        records = ordered.filtered(lambda b: b.state == 'to_send')._qbo_records()
        result, seen = [], set()
        for binding in ordered:
            record = records.get(binding.id)
            try:
                dependencies = record._qbo_dependencies(binding) if record else []
            except Exception:  # noqa: BLE001 - the export of this binding will fail and say why
                _logger.exception("Could not list the dependencies of %s,%s", binding.res_model, binding.res_id)
                dependencies = []
            for dependency, context in dependencies:
                if dependency.id not in seen and dependency.state == 'to_send':
                    seen.add(dependency.id)
                    result.append((dependency, context))
            if binding.id not in seen:
                seen.add(binding.id)
                result.append((binding, {}))
        return sorted(result, key=lambda item: (item[0].connection_id.id, ENTITY_ORDER.get(item[0].entity, 9)))

    def _qbo_process(self, with_commit=False, claimed=None):
        """Export the bindings and record each outcome on its binding; one bad record never stops the run.

        Outcomes: sent / variance; to_send with a retry date for transient failures; error for data
        QuickBooks refused (or an unexpected exception); blocked for a missing mapping or a failing
        preflight. An authentication failure stops its connection (Reconnection needed) and a 429
        pauses it: their bindings stay queued, untouched.

        :param bool with_commit: cron: lock each binding for the whole export (session lock),
            commit its intent before sending and its outcome after; never inside tests
        :param claimed: bindings the caller already locked (see `_qbo_claim`) and unlocks itself
        :return: counts per outcome
        :rtype: dict
        """
        committing = with_commit and self._qbo_can_commit()
        claimed_ids = set(claimed.ids) if claimed else set()
        counts = {'sent': 0, 'error': 0, 'blocked': 0, 'retry': 0, 'skipped': 0}
        stopped = set()
        for group in self._qbo_groups(self.sudo()._qbo_with_dependencies()):  # links: written by the connector
            connection = group[0][0].connection_id
            if connection.id in stopped or connection.state != 'connected' or connection._qbo_is_throttled():
                counts['skipped'] += len(group)
                continue
            locked = self._qbo_try_lock_many([b.id for b, _c in group if b.id not in claimed_ids], committing)
            taken = [(binding, context) for binding, context in group
                     if binding.id in claimed_ids or binding.id in locked]
            counts['skipped'] += len(group) - len(taken)  # another worker (or a button) is exporting them
            try:
                if committing:
                    # A fresh snapshot after the locks: skip what another worker finished meanwhile.
                    self.env.cr.commit()  # pylint: disable=invalid-commit  # cron only
                    self.invalidate_model()
                    alive = set(self.browse([b.id for b, _c in taken]).exists().ids)
                    due = [(b, c) for b, c in taken if b.id in alive and b.state == 'to_send']
                    counts['skipped'] += len(taken) - len(due)
                else:
                    due = taken
                if len(due) > 1:
                    outcomes = self._qbo_process_batch(due, committing)
                else:
                    outcomes = [binding.with_context(qbo_committing=committing, **context)._qbo_process_one()
                                for binding, context in due]
            finally:
                if committing and locked:
                    self._qbo_unlock_many(locked)
            for outcome in outcomes:
                if outcome in ('reconnect', 'throttled'):
                    stopped.add(connection.id)
                    outcome = 'skipped' if outcome == 'reconnect' else 'retry'
                counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    @api.model
    def _qbo_groups(self, queue):
        """Cut the export queue into groups sent together: same connection and entity, at most 30
        (one QuickBooks batch request). Customers come in earlier groups than their invoices."""
        groups = []
        for binding, context in queue:
            last = groups[-1] if groups else None
            if (last and len(last) < const.BATCH_MAX_ITEMS and last[0][0].connection_id == binding.connection_id
                    and last[0][0].entity == binding.entity):
                last.append((binding, context))
            else:
                groups.append([(binding, context)])
        return groups

    def _qbo_success_vals(self):
        vals = {'error_code': False, 'retry_count': 0, 'next_retry_date': False,
                'last_sync_date': fields.Datetime.now()}
        if self.state not in ('variance', 'voided', 'deleted_in_qbo'):
            # A success clears any earlier failure text (e.g. "Blocked: mapping" before the fix).
            vals.update(state='sent', error_message=False)
        # 'variance', 'voided' and 'deleted_in_qbo' keep the explanation the export wrote.
        return vals

    def _qbo_finish(self, record, outcome, vals, notes=None):
        """Write the outcome and let the business record react (chatter); never loses the outcome.

        :param list notes: batch path: collect (record, binding, outcome) for `_qbo_note_outcomes`
            instead of noting each record on its own
        """
        self.write(vals)
        if outcome in ('sent', 'error', 'blocked') and record:
            if notes is not None:
                notes.append((record, self, outcome))
                return
            try:
                with self.env.cr.savepoint():
                    record._qbo_after_process(self, outcome)
            except Exception:  # noqa: BLE001 - a chatter note must not lose the outcome
                _logger.exception("QuickBooks: could not note the outcome on %s,%s", self.res_model, self.res_id)

    @api.model
    def _qbo_note_outcomes(self, notes):
        """Let the records of a batch react to their outcomes, one call per model (set-based chatter logs)."""
        by_model = {}
        for record, binding, outcome in notes:
            by_model.setdefault(record._name, []).append((record, binding, outcome))
        for res_model, items in by_model.items():
            if not hasattr(self.env[res_model], '_qbo_after_process_many'):
                continue  # a link left by an uninstalled customisation: nothing to note on
            try:
                with self.env.cr.savepoint():
                    self.env[res_model]._qbo_after_process_many(items)
            except Exception:  # noqa: BLE001 - a chatter note must not lose the outcomes
                _logger.exception("QuickBooks: could not note the outcomes of %s %s records", len(items), res_model)

    def _qbo_process_batch(self, group, committing):
        """Send a group of bindings of one connection and entity in one QuickBooks batch request.

        Each item keeps the exactly-once rules of a single write: its own requestid (the binding's,
        as for a single call) and intent, all recorded (committed in the cron) before the batch
        leaves; the batch request's requestid is derived from the items' so that the same batch is
        replayed. Items an exporter cannot batch (an unknown outcome to look up first, an update
        that must read the document) and items whose fault needs a lookup (6240, 6140, 5010) go
        through the single path. Per-item results and faults land on their own binding.

        :param list group: (binding, context) pairs, locked by the caller
        :return: one outcome per processed binding
        """
        connection = group[0][0].connection_id
        entity = group[0][0].entity
        calls, items, singles, results, notes = [], [], [], [], []
        records = self.browse([binding.id for binding, _context in group])._qbo_records()
        try:
            issues = connection._qbo_preflight_issues()
            if issues:
                raise QboBlocked('\n'.join(issues))
            client = connection._qbo_get_client(calls)
        except Exception as exc:  # noqa: BLE001 - recorded on every binding of the group
            for binding, _context in group:
                outcome, vals = binding._qbo_outcome_of(exc, connection)
                binding._qbo_finish(records.get(binding.id), outcome, vals, notes)
                results.append(outcome)
            self._qbo_note_outcomes(notes)
            return results
        # Checks that hold for the whole group (e.g. the default sales tax) run once, not per item.
        shared = {}
        first = next((record for record in records.values() if record), None)
        try:
            exporter = first._qbo_exporter() if first else None
            if hasattr(exporter, '_qbo_batch_context'):
                shared = exporter._qbo_batch_context(connection)
        except Exception:  # noqa: BLE001 - no shared context: each item checks (and fails) on its own
            _logger.debug("No batch context for %s", first, exc_info=True)
        for binding, context in group:
            record = records.get(binding.id)
            if not record:
                binding.unlink()
                results.append('skipped')
                continue
            try:
                exporter = record._qbo_exporter().with_context(**shared, **context)
                # Preparing may write (the customer's binding, items); a failure undoes only its own.
                with self.env.cr.savepoint():
                    item = exporter._qbo_batch_item(
                        binding.with_context(qbo_committing=False, **context), record, client
                    ) if hasattr(exporter, '_qbo_batch_item') else None  # exporters may not batch
            except Exception as exc:  # noqa: BLE001 - one bad record must not stop the run
                outcome, vals = binding._qbo_outcome_of(exc, connection)
                binding._qbo_finish(record, outcome, vals, notes)
                results.append(outcome)
                continue
            if item is None:
                singles.append((binding, context))
            else:
                items.append((binding, context, record, exporter) + item)
        if items:
            # The intents of all items, committed once below (not one commit per item).
            request_ids = [binding.with_context(qbo_committing=False)._qbo_begin(operation)
                           for binding, _context, _record, _exporter, operation, _payload in items]
            if committing:
                self.env.cr.commit()  # pylint: disable=invalid-commit  # cron only: the intents, before sending
            batch_id = str(uuid.uuid5(REQUEST_ID_NAMESPACE, ','.join(sorted(request_ids))))
            requests_ = [{'bId': f'b{index}', 'operation': operation, entity: payload}
                         for index, (_b, _c, _r, _e, operation, payload) in enumerate(items)]
            try:
                responses = {r.get('bId'): r for r in client.batch(requests_, request_id=batch_id)}
            except Exception as exc:  # noqa: BLE001 - the whole batch failed: every item says why
                for binding, _context, record, _exporter, _operation, _payload in items:
                    if isinstance(exc, QboError) and never_executed(exc):
                        binding.write({'intent_operation': False, 'intent_request_id': False, 'intent_date': False})
                    outcome, vals = binding._qbo_outcome_of(exc, connection)
                    binding._qbo_finish(record, outcome, vals, notes)
                    results.append(outcome)
                items = []
                responses = {}
            for index, (binding, context, record, exporter, _operation, _payload) in enumerate(items):
                response = responses.get(f'b{index}')
                if response is None:  # no answer for this item: outcome unknown, looked up next time
                    outcome, vals = binding._qbo_outcome_of(QboServerError(
                        _("QuickBooks did not answer this item of the batch.")), connection)
                    binding._qbo_finish(record, outcome, vals, notes)
                    results.append(outcome)
                    continue
                if 'Fault' in response:
                    error = error_from_batch_fault(response['Fault'])
                    if is_definite_answer(error):
                        binding._qbo_settle()
                        if exporter._qbo_batch_single_after(error):
                            singles.append((binding, context))  # 6240, 6140, 5010: look up, then link
                            continue
                    elif never_executed(error):
                        binding.write({'intent_operation': False, 'intent_request_id': False, 'intent_date': False})
                    outcome, vals = binding._qbo_outcome_of(error, connection)
                else:
                    binding._qbo_settle()
                    try:
                        with self.env.cr.savepoint():
                            exporter._qbo_batch_apply(binding, record, response[entity])
                        outcome, vals = 'sent', binding._qbo_success_vals()
                    except Exception as exc:  # noqa: BLE001 - recorded on the item's binding
                        outcome, vals = binding._qbo_outcome_of(exc, connection)
                binding._qbo_finish(record, outcome, vals, notes)
                results.append(outcome)
        self.env['qbo.sync.log']._qbo_create_from_calls(connection, calls)
        self._qbo_note_outcomes(notes)
        if committing:
            self.env.cr.commit()  # pylint: disable=invalid-commit  # cron only: the batch's outcomes
        for binding, context in singles:
            results.append(binding.with_context(qbo_committing=committing, **context)._qbo_process_one())
        return results

    def _qbo_process_one(self):
        """Export one binding; return 'sent', 'error', 'blocked', 'retry', 'throttled' or 'reconnect'.

        Button: the export runs in a savepoint, rolled back on failure. Cron (context
        ``qbo_committing``): intents are committed before each write, so a failure rolls back to
        the last intent and the outcome is written and committed after it.
        """
        self.ensure_one()
        record = self._qbo_record()
        if not record:
            self.unlink()
            return 'skipped'
        committing = self.env.context.get('qbo_committing')
        connection = self.connection_id
        calls = []
        savepoint = None if committing else self.env.cr.savepoint()
        try:
            issues = connection._qbo_preflight_issues()
            if issues:
                raise QboBlocked('\n'.join(issues))
            client = connection._qbo_get_client(calls)
            record._qbo_exporter()._qbo_export(self, record, client)
            if savepoint:
                savepoint.close(rollback=False)
            outcome, vals = 'sent', self._qbo_success_vals()
        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the run; recorded below
            truth = self._qbo_read_truth()
            if committing:
                self.env.cr.rollback()  # back to the last committed intent
            else:
                savepoint.close(rollback=True)
            # What QuickBooks answered stays recorded, whatever failed afterwards in Odoo: a link
            # and a generation rolled back here would mean a second create next time.
            self._qbo_restore_truth(truth)
            outcome, vals = self._qbo_outcome_of(exc, connection)
        # After the rollback: the history and the outcome survive a failed export.
        self.env['qbo.sync.log']._qbo_create_from_calls(connection, calls)
        self._qbo_finish(record, outcome, vals)
        if committing:
            self.env.cr.commit()  # pylint: disable=invalid-commit  # cron only: the outcome, before unlocking
        return outcome

    def _qbo_read_truth(self):
        """The binding's record of QuickBooks' answers (link, generation, pending intent), or None."""
        try:
            return self.read(TRUTH_FIELDS, load=None)[0]
        except Exception:  # noqa: BLE001 - aborted transaction: fall back to the last committed intent
            return None

    def _qbo_restore_truth(self, truth):
        if not truth or not self.exists():
            return
        current = self.read(TRUTH_FIELDS, load=None)[0]
        changed = {name: truth[name] for name in TRUTH_FIELDS if truth[name] != current[name]}
        if changed:
            self.write(changed)

    def _qbo_outcome_of(self, exc, connection):
        """Classify a failed export: (outcome, binding values). Connection-wide faults touch the connection."""
        now = fields.Datetime.now()
        if isinstance(exc, QboReconnectNeeded):
            return 'reconnect', {}
        if is_auth_failure(exc):
            # The refresh worked (or was refused with invalid_client) and QuickBooks still refuses:
            # nothing per record can fix it. Stop the connection; its records stay queued.
            if connection.state != 'reconnect':  # once per connection, not per record
                connection._qbo_mark_reconnect_needed(exc, wipe_tokens=False)
            return 'reconnect', {}
        if isinstance(exc, QboRateLimitError):
            until = connection._qbo_pause(exc)
            return 'throttled', {'state': 'to_send', 'next_retry_date': until}
        if isinstance(exc, QboDeferred):
            return 'retry', {'state': 'to_send', 'next_retry_date': exc.retry_at, 'error_message': str(exc)}
        if isinstance(exc, QboBlocked):
            return 'blocked', {'state': 'blocked', 'error_message': str(exc), 'error_code': False}
        if isinstance(exc, QboError):
            vals = {'error_message': self._qbo_describe_error(exc), 'error_code': exc.code,
                    'intuit_tid': exc.intuit_tid}
            if exc.transient:
                delay = RETRY_DELAYS_MINUTES[min(self.retry_count, len(RETRY_DELAYS_MINUTES) - 1)]
                vals.update(state='to_send', retry_count=self.retry_count + 1,
                            next_retry_date=now + timedelta(minutes=delay))
                return 'retry', vals
            return 'error', dict(vals, state='error')
        if isinstance(exc, UserError):
            return 'error', {'state': 'error', 'error_message': str(exc), 'error_code': False}
        # Details to the server log and the transfer history under an incident id; the person gets advice.
        message = self.env['qbo.sync.log']._qbo_log_unexpected(connection, exc, f"{self.res_model},{self.res_id}")
        return 'error', {'state': 'error', 'error_code': False, 'error_message': message}

    @api.model
    def _qbo_describe_error(self, exc):
        """A message for accountants: what to do (by fault code), what QuickBooks said, intuit_tid."""
        return self.env['qbo.error.advice']._qbo_describe(exc)

    # ------------------------------------------------------------------ actions

    def action_qbo_retry(self):
        """Queue again and export now."""
        if not self.env.su:
            # Bindings are read-only to users: whoever may read them may retry them, as the machinery.
            self.check_access('read')
            return self.sudo().action_qbo_retry()
        self._qbo_mark_to_send()
        self._qbo_lock_for_button()
        self._qbo_process()
        return True

    def action_qbo_open_record(self):
        self.ensure_one()
        return {'type': 'ir.actions.act_window', 'res_model': self.res_model, 'res_id': self.res_id,
                'view_mode': 'form'}

    # ------------------------------------------------------------------ cron

    @api.model
    def _qbo_pending_domain(self):
        now = fields.Datetime.now()
        return [('state', '=', 'to_send'), ('connection_id.state', '=', 'connected'),
                '|', ('connection_id.throttled_until', '=', False), ('connection_id.throttled_until', '<=', now),
                '|', ('next_retry_date', '=', False), ('next_retry_date', '<=', now)]

    @api.model
    def _cron_qbo_export(self, batch_size=4 * const.BATCH_MAX_ITEMS):
        """Scheduled export: queue what is due, send a bounded batch, and plan the next run.

        Re-running: Odoo's cron progress API (done/remaining) runs the job again at once while due
        work remains; work deferred to a later moment (5xx back-off, 429 pause) is the only reason
        to add a trigger, at the earliest of those moments. The run claims its bindings first (see
        `_qbo_claim`), so that several workers - a second copy of this job, another server - share
        the queue. `batch_size` is a multiple of QuickBooks' 30 operations per batch request: full
        batches spend Intuit's 40 batch requests per minute best.
        """
        if batch_size > const.BATCH_MAX_ITEMS:
            # Whole batches (e.g. an older job's 100 becomes 120): a batch of 10 costs a batch request too.
            batch_size = -(-batch_size // const.BATCH_MAX_ITEMS) * const.BATCH_MAX_ITEMS
        self.env['account.move']._qbo_enqueue_auto_send()
        committing = self._qbo_can_commit()
        candidates = self.search(self._qbo_pending_domain(), limit=batch_size * (3 if committing else 1),
                                 order='next_retry_date asc nulls first, id')
        pending = candidates._qbo_claim(batch_size) if committing else candidates
        try:
            counts = pending._qbo_process(with_commit=True, claimed=pending if committing else None)
        finally:
            if committing:
                self._qbo_unlock_many(pending.ids)
        remaining = self.search_count(self._qbo_pending_domain())
        done = max(0, len(pending) - counts.get('skipped', 0))  # skipped may include dependencies
        if committing:
            # Odoo runs the job again at once while due work remains (progress API, 18 and 19).
            qbo_compat.cron_commit_progress(self.env, done, remaining if done else 0)
            if done and remaining:
                # Odoo 18 re-runs a job at most 10 times in a row, then leaves it for the workers'
                # next poll (a minute later): a wake-up now keeps the queue moving.
                self._qbo_trigger_cron()
        new_failures = pending.exists().filtered(lambda b: b.state in ('error', 'blocked', 'variance'))
        if new_failures:
            self._qbo_send_failure_digest(new_failures)
        self._qbo_schedule_deferred()
        return counts

    @api.model
    def _qbo_schedule_deferred(self):
        """Wake the cron at the earliest retry date of deferred work (a 5xx back-off, a 429 pause)."""
        now = fields.Datetime.now()
        dates = self.search([('state', '=', 'to_send'), ('connection_id.state', '=', 'connected'),
                             ('next_retry_date', '>', now)], order='next_retry_date', limit=1).mapped('next_retry_date')
        dates += [date for date in self.env['qbo.connection'].sudo().search(
            [('throttled_until', '>', now)]).mapped('throttled_until')]
        if dates:
            self._qbo_trigger_cron(at=min(dates))

    @api.model
    def _qbo_send_failure_digest(self, bindings):
        """One email per cron run and connection listing the transfers that failed (to its addresses)."""
        for connection in bindings.connection_id:
            if connection.error_emails:
                self._qbo_send_connection_digest(connection.error_emails,
                                                 bindings.filtered(lambda b, c=connection: b.connection_id == c))

    @api.model
    def _qbo_send_connection_digest(self, emails, bindings):
        rows = ''.join(
            f"<li>{escape(b.record_name)}: {escape(dict(const.SYNC_STATES)[b.state])} - "
            f"{escape((b.error_message or '').splitlines()[0] if b.error_message else '')}</li>"
            for b in bindings)
        self.env['mail.mail'].sudo().create({
            'subject': _("QuickBooks Online: %s transfer(s) failed", len(bindings)),
            'email_to': emails,
            'body_html': f"<p>{_('These records could not be sent to QuickBooks Online:')}</p><ul>{rows}</ul>",
            'auto_delete': True,
        })
