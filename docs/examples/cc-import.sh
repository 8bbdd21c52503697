# EXAMPLES of cc-import(1), shown in its man page; tests/readme.rs runs them.

# A folder as an image: here a static busybox shell (busybox-static), with a command.
mkdir -p rootfs/bin && cp /bin/busybox rootfs/bin/sh
cc-import -c 'CMD ["/bin/sh"]' rootfs tiny:1

# A tar from stdin (plain, gzip or zstd), with its environment set.
tar -C rootfs -cz . | cc-import -c 'ENV MODE=prod' - tiny:2

# A container's files as a new image.
cc-run --name job base sh -c 'echo hi > /greeting'
cc-export job | cc-import - snapshot
