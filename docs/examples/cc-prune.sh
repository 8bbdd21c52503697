# EXAMPLES of cc-prune(1), shown in its man page; tests/readme.rs runs them.

# Everything stopped and unused, without the question; prints what went and the space reclaimed.
cc-run --name done base true
cc-prune -f

# Only stopped containers older than an hour, except those labelled keep.
cc-prune -f --containers --filter until=1h --filter 'label!=keep'

# Every image no container uses (not only the untagged ones), asked first: answer y.
cc-tag base spare:1
echo y | cc-prune --images -a
