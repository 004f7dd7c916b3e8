package pgjobq

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestListenerBackoff: connections that fail, or break at once, are retried after waits that
// double up to the cap; a connection that lasted is reopened at once, and the next failure
// starts again from the smallest wait.
func TestListenerBackoff(t *testing.T) {
	var waits []time.Duration
	b := time.Duration(0)
	for range 9 {
		b = nextBackoff(b, false)
		waits = append(waits, b)
	}
	ms := time.Millisecond
	require.Equal(t, []time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms,
		3200 * ms, 5000 * ms, 5000 * ms}, waits)
	require.Zero(t, nextBackoff(b, true))
	require.Equal(t, 50*ms, nextBackoff(nextBackoff(b, true), false))
}
