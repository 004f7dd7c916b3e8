package pgjobq

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config configures a [Client]. The zero value is useful.
type Config struct {
	// Hooks observe every SQL operation the client and its workers run (see [Instrument]).
	Hooks []Hook
	// PollInterval is how often waiters re-check the rows when no notification arrives: the
	// fallback for lost notifications and for delayed jobs coming due. Default 1s.
	PollInterval time.Duration
	// MaintainInterval is how often the client runs [Maintain]; default 5 minutes, negative
	// never.
	MaintainInterval time.Duration
	// TickInterval is how often the client runs [Tick], firing due recurring jobs (schedules);
	// default 1s, negative never (e.g. when pg_cron ticks). Every occurrence fires once however
	// many clients tick; SQL schedules fire only from a tick of their owner's login role.
	TickInterval time.Duration
	// OnListen is called each time the LISTEN connection is established (again): a readiness
	// signal for tests and health checks.
	OnListen func()
	// Logger receives errors the client and its workers cannot return. Default slog.Default().
	Logger *slog.Logger
}

// Client is the process-wide part of the driver: the pool, the hooks, and one LISTEN connection
// shared by every [Client.Wait] and [Worker] of the process.
type Client struct {
	pool   *pgxpool.Pool
	db     DB
	cfg    Config
	l      *listener
	cancel context.CancelFunc
	done   chan struct{}
}

// NewClient checks the extension (see [CheckExtension]) and starts the client's LISTEN loop,
// maintenance and schedule ticks. Close it when done.
func NewClient(ctx context.Context, pool *pgxpool.Pool, cfg *Config) (*Client, error) {
	c := &Client{pool: pool, done: make(chan struct{})}
	if cfg != nil {
		c.cfg = *cfg
	}
	if c.cfg.PollInterval <= 0 {
		c.cfg.PollInterval = time.Second
	}
	if c.cfg.MaintainInterval == 0 {
		c.cfg.MaintainInterval = 5 * time.Minute
	}
	if c.cfg.TickInterval == 0 {
		c.cfg.TickInterval = time.Second
	}
	if c.cfg.Logger == nil {
		c.cfg.Logger = slog.Default()
	}
	c.db = Instrument(pool, c.cfg.Hooks...)
	if err := CheckExtension(ctx, c.db); err != nil {
		return nil, err
	}
	connConfig := pool.Config().ConnConfig.Copy()
	c.l = newListener(func(ctx context.Context) (*pgx.Conn, error) {
		return pgx.ConnectConfig(ctx, connConfig)
	}, c.cfg.OnListen)

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	go func() {
		defer close(c.done)
		maintained, ticked := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(maintained)
			c.every(runCtx, c.cfg.MaintainInterval, "maintain", func(ctx context.Context) error {
				_, err := Maintain(ctx, c.db)
				return err
			})
		}()
		go func() {
			defer close(ticked)
			c.every(runCtx, c.cfg.TickInterval, "tick", func(ctx context.Context) error {
				_, err := Tick(ctx, c.db)
				return err
			})
		}()
		c.l.run(runCtx)
		<-maintained
		<-ticked
	}()
	return c, nil
}

// DB returns the client's pool with its hooks, for the package's functions.
func (c *Client) DB() DB { return c.db }

// Close stops the LISTEN loop, maintenance and ticks and waits for them. It does not close the
// pool.
func (c *Client) Close() {
	c.cancel()
	<-c.done
}

// Wait waits until job id has finished and returns its final state (completed, dead or
// cancelled). It is woken by the job's completion notification (send it with
// [SendOptions].NotifyCompletion) and re-checks the row every PollInterval as the fallback.
func (c *Client) Wait(ctx context.Context, id int64) (*JobInfo, error) {
	for {
		done, forget := c.l.jobDone(id) // before the check: a notification after it is not missed
		info, err := GetJob(ctx, c.db, id)
		if err == nil && !info.State.Finished() {
			err = c.sleep(ctx, c.cfg.PollInterval, done, nil)
			info = nil
		}
		forget()
		if err != nil || info != nil {
			return info, err
		}
	}
}

// sleep waits for d to pass, wake or poke to fire (either may be nil), or ctx to end (its error).
func (c *Client) sleep(ctx context.Context, d time.Duration, wake, poke <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wake:
	case <-poke:
	case <-t.C:
	}
	return nil
}

// every runs fn every interval until ctx ends (never for a negative interval), logging errors.
func (c *Client) every(ctx context.Context, interval time.Duration, name string, fn func(context.Context) error) {
	if interval < 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				c.cfg.Logger.Error("pgjobq: "+name, "error", err)
			}
		}
	}
}
