"""Request context and reference resolution shared by entity handlers and compute."""
from . import errors


class Ctx:
    """Per-operation context.

    ``visible_cseq``: inside a batch, objects created after the batch started
    (creation sequence above this number) are invisible, because Intuit batch
    items cannot see each other's creations.
    """

    def __init__(self, company, now, include=(), visible_cseq=None, user='root'):
        self.company = company
        self.now = now
        self.include = {i.strip().lower() for i in include if i}
        self.visible_cseq = visible_cseq
        self.user = user
        # http://host:port the request came to (set by the server; used for download links)
        self.base_url = ''

    def visible(self, obj):
        return obj is not None and (self.visible_cseq is None or obj.get('_cseq', 0) <= self.visible_cseq)

    def lookup(self, entity, obj_id):
        obj = self.company.get(entity, obj_id)
        return obj if self.visible(obj) else None


def ref_value(ref, element):
    """Extract ``value`` from a ReferenceType; a bare string is tolerated."""
    if isinstance(ref, dict):
        v = ref.get('value')
    elif isinstance(ref, (str, int)):
        v = ref
    else:
        v = None
    if v is None or str(v).strip() == '':
        raise errors.required_missing(element + '.value' if element else 'value', element)
    return str(v).strip()


def resolve(ctx, entity, ref, element, label=None, allow_inactive=False, label_entities=None):
    """Resolve a reference to a stored object, raising 2500 (unknown) or 610 (inactive)."""
    from .store import ENTITIES
    value = ref_value(ref, element)
    obj = ctx.lookup(entity, value)
    if obj is None:
        raise errors.invalid_ref(label or ENTITIES[entity]['label'], value)
    if obj.get('Active') is False and not allow_inactive:
        raise errors.inactive_ref()
    return obj


def named_ref(obj, name_field='DisplayName'):
    ref = {'value': obj['Id']}
    if obj.get(name_field) is not None:
        ref['name'] = obj[name_field]
    return ref
