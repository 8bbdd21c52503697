# EXAMPLES of cc-wait(1), shown in its man page; tests/readme.rs runs them.

# Wait for a container to end and print its exit code.
cc-run -d --name job base sh -c 'sleep 1; exit 3'
cc-wait job

# Several containers: one code per line, in order.
a=$(cc-run -d base true); b=$(cc-run -d base false)
cc-wait "$a" "$b"

# In a script: fail when the job failed.
code=$(cc-wait job)
[ "$code" = 0 ] || echo "job failed with $code"
