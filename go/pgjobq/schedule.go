package pgjobq

import (
	"context"
	"encoding/json"
	"time"
)

// Schedule makes the current role run the SQL command at each occurrence of schedule
// (pgjobq.schedule) and returns the schedule's id. schedule is a pg_cron schedule, in UTC: five
// cron fields, a shorthand such as "@daily", or "[1-59] seconds". If the role already has a
// schedule called name, its schedule and command are replaced and its id returned; an empty
// name makes a schedule without a name. A bad schedule is [ErrInvalidArgument].
//
// Commands run in [Tick], in the ticking session's transaction, and only in a session that
// logged in as their owner.
func Schedule(ctx context.Context, db DB, name, schedule, command string) (int64, error) {
	ctx = withOperation(ctx, "schedule", "")
	var id int64
	var err error
	if name == "" {
		err = db.QueryRow(ctx, `SELECT pgjobq.schedule($1::text, $2::text)`, schedule, command).Scan(&id)
	} else {
		err = db.QueryRow(ctx, `SELECT pgjobq.schedule($1::text, $2::text, $3::text)`, name, schedule, command).Scan(&id)
	}
	return id, wrap("schedule", "", err)
}

// ScheduleSendOptions are the options of [ScheduleSend]; the zero value sends jobs of priority 0
// without attributes.
type ScheduleSendOptions struct {
	// Attributes are given to every job sent (a JSON object).
	Attributes map[string]any
	// Priority of every job sent: higher is received first (-32768 to 32767).
	Priority int
}

// ScheduleSend makes the current role send a job with payload encoded as JSON to queue at each
// occurrence of schedule (pgjobq.schedule_send) and returns the schedule's id. An empty name
// makes a schedule without a name; an existing name of the role is replaced. It fails with
// [ErrQueueNotFound] if the queue does not exist.
func ScheduleSend[T any](ctx context.Context, db DB, name, schedule, queue string, payload T,
	opts *ScheduleSendOptions) (int64, error) {
	ctx = withOperation(ctx, "schedule_send", queue)
	if opts == nil {
		opts = &ScheduleSendOptions{}
	}
	encoded, err := json.Marshal(payload)
	if err != nil {
		return 0, wrap("schedule_send", queue, err)
	}
	var attributes []byte
	if opts.Attributes != nil {
		if attributes, err = json.Marshal(opts.Attributes); err != nil {
			return 0, wrap("schedule_send", queue, err)
		}
	}
	var jobName *string
	if name != "" {
		jobName = &name
	}
	var id int64
	err = db.QueryRow(ctx, `SELECT pgjobq.schedule_send($1, $2, $3, $4::jsonb, attributes => $5::jsonb,
		priority => $6)`, jobName, schedule, queue, encoded, attributes, opts.Priority).Scan(&id)
	return id, wrap("schedule_send", queue, err)
}

// Unschedule deletes schedule id and its run history (pgjobq.unschedule). It fails with
// [ErrScheduleNotFound] if there is no such schedule of a role the current role is a member of.
func Unschedule(ctx context.Context, db DB, id int64) error {
	ctx = withOperation(ctx, "unschedule", "")
	_, err := db.Exec(ctx, `SELECT pgjobq.unschedule($1::bigint)`, id)
	return wrap("unschedule", "", err)
}

// UnscheduleByName deletes the current role's schedule called name and its run history
// (pgjobq.unschedule). It fails with [ErrScheduleNotFound] if the role has none of that name.
func UnscheduleByName(ctx context.Context, db DB, name string) error {
	ctx = withOperation(ctx, "unschedule", "")
	_, err := db.Exec(ctx, `SELECT pgjobq.unschedule($1::text)`, name)
	return wrap("unschedule", "", err)
}

// AlterScheduleOptions are the changes [AlterSchedule] makes; a nil field is left unchanged.
type AlterScheduleOptions struct {
	Schedule *string // a new schedule: the next occurrence is the first after now
	Command  *string // a new SQL command (not for a schedule made by ScheduleSend)
	Username *string // a role to give the schedule to; the current role must be a member of it
	Active   *bool   // pause (false) or resume (true, from the first occurrence after now)
}

// AlterSchedule changes schedule id (pgjobq.alter_job). It fails with [ErrScheduleNotFound] if
// there is no such schedule of a role the current role is a member of, and with
// [ErrInvalidArgument] if opts changes nothing or has a bad schedule.
func AlterSchedule(ctx context.Context, db DB, id int64, opts AlterScheduleOptions) error {
	ctx = withOperation(ctx, "alter_job", "")
	_, err := db.Exec(ctx, `SELECT pgjobq.alter_job($1, schedule => $2, command => $3, username => $4,
		active => $5)`, id, opts.Schedule, opts.Command, opts.Username, opts.Active)
	return wrap("alter_job", "", err)
}

// Tick fires every occurrence that is due of the schedules this session may run (pgjobq.tick)
// and returns how many runs it fired. Call it about once a second from one or more processes:
// concurrent ticks never fire an occurrence twice. Each run is recorded in
// pgjobq.cron_job_run_details; a failing command is recorded there, not returned.
func Tick(ctx context.Context, db DB) (int, error) {
	ctx = withOperation(ctx, "tick", "")
	var n int
	err := db.QueryRow(ctx, `SELECT pgjobq.tick()`).Scan(&n)
	return n, wrap("tick", "", err)
}

// ScheduleInfo is one recurring job (pgjobq.list_schedules). Command is set for an SQL schedule;
// Queue, Payload, Attributes and Priority for one made by [ScheduleSend].
type ScheduleInfo struct {
	ID         int64
	Name       string // empty for a schedule without a name
	Schedule   string
	Command    string
	Queue      string
	Payload    json.RawMessage
	Attributes json.RawMessage
	Priority   int
	Username   string
	Active     bool
	NextRunAt  time.Time
	LastDueAt  *time.Time // the occurrence the last run stood for; nil before the first
	CreatedAt  time.Time
}

// ListSchedules lists the schedules the current role can see (its own and those of roles it is a
// member of), by id.
func ListSchedules(ctx context.Context, db DB) ([]ScheduleInfo, error) {
	ctx = withOperation(ctx, "list_schedules", "")
	rows, err := db.Query(ctx, `SELECT jobid, coalesce(jobname, ''), schedule, coalesce(command, ''),
		coalesce(queue, ''), payload, attributes, coalesce(priority, 0), username, active, next_run_at,
		last_due_at, created_at FROM pgjobq.list_schedules()`)
	if err != nil {
		return nil, wrap("list_schedules", "", err)
	}
	defer rows.Close()
	var out []ScheduleInfo
	for rows.Next() {
		var s ScheduleInfo
		if err := rows.Scan(&s.ID, &s.Name, &s.Schedule, &s.Command, &s.Queue, &s.Payload, &s.Attributes,
			&s.Priority, &s.Username, &s.Active, &s.NextRunAt, &s.LastDueAt, &s.CreatedAt); err != nil {
			return nil, wrap("list_schedules", "", err)
		}
		out = append(out, s)
	}
	return out, wrap("list_schedules", "", rows.Err())
}
