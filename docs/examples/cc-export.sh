# EXAMPLES of cc-export(1), shown in its man page; tests/readme.rs runs them.

# A container's whole filesystem as a tar file.
cc-run --name job base sh -c 'echo hi > /greeting'
cc-export -o job.tar job

# Look at one file of it, without a file in between.
cc-export job | tar -xO greeting

# Flatten it into a one-layer image.
cc-export job | cc-import - flat:1
