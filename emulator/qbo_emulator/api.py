"""Accounting API v3 routing below ``/v3/company/{realmId}/`` (after authentication).

Every function here runs with the emulator lock held and returns
``(status, json_body)``; faults are raised as ``errors.QBOError``.
"""
import json

from . import attachments, entities, errors, query, reports, util
from .refs import Ctx
from .store import BY_LOWER, ENTITIES

CDC_MAX = 1000
CDC_WINDOW = 30 * 86400
CDC_UNSUPPORTED = {'TaxCode', 'TaxRate', 'TaxAgency', 'CompanyInfo', 'Preferences', 'TimeActivity'}


def envelope(company, now, key, value):
    return {key: value, 'time': util.fmt_dt(now, company.tz_minutes, ms=True)}


def parse_json(body):
    try:
        data = json.loads(body.decode('utf-8') if body else '{}')
    except UnicodeDecodeError:
        raise errors.err(500, 'Unsupported Operation',
                         'Operation com.sun.org.apache.xerces.internal.impl.io.MalformedByteSequenceException: '
                         'Invalid byte 1 of 1-byte UTF-8 sequence. is not supported.')
    except ValueError as e:
        raise errors.err(2010, 'Request has invalid or unsupported property',
                         'Error parsing object: %s' % e)
    if not isinstance(data, dict):
        raise errors.malformed('Request body must be a JSON object')
    return data


def entity_body(data, entity):
    """Accept both ``{...fields}`` and ``{"Invoice": {...}}`` request forms."""
    if isinstance(data.get(entity), dict) and len(data) == 1:
        return data[entity]
    return data


def read(ctx, entity, obj_id):
    c = ctx.company
    if entity == 'CompanyInfo':
        obj_id = c.realm_id if obj_id in (None, c.realm_id) else obj_id
    if entity == 'Preferences':
        obj_id = '1'
    obj = ctx.lookup(entity, obj_id)
    if obj is None:
        if ENTITIES[entity]['kind'] == 'txn':
            raise errors.deleted_object()
        raise errors.err(610, 'Object Not Found', 'Object Not Found : Something you\'re trying to use has been '
                                                  'made inactive. Check the fields with accounts, customers, '
                                                  'items, vendors or employees.')
    return obj


def write(ctx, entity, data, params):
    """POST /{entity}: create, full/sparse update, delete or void depending on params and Id."""
    operation = (params.get('operation') or '').lower()
    include = (params.get('include') or '').lower()
    body = entity_body(data, entity)
    if operation == 'delete':
        return entities.delete(ctx, entity, body)
    if operation == 'void' or (operation == 'update' and 'void' in include.split(',')):
        return entities.void(ctx, entity, body)
    if entity == 'Preferences':
        return entities.update(ctx, entity, body)
    if operation not in ('', 'create', 'update'):
        raise errors.unsupported('Operation %s is not supported.' % operation)
    if body.get('Id') not in (None, '') and operation != 'create':
        return entities.update(ctx, entity, body)
    return entities.create(ctx, entity, body)


def run_query(ctx, text):
    return query.execute(ctx, text)


def batch(ctx, data, params):
    items = data.get('BatchItemRequest')
    if not isinstance(items, list) or not items:
        raise errors.err(400, 'MalformedRequest', 'Batch Request is Empty')
    if len(items) > 30:
        raise errors.batch_size(len(items))
    c = ctx.company
    # items cannot see each other's creations: freeze the visible creation sequence
    frozen = c.cseq
    out = []
    for item in items:
        bid = item.get('bId')
        res = {'bId': bid}
        opts = (item.get('optionsData') or '')
        opts = opts if isinstance(opts, str) else ','.join(opts)
        ictx = Ctx(c, ctx.now, include=list(ctx.include) + opts.lower().split(','), visible_cseq=frozen)
        try:
            if 'Query' in item:
                res['QueryResponse'] = query.execute(ictx, item['Query'])
            else:
                keys = [k for k in item if k not in ('bId', 'operation', 'optionsData')]
                if len(keys) != 1 or keys[0] not in ENTITIES:
                    raise errors.malformed('Batch item must carry exactly one entity payload')
                entity = keys[0]
                op = (item.get('operation') or 'create').lower()
                body = item[entity]
                if not isinstance(body, dict):
                    raise errors.malformed('Entity payload must be an object')
                if op == 'create':
                    obj = entities.create(ictx, entity, body)
                elif op == 'update':
                    if 'void' in opts.lower().split(','):
                        obj = entities.void(ictx, entity, body)
                    else:
                        obj = entities.update(ictx, entity, body)
                elif op == 'delete':
                    obj = entities.delete(ictx, entity, body)
                else:
                    raise errors.unsupported('Operation %s is not supported.' % op)
                res[entity] = util.public(obj)
        except errors.QBOError as e:
            res['Fault'] = e.fault()        # per-item faults carry no "time"
        out.append(res)
    return {'BatchItemResponse': out, 'time': util.fmt_dt(ctx.now, c.tz_minutes, ms=True)}


def cdc(ctx, params):
    c = ctx.company
    names = [n.strip() for n in (params.get('entities') or '').split(',') if n.strip()]
    if not names:
        raise errors.required_missing('entities')
    since_raw = params.get('changedSince')
    if not since_raw:
        raise errors.required_missing('changedSince')
    since = util.parse_dt(since_raw, c.tz_minutes)
    if since is None:
        raise errors.malformed('Invalid changedSince value: %s' % since_raw)
    if ctx.now - since > CDC_WINDOW:
        raise errors.err(4000, 'Invalid changedSince',
                         'changedSince can not be older than 30 days. Supplied value:%s' % since_raw,
                         'changedSince')
    groups = []
    remaining = CDC_MAX
    for name in names:
        entity = BY_LOWER.get(name.lower())
        if entity is None:
            raise errors.malformed('Entity %s is not supported by ChangeDataCapture' % name)
        if entity in CDC_UNSUPPORTED:
            continue
        active = sorted((o for o in c.data[entity].values() if o.get('_updated', 0) >= since),
                        key=lambda o: o['_updated'])
        gone = sorted((o for o in c.deleted[entity].values() if o.get('_deleted_at', 0) >= since),
                      key=lambda o: o['_deleted_at'])
        objs = [util.public(o) for o in active]
        objs += [{'status': 'Deleted', 'domain': 'QBO', 'Id': o['Id'],
                  'MetaData': {'LastUpdatedTime': o['MetaData']['LastUpdatedTime']}} for o in gone]
        objs = objs[:remaining]
        remaining -= len(objs)
        if objs:
            groups.append({entity: objs, 'startPosition': 1, 'maxResults': len(objs), 'totalCount': len(objs)})
    return {'CDCResponse': [{'QueryResponse': groups or [{}]}],
            'time': util.fmt_dt(ctx.now, c.tz_minutes, ms=True)}


def taxservice_taxcode(ctx, data):
    """POST /taxservice/taxcode: create a tax code with new rates (US tax groups / non-US codes)."""
    c = ctx.company
    name = data.get('TaxCode')
    if not name:
        raise errors.required_missing('TaxCode')
    if c.find_by('TaxCode', 'Name', name):
        raise errors.dup_name(c.find_by('TaxCode', 'Name', name)['Id'])
    details = data.get('TaxRateDetails') or []
    if not details:
        raise errors.required_missing('TaxRateDetails')
    from .seed import make_code, make_rate
    refs = []
    out_details = []
    for d in details:
        if d.get('TaxRateId'):
            rate = c.get('TaxRate', str(d['TaxRateId']))
            if rate is None:
                raise errors.invalid_ref('TaxRate', d['TaxRateId'])
        else:
            if not d.get('TaxRateName') or d.get('RateValue') is None:
                raise errors.required_missing('TaxRateName')
            agency = str(d.get('TaxAgencyId') or '1')
            if c.get('TaxAgency', agency) is None:
                raise errors.invalid_ref('TaxAgency', agency)
            rate = make_rate(c, ctx.now, c.next_id('TaxRate'), d['TaxRateName'], float(d['RateValue']), agency)
            c.put('TaxRate', rate)
        refs.append((rate['Id'], rate['Name']))
        out_details.append({'TaxRateId': rate['Id'], 'TaxRateName': rate['Name'],
                            'RateValue': rate['RateValue'], 'TaxAgencyId': rate['AgencyRef']['value'],
                            'TaxApplicableOn': d.get('TaxApplicableOn', 'Sales')})
    code = make_code(c, ctx.now, c.next_id('TaxCode'), name, refs, c.is_us)
    c.put('TaxCode', code)
    return {'TaxCode': name, 'TaxCodeId': code['Id'], 'TaxRateDetails': out_details}


def send(ctx, entity, obj_id, params):
    obj = read(ctx, entity, obj_id)
    to = params.get('sendTo') or (obj.get('BillEmail') or {}).get('Address')
    if not to:
        raise errors.required_missing('BillEmail', 'BillEmail')
    obj['BillEmail'] = {'Address': to}
    obj['EmailStatus'] = 'EmailSent'
    obj['DeliveryInfo'] = {'DeliveryType': 'Email',
                           'DeliveryTime': util.fmt_dt(ctx.now, ctx.company.tz_minutes)}
    entities.touch(ctx, obj, entity, 'Emailed')
    return obj


def minimal_pdf(text):
    body = 'BT /F1 12 Tf 72 720 Td (%s) Tj ET' % text.replace('(', '[').replace(')', ']')
    objs = ['<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
            '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R '
            '/Resources << /Font << /F1 5 0 R >> >> >>',
            '<< /Length %d >>\nstream\n%s\nendstream' % (len(body), body),
            '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>']
    out = '%PDF-1.4\n'
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += '%d 0 obj\n%s\nendobj\n' % (i, o)
    xref = len(out)
    out += 'xref\n0 %d\n0000000000 65535 f \n' % (len(objs) + 1)
    out += ''.join('%010d 00000 n \n' % off for off in offsets)
    out += 'trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' % (len(objs) + 1, xref)
    return out.encode('latin-1', 'replace')


def handle(ctx, method, parts, params, body, content_type):
    """Dispatch one API call. ``parts`` are the path segments after the realm id.

    Returns (status, payload, content_type) where payload is a dict (JSON) or bytes.
    """
    c = ctx.company
    now = ctx.now
    if not parts:
        raise errors.unsupported('Unsupported resource')
    head = parts[0].lower()
    if head == 'query':
        if method == 'GET':
            text = params.get('query', '')
        else:
            text = body.decode('utf-8', 'replace') if body else params.get('query', '')
        return 200, envelope(c, now, 'QueryResponse', run_query(ctx, text)), None
    if head == 'batch' and method == 'POST':
        return 200, batch(ctx, parse_json(body), params), None
    if head == 'cdc' and method == 'GET':
        return 200, cdc(ctx, params), None
    if head == 'reports' and method == 'GET':
        return 200, reports.handle(ctx, parts, params), None
    if head == 'upload' and method == 'POST':
        return 200, envelope(c, now, 'AttachableResponse',
                             attachments.upload(ctx, body, content_type, entities.finish_new)), None
    if head == 'download' and method == 'GET' and len(parts) == 2:
        return 200, attachments.download(ctx, parts[1]).encode('utf-8'), 'text/plain'
    if head == 'taxservice' and len(parts) > 1 and parts[1].lower() == 'taxcode' and method == 'POST':
        return 200, taxservice_taxcode(ctx, parse_json(body)), None
    entity = BY_LOWER.get(head)
    if entity is None:
        raise errors.unsupported('Unsupported resource: %s' % parts[0])
    if method == 'GET':
        if len(parts) >= 3 and parts[2].lower() == 'pdf':
            obj = read(ctx, entity, parts[1])
            return 200, minimal_pdf('%s %s %s' % (entity, obj.get('DocNumber', obj['Id']),
                                                 obj.get('TotalAmt', ''))), 'application/pdf'
        obj_id = parts[1] if len(parts) > 1 else None
        if obj_id is None and entity not in ('Preferences', 'CompanyInfo'):
            raise errors.unsupported('Operation GET without an Id is not supported for %s' % entity)
        return 200, envelope(c, now, entity, util.public(read(ctx, entity, obj_id))), None
    if method == 'POST':
        if len(parts) >= 3 and parts[2].lower() == 'send':
            return 200, envelope(c, now, entity, util.public(send(ctx, entity, parts[1], params))), None
        obj = write(ctx, entity, parse_json(body), params)
        return 200, envelope(c, now, entity, util.public(obj)), None
    raise errors.unsupported('Method %s is not supported' % method)
