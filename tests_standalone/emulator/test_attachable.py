"""Attachable over HTTP: notes (JSON), multipart uploads, links to transactions, limits (REF-Attachable)."""
import base64
import json

from test_payables import acct_line

BOUNDARY = 'xYzBoundary42'


def multipart(files):
    """files: [(n, metadata dict or None, content type, bytes, base64?)] -> (body, content type)."""
    chunks = []
    for n, meta, ctype, data, b64 in files:
        if meta is not None:
            chunks.append(('--%s\r\nContent-Disposition: form-data; name="file_metadata_%s"\r\n'
                           'Content-Type: application/json\r\n\r\n%s\r\n' % (BOUNDARY, n, json.dumps(meta))).encode())
        head = ('--%s\r\nContent-Disposition: form-data; name="file_content_%s"; filename="f%s.bin"\r\n'
                'Content-Type: %s\r\n' % (BOUNDARY, n, n, ctype))
        if b64:
            head += 'Content-Transfer-Encoding: base64\r\n'
            data = base64.b64encode(data)
        chunks.append(head.encode() + b'\r\n' + data + b'\r\n')
    chunks.append(('--%s--\r\n' % BOUNDARY).encode())
    return b''.join(chunks), 'multipart/form-data; boundary=%s' % BOUNDARY


def new_bill(api):
    v = api.create('Vendor', {'DisplayName': 'Attach Vendor'})
    return api.create('Bill', {'VendorRef': {'value': v['Id']}, 'Line': [acct_line(10.0)]})


def test_note_attachable_create_query_update_delete(api):
    b = new_bill(api)
    a = api.create('Attachable', {'Note': 'approved by Jane',
                                  'AttachableRef': [{'EntityRef': {'type': 'Bill', 'value': b['Id']}}]})
    assert a['Note'] == 'approved by Jane' and a['SyncToken'] == '0'
    assert a['AttachableRef'] == [{'EntityRef': {'value': b['Id'], 'type': 'Bill'}, 'IncludeOnSend': False}]
    q = api.query("select * from Attachable where AttachableRef.EntityRef.value = '%s'" % b['Id'])
    assert [x['Id'] for x in q['Attachable']] == [a['Id']]
    assert api.query("select * from Attachable where AttachableRef.EntityRef.value = '99999'") == {}
    a1 = api.post('attachable', {'Id': a['Id'], 'SyncToken': '0', 'sparse': True, 'Note': 'changed'}).json()[
        'Attachable']
    assert a1['Note'] == 'changed' and a1['SyncToken'] == '1'
    assert a1['AttachableRef'][0]['EntityRef']['value'] == b['Id']
    r = api.post('attachable', {'Id': a['Id'], 'SyncToken': '1'}, params={'operation': 'delete'})
    assert r.json()['Attachable']['status'] == 'Deleted'


def test_note_attachable_errors(api):
    b = new_bill(api)
    assert api.fault(api.post('attachable', {'AttachableRef': [{'EntityRef': {'type': 'Bill', 'value': b['Id']}}]}))[
        'code'] == '2020'
    err = api.fault(api.post('attachable', {'Note': 'n' * 2001}))
    assert err['code'] == '2050' and 'Max:2000' in err['Detail']
    err = api.fault(api.post('attachable', {'Note': 'x', 'AttachableRef': [{'EntityRef': {'type': 'Bill',
                                                                                          'value': '9999'}}]}))
    assert err['code'] == '2500' and err['Detail'] == 'Invalid Reference Id : Bill element id 9999 not found'
    assert api.fault(api.post('attachable', {'Note': 'x', 'AttachableRef': [{'EntityRef': {'type': 'Spaceship',
                                                                                           'value': '1'}}]}))[
        'code'] == '2170'
    assert api.fault(api.post('attachable', {'Note': 'x', 'Category': 'Blob'}))['code'] == '2170'


def test_upload_files_linked_to_a_bill(api):
    b = new_bill(api)
    pdf = b'%PDF-1.4 fake receipt'
    meta = {'AttachableRef': [{'EntityRef': {'type': 'Bill', 'value': b['Id']}, 'IncludeOnSend': True}],
            'FileName': 'receipt.pdf', 'ContentType': 'application/pdf', 'Note': 'scan'}
    body, ctype = multipart([('01', meta, 'application/pdf', pdf, True),
                             ('02', {'FileName': 'photo.png', 'ContentType': 'image/png'}, 'image/png', b'\x89PNG..',
                              False),
                             ('03', {'FileName': 'tool.exe', 'ContentType': 'application/x-msdownload'},
                              'application/x-msdownload', b'MZ', False)])
    r = api.call('POST', 'upload', body, ctype=ctype)
    assert r.status == 200, r.body
    resp = r.json()['AttachableResponse']
    first, second, third = resp
    a = first['Attachable']
    assert a['FileName'] == 'receipt.pdf' and a['Size'] == len(pdf) and a['ContentType'] == 'application/pdf'
    assert a['FileAccessUri'] == '/v3/company/%s/download/%s' % (api.realm, a['Id'])
    assert a['AttachableRef'][0]['IncludeOnSend'] is True and a['Note'] == 'scan'
    assert second['Attachable']['Size'] == len(b'\x89PNG..') and second['Attachable']['FileName'] == 'photo.png'
    assert third['Fault']['Error'][0]['code'] == '6000' and 'cannot be attached' in third['Fault']['Error'][0]['Detail']
    q = api.query("select * from Attachable where AttachableRef.EntityRef.value = '%s'" % b['Id'])
    assert [x['Id'] for x in q['Attachable']] == [a['Id']]
    read = api.get('attachable/' + a['Id']).json()['Attachable']
    assert read['Size'] == len(pdf) and '_content' not in read


def test_uploaded_bytes_are_kept_exactly(api, ctl):
    data = bytes(range(256)) * 4 + b'\r\n--not-a-boundary\r\n\n\r'
    for b64 in (True, False):
        body, ctype = multipart([('7', {'FileName': 'raw.txt', 'ContentType': 'text/plain'}, 'text/plain', data, b64)])
        a = api.call('POST', 'upload', body, ctype=ctype).json()['AttachableResponse'][0]['Attachable']
        assert a['Size'] == len(data)
        stored = ctl.entity(api.realm, 'Attachable', a['Id'])
        assert stored['FileAccessUri'].endswith('/download/' + a['Id'])


def test_upload_refusals(api):
    assert api.fault(api.call('POST', 'upload', b'{}', ctype='application/json'))['code'] == '2010'
    # 100 MB per upload request: the first file fits, the second goes over
    body, ctype = multipart([('01', {'FileName': 'big.txt', 'ContentType': 'text/plain'}, 'text/plain',
                              b'x' * (60 * 1024 * 1024), False),
                             ('02', {'FileName': 'more.txt', 'ContentType': 'text/plain'}, 'text/plain',
                              b'y' * (40 * 1024 * 1024 + 1), False)])
    r = api.call('POST', 'upload', body, ctype=ctype)
    first, second = r.json()['AttachableResponse']
    assert first['Attachable']['Size'] == 60 * 1024 * 1024
    err = second['Fault']['Error'][0]
    assert err['code'] == '6000' and '100 MB' in err['Detail']
    body, ctype = multipart([('01', {'FileName': 'x.pdf', 'ContentType': 'application/pdf',
                                     'AttachableRef': [{'EntityRef': {'type': 'Invoice', 'value': '4242'}}]},
                              'application/pdf', b'%PDF', False)])
    err = api.call('POST', 'upload', body, ctype=ctype).json()['AttachableResponse'][0]['Fault']['Error'][0]
    assert err['code'] == '2500'


def test_download_gives_a_temporary_url_to_the_bytes(api, base):
    from conftest import hreq
    data = b'%PDF-1.4 exact bytes \x00\x01\xff'
    body, ctype = multipart([('01', {'FileName': 'd.pdf', 'ContentType': 'application/pdf'}, 'application/pdf',
                              data, True)])
    a = api.call('POST', 'upload', body, ctype=ctype).json()['AttachableResponse'][0]['Attachable']
    r = api.get('download/' + a['Id'])
    assert r.status == 200 and r.headers['content-type'].startswith('text/plain')
    url = r.body.decode()
    assert url == a['TempDownloadUri'] and url.startswith(base)
    got = hreq(base, 'GET', url[len(base):])
    assert got.status == 200 and got.body == data and got.headers['content-type'] == 'application/pdf'
    note = api.create('Attachable', {'Note': 'no file'})
    assert api.fault(api.get('download/' + note['Id']))['code'] == '2500'
    assert api.fault(api.get('download/999999'))['code'] == '610'
