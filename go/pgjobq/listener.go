package pgjobq

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// listener is the one LISTEN connection of a [Client], shared by every waiter in the process. It
// LISTENs on pgjobq_wake (a queue got jobs while a receiver waited), pgjobq_done (a job
// finished), pgjobq_space (a bounded queue has room again) and pgjobq_cancel (a running job was
// cancelled) and wakes the waiters registered for them. When the connection breaks it reconnects
// with back-off and then wakes every waiter, so each re-checks the rows for what it may have
// missed (workers run a heartbeat at once, which reports cancelled jobs); polling by the
// waiters covers notifications lost in any other way.
type listener struct {
	connect  func(context.Context) (*pgx.Conn, error)
	onListen func()

	mu     sync.Mutex
	queues map[string]chan struct{} // closed at the next wake-up of the queue
	space  map[string]chan struct{} // closed when a job of the (bounded) queue finishes
	jobs   map[int64]*jobWaiters    // woken when the job finishes
	// cancels are called when the job is reported cancelled, by registration.
	cancels map[int64]map[*func()]struct{}
	again   chan struct{} // closed at the next (re)connection
}

func newListener(connect func(context.Context) (*pgx.Conn, error), onListen func()) *listener {
	return &listener{
		connect:  connect,
		onListen: onListen,
		queues:   map[string]chan struct{}{},
		space:    map[string]chan struct{}{},
		jobs:     map[int64]*jobWaiters{},
		cancels:  map[int64]map[*func()]struct{}{},
		again:    make(chan struct{}),
	}
}

// onCancel registers fn to be called when job id is reported cancelled while it runs
// (NOTIFY pgjobq_cancel) and returns the function that unregisters it.
func (l *listener) onCancel(id int64, fn func()) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	subs, ok := l.cancels[id]
	if !ok {
		subs = map[*func()]struct{}{}
		l.cancels[id] = subs
	}
	subs[&fn] = struct{}{}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(subs, &fn)
		if len(subs) == 0 {
			delete(l.cancels, id)
		}
	}
}

// reconnected returns a channel closed when the LISTEN connection is (re)established: what was
// notified meanwhile may have been missed.
func (l *listener) reconnected() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.again
}

// queueWake returns a channel closed at the next wake-up of queue. Take it before the receive
// that may find the queue empty, so a wake-up between the two is not missed.
func (l *listener) queueWake(queue string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return waitChan(l.queues, queue)
}

// queueSpace returns a channel closed when a job of queue finishes after a sender found it full.
// Take it before asking for space.
func (l *listener) queueSpace(queue string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return waitChan(l.space, queue)
}

// jobWaiters are the waiters of one job: a channel closed when it finishes, and how many wait.
type jobWaiters struct {
	ch chan struct{}
	n  int
}

// jobDone returns a channel closed when job id is reported finished, and a function to call when
// done waiting (it forgets the job once nobody waits for it). Take it before checking the job's
// state.
func (l *listener) jobDone(id int64) (<-chan struct{}, func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.jobs[id]
	if !ok {
		w = &jobWaiters{ch: make(chan struct{})}
		l.jobs[id] = w
	}
	w.n++
	return w.ch, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if w.n--; w.n == 0 && l.jobs[id] == w {
			delete(l.jobs, id)
		}
	}
}

// waitChan returns the channel waiters of key share in m, making it if needed.
func waitChan[K comparable](m map[K]chan struct{}, key K) chan struct{} {
	ch, ok := m[key]
	if !ok {
		ch = make(chan struct{})
		m[key] = ch
	}
	return ch
}

// dispatch wakes the waiters of one notification.
func (l *listener) dispatch(n *pgconn.Notification) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch n.Channel {
	case "pgjobq_wake":
		wake(l.queues, n.Payload)
	case "pgjobq_space":
		wake(l.space, n.Payload)
	case "pgjobq_done":
		idText, _, _ := strings.Cut(n.Payload, ":")
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			return
		}
		l.wakeJob(id)
	case "pgjobq_cancel":
		id, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil {
			return
		}
		for fn := range l.cancels[id] {
			(*fn)() // a context's cancel: it does not block
		}
	}
}

// wakeJob wakes the waiters of job id; the caller holds l.mu.
func (l *listener) wakeJob(id int64) {
	if w, ok := l.jobs[id]; ok {
		close(w.ch)
		delete(l.jobs, id)
	}
}

// wake closes the channel of key in m, if any waiter took it.
func wake[K comparable](m map[K]chan struct{}, key K) {
	if ch, ok := m[key]; ok {
		close(ch)
		delete(m, key)
	}
}

// wakeAll wakes every waiter, after a reconnect: each re-checks the rows.
func (l *listener) wakeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for q := range l.queues {
		wake(l.queues, q)
	}
	for q := range l.space {
		wake(l.space, q)
	}
	for id := range l.jobs {
		l.wakeJob(id)
	}
	close(l.again)
	l.again = make(chan struct{})
}

// Back-off of the LISTEN connection: a connection that could not be opened, or that broke
// within stableConn of opening (a server or pooler that drops it at once), is retried after
// a wait that doubles from minBackoff to maxBackoff; one that lasted longer is reopened at once.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
	stableConn = time.Second
)

// nextBackoff is the wait before the next connection attempt, after a wait of prev before the
// last one; stable says the last connection worked for at least stableConn.
func nextBackoff(prev time.Duration, stable bool) time.Duration {
	if stable {
		return 0
	}
	return min(max(2*prev, minBackoff), maxBackoff)
}

// run keeps the LISTEN connection up until ctx ends.
func (l *listener) run(ctx context.Context) {
	var backoff time.Duration
	for ctx.Err() == nil {
		start := time.Now()
		err := l.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		backoff = nextBackoff(backoff, err == nil && time.Since(start) >= stableConn)
		if backoff == 0 {
			continue
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// listen runs one connection: LISTEN, tell the waiters to re-check, then dispatch notifications
// until the connection fails. It returns nil if the connection worked (LISTEN ran) before failing.
func (l *listener) listen(ctx context.Context) error {
	conn, err := l.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN pgjobq_wake; LISTEN pgjobq_done; LISTEN pgjobq_space; LISTEN pgjobq_cancel"); err != nil {
		return err
	}
	l.wakeAll()
	if l.onListen != nil {
		l.onListen()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return nil
		}
		l.dispatch(n)
	}
}
