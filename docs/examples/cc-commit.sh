# EXAMPLES of cc-commit(1), shown in its man page; tests/readme.rs runs them.

# A container's changes as a new image, with a message and a new command.
cc-run --name job base sh -c 'echo hi > /greeting'
cc-commit -m "add greeting" -c 'CMD ["cat", "/greeting"]' job hello:1
cc-run --rm hello:1

# Several config changes; the author; zstd layers.
cc-commit -a 'Ann <ann@example.com>' -c 'ENV MODE=prod' -c 'WORKDIR /tmp' -c 'EXPOSE 80' --compress zstd job hello:2

# A running container: it is paused while its files are read (--pause=false lets it run).
cc-run -d --name web base sleep 1d
cc-commit web web:snapshot
