# EXAMPLES of cc-logs(1), shown in its man page; tests/readme.rs runs them.

# What a background container printed so far; the last 5 lines only, with their times.
cc-run -d --name clock base sh -c 'while :; do date; sleep 1; done'
cc-logs clock
cc-logs -n 5 -t clock

# Follow the output as it comes, from ten minutes ago; it ends when the container does (or on ctrl-c).
cc-run -d --name count base sh -c 'for i in 1 2 3; do echo $i; sleep 1; done'
cc-logs -f --since 10m count

# A window of time: RFC 3339 (with or without a zone), a date, unix seconds, or a duration ago.
cc-logs --since 2026-01-01 --until 1s clock
cc-logs --since 2026-01-01T00:00:00Z --until "$(date +%s)" clock

# The container's stderr stays stderr: keep only its errors.
cc-run --name noisy base sh -c 'echo out; echo err >&2'
cc-logs noisy 2>&1 >/dev/null
