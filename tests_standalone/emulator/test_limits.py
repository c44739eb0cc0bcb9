"""Intuit's limits and metering as the emulator enforces and counts them (qbo-api-reference §7.1, §7.2, §13):

* 500 requests/min and 10 requests/s per realm, 10 concurrent, 40 batch requests/min → HTTP 429, fault 3001;
* a batch holds at most 30 items (fault 1040); a batch requestid has at most 36 characters (fault 2050);
* reads ("CorePlus": GET by id, queries, CDC, reports) are metered, writes are not; only 2xx answers count;
* a per-call latency keeps the server concurrent (the bench runs with 150 ms).
"""
import threading
import time

from conftest import connect

Q = {'BatchItemRequest': [{'bId': 'q', 'Query': 'select * from Term'}]}


def test_limits_per_second(ctl, base):
    api = connect(ctl, base)
    ctl.settings(limits_enabled=True, rate_limit_per_second=3)
    statuses = [api.get('preferences') for _ in range(5)]
    assert [r.status for r in statuses[:3]] == [200] * 3
    throttled = statuses[3]
    assert throttled.status == 429 and api.fault(throttled, 429)['code'] == '3001'
    ctl.advance_clock(1.5)
    assert api.get('preferences').status == 200
    usage = ctl.usage(api.realm)
    assert usage['throttled'] >= 1 and usage['reads'] == 4 and usage['peak_per_second'] == 3


def test_batch_size_and_requestid_length(ctl, base):
    api = connect(ctl, base)
    too_many = {'BatchItemRequest': [{'bId': str(i), 'Query': 'select * from Term'} for i in range(31)]}
    assert api.fault(api.post('batch', too_many))['code'] == '1040'
    ok = api.post('batch', Q, params={'requestid': 'r' * 36})
    assert ok.status == 200
    err = api.fault(api.post('batch', Q, params={'requestid': 'r' * 37}))
    assert err['code'] == '2050' and 'Max:36' in err['Detail']
    # a single-entity write still takes Intuit's 50
    assert api.post('customer', {'DisplayName': 'Rid'}, params={'requestid': 'r' * 50}).status == 200


def test_usage_counts_metered_reads_writes_and_429s(ctl, base):
    api = connect(ctl, base)
    ctl.usage(api.realm, reset=True)
    cust = api.create('Customer', {'DisplayName': 'Metered'})              # write
    api.get('customer/' + cust['Id'])                                       # read
    api.query('select * from Customer')                                     # read
    api.get('cdc', params={'entities': 'Customer', 'changedSince': '2020-01-01'})   # 400 (too old): not metered
    api.get('cdc', params={'entities': 'Customer', 'changedSince': api.get('preferences').json()['time']})  # 2 reads
    batch = {'BatchItemRequest': [{'bId': '1', 'Query': 'select * from Term'},
                                  {'bId': '2', 'Query': 'select * from Item'},
                                  {'bId': '3', 'operation': 'create', 'Customer': {'DisplayName': 'In batch'}}]}
    assert api.post('batch', batch).status == 200                           # 2 reads + 1 write
    ctl.inject_fault('429', realm_id=api.realm)
    assert api.get('preferences').status == 429                             # counted as throttled, not a read
    usage = ctl.usage(api.realm)
    assert {k: usage[k] for k in ('requests', 'reads', 'writes', 'throttled')} == \
        {'requests': 8, 'reads': 6, 'writes': 2, 'throttled': 1}
    assert usage['peak_per_minute'] == 7 and usage['peak_batch_per_minute'] == 1 and usage['peak_concurrent'] == 1
    assert ctl.usage()[api.realm]['reads'] == 6
    ctl.usage(reset=True)
    assert set(ctl.usage(api.realm).values()) == {0}


def test_latency_keeps_the_server_concurrent(ctl, base):
    api = connect(ctl, base)
    ctl.settings(latency_ms=300)
    ctl.usage(reset=True)
    results = []

    def worker():
        results.append(api.get('preferences').status)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    t = time.perf_counter()
    [th.start() for th in threads]
    [th.join() for th in threads]
    elapsed = time.perf_counter() - t
    assert results == [200] * 8
    assert 0.3 <= elapsed < 1.5, elapsed                                   # not 8 x 300 ms one after another
    # limits off: nothing refused, but the peaks show what a client did
    assert ctl.usage(api.realm)['peak_concurrent'] >= 4 and ctl.usage(api.realm)['peak_per_second'] >= 4
    single = time.perf_counter()
    api.get('preferences')
    assert time.perf_counter() - single >= 0.3
