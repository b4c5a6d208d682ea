#!/usr/bin/env python3
"""A TCP proxy that adds a fixed one-way delay in each direction: a stand-in for a network between a client and a
server on this machine, whose kernel has no netem (CONFIG_NET_SCH_NETEM is off, and there are no modules to load).

    Benchmarks/delay-proxy.py --listen 127.0.0.1:PORT --upstream 127.0.0.1:PGPORT --delay-ms 2.5

Every chunk read from one side is written to the other DELAY ms after it arrived (2.5 ms each way is 5 ms per round
trip), in order, however many chunks are in flight: a chunk's delivery time is its arrival time plus the delay, so
pipelined traffic is not slowed further (no per-chunk sleeps adding up). Half-closes (EOF) and closes travel with the
same delay, after the data before them. TCP_NODELAY is on, on both sockets. Prints "listening on HOST:PORT" (the
real port when PORT is 0) on stdout once it accepts connections; runs until SIGINT/SIGTERM.

Timers: the default event loop waits in epoll, whose timeout is in whole milliseconds (a 2.5 ms delay would become
3 ms); this proxy waits in select(), which has microseconds, so it is limited to about 500 connections at once
(file descriptors below 1024; more are refused with a message). --selector epoll lifts that limit, less precisely.
Waking up takes 0.1-0.3 ms on this VM, even from nanosleep, so each timer is set that much early (a moving average
of how late they have fired); --no-early-wakeup turns that off.

What the proxy itself costs: about 0.2 ms per round trip here, asyncio's own (a bare asyncio relay costs the same).
psql's `select 1` took 0.16 ms direct, 0.40 ms through --delay-ms 0, 5.53 ms through --delay-ms 2.5 (medians of 300;
5.72 ms with --no-early-wakeup). To see the delay alone, compare against the proxy at --delay-ms 0.

--handshake also charges the TCP handshake: the client's first bytes reach the server one round trip later, as if
its connect() had waited for a SYN-ACK over the slow path (a pooled client barely notices; a connection per request
does).

E.g. PostgreSQL 5 ms away (Scripts/pg-cluster's cluster in $d):
    source "$d/env"
    Benchmarks/delay-proxy.py --listen 127.0.0.1:6544 --upstream 127.0.0.1:$BATS_TEST_POSTGRES_PORT --delay-ms 2.5 &
    psql "postgresql://bats:$BATS_TEST_POSTGRES_PASSWORD@127.0.0.1:6544/bats"
"""
import argparse
import asyncio
import collections
import selectors
import signal
import socket
import sys

EOF = object()     # the source half-closed: write_eof() on the destination, after the data before it
CLOSE = object()   # the source is gone: close the destination, after the data before it

HIGH_WATER = 8 << 20   # bytes waiting in one direction's queue before its source stops being read
LOW_WATER = 2 << 20


def host_port(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def nodelay(transport):
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Slack:
    """How late the event loop's timers fire: a moving average (outliers clipped), used to set timers early."""

    def __init__(self, enabled):
        self.enabled = enabled
        self.estimate = 0.0

    def observe(self, lateness):
        if self.enabled:
            # Clipped at 1 ms so that a moment descheduled does not drag it along; never below 0.
            self.estimate = 0.9 * self.estimate + 0.1 * min(max(lateness, 0.0), 0.001)


class Pipe:
    """One direction. Chunks wait in a queue with their due times; one timer, for the head of the queue."""

    def __init__(self, loop, delay, slack):
        self.loop = loop
        self.delay = delay
        self.slack = slack                 # the loop's shared wake-up lateness estimate
        self.target = None                 # when the pending timer was asked to fire
        self.queue = collections.deque()   # (due, bytes | EOF | CLOSE)
        self.queued = 0                    # bytes in the queue
        self.timer = None
        self.src = None                    # the transport read from (paused when the destination lags)
        self.dst = None                    # the transport written to; None until the upstream is connected
        self.not_before = 0.0              # --handshake: nothing is due before this (plus the delay)
        self.peer = None                   # the other direction (it reads from self.dst)
        self.dst_paused = False
        self.src_paused = False
        self.src_eof = False               # the source half-closed
        self.eof_sent = False              # ... and that reached the destination

    def push(self, item):
        if self.delay == 0 and not self.queue and self.dst is not None and isinstance(item, bytes) \
                and self.not_before <= self.loop.time():
            if not self.dst.is_closing():
                self.dst.write(item)   # --delay-ms 0: straight through
            return
        due = max(self.loop.time(), self.not_before) + self.delay
        self.queue.append((due, item))
        if item is EOF:
            self.src_eof = True
        if isinstance(item, bytes):
            self.queued += len(item)
            self.flow()
        if self.timer is None and self.dst is not None:
            self.schedule()

    def attach(self, dst):
        self.dst = dst
        if self.queue and self.timer is None:
            self.schedule()

    def schedule(self):
        due = self.queue[0][0]
        if due <= self.loop.time():
            self.timer = self.loop.call_soon(self.deliver)
            self.target = None
        else:
            # Waking takes a while (about 0.1-0.3 ms on this VM, even for nanosleep), so ask to be woken that much
            # before the due time; the estimate follows how late the wake-ups have been.
            self.target = due - self.slack.estimate
            self.timer = self.loop.call_at(self.target, self.deliver)

    def deliver(self):
        self.timer = None
        now = self.loop.time()
        if self.target is not None:
            self.slack.observe(now - self.target)
        first = True
        # The timer was set for the head (a little early, see schedule), so the head goes regardless, and with it the
        # rest that would be due by the time another wake-up came, in order.
        horizon = now + self.slack.estimate
        while self.queue and (first or self.queue[0][0] <= horizon):
            first = False
            _, item = self.queue.popleft()
            dst = self.dst
            if item is CLOSE:
                self.queue.clear()
                dst.close()
                return
            if item is EOF:
                self.eof_sent = True
                if dst.is_closing():
                    continue
                if dst.can_write_eof() and not self.peer.src_eof:
                    dst.write_eof()
                else:
                    dst.close()   # it has half-closed too: nothing more can happen on it (close sends what is buffered)
                continue
            self.queued -= len(item)
            if not dst.is_closing():
                dst.write(item)
        self.flow()
        if self.queue:
            self.schedule()

    def flow(self):
        """Stop reading the source while its destination's buffer or this queue is full; read again once drained."""
        if self.src is None or self.src.is_closing():
            return
        want_pause = self.dst_paused or self.queued > HIGH_WATER
        if want_pause and not self.src_paused:
            self.src.pause_reading()
            self.src_paused = True
        elif self.src_paused and not self.dst_paused and self.queued < LOW_WATER:
            self.src.resume_reading()
            self.src_paused = False


class Side(asyncio.Protocol):
    """One socket of a proxied connection: what it reads goes into `out`; it is the destination of `into`."""

    def __init__(self, out, into):
        self.out = out
        self.into = into
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        nodelay(transport)
        self.out.src = transport

    def data_received(self, data):
        self.out.push(bytes(data))

    def eof_received(self):
        self.out.push(EOF)
        if self.into.eof_sent:          # both halves are shut: nothing more can happen on this socket
            return False
        return True                      # keep the socket open to write what is still due to it

    def connection_lost(self, exc):
        self.out.push(CLOSE)

    def pause_writing(self):
        self.into.dst_paused = True
        self.into.flow()

    def resume_writing(self):
        self.into.dst_paused = False
        self.into.flow()


class ClientSide(Side):
    """The accepted socket: once it is there, connect to the upstream (its bytes wait in the queue meanwhile)."""

    def __init__(self, proxy):
        self.proxy = proxy
        up = Pipe(proxy.loop, proxy.delay, proxy.slack)      # client → upstream
        down = Pipe(proxy.loop, proxy.delay, proxy.slack)    # upstream → client
        up.peer, down.peer = down, up
        super().__init__(up, down)

    def connection_made(self, transport):
        sock = transport.get_extra_info("socket")
        if self.proxy.fd_limit is not None and sock is not None and sock.fileno() >= self.proxy.fd_limit:
            print("delay-proxy: too many connections for select(); refused one (see --selector)",
                  file=sys.stderr, flush=True)
            transport.abort()
            return
        super().connection_made(transport)
        self.into.attach(transport)
        if self.proxy.handshake:
            self.out.not_before = self.proxy.loop.time() + 2 * self.proxy.delay
        self.proxy.loop.create_task(self.connect())

    async def connect(self):
        host, port = self.proxy.upstream
        try:
            transport, _ = await self.proxy.loop.create_connection(lambda: Side(self.into, self.out), host, port)
        except OSError as e:
            print(f"delay-proxy: cannot connect to {host}:{port}: {e}", file=sys.stderr, flush=True)
            self.transport.abort()
            return
        self.out.attach(transport)


class Proxy:
    def __init__(self, loop, args):
        self.loop = loop
        self.upstream = args.upstream
        self.delay = args.delay_ms / 1000.0
        self.handshake = args.handshake
        self.fd_limit = 1000 if args.selector == "select" else None
        self.slack = Slack(not args.no_early_wakeup)


def main():
    ap = argparse.ArgumentParser(description="TCP proxy adding a fixed delay to each direction.")
    ap.add_argument("--listen", type=host_port, required=True, help="HOST:PORT to accept on (PORT 0: any free one)")
    ap.add_argument("--upstream", type=host_port, required=True, help="HOST:PORT to forward to")
    ap.add_argument("--delay-ms", type=float, required=True, help="one-way delay in ms, the same each way")
    ap.add_argument("--handshake", action="store_true", help="charge one round trip for each new connection")
    ap.add_argument("--no-early-wakeup", action="store_true",
                    help="set each timer for the due time itself (deliveries then run late by the wake-up latency)")
    ap.add_argument("--selector", choices=("select", "epoll"), default="select",
                    help="select: microsecond timers, < ~500 connections (default); epoll: no limit, ms timers")
    args = ap.parse_args()
    if args.delay_ms < 0:
        ap.error("--delay-ms must be >= 0")

    selector = selectors.SelectSelector() if args.selector == "select" else selectors.EpollSelector()
    loop = asyncio.SelectorEventLoop(selector)
    asyncio.set_event_loop(loop)
    proxy = Proxy(loop, args)
    host, port = args.listen
    try:
        server = loop.run_until_complete(loop.create_server(lambda: ClientSide(proxy), host, port, reuse_address=True))
    except OSError as e:
        print(f"delay-proxy: cannot listen on {host}:{port}: {e}", file=sys.stderr)
        sys.exit(1)
    bound = server.sockets[0].getsockname()
    print(f"listening on {bound[0]}:{bound[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        server.close()   # open connections go with the process


if __name__ == "__main__":
    main()
