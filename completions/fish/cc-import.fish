complete -c cc-import -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-import -s c -l change -d 'Apply a Dockerfile instruction to the image config (CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL, STOPSIGNAL, VOLUME, HEALTHCHECK); repeatable' -r
complete -c cc-import -s h -l help -d 'Print help'
complete -c cc-import -s V -l version -d 'Print version'
