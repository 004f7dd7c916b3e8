package extensiontest

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/stretchr/testify/require"
)

// The oracle: pgjobq.cron_next against github.com/robfig/cron/v3 (v3.0.1) over thousands of
// generated five-field schedules and instants, in UTC, in a few round trips.
//
// Where pg_cron (vixie cron) and robfig/cron differ, pgjobq follows pg_cron, and those cases are
// left out of the comparison and checked against the vixie rule instead (vixieNext below):
//
//   - The day rule. Both combine day-of-month and day-of-week with OR when both are restricted
//     and with AND otherwise, but they decide "restricted" differently. Vixie cron (pg_cron's
//     entry.c) looks at the first character of the field: "*/2" counts as unrestricted, "1,*"
//     as restricted. robfig/cron (parser.go getRange) sets its star bit for a "*" or "*/1"
//     element anywhere in the list, and clears it for "*/n" with n > 1. So "0 0 */2 * 1" fires
//     on odd days that are Mondays in pg_cron, and on odd days or Mondays in robfig/cron.
//   - Syntax robfig/cron does not take, tested by hand: weekday 7 (Sunday), '$' (last day of
//     the month), '[1-59] seconds'. And syntax pg_cron does not take, never generated: "5/10"
//     (robfig: 5-max/10), "?", "@every".
//   - robfig/cron gives up after five years (zero time); pgjobq searches 400 years.

// field generates one cron field: lists of *, n, a-b, */s, a-b/s, with names where cron has
// them. dow uses 0-6 (robfig/cron has no 7).
func genField(r *rand.Rand, lo, hi int, names []string) string {
	value := func(v int) string {
		if names != nil && r.Intn(3) == 0 {
			name := names[v-lo]
			if r.Intn(2) == 0 {
				return strings.ToUpper(name)
			}
			return name
		}
		return fmt.Sprint(v)
	}
	elem := func() string {
		switch r.Intn(6) {
		case 0:
			return "*"
		case 1:
			return fmt.Sprintf("*/%d", 1+r.Intn(hi-lo+2))
		case 2:
			return value(lo + r.Intn(hi-lo+1))
		case 3, 4:
			a := lo + r.Intn(hi-lo+1)
			b := a + r.Intn(hi-a+1)
			if r.Intn(2) == 0 {
				return value(a) + "-" + value(b) + fmt.Sprintf("/%d", 1+r.Intn(hi-lo+1))
			}
			return value(a) + "-" + value(b)
		default:
			return value(lo + r.Intn(hi-lo+1))
		}
	}
	n := 1 + r.Intn(3)
	if r.Intn(3) == 0 {
		n = 1 // often a single element, as real schedules are
	}
	parts := make([]string, n)
	for i := range parts {
		parts[i] = elem()
	}
	return strings.Join(parts, ",")
}

var (
	monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	dowNames   = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
)

func genSchedule(r *rand.Rand) string {
	// Restrict the fields unevenly, so that both rare and frequent schedules come up.
	pick := func(lo, hi int, names []string, star int) string {
		if r.Intn(star) == 0 {
			return "*"
		}
		return genField(r, lo, hi, names)
	}
	return strings.Join([]string{
		pick(0, 59, nil, 4), pick(0, 23, nil, 3), pick(1, 31, nil, 2), pick(1, 12, monthNames, 2),
		pick(0, 6, dowNames, 2),
	}, " ")
}

// vixieStar is pg_cron's "this day field is unrestricted": its text starts with '*'.
func vixieStar(field string) bool { return strings.HasPrefix(field, "*") }

// robfigStar is robfig/cron's: an element "*" or "*/1" anywhere in the list.
func robfigStar(field string) bool {
	for _, e := range strings.Split(field, ",") {
		if e == "*" || e == "*/1" {
			return true
		}
	}
	return false
}

// dayRuleDiffers tells whether pg_cron and robfig/cron combine the day fields differently.
func dayRuleDiffers(schedule string) bool {
	f := strings.Fields(schedule)
	return (vixieStar(f[2]) || vixieStar(f[4])) != (robfigStar(f[2]) || robfigStar(f[4]))
}

// instants are the times the oracle asks about: random ones from 1999 to 2101 and the edges
// (month ends, leap days, year ends, exact minutes).
func instants(r *rand.Rand, n int) []time.Time {
	out := []time.Time{
		time.Date(2024, 2, 28, 23, 59, 30, 0, time.UTC), time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.UTC),
		time.Date(2023, 2, 28, 23, 59, 0, 0, time.UTC), time.Date(2100, 2, 28, 23, 59, 0, 0, time.UTC),
		time.Date(2000, 2, 28, 12, 0, 0, 0, time.UTC), time.Date(2030, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2030, 1, 31, 23, 59, 0, 0, time.UTC), time.Date(2030, 4, 30, 23, 59, 0, 0, time.UTC),
		time.Date(2030, 6, 15, 10, 30, 0, 0, time.UTC),
	}
	start := time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	end := time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for len(out) < n {
		t := time.Unix(start+r.Int63n(end-start), 0).UTC()
		if r.Intn(2) == 0 {
			t = t.Add(time.Duration(r.Intn(1000000)) * time.Microsecond)
		}
		out = append(out, t)
	}
	return out
}

// cronNext asks pgjobq for the next occurrence of each (schedule, after) pair in one query. A
// schedule pgjobq rejects comes back as its error text.
func cronNext(t *testing.T, db *testDB, schedules []string, after []time.Time) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `CREATE OR REPLACE FUNCTION pg_temp.next_or_error(s text, a timestamptz) RETURNS text
		LANGUAGE plpgsql AS $$
		BEGIN
			RETURN to_char(pgjobq.cron_next(s, a) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
		EXCEPTION WHEN invalid_parameter_value THEN
			RETURN 'error: ' || SQLERRM;
		END $$`)
	require.NoError(t, err)
	rows, err := conn.Query(ctx, `SELECT coalesce(pg_temp.next_or_error(u.s, u.a), 'none')
		FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS u(s, a, i) ORDER BY u.i`, schedules, after)
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	require.Len(t, out, len(schedules))
	return out
}

func TestCronNextMatchesRobfigCron(t *testing.T) {
	t.Parallel()
	db := setup(t)
	r := rand.New(rand.NewSource(20300101))
	parser := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)
	const exprs, perExpr = 4000, 3

	var schedules []string
	var after []time.Time
	for i := 0; i < exprs; i++ {
		s := genSchedule(r)
		for _, a := range instants(r, perExpr+9)[9-i%9 : 9-i%9+perExpr] {
			schedules = append(schedules, s)
			after = append(after, a)
		}
	}
	got := cronNext(t, db, schedules, after)

	var compared, dayRule, never, beyond int
	for i, s := range schedules {
		if dayRuleDiffers(s) {
			dayRule++
			want := vixieNext(t, s, after[i])
			if strings.HasPrefix(got[i], "error: ") {
				require.Contains(t, got[i], "never fires", s)
				require.Equal(t, "none", want, s)
				continue
			}
			require.Equal(t, want, got[i], "%q after %s (pg_cron's day rule)", s, after[i].Format(time.RFC3339Nano))
			continue
		}
		sched, err := parser.Parse(s)
		require.NoError(t, err, s)
		want := sched.Next(after[i])
		if strings.HasPrefix(got[i], "error: ") {
			// Only a schedule that can never fire is refused (robfig/cron accepts and never fires).
			require.Contains(t, got[i], "never fires", s)
			require.True(t, want.IsZero(), "%q: pgjobq refused it but robfig/cron fires at %s", s, want)
			never++
			continue
		}
		if want.IsZero() {
			// robfig/cron gave up after five years.
			if got[i] != "none" {
				g, err := time.Parse(time.RFC3339, got[i])
				require.NoError(t, err)
				require.True(t, g.After(after[i].AddDate(5, 0, 0)), "%q after %s: pgjobq %s", s, after[i], got[i])
			}
			beyond++
			continue
		}
		require.Equal(t, want.UTC().Format(time.RFC3339), got[i], "%q after %s", s, after[i].Format(time.RFC3339Nano))
		compared++
	}
	t.Logf("%d pairs: %d compared with robfig/cron, %d under pg_cron's day rule, %d never fire, %d beyond 5 years",
		len(schedules), compared, dayRule, never, beyond)
	require.Greater(t, compared, 5000)
	require.Greater(t, dayRule, 100)
}

// vixieNext is the reference for pg_cron's semantics: it steps through the days after after and
// takes the first minute of the first matching day, with the vixie day rule, weekday 7 and '$'.
// Slow but obviously right; used for the cases robfig/cron decides otherwise or cannot express.
func vixieNext(t *testing.T, schedule string, after time.Time) string {
	t.Helper()
	f := strings.Fields(schedule)
	set := func(field string, lo, hi int, names []string) map[int]bool {
		out := map[int]bool{}
		for _, e := range strings.Split(field, ",") {
			rangePart, step := e, 1
			if i := strings.Index(e, "/"); i >= 0 {
				rangePart = e[:i]
				fmt.Sscan(e[i+1:], &step)
			}
			a, b := lo, hi
			if rangePart != "*" {
				num := func(s string) int {
					for i, n := range names {
						if strings.EqualFold(n, s) {
							return lo + i
						}
					}
					var v int
					_, err := fmt.Sscan(s, &v)
					require.NoError(t, err, s)
					return v
				}
				ab := strings.Split(rangePart, "-")
				a = num(ab[0])
				b = a
				if len(ab) == 2 {
					b = num(ab[1])
				}
			}
			for v := a; v <= b; v += step {
				if hi == 7 {
					out[v%7] = true // 7 is Sunday
				} else {
					out[v] = true
				}
			}
		}
		return out
	}
	minutes, hours := set(f[0], 0, 59, nil), set(f[1], 0, 23, nil)
	lastDay := f[2] == "$"
	var days map[int]bool
	if !lastDay {
		days = set(f[2], 1, 31, nil)
	}
	months, dows := set(f[3], 1, 12, monthNames), set(f[4], 0, 7, dowNames)
	and := vixieStar(f[2]) || vixieStar(f[4])
	t0 := after.UTC().Truncate(time.Minute).Add(time.Minute)
	for day := time.Date(t0.Year(), t0.Month(), t0.Day(), 0, 0, 0, 0, time.UTC); day.Year() < t0.Year()+30; day = day.AddDate(0, 0, 1) {
		last := day.AddDate(0, 0, 1).Day() == 1
		dom := days[day.Day()] || (lastDay && last)
		dow := dows[int(day.Weekday())]
		if !months[int(day.Month())] || (and && !(dom && dow)) || (!and && !(dom || dow)) {
			continue
		}
		for h := 0; h < 24; h++ {
			for m := 0; m < 60; m++ {
				at := day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
				if hours[h] && minutes[m] && !at.Before(t0) {
					return at.Format(time.RFC3339)
				}
			}
		}
	}
	return "none"
}

// TestCronNextPgCronOnly checks by hand what robfig/cron has no syntax for, or decides otherwise,
// against the vixie reference and against dates worked out by hand.
func TestCronNextPgCronOnly(t *testing.T) {
	t.Parallel()
	db := setup(t)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return v
	}
	cases := []struct{ schedule, after, want string }{
		// Worked out with a calendar: 1 March 2030 is a Friday.
		{"0 0 */2 * 1", "2030-03-01T00:00:00Z", "2030-03-11T00:00:00Z"},    // odd day AND Monday (robfig: Monday the 4th)
		{"0 0 1,15 * */7", "2030-03-01T00:00:00Z", "2030-09-01T00:00:00Z"}, // 1st or 15th AND Sunday
		{"0 0 15 * 1", "2030-03-01T00:00:00Z", "2030-03-04T00:00:00Z"},     // 15th OR Monday
		{"0 0 * * 7", "2030-03-01T00:00:00Z", "2030-03-03T00:00:00Z"},      // 7 is Sunday
		{"0 0 * * 5-7", "2030-03-02T00:00:00Z", "2030-03-03T00:00:00Z"},
		{"0 12 $ * *", "2030-02-01T00:00:00Z", "2030-02-28T12:00:00Z"},
		{"0 12 $ * *", "2032-02-01T00:00:00Z", "2032-02-29T12:00:00Z"},
		{"0 12 $ * *", "2030-12-31T12:00:00Z", "2031-01-31T12:00:00Z"},
		{"0 0 $ * 1", "2030-01-01T00:00:00Z", "2030-01-07T00:00:00Z"},    // last day OR Monday
		{"0 0 $ * */5", "2030-01-01T00:00:00Z", "2030-03-31T00:00:00Z"},  // last day AND Sunday/Friday
		{"59 23 $ 2 *", "2100-01-01T00:00:00Z", "2100-02-28T23:59:00Z"},  // 2100 is not a leap year
		{"0 0 29 2 */3", "2024-03-01T00:00:00Z", "2032-02-29T00:00:00Z"}, // beyond robfig's 5 years
	}
	var schedules []string
	var after []time.Time
	for _, c := range cases {
		schedules = append(schedules, c.schedule)
		after = append(after, at(c.after))
	}
	got := cronNext(t, db, schedules, after)
	for i, c := range cases {
		require.Equal(t, c.want, got[i], "%q after %s", c.schedule, c.after)
		require.Equal(t, c.want, vixieNext(t, c.schedule, after[i]), "the reference agrees: %q", c.schedule)
	}

	// 'N seconds': the instants whose Unix time is a multiple of N, strictly after.
	seconds := []struct{ schedule, after, want string }{
		{"1 second", "2030-01-01T00:00:00Z", "2030-01-01T00:00:01Z"},
		{"1 seconds", "2030-01-01T00:00:00.5Z", "2030-01-01T00:00:01Z"},
		{"10 seconds", "2030-01-01T00:00:09.999Z", "2030-01-01T00:00:10Z"},
		{"10 seconds", "2030-01-01T00:00:10Z", "2030-01-01T00:00:20Z"},
		{"15 seconds", "2030-12-31T23:59:45Z", "2031-01-01T00:00:00Z"},
		{"59 seconds", "2030-01-01T00:00:00Z", "2030-01-01T00:00:25Z"}, // 1893456025 = 59 * 32092475
		{" 30 sEcOnDs ", "2024-02-29T23:59:31Z", "2024-03-01T00:00:00Z"},
	}
	schedules, after = nil, nil
	for _, c := range seconds {
		schedules = append(schedules, c.schedule)
		after = append(after, at(c.after))
	}
	got = cronNext(t, db, schedules, after)
	for i, c := range seconds {
		require.Equal(t, c.want, got[i], "%q after %s", c.schedule, c.after)
	}
}
