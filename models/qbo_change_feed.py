import logging
from datetime import datetime, timedelta, timezone

from odoo import _, api, fields, models

from .. import const
from ..tools import QboError, QboValidationError
from .qbo_errors import QboReconnectNeeded

_logger = logging.getLogger(__name__)


def qbo_parse_time(value):
    """QuickBooks timestamp ('2026-11-29T15:04:05.123-08:00') -> naive UTC datetime (Odoo's convention)."""
    if not value:
        return None
    text = str(value).replace('Z', '+00:00')
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def qbo_format_time(moment):
    """Naive UTC datetime -> the ISO form QuickBooks accepts in changedSince."""
    return moment.replace(microsecond=0).isoformat() + '+00:00'


def qbo_cdc_groups(body):
    """{entity: [objects]} from a CDC response (deleted objects carry status 'Deleted')."""
    groups = {}
    for response in body.get('CDCResponse') or []:
        for group in response.get('QueryResponse') or []:
            for key, value in (group or {}).items():
                if isinstance(value, list):
                    groups.setdefault(key, []).extend(value)
    return groups


class QboConnectionFeed(models.AbstractModel):
    """The change feed: what changed in QuickBooks (payments, bill payments, invoices, bills) comes back to Odoo.

    One change-data-capture (CDC) call per connection and drain, since the connection's
    checkpoint, whatever the number of webhook events waiting: webhooks only say "look now".
    The checkpoint moves to QuickBooks' own time of the answer, and only once every object of the
    window was processed (a failure leaves it where it was, the next drain reads the window
    again: processing is idempotent on Id + SyncToken). A window that hits QuickBooks' 1,000-object
    cap is split (entity by entity, then by LastUpdatedTime); a checkpoint older than CDC's
    30-day look-back falls back to a full reconciliation by query.

    A webhook event is done only once its object came back in an answer (changed, or deleted):
    the window starts early enough for the oldest pending event, and an event whose object did
    not come back stays pending, read again at the next drains, until it is marked *Not seen*
    after `WEBHOOK_EVENT_MAX_TRIES` reads. Once a day the window also re-reads the last
    `CDC_CATCHUP_HOURS` behind the checkpoint (what a late commit in QuickBooks stamped before
    it); what was already processed is recognised by its SyncToken and changes nothing.
    """
    _name = 'qbo.connection.change.feed'
    _description = 'QuickBooks Online connection: change feed'

    cdc_catchup_date = fields.Datetime(
        'Last catch-up read', readonly=True, copy=False,
        help="When the change feed last re-read the day behind its checkpoint (once a day).")

    @api.model
    def _qbo_trigger_feed(self):
        """Wake the change-feed cron now (a webhook arrived)."""
        cron = self.env.ref('quickbooks_online.ir_cron_qbo_change_feed', raise_if_not_found=False)
        if cron and cron.active:
            cron.sudo()._trigger()

    @api.model
    def _cron_qbo_change_feed(self):
        """Drain every connected connection that has webhook events waiting or is due for a poll.

        Runs on its own (hourly by default) so that nothing is lost when webhooks are off, blocked
        or misconfigured, and at once when a webhook arrives. Then sends the Odoo payments waiting
        for QuickBooks (opt-in).
        """
        Event = self.env['qbo.webhook.event'].sudo()
        now = fields.Datetime.now()
        due_before = now - timedelta(minutes=const.CDC_POLL_MINUTES)
        for connection in self.sudo().search([('state', '=', 'connected')]):
            pending = Event.search_count([('connection_id', '=', connection.id), ('state', '=', 'pending')])
            if not pending and connection.last_cdc_date and connection.last_cdc_date > due_before:
                continue
            try:
                connection._qbo_drain()
            except QboReconnectNeeded:
                continue
            except QboError as exc:
                _logger.warning("QuickBooks change feed of %s failed (retried next run): %s",
                                connection.company_id.name, exc)
                connection.feed_error = str(exc)
            if self.env['qbo.binding']._qbo_can_commit():
                # Cron: each connection's drain is its own transaction.
                self.env.cr.commit()  # pylint: disable=invalid-commit
        Event.search([('state', '!=', 'pending'),
                      ('create_date', '<', now - timedelta(days=const.WEBHOOK_EVENT_RETENTION_DAYS))]).unlink()
        self.env['account.payment']._qbo_enqueue_payment_exports()

    def action_qbo_read_changes(self):
        """Button: read QuickBooks' changes now (what the cron does on each webhook). Accounting managers."""
        self.ensure_one()
        if not self.env.su:
            self._qbo_check_manager()  # the feed creates payments: not for every reader of the connection
            return self.sudo().action_qbo_read_changes()
        try:
            stats = self._qbo_drain()
        except (QboError, QboReconnectNeeded) as exc:
            self.sudo().feed_error = str(exc)
            return self._qbo_notification(_("QuickBooks changes not read"), str(exc), 'danger')
        to_check = self.env['qbo.payment.import'].search_count([('connection_id', '=', self.id),
                                                                ('state', 'in', ('unmatched', 'error'))])
        message = _("%(objects)s changed object(s) read with %(calls)s request(s).", **stats)
        if to_check:
            message += ' ' + _("%s payment(s) to check under Payments from QuickBooks.", to_check)
        return self._qbo_notification(_("QuickBooks changes read"), message, 'warning' if to_check else 'success')

    def _qbo_drain(self):
        """Read and apply every change since the checkpoint; close the webhook events it answered.

        :return: {'objects': n, 'calls': n, 'seen': {(entity, id)}} (what was read, and how many
            QuickBooks calls it took)
        :raise QboError: the CDC call failed (the checkpoint and the events stay as they were)
        """
        self.ensure_one()
        Event = self.env['qbo.webhook.event'].sudo()
        events = Event.search([('connection_id', '=', self.id), ('state', '=', 'pending')])
        now = fields.Datetime.now()
        # No checkpoint (a connection made before this feature): start now, never backfill history.
        since = self.cdc_checkpoint or now
        start = since - timedelta(seconds=const.CDC_OVERLAP_SECONDS)
        # A late delivery may announce a change stamped before the checkpoint: the window covers it.
        oldest = min(filter(None, (qbo_parse_time(event.event_time) for event in events)), default=None)
        if oldest:
            start = min(start, oldest - timedelta(seconds=const.CDC_OVERLAP_SECONDS))
        catchup = self.cdc_checkpoint and (
            not self.cdc_catchup_date or self.cdc_catchup_date <= now - timedelta(hours=const.CDC_CATCHUP_HOURS))
        if catchup:
            start = min(start, since - timedelta(hours=const.CDC_CATCHUP_HOURS))
        stats = {'objects': 0, 'calls': 0, 'seen': set()}
        with self._qbo_client_session() as client:
            # Customers, vendors and items merged in QuickBooks: their links move to the survivor (CDC does not
            # say it) before the changes are applied, so that the merged-away object, inactive, archives nothing.
            merges = events.filtered(lambda e: e.entity in const.CDC_MASTER_ENTITIES and e.operation == 'Merge')
            self.env['qbo.exporter.customer']._qbo_apply_merges(self, client, merges)
            if since < now - timedelta(days=const.CDC_MAX_DAYS) + timedelta(minutes=10):
                checkpoint = self._qbo_full_reconcile(client, since, stats)
            else:
                start = max(start, now - timedelta(days=const.CDC_MAX_DAYS) + timedelta(minutes=10))
                try:
                    checkpoint = self._qbo_read_window(client, start, stats)
                except QboValidationError as exc:
                    # By QuickBooks' clock the checkpoint is beyond CDC's 30 days.
                    if 'changedSince' not in f"{exc} {exc.detail or ''} {exc.element or ''}":
                        raise
                    checkpoint = self._qbo_full_reconcile(client, since, stats)
        vals = {'cdc_checkpoint': checkpoint or now, 'last_cdc_date': now, 'feed_error': False}
        if catchup:
            vals['cdc_catchup_date'] = now
        self.sudo().write(vals)
        merges.write({'state': 'done', 'processed_date': now, 'note': False})  # answered by the relinking
        self._qbo_close_events(events - merges, stats['seen'], now)
        return stats

    @api.model
    def _qbo_close_events(self, events, seen, now):
        """Done: the events whose object came back. The others stay pending for the next drains, then
        are marked 'Not seen' after WEBHOOK_EVENT_MAX_TRIES reads (with the reason, on the event)."""
        answered = events.filtered(lambda event: (event.entity, event.entity_id) in seen)
        answered.write({'state': 'done', 'processed_date': now, 'note': False})
        for event in events - answered:
            tries = event.read_count + 1
            if tries >= const.WEBHOOK_EVENT_MAX_TRIES:
                event.write({'state': 'unseen', 'read_count': tries, 'processed_date': now, 'note': _(
                    "QuickBooks' change feed did not return %(entity)s %(id)s in %(tries)s reads: nothing was "
                    "applied for this event. 'Read changes now' on the connection reads again; a full "
                    "reconciliation compares every object.", entity=event.entity, id=event.entity_id, tries=tries)})
            else:
                event.write({'read_count': tries, 'note': _(
                    "Not in QuickBooks' change feed yet (read %(tries)s of %(max)s).", tries=tries,
                    max=const.WEBHOOK_EVENT_MAX_TRIES)})

    def _qbo_read_window(self, client, since, stats):
        """One CDC call for every entity; split the window when QuickBooks capped the answer.

        :return: the new checkpoint (QuickBooks time up to which everything was read)
        """
        body = client.cdc(const.CDC_ENTITIES, qbo_format_time(since))
        stats['calls'] += 1
        groups = qbo_cdc_groups(body)
        checkpoint = qbo_parse_time(body.get('time'))
        if sum(len(rows) for rows in groups.values()) >= const.CDC_MAX_OBJECTS:
            groups, checkpoint = self._qbo_read_split(client, since, stats)
        self._qbo_apply_changes(groups, stats)
        return checkpoint

    def _qbo_read_split(self, client, since, stats):
        """The window hit the 1,000-object cap: read it entity by entity, in LastUpdatedTime slices.

        CDC has no upper bound, so a slice ends where the capped answer ends: the next slice
        starts at the last LastUpdatedTime read (objects of that instant are read twice, which
        the idempotent processing absorbs). The checkpoint is the earliest end over entities.
        """
        groups = {}
        checkpoint = None
        for entity in const.CDC_ENTITIES:
            cursor = since
            while True:
                body = client.cdc([entity], qbo_format_time(cursor))
                stats['calls'] += 1
                rows = qbo_cdc_groups(body).get(entity, [])
                groups.setdefault(entity, []).extend(rows)
                end = qbo_parse_time(body.get('time'))
                if len(rows) < const.CDC_MAX_OBJECTS:
                    break
                last = max((qbo_parse_time((row.get('MetaData') or {}).get('LastUpdatedTime')) or cursor
                            for row in rows), default=cursor)
                if last <= cursor:
                    # 1,000 changes in one instant: nothing left to split on; what was read is applied
                    # and the rest comes with the next full reconciliation.
                    _logger.warning("QuickBooks CDC: more than %s %s changes at %s.", const.CDC_MAX_OBJECTS,
                                    entity, cursor)
                    end = last
                    break
                cursor = last
                end = last
            checkpoint = end if checkpoint is None or (end and end < checkpoint) else checkpoint
        return groups, checkpoint

    def _qbo_full_reconcile(self, client, since, stats):
        """Checkpoint beyond CDC's 30 days: re-read by query what changed, find what disappeared.

        Payments and bill payments changed since the checkpoint are read by query; imported payments
        and sent documents that QuickBooks no longer returns were deleted there.
        """
        self.ensure_one()
        now = fields.Datetime.now()
        groups = {}
        where = f"MetaData.LastUpdatedTime >= '{qbo_format_time(since)}'"
        for entity in const.CDC_ENTITIES:
            groups[entity] = client.query_all(entity, where=where,
                                              include_inactive=entity in const.CDC_MASTER_ENTITIES)
            stats['calls'] += 1
        # Deletions leave no trace in queries: ask for the ids we hold and compare.
        imports = self.env['qbo.payment.import'].sudo().search([
            ('connection_id', '=', self.id), ('state', 'in', ('imported', 'unmatched'))])
        bindings = self.env['qbo.binding'].sudo().search([
            # Customers and vendors are never deleted in QuickBooks (only made inactive): not looked for here.
            ('connection_id', '=', self.id), ('qbo_id', '!=', False),
            ('entity', 'in', [e for e in const.CDC_ENTITIES if e not in const.CDC_MASTER_ENTITIES]),
            ('state', 'not in', ('voided', 'deleted_in_qbo'))])
        held = {}
        for entity, qbo_id in [(i.qbo_entity, i.qbo_id) for i in imports] + [(b.entity, b.qbo_id) for b in bindings]:
            held.setdefault(entity, set()).add(qbo_id)
        for entity, ids in held.items():
            ids = sorted(ids)
            found = set()
            for index in range(0, len(ids), 500):
                chunk = ', '.join(f"'{i}'" for i in ids[index:index + 500])
                found |= {row['Id'] for row in client.query_all(entity, where=f"Id IN ({chunk})", order_by=None)}
                stats['calls'] += 1
            groups.setdefault(entity, []).extend({'Id': i, 'status': 'Deleted'} for i in ids if i not in found)
        self._qbo_apply_changes(groups, stats)
        self.sudo().last_full_reconcile_date = now
        self.sudo().message_post(body=_("Full reconciliation with QuickBooks (the last change check was older than "
                                 "%s days).", const.CDC_MAX_DAYS))
        return now

    def _qbo_apply_changes(self, groups, stats):
        """Apply changed objects: payments and bill payments first (they may free documents), then
        invoices, credit notes, bills and vendor credits, then customers, vendors and items (the fields
        QuickBooks owns, see qbo.master.field).

        The documents of the answer go with the payments: their Balance is what QuickBooks holds
        open, checked before a document is paid in Odoo. `stats['seen']` collects the (entity, Id)
        of every object that came back (webhook events are closed by it).
        """
        self.ensure_one()
        document_entities = [entity for entity in const.CDC_ENTITIES
                             if entity not in const.CDC_PAYMENT_ENTITIES + const.CDC_MASTER_ENTITIES]
        documents = {(entity, str(obj.get('Id'))): obj for entity in document_entities
                     for obj in self._qbo_latest(groups.get(entity, [])) if obj.get('status') != 'Deleted'}
        for entity in const.CDC_ENTITIES:
            for obj in self._qbo_latest(groups.get(entity, [])):
                stats['objects'] += 1
                stats.setdefault('seen', set()).add((entity, str(obj.get('Id'))))
                if entity in const.CDC_MASTER_ENTITIES:
                    self.env['qbo.master.field']._qbo_apply_master(self, entity, obj)
                elif entity in const.CDC_PAYMENT_ENTITIES:
                    self.env['qbo.payment.import'].sudo()._qbo_sync_payment(self, obj, documents, entity)
                else:
                    self._qbo_sync_document(entity, obj)
        # Reconciliation: the mirror of QuickBooks' open documents follows the same changes.
        self.env['qbo.open.document']._qbo_mirror_apply(self, groups)

    @api.model
    def _qbo_latest(self, rows):
        """One object per Id, the latest version (split windows may return an object twice)."""
        latest = {}
        for row in rows:
            current = latest.get(row.get('Id'))
            if current is None or int(row.get('SyncToken') or 0) >= int(current.get('SyncToken') or 0) \
                    or row.get('status') == 'Deleted':
                latest[row.get('Id')] = row
        return list(latest.values())

    def _qbo_sync_document(self, entity, obj):
        """A document we sent (invoice, credit memo, bill, vendor credit) changed in QuickBooks: voided or
        deleted ones are shown at once."""
        binding = self.env['qbo.binding'].sudo().search([
            ('connection_id', '=', self.id), ('entity', '=', entity), ('qbo_id', '=', obj.get('Id'))], limit=1)
        if not binding or binding.state in ('voided', 'deleted_in_qbo'):
            return
        move = binding._qbo_record()
        if not move:
            return
        exporter = self.env['qbo.exporter.invoice']
        if obj.get('status') == 'Deleted':
            exporter._qbo_mark_gone(binding, move, 'deleted_in_qbo', _(
                "This document was deleted in QuickBooks (Id %s). It is not re-created automatically: use 'Send "
                "again as new' if it should exist there.", binding.qbo_id))
        elif exporter._qbo_is_voided(obj):
            exporter._qbo_mark_gone(binding, move, 'voided', _("This document was voided in QuickBooks (Id %s).",
                                                               binding.qbo_id))
