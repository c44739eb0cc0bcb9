"""Attachable (REF-Attachable): notes created as JSON, files uploaded as multipart ``POST /upload``.

The upload request (Intuit's "Attach images and notes" guide; python-quickbooks ``Attachable.save`` builds the
same body) is ``multipart/form-data`` with, per file, a ``file_metadata_<n>`` part (the Attachable JSON:
AttachableRef, FileName, ContentType, Note...) and a ``file_content_<n>`` part (the bytes, optionally
``Content-Transfer-Encoding: base64``). The answer is ``{"AttachableResponse": [{"Attachable": {...}} |
{"Fault": {...}}, ...], "time": ...}``, one entry per file. The file itself is kept in ``_content`` (base64).
"""
import base64
import copy
import email.parser
import email.policy
import json

from . import errors, util
from .refs import resolve
from .store import ENTITIES

NOTE_MAX = 2000
FILE_NAME_MAX = 1000
# Files QuickBooks accepts as attachments (by content type: PDF, JPG, PNG, GIF, TIFF, DOC(X), XLS(X), CSV, TXT,
# RTF, XML, ODS, AI, EPS) and the size limit of one upload request (all its files together).
CONTENT_TYPES = {
    'application/postscript',                                                     # ai, eps
    'text/csv', 'application/msword',
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',     # docx
    'image/gif', 'image/jpeg', 'image/jpg', 'image/png', 'image/tiff',
    'application/vnd.oasis.opendocument.spreadsheet',                            # ods
    'application/pdf', 'application/rtf', 'text/rtf', 'text/plain',
    'application/vnd.ms-excel',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',          # xlsx
    'text/xml', 'application/xml',
}
MAX_SIZE = 100 * 1024 * 1024
CATEGORIES = ('Contact', 'Document', 'Image', 'Receipt', 'Signature', 'Sound', 'Other')
READ_ONLY = {'Id', 'SyncToken', 'MetaData', 'domain', 'sparse', 'status', 'FileAccessUri', 'TempDownloadUri',
             'Size', 'ThumbnailFileAccessUri', 'ThumbnailTempDownloadUri'}


def build_attachable(ctx, body, existing=None, upload=None, uploaded_before=0):
    """Validate an Attachable (note or file metadata). ``upload`` = (content type, bytes) for a file part,
    ``uploaded_before`` the bytes of the request's earlier files."""
    note, file_name = body.get('Note'), body.get('FileName')
    if note is not None and len(str(note)) > NOTE_MAX:
        raise errors.string_length('Note', NOTE_MAX, len(str(note)))
    if file_name is not None and len(str(file_name)) > FILE_NAME_MAX:
        raise errors.string_length('FileName', FILE_NAME_MAX, len(str(file_name)))
    if not note and not file_name and not (existing or {}).get('FileName'):
        # REF-Attachable: FileName is required for file attachments, Note for note attachments.
        raise errors.required_missing('Note', 'Note')
    obj = {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY}
    if body.get('Category') and body['Category'] not in CATEGORIES:
        raise errors.invalid_enum(body['Category'], 'Category')
    refs = []
    for ref in body.get('AttachableRef') or []:
        ent = (ref or {}).get('EntityRef') or {}
        etype = ent.get('type')
        if not etype:
            raise errors.required_missing('EntityRef.type', 'AttachableRef.EntityRef.type')
        entity = next((e for e in ENTITIES if e.lower() == str(etype).lower()), None)
        if entity is None or ENTITIES[entity]['kind'] in ('tax', 'single'):
            raise errors.invalid_enum(etype, 'AttachableRef.EntityRef.type')
        target = resolve(ctx, entity, ent, 'AttachableRef.EntityRef', allow_inactive=True)
        out = dict(copy.deepcopy(ref), EntityRef={'value': target['Id'], 'type': entity})
        out['IncludeOnSend'] = bool(ref.get('IncludeOnSend', False))
        refs.append(out)
    if refs:
        obj['AttachableRef'] = refs
    else:
        obj.pop('AttachableRef', None)
    if upload is not None:
        ctype, content = upload
        if ctype not in CONTENT_TYPES:
            raise errors.business('The file type %s cannot be attached. Attach a supported file type (PDF, '
                                  'image, text, spreadsheet or document).' % ctype)
        if uploaded_before + len(content) > MAX_SIZE:
            raise errors.business('The file %s (%d bytes) goes over the %d bytes (100 MB) one upload can carry.'
                                  % (file_name, len(content), MAX_SIZE))
        obj['ContentType'] = ctype
        obj['Size'] = len(content)
        obj['_content'] = base64.b64encode(content).decode('ascii')
    elif existing is not None:
        for k in ('ContentType', 'Size', 'FileAccessUri', 'TempDownloadUri', '_content'):
            if k in existing:
                obj[k] = copy.deepcopy(existing[k])
    return obj


def download_uri(ctx, obj):
    """Where the file can be fetched without authentication (Intuit's is a short-lived signed URL)."""
    return '%s/_emulator/files/%s/%s' % (ctx.base_url, ctx.company.realm_id, obj['Id'])


def download(ctx, obj_id):
    """GET /download/<id>: the file's temporary download URL, as text (REF-Attachable "Download")."""
    obj = ctx.lookup('Attachable', obj_id)
    if obj is None or '_content' not in obj:
        raise errors.deleted_object() if obj is None else errors.invalid_ref('Attachable', obj_id)
    return download_uri(ctx, obj)


def parts_of(body, content_type):
    """The multipart body's parts as {name: (headers message, bytes)} (in order)."""
    if 'multipart/form-data' not in (content_type or '').lower():
        raise errors.malformed('An upload must be sent as multipart/form-data')
    raw = b'Content-Type: ' + content_type.encode('latin-1') + b'\r\n\r\n' + (body or b'')
    msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
    if not msg.is_multipart():
        raise errors.malformed('An upload must be sent as multipart/form-data')
    out = {}
    for part in msg.get_payload():
        name = part.get_param('name', header='content-disposition')
        if name:
            out[name] = part
    return out


def upload(ctx, body, content_type, finish_new):
    """POST /upload: one Attachable per ``file_content_<n>`` part; returns the AttachableResponse list."""
    parts = parts_of(body, content_type)
    contents = [n for n in parts if n.startswith('file_content_')]
    if not contents:
        raise errors.required_missing('file_content', 'file_content')
    out = []
    total = 0
    for name in contents:
        suffix = name[len('file_content_'):]
        part = parts[name]
        try:
            meta = {}
            meta_part = parts.get('file_metadata_' + suffix)
            if meta_part is not None:
                try:
                    meta = json.loads(meta_part.get_payload(decode=True).decode('utf-8'))
                except ValueError as e:
                    raise errors.err(2010, 'Request has invalid or unsupported property',
                                     'Error parsing object: %s' % e)
                if isinstance(meta.get('Attachable'), dict) and len(meta) == 1:
                    meta = meta['Attachable']
            meta = util.clean_input(meta)
            meta.setdefault('FileName', part.get_filename())
            if not meta.get('FileName'):
                raise errors.required_missing('FileName', 'FileName')
            content = part.get_payload(decode=True) or b''
            ctype = (meta.get('ContentType') or part.get_content_type() or '').lower()
            obj = build_attachable(ctx, meta, upload=(ctype, content), uploaded_before=total)
            total += len(content)
            finish_new(ctx, 'Attachable', obj)
            obj['FileAccessUri'] = '/v3/company/%s/download/%s' % (ctx.company.realm_id, obj['Id'])
            obj['TempDownloadUri'] = download_uri(ctx, obj)
            out.append({'Attachable': util.public(obj)})
        except errors.QBOError as e:
            out.append({'Fault': e.fault()})
    return out
