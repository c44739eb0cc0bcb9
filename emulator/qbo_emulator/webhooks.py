"""Webhook notifications (spec §7.4): legacy and CloudEvents payloads, signed with the verifier token."""
import base64
import hashlib
import hmac
import json
import threading
import urllib.request
import uuid

from . import util

OPERATION_VERB = {'create': 'created', 'update': 'updated', 'delete': 'deleted', 'merge': 'merged',
                  'void': 'voided', 'emailed': 'emailed'}


def signature(body, verifier_token):
    """intuit-signature: base64(HMAC-SHA256(key=verifier token, msg=raw body))."""
    return base64.b64encode(hmac.new(verifier_token.encode('utf-8'), body, hashlib.sha256).digest()).decode()


def payload(spec, now):
    entity = spec.get('entity', 'Customer')
    op = str(spec.get('operation', 'Create'))
    iso = util.fmt_dt(now, 0, ms=True).replace('+00:00', 'Z')
    if spec.get('format', 'legacy') == 'cloudevents':
        return [{
            'specversion': '1.0', 'id': str(uuid.uuid4()), 'source': 'intuit.' + util.rand_token(43) + '=',
            'type': 'qbo.%s.%s.v1' % (entity.lower(), OPERATION_VERB.get(op.lower(), op.lower())),
            'datacontenttype': 'application/json', 'time': iso,
            'intuitentityid': str(spec.get('entity_id', '1')), 'intuitaccountid': str(spec.get('realm_id')),
            'data': {},
        }]
    ent = {'id': str(spec.get('entity_id', '1')), 'operation': op[:1].upper() + op[1:], 'name': entity,
           'lastUpdated': iso}
    if spec.get('deleted_id'):
        ent['deletedId'] = str(spec['deleted_id'])
    return {'eventNotifications': [{'realmId': str(spec.get('realm_id')),
                                    'dataChangeEvent': {'entities': [ent]}}]}


def send_later(spec, now, record):
    """POST the notification after ``delay_seconds`` on a daemon thread; results go to ``record``."""
    body = json.dumps(payload(spec, now)).encode('utf-8')
    headers = {'Content-Type': 'application/json; charset=utf-8',
               'intuit-signature': signature(body, spec.get('verifier_token', '')),
               'intuit-t-id': util.new_tid(), 'intuit-created-time': util.fmt_dt(now, 0),
               'intuit-notification-schema-version': '0.1', 'User-Agent': 'intuit_notification_server/0.1'}
    entry = {'url': spec['url'], 'body': body.decode('utf-8'), 'signature': headers['intuit-signature'],
             'status': None, 'error': None}
    record.append(entry)

    def run():
        try:
            req = urllib.request.Request(spec['url'], data=body, headers=headers, method='POST')
            with urllib.request.urlopen(req, timeout=10) as resp:
                entry['status'] = resp.status
        except Exception as e:      # delivery failures are recorded, never raised
            entry['status'] = getattr(e, 'code', None)
            entry['error'] = str(e)

    t = threading.Timer(float(spec.get('delay_seconds', 0) or 0), run)
    t.daemon = True
    t.start()
    return entry
