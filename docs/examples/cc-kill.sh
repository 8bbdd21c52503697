# EXAMPLES of cc-kill(1), shown in its man page; tests/readme.rs runs them.

# Kill a container's main process (SIGKILL); cc-wait then prints 137 (128+9).
cc-run -d --name job base sleep 1d
cc-kill job
cc-wait job

# Send another signal, by name or number: a shell that traps HUP.
cc-run -d --name sh1 base sh -c 'trap "echo got HUP" HUP; while :; do sleep 1; done'
sleep 1
cc-kill -s HUP sh1
cc-kill --signal 9 sh1
