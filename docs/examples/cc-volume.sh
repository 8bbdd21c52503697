# EXAMPLES of cc-volume(1), shown in its man page; tests/readme.rs runs them.

# A named volume: made on first use and filled with the image's files at
# that path; it outlives the container.
cc-run --rm -v etc-copy:/etc base ls /etc
cc-volume ls
cc-volume inspect -f '{{.Mountpoint}}' etc-copy

# Shared by two containers, read-only for the second.
cc-run --rm -v etc-copy:/data base sh -c 'echo hello > /data/note'
cc-run --rm --mount type=volume,src=etc-copy,dst=/data,readonly base cat /data/note

# A volume a container uses cannot be removed (exit 4, naming it).
cc-run --name user -v etc-copy:/data base true
cc-volume rm etc-copy || echo "in use"
cc-rm user
cc-volume rm etc-copy

# A tmpfs volume, with labels, listed by label.
cc-volume create -o type=tmpfs -o device=tmpfs -o o=size=16m --label scratch=yes fast
cc-volume ls --filter label=scratch --format '{{.Name}} {{.Driver}}'
cc-volume rm fast

# Anonymous volumes (-v /path, an image's VOLUME) go with cc-rm -v, or later with prune.
cc-run --name temp -v /cache base true
cc-rm temp
cc-volume prune -f
