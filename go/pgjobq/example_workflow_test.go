package pgjobq_test

import (
	"context"
	"fmt"

	"github.com/pgjobq/pgjobq/go/internal/pgtest"
	"github.com/pgjobq/pgjobq/go/pgjobq"
)

// receiveAll leases every job of queue that can run now and returns their payloads.
func receiveAll(ctx context.Context, db pgjobq.DB, queue string) []*pgjobq.Job[string] {
	jobs, err := pgjobq.Receive[string](ctx, db, queue, &pgjobq.ReceiveOptions{MaxJobs: 100})
	if err != nil {
		panic(err)
	}
	return jobs
}

// A diamond of jobs sent in one call: "fetch" first, then "resize" and "thumbnail" (in
// parallel), then "publish" once both completed.
func ExampleSendJobs() {
	ctx := context.Background()
	db, closeDB, err := pgtest.Open()
	if err != nil {
		panic(err)
	}
	defer closeDB()
	_ = pgjobq.CreateQueue(ctx, db.Pool, "images", nil)

	_, err = pgjobq.SendJobs(ctx, db.Pool, "images", []pgjobq.BatchJob[string]{
		{Payload: "fetch"},
		{Payload: "resize", DependsOnBatch: []int{0}},
		{Payload: "thumbnail", DependsOnBatch: []int{0}},
		{Payload: "publish", DependsOnBatch: []int{1, 2}},
	}, nil)
	if err != nil {
		panic(err)
	}
	for wave := 1; ; wave++ {
		jobs := receiveAll(ctx, db.Pool, "images")
		if len(jobs) == 0 {
			break
		}
		for _, job := range jobs {
			fmt.Println(wave, job.Payload)
			_, _ = pgjobq.Ack(ctx, db.Pool, job.Lease, nil)
		}
	}
	// Output:
	// 1 fetch
	// 2 resize
	// 2 thumbnail
	// 3 publish
}

// Jobs with one ordering key run one at a time in send order; other keys run alongside.
func ExampleSendOptions_orderingKey() {
	ctx := context.Background()
	db, closeDB, err := pgtest.Open()
	if err != nil {
		panic(err)
	}
	defer closeDB()
	_ = pgjobq.CreateQueue(ctx, db.Pool, "accounts", nil)

	for _, p := range []struct{ key, op string }{{"alice", "open"}, {"alice", "deposit"}, {"bob", "open"}} {
		_, _ = pgjobq.Send(ctx, db.Pool, "accounts", p.key+" "+p.op, &pgjobq.SendOptions{OrderingKey: p.key})
	}
	for range 2 {
		jobs := receiveAll(ctx, db.Pool, "accounts")
		for _, job := range jobs {
			fmt.Println(job.Payload)
		}
		for _, job := range jobs {
			_, _ = pgjobq.Ack(ctx, db.Pool, job.Lease, nil)
		}
	}
	// Output:
	// alice open
	// bob open
	// alice deposit
}

// Cancel: a waiting job is cancelled for good, and so is the job that depends on it; a running
// job is asked to stop and ends cancelled whatever it reports.
func ExampleCancel() {
	ctx := context.Background()
	db, closeDB, err := pgtest.Open()
	if err != nil {
		panic(err)
	}
	defer closeDB()
	_ = pgjobq.CreateQueue(ctx, db.Pool, "reports", nil)

	running, _ := pgjobq.Send(ctx, db.Pool, "reports", "running", nil)
	jobs := receiveAll(ctx, db.Pool, "reports")
	waiting, _ := pgjobq.Send(ctx, db.Pool, "reports", "waiting", nil)
	child, _ := pgjobq.Send(ctx, db.Pool, "reports", "child", &pgjobq.SendOptions{DependsOn: []int64{waiting}})

	out, _ := pgjobq.Cancel(ctx, db.Pool, waiting, "not needed")
	fmt.Println(out)
	info, _ := pgjobq.GetJob(ctx, db.Pool, child)
	fmt.Println(info.State, *info.Errors[0].Error == fmt.Sprintf("parent job %d was cancelled", waiting))
	out, _ = pgjobq.Cancel(ctx, db.Pool, running, "")
	fmt.Println(out)
	state, _ := pgjobq.Ack(ctx, db.Pool, jobs[0].Lease, nil)
	fmt.Println(state)
	// Output:
	// cancelled
	// cancelled true
	// cancel_requested
	// cancelled
}
