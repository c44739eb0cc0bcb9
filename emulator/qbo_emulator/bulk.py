"""Bulk seeding of a company "with years of data" (``POST /_emulator/companies/<realm>/bulk``).

A QuickBooks company an Odoo database connects to for the first time already holds hundreds of
customers, items and open invoices. This endpoint creates them in one call through the same
builders as the API's create (same validation, same defaults, same webhook events), so that what
the connector later reads is exactly what QuickBooks would answer.

Body: ``{"objects": [{"entity": "Customer", "key": "c1", "body": {...}}, ...]}``, created in order.
A reference ``{"value": "@c1"}`` anywhere in a later body is replaced by the Id of the object
created under key ``c1`` (an invoice names its customer and items by key). Answer:
``{"created": n, "ids": {key: Id}}``.

``PrimaryTaxIdentifier`` is kept as given but shown masked, as QuickBooks does in every response:
only its last characters are visible (see ``mask_tax_id``).
"""
from . import entities, errors
from .refs import Ctx

# QuickBooks shows a tax identifier as a run of X followed by its last characters.
TAX_ID_VISIBLE_CHARS = 4


class BulkError(Exception):
    """A bulk body is malformed or one of its objects is refused (which one, and why)."""


def mask_tax_id(value):
    """The tax identifier as QuickBooks returns it: all but the last characters masked."""
    value = str(value or '')
    if len(value) <= TAX_ID_VISIBLE_CHARS:
        return value
    return 'X' * (len(value) - TAX_ID_VISIBLE_CHARS) + value[-TAX_ID_VISIBLE_CHARS:]


def _resolve_keys(value, ids):
    """Replace ``"@key"`` reference values by the Ids created so far (recursively)."""
    if isinstance(value, dict):
        out = {k: _resolve_keys(v, ids) for k, v in value.items()}
        ref = out.get('value')
        if isinstance(ref, str) and ref.startswith('@'):
            if ref[1:] not in ids:
                raise BulkError('unknown key %s (objects are created in order)' % ref)
            out['value'] = ids[ref[1:]]
        return out
    if isinstance(value, list):
        return [_resolve_keys(v, ids) for v in value]
    return value


def bulk_create(emu, company, data):
    """Create ``data["objects"]`` in order in ``company``; return ``{key: Id}``.

    Validation is the API's (``entities.create``): a duplicate name or an unknown reference refuses
    the object with its QuickBooks fault, reported with the object's position and key. Not atomic,
    as a sequence of API creates: the objects before a refused one stay.
    """
    objects = data.get('objects')
    if not isinstance(objects, list):
        raise BulkError('objects must be a list')
    ids = {}
    for position, spec in enumerate(objects):
        entity = spec.get('entity')
        body = _resolve_keys(dict(spec.get('body') or {}), ids)
        tax_id = body.pop('PrimaryTaxIdentifier', None)
        ctx = Ctx(company, emu.clock.now())
        try:
            obj = entities.create(ctx, entity, body)
        except errors.QBOError as exc:
            raise BulkError('object %s (%s %s): %s' % (position, entity, spec.get('key'), exc)) from None
        if tax_id:
            obj['_PrimaryTaxIdentifier'] = str(tax_id)
            obj['PrimaryTaxIdentifier'] = mask_tax_id(tax_id)
        if spec.get('key'):
            ids[str(spec['key'])] = obj['Id']
    return ids
