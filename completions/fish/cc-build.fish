complete -c cc-build -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-build -s t -l tag -d 'A name for the image, NAME[:TAG] (repeatable)' -r
complete -c cc-build -s f -l file -d 'The Containerfile (`-`: stdin); default Containerfile, else Dockerfile, in the context' -r
complete -c cc-build -l target -d 'The stage to build (its name after AS); default the last' -r
complete -c cc-build -l build-arg -d 'A value for an ARG, KEY=VALUE (KEY alone: from the environment)' -r
complete -c cc-build -l pull -d 'Pull FROM images: missing (when the store lacks them, the default), always (`--pull` alone), or never' -r -f -a "missing\t''
always\t''
never\t''"
complete -c cc-build -l network -d 'RUN\'s network: bridge, none or host' -r
complete -c cc-build -l iidfile -d 'Write the image id to this file' -r -F
complete -c cc-build -l label -d 'A label on the image, KEY=VALUE (repeatable)' -r
complete -c cc-build -l rm -d 'Remove RUN\'s containers, also when one fails (`--rm=false` keeps them)' -r -f -a "true\t''
false\t''"
complete -c cc-build -l timestamp -d 'Unix seconds for every image and history time and the latest file time in every layer: the same inputs give the same image digest' -r
complete -c cc-build -l platform -d 'The platform to build for: only the host\'s (os/arch)' -r
complete -c cc-build -l secret -d 'A secret for `RUN --mount=type=secret,id=ID`: the bytes of a file (`src=`, also `source=`) or of an environment variable (`env=`), mounted read-only for the RUNs that ask, never in the image' -r
complete -c cc-build -l layers -d 'Keep one cached layer per step (`--layers=false`: no cache used or kept, the steps\' images removed, the new layers made one)' -r -f -a "true\t''
false\t''"
complete -c cc-build -l jobs -d 'How many stages run steps at once (0: no bound; 1: one after another); default as many as the host has CPUs. A stage starts when its FROM stage is built and waits for another only at the step that uses it' -r
complete -c cc-build -l no-cache -d 'Run every step again, using no cached step'
complete -c cc-build -s q -l quiet -d 'Print only the image id: no steps, RUN\'s output only if it fails'
complete -c cc-build -l squash -d 'Squash the layers the build adds into one, on the base image\'s'
complete -c cc-build -l squash-all -d 'Squash every layer, the base image\'s too, into one'
complete -c cc-build -s h -l help -d 'Print help'
complete -c cc-build -s V -l version -d 'Print version'
