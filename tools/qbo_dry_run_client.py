"""The client of a dry run: reads QuickBooks for real, writes nothing (see models/qbo_dry_run.py)."""
from .. import const
from .i18n import _lt
from .qbo_client import qbo_quote
from .qbo_exceptions import QboValidationError

# Entities whose names QuickBooks keeps unique across Customer, Vendor and Employee (fault 6240).
NAME_LIST_ENTITIES = ('Customer', 'Vendor', 'Employee')
# What a dry run lets through to the real client: reads and the client's own settings, nothing that writes.
PASS_THROUGH = frozenset({'query', 'query_all', 'cdc', 'company_info', 'preferences', 'entity_path', 'deadline',
                          'realm_id', 'minor_version', 'on_call', 'limiter', 'api_base'})
# Keys of a write body that say which object and version it is, not what changes.
NOT_DIFFERENCES = ('Id', 'SyncToken', 'sparse')


class DryRunClient:
    """A QuickBooks client that reads for real and writes nothing.

    Every read and query goes to QuickBooks (metered, counted); every write is recorded for the binding
    being planned and answered as QuickBooks would answer a success (the body, an Id of its own, the next
    SyncToken). The one refusal it reproduces is the duplicate name (6240), found by a read, because it
    decides between "create" and "link to existing"; other validations of QuickBooks are not simulated.
    """

    def __init__(self, client, recorder):
        self._client = client
        self._recorder = recorder

    def __getattr__(self, name):
        # Only what cannot write passes through to the real client: a method added to the client later
        # (a new kind of write) must fail here rather than reach QuickBooks from a dry run.
        if name not in PASS_THROUGH:
            raise AttributeError(f"a dry run does not send {name!r} to QuickBooks")
        return getattr(self._client, name)

    def read(self, entity, qbo_id, res_ref=None):
        simulated = self._recorder.simulated.get((entity, str(qbo_id)))
        if simulated is not None:
            return simulated
        return self._client.read(entity, qbo_id, res_ref=res_ref)

    def create(self, entity, payload, request_id, res_ref=None, params=None):
        name = payload.get('DisplayName') if entity in NAME_LIST_ENTITIES else None
        if name:
            rows = self._client.query(f"SELECT * FROM {entity} WHERE DisplayName = {qbo_quote(name)} "
                                      f"AND Active IN (true, false)", res_ref=res_ref).get(entity, [])
            if rows:
                # QuickBooks' own answer to a duplicate name, as the exporter receives it from the API.
                raise QboValidationError(
                    _lt("Duplicate Name Exists Error"), status=400, code=const.FAULT_DUPLICATE_NAME,
                    detail=f"The name supplied already exists. : Id={rows[0]['Id']}")
        return self._recorder.record_write(entity, 'create', payload)

    def update(self, entity, payload, request_id, res_ref=None, params=None):
        return self._recorder.record_write(entity, 'update', payload, client=self._client)

    def void(self, entity, qbo_id, sync_token, request_id, res_ref=None):
        return self._recorder.record_write(entity, 'void', {'Id': qbo_id, 'SyncToken': sync_token})

    def delete(self, entity, qbo_id, sync_token, request_id, res_ref=None):
        return self._recorder.record_write(entity, 'delete', {'Id': qbo_id, 'SyncToken': sync_token})

    def void_by_update(self, entity, qbo_id, sync_token, request_id, res_ref=None):
        return self._recorder.record_write(entity, 'void', {'Id': qbo_id, 'SyncToken': sync_token})

    def upload(self, entity, qbo_id, file_name, content_type, content, request_id, res_ref=None):
        """An attachment the real run would upload: recorded, answered as QuickBooks' Attachable."""
        return self._recorder.record_write('Attachable', 'create', {
            'AttachableRef': [{'EntityRef': {'type': entity, 'value': qbo_id}}], 'FileName': file_name,
            'ContentType': content_type})

    def batch(self, items, request_id=None):
        raise RuntimeError("a dry run plans one record at a time: it never sends a batch")


class DryRunRecorder:
    """What the writes of a dry run would have been, per binding (set `current` before each one)."""

    def __init__(self):
        self.current = None
        self.writes = {}
        self.simulated = {}
        self.call_lists = []  # each export's HTTP calls, as its client reports them (see QboClient.on_call)
        self._next = 0

    @property
    def reads(self):
        """Metered calls made (queries and reads: GET or query), as the limiter counts them."""
        return sum(1 for calls in self.call_lists for call in calls
                   if call.get('method') == 'GET' or call.get('operation') == 'query')

    def record_write(self, entity, operation, body, client=None):
        """Record the write and answer it as QuickBooks would on success (no request leaves)."""
        differences = {}
        answer = dict(body)
        if operation == 'update':
            current = self.simulated.get((entity, str(body['Id'])))
            if current is None and client is not None:
                current = client.read(entity, body['Id'])
            current = current or {}
            differences = {key: (current.get(key), value) for key, value in body.items()
                           if key not in NOT_DIFFERENCES and current.get(key) != value}
            answer = dict(current, **body)
            answer['SyncToken'] = str(int(current.get('SyncToken') or body.get('SyncToken') or 0) + 1)
        elif operation == 'create':
            self._next += 1
            answer.update(Id=f"dry-{self._next}", SyncToken='0')
        self.simulated[entity, str(answer.get('Id'))] = answer
        self.writes.setdefault(self.current, []).append(
            {'entity': entity, 'operation': operation, 'body': body, 'differences': differences})
        return answer
