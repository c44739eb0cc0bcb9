import logging
import threading
import time
import uuid
from datetime import timedelta, timezone

import psycopg2
from markupsafe import escape

from odoo import _, api, fields, models, modules
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, config

from .. import const
from ..tools import QboError, QboRateLimitError, QboServerError, QboTimeBudgetExceeded
from ..tools.qbo_client import error_from_batch_fault, qbo_quote
from ..tools.qbo_dry_run_client import DryRunClient
from ..tools.qbo_exceptions import is_auth_failure, is_definite_answer, never_executed
from . import qbo_compat
from .qbo_errors import QboReconnectNeeded

_logger = logging.getLogger(__name__)

# Exponential back-off of transient failures (minutes), capped at the last value.
RETRY_DELAYS_MINUTES = (1, 5, 15, 60, 240)
# uuid5 namespace of our requestids (any fixed uuid; never change it: it would change every requestid).
REQUEST_ID_NAMESPACE = uuid.UUID('6f1c3c2e-8a4b-5d0e-9f17-0d0b0c0a1e51')
# Entities whose requestids leave the entity out of their key, as before records could have two links:
# changing them would make a write whose outcome is unknown during an upgrade go with a new requestid.
UNNAMED_ENTITIES = frozenset({'Customer', 'Invoice', 'CreditMemo', 'Payment'})
# Seconds kept free at the end of a run's budget (Odoo's limit_time_real) to record outcomes and answer.
DEADLINE_MARGIN_SECONDS = 15
# Lease of a run without a time limit (limit_time_real = 0): a dead worker's bindings are free after it.
DEFAULT_LEASE_SECONDS = 15 * 60
# A create's lookup after an unknown outcome searches objects created from this long before its intent
# (QuickBooks' clock may run behind Odoo's).
LOOKUP_MARGIN_MINUTES = 10
# Where each state may be entered from (see `_qbo_transition`): the outbox's guarded state machine.
# Exports start from 'to_send' and end in one of the outcomes; the user's actions (edit, Retry, a mapping
# fixed, re-posting a voided document as a new one) queue a binding again.
ALLOWED_FROM = {
    'to_send': {'to_send', 'sent', 'variance', 'error', 'blocked', 'voided', 'deleted_in_qbo'},
    'sent': {'to_send', 'sent', 'variance'},
    'variance': {'to_send', 'sent', 'variance'},
    'error': {'to_send', 'error'},
    'blocked': {'to_send', 'blocked'},
    'voided': {'to_send', 'sent', 'variance', 'error', 'blocked', 'voided'},
    'deleted_in_qbo': {'to_send', 'sent', 'variance', 'error', 'blocked', 'deleted_in_qbo'},
}
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
    # The lease of the run exporting this binding (see `_qbo_claim`): committed rows, not session locks,
    # so that nothing outlives a killed worker (the lease expires) and a transaction pooler is fine.
    qbo_attachable_id = fields.Char('QuickBooks attachment', copy=False,
                                    help="Id of the Attachable holding the document's file in QuickBooks "
                                         "('refused': a file QuickBooks does not take).")
    lease_owner = fields.Char(copy=False, readonly=True)
    lease_until = fields.Datetime(copy=False, readonly=True)

    # One link per record and QuickBooks entity: a partner who is both a customer and a vendor has two
    # (a Customer and a Vendor: two objects in QuickBooks' one name list).
    _record_uniq = qbo_compat.Constraint('unique(connection_id, res_model, res_id, entity)',
                                         'A record is linked at most once per QuickBooks connection and entity.')
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
                    exporter = self.env['qbo.exporter']._qbo_declarations().get(binding.entity)
                    page = (exporter._qbo_app_pages if exporter is not None else {}).get(binding.entity, '')
                    url = f"{app}/{page}{binding.qbo_id}"
            binding.qbo_url = url

    # ------------------------------------------------------------------ helpers

    def _qbo_exporter(self, record):
        """The exporter declared for this binding's entity (see qbo.exporter), else the record's own.

        By entity, not by record: one partner is sent as a Customer and as a Vendor by two exporters;
        unless the declared exporter sends other models only (``_qbo_models``).
        """
        exporter = self.env['qbo.exporter']._qbo_declarations().get(self[:1].entity)
        if exporter is None or (exporter._qbo_models and record._name not in exporter._qbo_models):
            return record._qbo_exporter()
        return exporter

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
            binding = record.sudo().qbo_binding_ids.filtered(
                lambda b: b.connection_id.id == connection.id and b.entity == entity)[:1]
        else:
            binding = self.sudo().search([('connection_id', '=', connection.id), ('res_model', '=', record._name),
                                          ('res_id', '=', record.id), ('entity', '=', entity)], limit=1)
        if not binding:
            try:
                with self.env.cr.savepoint():
                    binding = self.sudo().create({'connection_id': connection.id, 'res_model': record._name,
                                                  'res_id': record.id, 'entity': entity})
            except (psycopg2.IntegrityError, ValidationError):
                # Another worker linked the same record a moment ago (committed after our snapshot):
                # its run sends it; this one comes back to it later rather than abort.
                raise QboDeferred(_("%s is being sent to QuickBooks by another worker.", record.display_name),
                                  retry_at=fields.Datetime.now() + timedelta(minutes=1)) from None
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
        todo._qbo_transition('to_send', next_retry_date=False, retry_count=0)
        if todo:
            self._qbo_trigger_cron()

    def _qbo_transition(self, state, **vals):
        """The one way a binding changes state: checks where it comes from (`ALLOWED_FROM`), then writes
        the state with `vals`. A move the state machine does not allow is a bug, never data to store.

        :raise ValueError: a binding is in a state `state` may not be entered from
        """
        wrong = self.filtered(lambda b: b.state not in ALLOWED_FROM[state])
        if wrong:
            raise ValueError(f"qbo.binding {wrong.ids}: {wrong[0].state} -> {state} is not an allowed transition")
        if self:
            self.write(dict(vals, state=state))

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
    def _qbo_make_request_id(self, connection, res_model, res_id, operation, generation, entity=None):
        """requestid = uuid5 of (database.uuid, model, record id, connection, operation, generation), and the
        entity for those not in `UNNAMED_ENTITIES`.

        Stable across restarts, serialization retries and payload edits (unlike a binding row id or
        a payload hash), 36 characters so that it also fits a batch request, and unique per
        database: two Odoo databases on one QuickBooks company never replay each other's answers.
        The entity is part of the key because one record can have two links (a partner's Customer and
        Vendor): with the same key QuickBooks would answer the vendor's create with the customer's.
        """
        kind = f"{entity}:" if entity and entity not in UNNAMED_ENTITIES else ''
        key = f"{self._qbo_database_uuid()}:{res_model}:{res_id}:{connection.id}:{kind}{operation}:{generation}"
        return str(uuid.uuid5(REQUEST_ID_NAMESPACE, key))

    def _qbo_request_id(self, operation, payload=None):
        """This binding's requestid for `operation` in its current generation.

        :param payload: ignored (older callers pass it): the requestid must not change with the
            payload, or a retry after an unknown outcome would not be replayed
        """
        self.ensure_one()
        return self._qbo_make_request_id(self.connection_id, self.res_model, self.res_id, operation,
                                         self.request_generation, entity=self.entity)

    def _qbo_marker(self):
        """Untranslated marker written on the QuickBooks object (Customer.Notes, PrivateNote)."""
        self.ensure_one()
        return self.env['qbo.mapper']._qbo_marker(self._qbo_record())

    def _qbo_begin(self, operation, durable=True):
        """Record the durable intent of a write and return the requestid to send it with.

        In the cron the intent is committed before the request leaves: after a crash, a timeout or
        a dropped connection the binding says "outcome unknown" (an intent without an answer), and
        the next attempt looks for what it may have created before sending the same requestid
        again. The binding stays leased by the run (see `_qbo_claim`) across the commit.

        A pending create is never replaced by another operation: its object may exist in QuickBooks,
        and forgetting the intent would create it a second time; it is looked up first. (A pending
        update or void may be superseded: it acts on a known Id, and the SyncToken catches staleness.)
        """
        self.ensure_one()
        if self._qbo_pending_create() and operation != 'create':
            raise QboDeferred(_("An earlier write of %(name)s (%(operation)s) has an unknown outcome: it is looked up "
                                "before anything else is sent.", name=self.record_name,
                                operation=self.intent_operation),
                              retry_at=fields.Datetime.now())
        request_id = self._qbo_request_id(operation)
        if (self.intent_operation, self.intent_request_id) != (operation, request_id):
            self.write({'intent_operation': operation, 'intent_request_id': request_id,
                        'intent_date': fields.Datetime.now(), 'last_request_id': request_id})
            if durable:
                self._qbo_make_durable(bool(self.env.context.get('qbo_committing')))
        return request_id

    def _qbo_make_durable(self, committing):
        """Make the intents of these bindings survive a crash before their requests leave: the cron
        commits them; a button, which cannot commit its transaction, logs them on a cursor of its own
        (qbo.intent.log), adopted by the next export if this transaction never commits. A dry run sends
        nothing: no intent to keep."""
        if self.env.context.get('qbo_dry_run'):
            return
        if committing:
            self.env.cr.commit()  # pylint: disable=invalid-commit  # cron only: the intents must survive a crash
            return
        if self:
            self.env['qbo.intent.log'].sudo()._qbo_log(self)

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
                # Refused before execution on every attempt (429, authentication, connection refused,
                # out of time): nothing to look for.
                self._qbo_forget_intent()
            raise
        self._qbo_settle()
        return result

    def _qbo_forget_intent(self):
        """The intent certainly never reached QuickBooks (or a lookup proved its object absent): clear
        it and keep the generation, so that the next attempt sends the same requestid. A dry run leaves
        the log alone: the log's cursor is not rolled back with the dry run's savepoint."""
        if self and not self.env.context.get('qbo_dry_run'):
            self.env['qbo.intent.log'].sudo()._qbo_forget(self)
        self.write({'intent_operation': False, 'intent_request_id': False, 'intent_date': False})

    def _qbo_pending_create(self):
        """True when a create was sent (or about to be) and its answer was never recorded."""
        self.ensure_one()
        return self.intent_operation == 'create' and bool(self.intent_request_id)

    # ------------------------------------------------------------------ leases

    @api.model
    def _qbo_deadline(self):
        """Wall-clock time by which this run's QuickBooks calls must be over, or None without a limit.

        Odoo stops a request or a cron job that runs longer than ``limit_time_real`` (the cron's own
        ``limit_time_real_cron`` when set): a prefork worker is killed, the threaded server reloads,
        cutting off every user. The budget counts from the start of the thread's request or cron
        job (Odoo's ``start_time``, which its watchdog uses too) and keeps a margin to record the outcomes.
        """
        limit = config.get('limit_time_real') or 0
        cron_limit = config.get('limit_time_real_cron') or 0
        if cron_limit > 0 and self.env.context.get('qbo_in_cron'):
            limit = cron_limit
        if limit <= 0:
            return None
        started = getattr(threading.current_thread(), 'start_time', None) or time.time()
        return started + limit - DEADLINE_MARGIN_SECONDS

    @api.model
    def _qbo_time_left(self):
        """Seconds left in this run's budget (see `_qbo_deadline`), or None without a limit."""
        deadline = self.env.context.get('qbo_deadline')
        return None if deadline is None else deadline - time.time()

    @api.model
    def _qbo_check_company_settings(self, connection):
        """Nothing is sent on QuickBooks company settings that were not read: sales tax on or off,
        multicurrency, custom numbers decide what a payload carries. Right after Connect they may not be
        read yet (the job finishing the connection has not run): they are read now.

        :raise QboDeferred: they cannot be read now; the record waits for the next attempt, unsent
        """
        if connection.qbo_preferences and connection.qbo_company_info:
            return
        try:
            connection._qbo_refresh_company_info()
        except QboError as exc:
            raise QboDeferred(_("Not sent: the QuickBooks company's settings (sales tax, currencies, numbering) "
                                "could not be read yet (%s). Nothing is sent before they are; the next attempt "
                                "reads them again.", exc),
                              retry_at=fields.Datetime.now() + timedelta(minutes=1)) from exc

    @api.model
    def _qbo_client(self, connection, calls):
        """The connection's client, bound to this run's deadline: no attempt outlasts Odoo's time limit.

        In a dry run (context ``qbo_dry_run``: a `DryRunRecorder`, see qbo.dry.run) the client reads
        QuickBooks and records the writes instead of sending them."""
        client = connection._qbo_get_client(calls)
        client.deadline = self.env.context.get('qbo_deadline')
        recorder = self.env.context.get('qbo_dry_run')
        if recorder:
            recorder.call_lists.append(calls)  # filled while the export runs
            return DryRunClient(client, recorder)
        return client

    @api.model
    def _qbo_lease_sql(self, ids, owner, limit=None, lock_only=False):
        """Lease the bindings `ids` that no live lease holds and no transaction has locked.

        ``FOR UPDATE SKIP LOCKED`` as ``ir.cron`` claims its jobs: two workers never take the same
        row and never wait for each other. With `lock_only` (the button) the rows are only locked for
        the transaction, which is the button's whole export.

        :return: the ids taken, in the order of `ids`
        """
        if not ids:
            return []
        now = fields.Datetime.now()
        free = SQL("""SELECT id FROM qbo_binding WHERE id = ANY(%s) AND (lease_until IS NULL OR lease_until < %s)
                      ORDER BY array_position(%s, id) %s FOR UPDATE SKIP LOCKED""",
                   list(ids), now, list(ids), SQL("LIMIT %s", limit) if limit else SQL(""))
        if lock_only:
            self.env.cr.execute(free)
            taken = {row[0] for row in self.env.cr.fetchall()}
        else:
            time_left = self._qbo_time_left()
            seconds = (time_left + DEADLINE_MARGIN_SECONDS) if time_left else DEFAULT_LEASE_SECONDS
            until = now + timedelta(seconds=seconds)
            self.env.cr.execute(SQL("UPDATE qbo_binding SET lease_owner = %s, lease_until = %s WHERE id IN (%s) "
                                    "RETURNING id", owner, until, free))
            taken = {row[0] for row in self.env.cr.fetchall()}
            self.invalidate_model(['lease_owner', 'lease_until'])
        return [binding_id for binding_id in ids if binding_id in taken]

    def _qbo_claim(self, limit, owner):
        """Cron: lease up to `limit` of these bindings, in their order, skipping those another worker
        (or a button) holds, and commit the leases; return the claimed ones.

        Claiming at selection is what lets two cron workers (or servers) drain one queue side by
        side: each takes the next free bindings instead of both walking the same ones. A lease is a
        committed row (owner, until), not a session lock: it survives the commits of the run (intents
        are committed before each request leaves), cannot leak on a pooled connection, works behind a
        transaction-pooling pgbouncer, and a killed worker's lease simply expires.
        """
        ids = self._qbo_lease_sql(self.ids, owner, limit=limit)
        self.env.cr.commit()  # pylint: disable=invalid-commit  # cron only: the leases, before any work
        return self.browse(ids)

    @api.model
    def _qbo_release(self, owner):
        """Give back every lease of the run `owner`, and commit (cron only).

        A transaction left aborted by a failure (a commit refused by a serialization failure, say) is
        rolled back first: the leases must go whatever happened, and its own work is lost anyway.
        """
        connection = getattr(self.env.cr, '_cnx', None)
        if connection is None or connection.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_INERROR:
            self.env.cr.rollback()
        self.env.cr.execute(SQL("UPDATE qbo_binding SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = %s",
                                owner))
        self.env.cr.commit()  # pylint: disable=invalid-commit  # cron only: the leases end with the run
        self.invalidate_model(['lease_owner', 'lease_until'])

    def _qbo_lock_for_button(self):
        """Refuse to export bindings that a cron worker is exporting right now (live lease or row lock);
        lock the others for the button's transaction."""
        if len(self._qbo_lease_sql(self.ids, None, lock_only=True)) < len(self):
            raise UserError(_("These records are being sent to QuickBooks right now. Try again in a minute."))

    # ------------------------------------------------------------------ processing (button and cron)

    def _qbo_with_dependencies(self):
        """The bindings to process, each preceded by what it needs (an invoice's customer).

        A dependency is exported as a binding of its own, in its own savepoint or transaction, so
        that its outcome (a customer created in QuickBooks) is recorded even if the document that
        needed it fails afterwards. Returns a list of (binding, context) pairs in export order.
        """
        order = self.env['qbo.exporter']._qbo_export_order_of  # an invoice needs its customer first
        ordered = self.sorted(lambda b: (b.connection_id.id, order(b.entity), b.id))
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
        return sorted(result, key=lambda item: (item[0].connection_id.id, order(item[0].entity)))

    def _qbo_process(self, with_commit=False, owner=None):
        """Export the bindings and record each outcome on its binding; one bad record never stops the run.

        Outcomes: sent / variance; to_send with a retry date for transient failures; error for data
        QuickBooks refused (or an unexpected exception); blocked for a missing mapping or a failing
        preflight. An authentication failure stops its connection (Reconnection needed) and a 429
        pauses it: their bindings stay queued, untouched. The run never outlasts Odoo's time limit:
        what it has no time left for stays queued for the next run (see `_qbo_deadline`).

        :param bool with_commit: cron: lease each binding for the whole export, commit its intent
            before sending and its outcome after; never inside tests
        :param str owner: the cron run's lease owner (see `_qbo_claim`); the dependencies the run
            adds (an invoice's customer) are leased under it too, and released with the run's leases
        :return: counts per outcome
        :rtype: dict
        """
        if 'qbo_deadline' not in self.env.context:
            self = self.with_context(qbo_deadline=self._qbo_deadline())
        committing = with_commit and self._qbo_can_commit()
        if committing and owner is None:
            # A committing caller without a run of its own (the payments export): this call is the run.
            owner = str(uuid.uuid4())
            try:
                return self._qbo_process(with_commit=True, owner=owner)
            finally:
                self._qbo_release(owner)
        todo = self.filtered(lambda b: b.state == 'to_send')  # Retry on a voided one, say: nothing to send
        counts = {'sent': 0, 'error': 0, 'blocked': 0, 'retry': 0, 'skipped': len(self) - len(todo)}
        stopped = set()
        out_of_time = False
        queue = todo.sudo()._qbo_with_dependencies()  # links: written by the connector
        # A button's request killed after QuickBooks committed left its intents in the log only.
        self.env['qbo.intent.log'].sudo()._qbo_adopt(self.browse([binding.id for binding, _context in queue]))
        for group in self._qbo_groups(queue):
            connection = group[0][0].connection_id
            time_left = self._qbo_time_left()
            if time_left is not None and time_left < const.MIN_ATTEMPT_SECONDS:
                out_of_time = True
            if (out_of_time or connection.id in stopped or connection.state != 'connected'
                    or connection._qbo_is_throttled()):
                counts['skipped'] += len(group)
                continue
            if committing:
                # Lease what the run does not hold yet (dependencies), then a fresh snapshot: skip what
                # another worker finished meanwhile.
                self._qbo_lease_sql([b.id for b, _c in group if b.lease_owner != owner], owner)
                self.env.cr.commit()  # pylint: disable=invalid-commit  # cron only
                self.invalidate_model()
                current = self.browse([b.id for b, _c in group]).exists()
                mine = set(current.filtered(lambda b: b.lease_owner == owner and b.state == 'to_send').ids)
                due = [(b, c) for b, c in group if b.id in mine]
            else:
                due = group
            counts['skipped'] += len(group) - len(due)  # another worker (or a button) is exporting them
            if len(due) > 1:
                outcomes = self._qbo_process_batch(due, committing)
            else:
                outcomes = [binding.with_context(qbo_committing=committing, **context)._qbo_process_one()
                            for binding, context in due]
            for outcome in outcomes:
                if outcome in ('reconnect', 'throttled'):
                    stopped.add(connection.id)
                    if outcome == 'reconnect':
                        # Counted apart too: the caller says "reconnect", not "try again later".
                        counts['reconnect'] = counts.get('reconnect', 0) + 1
                    outcome = 'skipped' if outcome == 'reconnect' else 'retry'
                elif outcome == 'out_of_time':
                    out_of_time = True
                    outcome = 'retry'
                counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    @api.model
    def _qbo_groups(self, queue):
        """Cut the export queue into groups sent together: same connection, entity and Odoo model (one
        exporter), at most 30 (one QuickBooks batch request). Customers come in earlier groups than their
        invoices."""
        groups = []
        for binding, context in queue:
            last = groups[-1] if groups else None
            if (last and len(last) < const.BATCH_MAX_ITEMS and last[0][0].connection_id == binding.connection_id
                    and last[0][0].entity == binding.entity and last[0][0].res_model == binding.res_model):
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
        vals = dict(vals)
        state = vals.pop('state', None)
        if state:
            self._qbo_transition(state, **vals)
        elif vals:
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
            self._qbo_check_company_settings(connection)
            issues = connection._qbo_preflight_issues()
            if issues:
                raise QboBlocked('\n'.join(issues))
            client = self._qbo_client(connection, calls)
        except Exception as exc:  # noqa: BLE001 - recorded on every binding of the group
            for binding, _context in group:
                outcome, vals = binding._qbo_outcome_of(exc, connection)
                binding._qbo_finish(records.get(binding.id), outcome, vals, notes)
                results.append(outcome)
            self._qbo_note_outcomes(notes)
            return results
        # Checks that hold for the whole group (e.g. the default sales tax) run once, not per item.
        shared = {}
        exporter = None
        first = next((record for record in records.values() if record), None)
        try:
            exporter = group[0][0]._qbo_exporter(first) if first else None
            if exporter is not None:
                shared = exporter._qbo_batch_context(connection)
        except Exception:  # noqa: BLE001 - no shared context: each item checks (and fails) on its own
            _logger.debug("No batch context for %s", first, exc_info=True)
        try:
            self.browse([binding.id for binding, _context in group])._qbo_look_up_unknown_creates(exporter, client)
        except QboError:  # noqa: BLE001 - the items keep their intents: each one is looked up alone
            _logger.info("QuickBooks: the batch lookup of unknown creates failed; items are looked up alone",
                         exc_info=True)
        for binding, context in group:
            record = records.get(binding.id)
            if not record:
                binding.unlink()
                results.append('skipped')
                continue
            try:
                exporter = binding._qbo_exporter(record).with_context(**shared, **context)
                # Preparing may write (the customer's binding, items); a failure undoes only its own.
                with self.env.cr.savepoint():
                    item = exporter._qbo_batch_item(binding.with_context(qbo_committing=False, **context), record,
                                                    client)
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
            request_ids = [binding._qbo_begin(operation, durable=False)
                           for binding, _context, _record, _exporter, operation, _payload in items]
            self.browse([binding.id for binding, *_rest in items])._qbo_make_durable(committing)
            batch_id = str(uuid.uuid5(REQUEST_ID_NAMESPACE, ','.join(sorted(request_ids))))
            requests_ = [{'bId': f'b{index}', 'operation': operation, entity: payload}
                         for index, (_b, _c, _r, _e, operation, payload) in enumerate(items)]
            try:
                responses = {r.get('bId'): r for r in client.batch(requests_, request_id=batch_id)}
            except Exception as exc:  # noqa: BLE001 - the whole batch failed: every item says why
                if isinstance(exc, QboError) and never_executed(exc):
                    self.browse([binding.id for binding, *_rest in items])._qbo_forget_intent()
                for binding, _context, record, _exporter, _operation, _payload in items:
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
                            # 6240, 6140, 5010: look up, then link; the single path of a stale SyncToken
                            # knows it is stale (`qbo_stale_token`) and may read before sending again.
                            stale = {'qbo_stale_token': True} if error.code == const.FAULT_STALE_OBJECT else {}
                            singles.append((binding, dict(context, **stale)))
                            continue
                    elif never_executed(error):
                        binding._qbo_forget_intent()
                    outcome, vals = binding._qbo_outcome_of(error, connection)
                else:
                    binding._qbo_settle()
                    try:
                        with self.env.cr.savepoint():
                            exporter._qbo_batch_apply(binding, record, response[entity])
                        exporter._qbo_after_write(binding, record, client)
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

    def _qbo_look_up_unknown_creates(self, exporter, client):
        """Resolve the creates of these bindings whose outcome is unknown with ONE query for the batch.

        After a timeout, a dropped connection or a crash, each such item may or may not exist in
        QuickBooks. Instead of one lookup per item, the objects of the entity created since the oldest
        intent (less a margin for clock skew) are read once, page by page, and matched by our
        untranslated marker (the last word of the exporter's marker field). Found: linked, and the
        item goes in the batch as an update (what Odoo holds now). Not found: proved absent, the
        intent is cleared and the item goes in the batch as a create with the same requestid.

        Exporters without a marker field (``_qbo_marker_field``) keep the per-item lookup.
        """
        pending = self.filtered(lambda b: not b.qbo_id and b.intent_date and b._qbo_pending_create())
        if exporter is None or not exporter._qbo_marker_field or not pending:
            return
        by_marker = pending._qbo_created_since(exporter, client)
        absent = self.browse()
        for binding in pending:
            found = by_marker.get(binding._qbo_marker())
            if found:
                binding._qbo_settle()
                # The name it has there too (a customer's may carry the suffix of a clash): the update that
                # follows keeps it instead of renaming into the clash (chaos seed 3, episode 19).
                binding.write({'qbo_id': found['Id'], 'qbo_sync_token': found['SyncToken'],
                               'qbo_sent_name': found.get('DisplayName') or binding.qbo_sent_name})
            else:
                absent |= binding
        absent._qbo_forget_intent()

    def _qbo_created_since(self, exporter, client, res_ref=None):
        """{marker: object} of the objects of these bindings' entity created since their oldest intent.

        One query (paged) whatever the number of bindings: objects created since the oldest intent,
        less a margin for clock skew, keyed by the last word of the exporter's marker field. It needs
        nothing but the intent's date: not the customer's QuickBooks Id (which a crash may have lost
        too) nor a document number.
        """
        since = min(self.mapped('intent_date')) - timedelta(minutes=LOOKUP_MARGIN_MINUTES)
        since_utc = since.replace(tzinfo=timezone.utc).isoformat(timespec='seconds')
        rows = client.query_all(self[0].entity, where=f"MetaData.CreateTime >= {qbo_quote(since_utc)}",
                                include_inactive=exporter._qbo_name_list, res_ref=res_ref)
        by_marker = {}
        for row in rows:
            words = (row.get(exporter._qbo_marker_field) or '').split()
            if words:
                by_marker.setdefault(words[-1], row)
        return by_marker

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
            self._qbo_check_company_settings(connection)
            issues = connection._qbo_preflight_issues()
            if issues:
                raise QboBlocked('\n'.join(issues))
            client = self._qbo_client(connection, calls)
            exporter = self._qbo_exporter(record)
            exporter._qbo_export(self, record, client)
            exporter._qbo_after_write(self, record, client)
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
        if isinstance(exc, QboReconnectNeeded) or is_auth_failure(exc):
            # The refresh token is dead, or the refresh worked (or was refused with invalid_client) and
            # QuickBooks still refuses: nothing per record can fix it. Stop the connection; its records
            # stay queued, each saying that an administrator must reconnect (not "try again later").
            connection.invalidate_recordset(['state', 'last_error'])  # set on the refresh's own cursor
            if connection.state != 'reconnect' and not isinstance(exc, QboReconnectNeeded):
                connection._qbo_mark_reconnect_needed(exc, wipe_tokens=False)  # once per connection
            reason = connection.last_error if connection.state == 'reconnect' else ''
            return 'reconnect', {'error_message': reason or str(exc)}
        if isinstance(exc, QboRateLimitError):
            until = connection._qbo_pause(exc)
            return 'throttled', {'state': 'to_send', 'next_retry_date': until}
        if isinstance(exc, QboTimeBudgetExceeded):
            # Not a failure of the record: the run is over, the next one sends it (no back-off).
            return 'out_of_time', {'state': 'to_send', 'next_retry_date': False}
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

    def action_qbo_open_calls(self):
        """The HTTP calls made for this transfer's record (Transfer history), newest first."""
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window', 'res_model': 'qbo.sync.log', 'view_mode': 'list,form',
            'name': _("QuickBooks calls: %s", self.record_name or self.display_name),
            'domain': [('connection_id', '=', self.connection_id.id), ('res_model', '=', self.res_model),
                       ('res_id', '=', self.res_id)],
            'context': {'create': False},
        }

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
        self = self.with_context(qbo_in_cron=True)
        self = self.with_context(qbo_deadline=self._qbo_deadline())
        self.env['account.move']._qbo_enqueue_auto_send()
        committing = self._qbo_can_commit()
        candidates = self.search(self._qbo_pending_domain(), limit=batch_size * (3 if committing else 1),
                                 order='next_retry_date asc nulls first, id')
        owner = str(uuid.uuid4()) if committing else None
        pending = candidates._qbo_claim(batch_size, owner) if committing else candidates
        try:
            counts = pending._qbo_process(with_commit=True, owner=owner)
        finally:
            if committing:
                self._qbo_release(owner)
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
        self.env['qbo.intent.log'].sudo()._qbo_vacuum()
        self.env['qbo.connection']._qbo_check_metered_budget()
        return counts

    @api.model
    def _qbo_schedule_deferred(self):
        """Wake the cron at the earliest retry date of deferred work (a 5xx back-off, a 429 pause), or when
        the lease of another run expires: a worker killed mid-run (kill -9, the server restarted) holds its
        bindings until then, and without a wake-up they would wait for the next scheduled run (an hour)."""
        now = fields.Datetime.now()
        waiting = [('state', '=', 'to_send'), ('connection_id.state', '=', 'connected')]
        dates = self.search(waiting + [('next_retry_date', '>', now)], order='next_retry_date',
                            limit=1).mapped('next_retry_date')
        dates += self.search(waiting + [('lease_until', '>', now)], order='lease_until', limit=1).mapped('lease_until')
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
