-- next_due: how long an idle receiver may sleep before something comes due without a NOTIFY.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
SELECT pgjobq.create_queue('q_due', lease_duration => '30 seconds');
SELECT pgjobq.next_due('q_due');                       -- nothing pending
SELECT pgjobq.send('q_due', '{}') > 0 AS sent;
SELECT pgjobq.next_due('q_due');                       -- available jobs are not "due later"
SELECT count(*) FROM pgjobq.receive('q_due');
SELECT pgjobq.next_due('q_due');                       -- the lease expires in 30 s
SELECT pgjobq.send('q_due', '{}', delay => '10 seconds') > 0 AS sent;
SELECT pgjobq.next_due('q_due');                       -- the delayed job, sooner
SET pgjobq.now = '2030-01-01 00:00:12+00';
SELECT pgjobq.next_due('q_due');                       -- overdue: zero, not negative
SELECT pgjobq.next_due('nope');
SELECT pgjobq.drop_queue('q_due', force => true);
