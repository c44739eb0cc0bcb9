import base64
import binascii
import hashlib
import hmac
import json
import logging
import re

from odoo import _, api, fields, models
from odoo.tools import SQL

from .. import const
from . import qbo_compat

_logger = logging.getLogger(__name__)

# CloudEvents verbs (qbo.<entity>.<verb>.v1) -> the legacy operation names.
CLOUDEVENT_OPERATIONS = {'created': 'Create', 'updated': 'Update', 'deleted': 'Delete', 'merged': 'Merge',
                         'voided': 'Void', 'emailed': 'Emailed'}


# Intuit's notifications nest 4 levels deep (legacy) or 3 (CloudEvents): anything much deeper is
# not theirs, and Python's json would hit its recursion limit on it.
MAX_JSON_DEPTH = 20
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKETS = re.compile(rb'[\[\]{}]')


class QboWebhookSignatureError(Exception):
    """The intuit-signature header does not match the body with any configured verifier token."""


def json_depth_ok(body, limit=MAX_JSON_DEPTH):
    """True when `body` (bytes) nests objects and arrays at most `limit` deep.

    Checked before json.loads, in linear time: strings are dropped first (their brackets do not
    count), then brackets are counted.
    """
    depth = 0
    for bracket in _JSON_BRACKETS.findall(_JSON_STRING.sub(b'""', body)):
        depth += 1 if bracket in (b'[', b'{') else -1
        if depth > limit:
            return False
    return True


def _text(value):
    """A scalar of the payload as text ('' for missing values, objects and lists: not Intuit's shape)."""
    if value is None or isinstance(value, (dict, list)):
        return ''
    return str(value)


class QboWebhookEvent(models.Model):
    """Inbox of QuickBooks webhook notifications: one row per event, stored before anything else.

    The webhook controller only verifies the signature, inserts rows (a duplicate delivery hits the
    unique key and is dropped) and wakes the change-feed cron; it never calls QuickBooks, so Intuit
    gets its 200 within its 3 seconds. The cron then reads every change of the connection with one
    change-data-capture call (see qbo_change_feed.py) and marks the rows it covered as done.
    Notifications carry only ids: what changed is always read from QuickBooks, never trusted
    from the notification.
    """
    _name = 'qbo.webhook.event'
    _description = 'QuickBooks Online webhook event'
    _order = 'id desc'

    connection_id = fields.Many2one('qbo.connection', ondelete='cascade', index=True, readonly=True)
    company_id = fields.Many2one(related='connection_id.company_id', store=True)
    event_key = fields.Char(required=True, readonly=True,
                            help="CloudEvents id, or realm/entity/id/operation/lastUpdated for the legacy format.")
    payload_format = fields.Selection([('cloudevents', 'CloudEvents'), ('legacy', 'Legacy')], readonly=True)
    realm_id = fields.Char(readonly=True)
    entity = fields.Char(readonly=True)
    entity_id = fields.Char('QuickBooks Id', readonly=True)
    operation = fields.Char(readonly=True)
    merged_entity_id = fields.Char('Merged QuickBooks Id', readonly=True,
                                   help="Merge events: the Id of the object merged into this one (deletedId).")
    event_time = fields.Char(readonly=True)
    state = fields.Selection([('pending', 'Pending'), ('done', 'Processed'), ('ignored', 'Ignored'),
                              ('unseen', 'Not seen in QuickBooks')],
                             default='pending', required=True, index=True, readonly=True)
    read_count = fields.Integer('Reads', readonly=True, help="Change-feed reads that did not return this object.")
    note = fields.Char(readonly=True)
    processed_date = fields.Datetime(readonly=True)

    _event_key_uniq = qbo_compat.Constraint('unique(event_key)', 'This webhook event is already stored.')

    # ------------------------------------------------------------------ signature

    @api.model
    def _qbo_verify_signature(self, body, signature):
        """Return the connections whose verifier token signed `body`.

        The header is decoded from base64 and compared as bytes, in constant time: a header
        that is not base64 (or not ASCII) matches nothing.

        :param bytes body: the raw request body, exactly as received
        :param str signature: the intuit-signature header (base64 HMAC-SHA256)
        :raise QboWebhookSignatureError: no configured token produces this signature
        """
        if not signature:
            raise QboWebhookSignatureError("missing intuit-signature")
        try:
            received = base64.b64decode(signature.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise QboWebhookSignatureError("intuit-signature is not base64") from None
        connections = self.env['qbo.connection'].sudo().search([('webhook_verifier_token', '!=', False)])
        matching = self.env['qbo.connection']
        for connection in connections:
            digest = hmac.new(connection.webhook_verifier_token.encode(), body, hashlib.sha256).digest()
            if hmac.compare_digest(digest, received):
                matching |= connection
        if not matching:
            raise QboWebhookSignatureError("intuit-signature does not match")
        return matching

    # ------------------------------------------------------------------ parsing and storing

    @api.model
    def _qbo_parse(self, payload):
        """Normalise both payload formats to a list of event dicts (no database access).

        CloudEvents (mandatory since 2026): a JSON array of events with `id`, `type`
        (qbo.<entity>.<verb>.v1), `intuitaccountid` and `intuitentityid`. Legacy: an object with
        `eventNotifications`, each with `realmId` and `dataChangeEvent.entities`.
        """
        events = []
        if isinstance(payload, list):
            for item in payload:
                if not isinstance(item, dict):
                    continue
                parts = _text(item.get('type')).split('.')
                entity = parts[1] if len(parts) >= 4 and parts[0] == 'qbo' else ''
                verb = parts[2] if len(parts) >= 4 else ''
                events.append({
                    'payload_format': 'cloudevents',
                    'event_key': 'ce:' + _text(item.get('id')),
                    'realm_id': _text(item.get('intuitaccountid')),
                    'entity': entity, 'entity_id': _text(item.get('intuitentityid')),
                    'operation': CLOUDEVENT_OPERATIONS.get(verb, verb),
                    'event_time': _text(item.get('time')),
                    'merged_entity_id': _text((item.get('data') if isinstance(item.get('data'), dict) else {})
                                              .get('deletedid')),
                    'valid': bool(_text(item.get('id'))) and bool(entity),
                })
        elif isinstance(payload, dict):
            notifications = payload.get('eventNotifications')
            for notification in notifications if isinstance(notifications, list) else []:
                if not isinstance(notification, dict):
                    continue
                realm = _text(notification.get('realmId'))
                change = notification.get('dataChangeEvent')
                entities = change.get('entities') if isinstance(change, dict) else None
                for ent in entities if isinstance(entities, list) else []:
                    if not isinstance(ent, dict):
                        continue
                    key = '|'.join(_text(ent.get(k)) for k in ('name', 'id', 'operation', 'lastUpdated'))
                    events.append({
                        'payload_format': 'legacy', 'event_key': f"legacy:{realm}|{key}", 'realm_id': realm,
                        'entity': _text(ent.get('name')), 'entity_id': _text(ent.get('id')),
                        'operation': _text(ent.get('operation')), 'event_time': _text(ent.get('lastUpdated')),
                        'merged_entity_id': _text(ent.get('deletedId')),
                        'valid': bool(_text(ent.get('name'))) and bool(_text(ent.get('id'))),
                    })
        return events

    @api.model
    def _qbo_receive(self, body, signature):
        """Verify, store one row per event (duplicates dropped), wake the change-feed cron.

        :param bytes body: raw request body
        :param str signature: intuit-signature header
        :return: number of new rows stored
        :raise QboWebhookSignatureError: forged or unsigned body (nothing is stored)
        """
        signers = self._qbo_verify_signature(body, signature)
        try:
            if not json_depth_ok(body):
                raise ValueError("nested too deep")
            payload = json.loads(body.decode('utf-8'))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            # Signed by Intuit but unreadable: answering 4xx would make Intuit retry it for days.
            _logger.warning("QuickBooks webhook: signed body is not readable JSON (%s); ignored.", exc)
            return 0
        # Only a connected connection receives its realm's events: never a disconnected one that
        # kept the realm as history (one realm has one connected connection at most).
        by_realm = {c.realm_id: c for c in signers if c.realm_id and c.state == 'connected'}
        known = {name.lower(): name for name in const.CDC_ENTITIES}
        created = 0
        now = fields.Datetime.now()
        for event in self._qbo_parse(payload):
            connection = by_realm.get(event['realm_id'])
            entity = known.get(event['entity'].lower())
            note = False
            if not event['valid']:
                note = _("Not a QuickBooks data-change event.")
            elif not connection:
                note = _("No connected connection to QuickBooks company %s uses this verifier token.",
                         event['realm_id'])
            elif not entity:
                note = _("Entity %s is not read back by the connector.", event['entity'])
            state = 'ignored' if note else 'pending'
            key = event['event_key'][:255]
            # ON CONFLICT: a redelivery (Intuit retries, or two workers receiving it at once) is dropped
            # at the unique key, without an error that would abort this request's transaction.
            self.env.cr.execute(SQL("""
                INSERT INTO qbo_webhook_event (connection_id, company_id, event_key, payload_format, realm_id,
                                               entity, entity_id, operation, event_time, merged_entity_id, state,
                                               note, processed_date, create_uid, create_date, write_uid,
                                               write_date)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (event_key) DO NOTHING
            """, connection.id if connection else None, connection.company_id.id if connection else None, key,
                event['payload_format'], event['realm_id'], entity or event['entity'][:64], event['entity_id'][:64],
                event['operation'][:32], event['event_time'][:64], event['merged_entity_id'][:64] or None, state,
                note or None, now if note else None,  # None: psycopg2 would store False as the text 'false'
                self.env.uid, now, self.env.uid, now))
            created += self.env.cr.rowcount
        if created:
            self.env['qbo.connection']._qbo_trigger_feed()
        return created
