# EXAMPLES of cc-build(1), shown in its man page; tests/readme.rs runs them.

# An image from the Containerfile of a folder: the id on stdout, the steps and RUN's output on stderr.
mkdir -p app
printf '#!/bin/sh\necho hello from $NAME\n' > app/hello.sh
printf 'FROM base\nARG NAME=app\nENV NAME=$NAME\nCOPY --chmod=755 hello.sh /hello.sh\nRUN ls -l /hello.sh\nCMD ["/hello.sh"]\n' > app/Containerfile
cc-build -t app:1 --build-arg NAME=cc app
cc-run --rm app:1

# Built again with nothing changed: every step comes from the cache, the same id.
cc-build -q -t app:1 --build-arg NAME=cc app

# Reproducible: with a timestamp (or SOURCE_DATE_EPOCH) the same inputs give the same digest in any store.
cc-build -q --timestamp 1700000000 --iidfile app.id app
test "$(cc-build -q --no-cache --timestamp 1700000000 app)" = "$(cat app.id)"

# Multi-stage: --target builds a stage and the stages it needs; the Containerfile from stdin.
printf 'FROM base AS build\nRUN echo built > /artifact\nFROM scratch\nCOPY --from=build /artifact /artifact\n' | cc-build -q -f - -t artifact:1 --target build app

# Stages that use nothing of each other run at once (--jobs bounds them; 1: one after another); each line shows its stage: [one 2/2] ...
printf 'FROM base AS one\nRUN echo 1 > /n\nFROM base AS two\nRUN echo 2 > /n\nFROM base\nCOPY --from=one /n /1\nCOPY --from=two /n /2\n' | cc-build -q -f - --jobs 2 -t both:1 app
cc-run --rm both:1 cat /1 /2
