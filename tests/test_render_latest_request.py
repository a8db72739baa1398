"""Newest request wins: stale requests are dropped and counted, never served."""

import threading

from facestudio.render.renderer import LatestRequest


def test_put_replaces_the_pending_request():
    slot = LatestRequest()
    assert slot.take() is None and not slot.pending
    slot.put(1)
    slot.put(2)
    slot.put(3)
    assert slot.pending
    assert slot.take() == 3
    assert slot.take() is None
    assert slot.dropped == 2 and slot.taken == 1


def test_take_with_a_timeout_returns_none_when_nothing_comes():
    assert LatestRequest().take(timeout=0.01) is None


def test_a_slow_worker_gets_only_the_newest_request():
    """Deterministic: the worker is busy while the producer sends 100 requests."""
    slot: LatestRequest[int] = LatestRequest()
    busy, sent = threading.Event(), threading.Event()
    served = []

    def worker():
        while True:
            request = slot.take(timeout=None)
            if request is None:
                return
            served.append(request)
            if len(served) == 1:
                busy.set()
                sent.wait(timeout=30)  # "rendering" while the slider keeps moving

    t = threading.Thread(target=worker)
    t.start()
    slot.put(0)
    assert busy.wait(timeout=30)
    for i in range(1, 101):
        slot.put(i)
    sent.set()
    while slot.pending:
        threading.Event().wait(0.001)
    slot.close()
    t.join(timeout=30)
    assert not t.is_alive()
    assert served == [0, 100]
    assert slot.dropped == 99 and slot.taken == 2


def test_under_contention_requests_are_served_in_order_and_all_accounted_for():
    slot: LatestRequest[int] = LatestRequest()
    n, producers = 2000, 2
    served: list[tuple[int, int]] = []

    def worker():
        while (request := slot.take(timeout=None)) is not None:
            served.append(request)

    def producer(p):
        for i in range(n):
            slot.put((p, i))

    consumer = threading.Thread(target=worker)
    consumer.start()
    threads = [threading.Thread(target=producer, args=(p,)) for p in range(producers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    while slot.pending:
        threading.Event().wait(0.001)
    slot.close()
    consumer.join(timeout=30)
    assert not consumer.is_alive()
    assert slot.taken == len(served) and slot.dropped + slot.taken == n * producers
    for p in range(producers):
        mine = [i for q, i in served if q == p]
        assert mine == sorted(mine) and len(set(mine)) == len(mine)  # never an older one after a newer
    assert (0, n - 1) in served or (1, n - 1) in served  # the very last request is served


def test_close_wakes_a_waiting_worker_and_drops_later_requests():
    slot = LatestRequest()
    result = []
    t = threading.Thread(target=lambda: result.append(slot.take(timeout=None)))
    t.start()
    slot.close()
    t.join(timeout=30)
    assert result == [None] and slot.closed
    slot.put("late")
    assert slot.take() is None and slot.dropped == 1
