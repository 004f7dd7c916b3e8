// Package pgjobq is the Go driver of pgjobq, a job queue that lives inside PostgreSQL.
//
// The driver is thin: each function maps to one SQL function of the extension (schema pgjobq),
// so a psql user and a Go user have the same capabilities. Functions take a [DB], which a
// *pgxpool.Pool, a *pgx.Conn and a pgx.Tx all satisfy, so a send joins the caller's transaction
// by passing the transaction.
//
// What Go adds is what SQL cannot do: a [Client] keeps one LISTEN connection for the process
// ([Client.Wait] for completions, wake-ups for receivers) and runs [Worker]s that receive, run
// handlers, extend leases while they run, and ack or nack.
//
// Payloads are JSON: a payload of type T is encoded with encoding/json on send and decoded into
// T on receive ([]byte travels as a base64 string).
package pgjobq
