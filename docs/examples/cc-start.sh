# EXAMPLES of cc-start(1), shown in its man page; tests/readme.rs runs them.

# Start an exited container again, on its same files: what it wrote is still there.
cc-run --name job base sh -c 'date >> /runs; cat /runs'
cc-start job
cc-wait job

# Start it attached: its output, and its exit code as cc-start's.
cc-start -a job

# Start every exited container.
cc-ps -aq --filter status=exited | cc-start -
