package main

import "time"

// params are the sizes and durations of one mode.
type params struct {
	Runs    int // repetitions of every workload (medians, min, max)
	Workers int // handler slots of the pgjobq Worker and of the River client
	Clients int // connections of the SQL-path and plain workers, and of workload 7
	Batch   int // jobs per receive of the SQL-path and plain workers (workloads 1, 2, 5, 6)

	BurnJobs int // workload 1

	SteadyProducers int // workload 2: producer connections
	SteadyBatch     int // jobs per producer call
	SteadyBacklog   int // producers pause while more jobs than this wait
	SteadyWarmup    time.Duration
	SteadyWindow    time.Duration

	LatencyIdle     time.Duration // workload 3: workers idle this long before the first send
	LatencyWindow   time.Duration
	LatencyLowRate  float64 // jobs/s from one producer: the wake-up path
	LatencyLoadRate float64 // jobs/s from four producers
	LatencyLoadProd int

	BulkJobs      int // workload 4
	BulkBatch     int
	BulkProducers int

	BacklogSizes []int // workload 5: jobs waiting (ready, and the largest also in the future)
	BacklogWork  int   // jobs handled per run

	SoakDuration time.Duration // workload 6
	SoakInterval time.Duration
	SoakRuns     int

	SQLBatch  int // workload 7: jobs per transaction of the batched variant
	SQLWarmup time.Duration
	SQLWindow time.Duration
}

// quickParams are for development: small sizes, short windows, one run; about 3 minutes.
var quickParams = params{
	Runs: 1, Workers: 1000, Clients: 8, Batch: 100,
	BurnJobs:        30_000,
	SteadyProducers: 4, SteadyBatch: 100, SteadyBacklog: 5_000,
	SteadyWarmup: time.Second, SteadyWindow: 4 * time.Second,
	LatencyIdle: time.Second, LatencyWindow: 3 * time.Second,
	LatencyLowRate: 50, LatencyLoadRate: 1000, LatencyLoadProd: 4,
	BulkJobs: 20_000, BulkBatch: 1000, BulkProducers: 4,
	BacklogSizes: []int{0, 10_000, 50_000}, BacklogWork: 20_000,
	SoakDuration: 15 * time.Second, SoakInterval: 3 * time.Second, SoakRuns: 1,
	SQLBatch: 100, SQLWarmup: time.Second, SQLWindow: 3 * time.Second,
}

// fullParams are for the record (about an hour): the sizes of issue 5.
var fullParams = params{
	Runs: 3, Workers: 1000, Clients: 8, Batch: 100,
	BurnJobs:        100_000,
	SteadyProducers: 4, SteadyBatch: 100, SteadyBacklog: 20_000,
	SteadyWarmup: 5 * time.Second, SteadyWindow: 30 * time.Second,
	LatencyIdle: 2 * time.Second, LatencyWindow: 30 * time.Second,
	LatencyLowRate: 50, LatencyLoadRate: 1000, LatencyLoadProd: 4,
	BulkJobs: 200_000, BulkBatch: 1000, BulkProducers: 4,
	BacklogSizes: []int{0, 100_000, 1_000_000}, BacklogWork: 50_000,
	// One 10-minute soak per system: its throughput is reported per interval (20 of them).
	SoakDuration: 10 * time.Minute, SoakInterval: 30 * time.Second, SoakRuns: 1,
	SQLBatch: 100, SQLWarmup: 3 * time.Second, SQLWindow: 30 * time.Second,
}
